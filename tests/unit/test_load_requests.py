"""Load requests: the file must be there before a task is submitted; an upload is stored under a made-up name."""
from __future__ import annotations

import io
from datetime import datetime

import pytest

from core.errors import NotFound
from core.load_requests import LoadRequests
from core.readiness import Readiness
from core.tasks import Tasks
from domain.tables import Table
from tests.unit.fakes import FakeDispatcher, FakeTaskRegistry

CLOCK = datetime(2026, 11, 26, 17, 30, 0, 5)


@pytest.fixture
def dispatcher() -> FakeDispatcher:
    return FakeDispatcher()


@pytest.fixture
def requests(blobs, dispatcher) -> LoadRequests:
    tasks = Tasks(FakeTaskRegistry(), dispatcher, {"load": lambda **kw: None}, lambda: CLOCK, lambda: "task-1")
    return LoadRequests(tasks, blobs, lambda: CLOCK, lambda: "abcdef0123456789")


def test_load_all_submits_one_task_when_the_three_files_are_there(requests, blobs, dispatcher):
    blobs.blobs.update({f"{t.value}.csv": b"" for t in Table})
    assert requests.load_all() == "task-1"
    assert dispatcher.dispatched == [("task-1", "load", {"table": "all"})]


def test_load_all_with_a_file_missing_submits_nothing(requests, blobs, dispatcher):
    blobs.blobs.update({"departments.csv": b"", "jobs.csv": b""})
    with pytest.raises(NotFound, match="hired_employees.csv"):
        requests.load_all()
    assert dispatcher.dispatched == []


def test_load_table_passes_its_slice(requests, blobs, dispatcher):
    blobs.blobs["hired_employees.csv"] = b""
    requests.load_table(Table.HIRED_EMPLOYEES, start=1000, limit=500)
    assert dispatcher.dispatched[0][2] == {"table": "hired_employees", "start": 1000, "limit": 500}


def test_load_table_of_a_missing_file_submits_nothing(requests, dispatcher):
    with pytest.raises(NotFound):
        requests.load_table(Table.JOBS)
    assert dispatcher.dispatched == []


def test_upload_is_stored_under_a_generated_name_then_loaded(requests, blobs, dispatcher):
    requests.load_upload(Table.JOBS, io.BytesIO(b"1,Nurse\n"))
    name = "uploads/jobs/20261126T173000000005Z-abcdef01.csv"
    assert blobs.blobs == {name: b"1,Nurse\n"}
    assert dispatcher.dispatched[0][2] == {"table": "jobs", "blob": name}


def test_readiness_names_each_dependency_that_does_not_answer():
    def down() -> None:
        raise ConnectionError("refused")

    assert Readiness({"database": lambda: None, "broker": down})() == {
        "database": None, "broker": "ConnectionError: refused"}
