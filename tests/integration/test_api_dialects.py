"""Loads of files as spreadsheets export them, through the HTTP adapter (in process, real SQLite)."""
from __future__ import annotations

import io

import pytest

from config import Settings
from core.header_mapping import HeaderMismatch
from tests.integration.test_api import _client, _is_problem


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    storage = tmp_path / "storage"
    storage.mkdir()
    for name in ("departments.csv", "jobs.csv", "hired_employees.csv"):
        (storage / name).write_bytes(b"")
    return Settings(database_url=f"sqlite:///{tmp_path / 'hr.sqlite3'}", storage_dir=storage, var_dir=tmp_path / "var")


@pytest.fixture
def client(api_settings):
    return _client(api_settings)


def _upload(client, table: str, data: bytes, query: str = ""):
    return client.post(f"/upload/{table}{query}", data={"file": (io.BytesIO(data), "export.csv")},
                       content_type="multipart/form-data")


def _run(client, response, fails_with: type[Exception] | None = None) -> dict:
    """The queued task run here, as a worker runs it; its record afterwards."""
    assert response.status_code == 202, response.get_data(as_text=True)
    status = client.get(response.get_json()["status_url"]).get_json()
    tasks = client.application.extensions["services"].tasks
    if fails_with is None:
        tasks.run(status["task_id"], status["kind"], status["args"])
    else:
        with pytest.raises(fails_with):
            tasks.run(status["task_id"], status["kind"], status["args"])
    return client.get(response.get_json()["status_url"]).get_json()


def test_an_upload_takes_a_separator_and_an_encoding_to_its_task(client):
    data = "department;id\nRecursos Humanos y Administración;13\nLogística;14\n".encode("cp1252")
    response = _upload(client, "departments", data, "?delimiter=;&encoding=cp1252")
    assert response.status_code == 202
    args = client.get(response.get_json()["status_url"]).get_json()["args"]
    assert (args["delimiter"], args["encoding"]) == (";", "cp1252")
    done = _run(client, response)
    assert done["state"] == "SUCCESS" and done["result"]["total"]["inserted"] == 2
    names = {row["id"]: row["department"] for row in client.get("/departments").get_json()["items"]}
    assert names[13] == "Recursos Humanos y Administración" and names[14] == "Logística"


def test_a_separator_is_detected_when_not_given(client):
    done = _run(client, _upload(client, "departments", b"id|department\n21|Compras\n"))
    assert done["result"]["total"]["inserted"] == 1 and "delimiter" not in done["args"]


@pytest.mark.parametrize("path", ["/upload-files", "/departments", "/jobs", "/upload-hired-employees"])
def test_storage_loads_take_the_options_and_refuse_unknown_ones(client, path):
    assert client.post(f"{path}?delimiter=tab").status_code == 202
    _is_problem(client.post(f"{path}?encoding=klingon"), 422)
    _is_problem(client.post(f"{path}?delimiter=:"), 422)


def test_an_upload_with_an_unknown_encoding_is_refused_before_it_is_stored(client, api_settings):
    body = _is_problem(_upload(client, "departments", b"1,Sales\n", "?encoding=klingon"), 422)
    assert "klingon" in body["detail"]
    assert not (api_settings.storage_dir / "uploads").exists()


def test_a_header_that_does_not_fit_fails_the_task_before_any_row_naming_the_columns(client):
    data = b"id,nombre,datetime,department_id\n1,Ana,2021-07-27T16:02:08Z,1\n"
    done = _run(client, _upload(client, "hired_employees", data), HeaderMismatch)
    assert done["state"] == "FAILURE"
    assert "missing columns: name, job_id" in done["error"] and "unknown columns: 'nombre'" in done["error"]
    assert client.get("/hired-employees").get_json()["total"] == 0
    assert client.get(f"/task-status/{done['task_id']}/batches").get_json()["total"] == 0


def test_a_csv_batch_follows_the_charset_the_separator_and_the_header(client):
    body = "department;id\nLogística;31\n;32\n".encode("cp1252")
    response = client.post("/batch/departments", data=body, content_type="text/csv; charset=windows-1252")
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert (result["inserted"], result["errors"]) == (1, 1)
    assert result["rejected"][0]["reasons"] == ["department is missing"]
    assert result["rejected"][0]["raw"] == ";32"
    _is_problem(client.post("/batch/departments", data=b"id,title\n1,x\n", content_type="text/csv"), 422)
    _is_problem(client.post("/batch/departments", data=b"1,x\n", content_type="text/csv; charset=klingon"), 422)
