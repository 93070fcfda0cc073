"""A replay is a load whose records come from the rejection log: on the fakes of our own ports."""
from __future__ import annotations

import io
from datetime import datetime

import pytest

from core.errors import InvalidRequest, NotFound, StoreUnavailable
from core.ingestion import Ingestion
from core.replay import REPLAY, ReplayRequests, Replays
from core.tasks import Tasks
from domain.entities import Department, Job
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeDispatcher, FakeLoadStore, FakeRejectionLog, FakeTaskRegistry

E = Table.HIRED_EMPLOYEES
FILE = (b"id,name,datetime,department_id,job_id\n"
        b"1,Ana,2021-01-01T00:00:00Z,1,1\n"  # 2: inserted
        b"2,Bea,2021-01-01T00:00:00Z,2,1\n"  # 3: waits for department 2
        b"3,Cai,2021-01-01T00:00:00Z,2,1\n"  # 4: waits for department 2
        b"1,Ana,2021-01-01T00:00:00Z,1,1\n"  # 5: repeats 1 with equal values
        b"1,Other,2021-01-01T00:00:00Z,1,1\n"  # 6: repeats 1 with other values
        b"4,Dee,2021-13-01T00:00:00Z,2,1\n"  # 7: a bad date, and waits
        b"5,Too few\n")  # 8: not read into the table's fields


def _loaded(batch_size: int = 2, fail_on_commit: int | None = None):
    store = FakeLoadStore(fail_on_commit=fail_on_commit)
    store.add(Table.DEPARTMENTS, Department(1, "RH"))
    store.add(Table.JOBS, Job(1, "Analista"))
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=batch_size, clock=lambda: datetime(2024, 1, 1))
    summary = ingestion.load_stream(E, io.BytesIO(FILE), source="e.csv", task_id="load")
    assert summary.totals() == {"processed": 7, "inserted": 1, "already_exists": 0, "errors": 6}
    return store, Replays(ingestion, FakeRejectionLog(store))


def _reasons(store: FakeLoadStore) -> dict[int, tuple[str, ...]]:
    return {r.line_number: r.reasons for r in store.rejections}


def _resolved(store: FakeLoadStore) -> dict[int, str]:
    return {store.rejections[id_ - 1].line_number: task for id_, task in store.resolved.items()}


def test_a_replay_loads_what_now_passes_and_tells_what_still_fails():
    store, replays = _loaded()
    store.add(Table.DEPARTMENTS, Department(2, "Compras"))

    result = replays.run("r1", of_task="load", table="hired_employees")

    assert result["total"] == {"processed": 5, "inserted": 2, "already_exists": 1, "errors": 2}
    assert result["table"] == "hired_employees" and result["source"] == "rejections of task load"
    assert sorted(store.tables[E]) == [1, 2, 3]
    assert _resolved(store) == {3: "r1", 4: "r1", 5: "r1"}
    reasons = _reasons(store)
    # Lines 5 and 6 repeat id 1 in the replay too: the first takes it (equal to the stored row), the second
    # is told so, as in any input.
    assert reasons[6] == ("id 1 appears earlier in this input; the first occurrence is taken",)
    assert reasons[7] == ("datetime '2021-13-01T00:00:00Z' is not a valid ISO 8601 datetime",)
    assert reasons[8] == ("expected 5 fields (id, name, datetime, department_id, job_id), found 2",)
    assert [b.processed for b in store.landed("r1", E)] == [2, 2, 1]  # line 8 is left as it is


def test_a_second_replay_inserts_nothing_and_a_replay_of_the_same_task_writes_nothing_twice():
    store, replays = _loaded()
    store.add(Table.DEPARTMENTS, Department(2, "Compras"))
    first = replays.run("r1", of_task="load", table="hired_employees")
    calls = len(store.commit_calls)

    assert replays.run("r1", of_task="load", table="hired_employees") == first  # a redelivered task
    assert len(store.commit_calls) == calls
    again = replays.run("r2", of_task="load", table="hired_employees")
    assert again["total"] == {"processed": 2, "inserted": 0, "already_exists": 1, "errors": 1}
    assert _reasons(store)[6] == ("id 1 exists with other values",) and 6 not in _resolved(store)


def test_a_replay_whose_worker_died_resumes_after_its_committed_batches():
    store, replays = _loaded(fail_on_commit=6)  # the load's 4 commits, then the replay's second batch
    store.add(Table.DEPARTMENTS, Department(2, "Compras"))
    with pytest.raises(StoreUnavailable):
        replays.run("r1", of_task="load", table="hired_employees")
    assert [b.batch for b in store.landed("r1", E)] == [1] and _resolved(store) == {3: "r1", 4: "r1"}

    result = replays.run("r1", of_task="load", table="hired_employees")

    assert result["total"] == {"processed": 5, "inserted": 2, "already_exists": 1, "errors": 2}
    assert [b.batch for b in store.landed("r1", E)] == [1, 2, 3]
    assert _resolved(store) == {3: "r1", 4: "r1", 5: "r1"}


def test_a_replay_of_a_task_goes_over_its_tables_in_load_order():
    store, replays = _loaded()
    result = replays.run("r1", of_task="load")
    assert [t["table"] for t in result["tables"]] == ["hired_employees"]
    assert result["total"]["processed"] == 5 and result["total"]["inserted"] == 0


def test_a_row_that_names_its_rejection_resolves_it_when_it_loads():
    store, replays = _loaded()
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=2)
    fixed = (b"name,id,datetime,department_id,job_id,line_number,reasons,rejection_id\n"
             b"Dee,4,2021-12-01T00:00:00Z,1,1,7,x,5\n"  # fixed: inserted, resolves rejection 5 (line 7)
             b"Ana,1,2021-01-01T00:00:00Z,1,1,5,x,3\n"  # equal to the stored row: resolves it
             b"Other,1,2021-01-01T00:00:00Z,1,1,6,x,4\n")  # id 1 again in this input: rejected
    summary = ingestion.load_stream(E, io.BytesIO(fixed), source="fixed.csv", task_id="u")
    assert summary.totals() == {"processed": 3, "inserted": 1, "already_exists": 1, "errors": 1}
    assert _resolved(store) == {7: "u", 5: "u"}


def test_a_replay_request_names_a_load_that_exists():
    store, _ = _loaded()
    registry, dispatcher = FakeTaskRegistry(), FakeDispatcher()
    tasks = Tasks(registry, dispatcher, {REPLAY: lambda **_: None}, lambda: datetime(2024, 1, 1), lambda: "t1")
    requests = ReplayRequests(tasks, FakeRejectionLog(store))
    with pytest.raises(InvalidRequest, match="task_id, its table, or both"):
        requests.replay(None, None)
    with pytest.raises(NotFound, match="task nope"):
        requests.replay("nope", None)
    assert requests.replay("load", E) == "t1"
    assert registry.get("t1").args == {"of_task": "load", "table": "hired_employees"}
