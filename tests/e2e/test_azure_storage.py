"""The service on Azure Blob (Azurite): the challenge files loaded from the container, an upload landing in it."""
from __future__ import annotations

import io
import uuid

import pytest
import requests

from domain.tables import LOAD_ORDER
from infra.storage.azure import AzureBlobStore
from tests.challenge import REPORT_2
from tests.e2e.conftest import _environment, _start, _stop
from tests.net import free_port


@pytest.fixture(scope="module")
def azure_service(tmp_path_factory, challenge_dir, azurite):
    container = f"hr-e2e-{uuid.uuid4().hex[:8]}"
    blobs = AzureBlobStore(azurite, container)
    for table in LOAD_ORDER:
        with (challenge_dir / table.file_name).open("rb") as source:
            blobs.write(table.file_name, source)
    tmp = tmp_path_factory.mktemp("live-azure")
    port = free_port()
    env = _environment(tmp, port, challenge_dir, DATABASE_URL=f"sqlite:///{tmp / 'hr.sqlite3'}",
                       AZURE_STORAGE_CONNECTION_STRING=azurite, AZURE_STORAGE_CONTAINER=container)
    service = _start(env, tmp, port)
    yield service, blobs
    _stop(service.process)


def test_upload_files_loads_from_the_container(azure_service):
    service, _ = azure_service
    task_id = requests.post(service.url("/upload-files"), timeout=10).json()["task_id"]
    status = service.wait_for_task(task_id)
    assert status["state"] == "SUCCESS", status
    assert status["result"]["total"]["inserted"] == 12 + 183 + 1929
    quarters = requests.get(service.url("/report/hired-by-quarter?year=2021"), timeout=10).json()["rows"]
    assert len(quarters) == 933 and sum(r["Q1"] + r["Q2"] + r["Q3"] + r["Q4"] for r in quarters) == 1643
    above = requests.get(service.url("/report/hiring-above-average?year=2021"), timeout=10).json()["rows"]
    assert [(r["department"], r["hired"]) for r in above] == REPORT_2


def test_an_upload_lands_in_the_container(azure_service):
    service, blobs = azure_service
    body = b"901,Vendor Relations\n902,\n"
    response = requests.post(service.url("/upload/departments"),
                             files={"file": ("mine.csv", io.BytesIO(body), "text/csv")}, timeout=10)
    assert response.status_code == 202
    status = service.wait_for_task(response.json()["task_id"])
    assert status["state"] == "SUCCESS", status
    name = status["args"]["blob"]
    assert name in [b.name for b in blobs.list("uploads/departments/")]
    with blobs.open(name) as stream:
        assert stream.read() == body
    assert (status["result"]["total"]["inserted"], status["result"]["total"]["errors"]) == (1, 1)
