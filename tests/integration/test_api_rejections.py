"""The rejected rows through the HTTP adapter and the CLI (in process, real SQLite): paged JSON with their
resolution, a CSV file to fix, a replay task, and their failures."""
from __future__ import annotations

import csv
import io
import json

import pytest

from config import Settings
from tests.integration.test_api import _client, _is_problem

EMPLOYEES = ("id,name,datetime,department_id,job_id\n"
             "1,José,2021-01-05T10:00:00Z,1,1\n"
             "2,Zoë,2021-02-05T10:00:00Z,2,1\n"
             "3,Ana,2021-13-01,2,1\n").encode()


@pytest.fixture
def client(tmp_path):
    storage = tmp_path / "storage"
    storage.mkdir()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hr.sqlite3'}", storage_dir=storage,
                        var_dir=tmp_path / "var")
    return _client(settings)


def _run(client, response) -> dict:
    assert response.status_code == 202, response.get_data(as_text=True)
    status = client.get(response.get_json()["status_url"]).get_json()
    client.application.extensions["services"].tasks.run(status["task_id"], status["kind"], status["args"])
    return client.get(response.get_json()["status_url"]).get_json()


def _upload(client, table: str, data: bytes) -> dict:
    return _run(client, client.post(f"/upload/{table}", data={"file": (io.BytesIO(data), "f.csv")},
                                    content_type="multipart/form-data"))


@pytest.fixture
def rejected(client) -> str:
    """A load of employees two of which were rejected (one waits for department 2): its task id."""
    _upload(client, "departments", b"1,Recursos Humanos\n")
    _upload(client, "jobs", b"1,Analista\n")
    done = _upload(client, "hired_employees", EMPLOYEES)
    assert done["result"]["total"] == {"processed": 3, "inserted": 1, "already_exists": 0, "errors": 2}
    return done["task_id"]


def test_rejections_are_listed_unresolved_by_default_with_their_fields_and_resolution(client, rejected):
    items = client.get(f"/rejections?task_id={rejected}").get_json()["items"]
    assert [(r["line_number"], r["fields"], r["resolved_by"], r["resolved_at"]) for r in items] == [
        (3, ["2", "Zoë", "2021-02-05T10:00:00Z", "2", "1"], None, None),
        (4, ["3", "Ana", "2021-13-01", "2", "1"], None, None)]
    assert client.get(f"/rejections?task_id={rejected}&resolved=true").get_json()["items"] == []
    assert len(client.get(f"/rejections?task_id={rejected}&resolved=all").get_json()["items"]) == 2
    _is_problem(client.get("/rejections?resolved=yes"), 400)


def test_rejections_download_as_csv_and_come_back_as_an_upload_that_resolves_them(client, rejected):
    response = client.get(f"/rejections?task_id={rejected}", headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["id", "name", "datetime", "department_id", "job_id", "line_number", "reasons", "rejection_id"]
    assert rows[2][:7] == ["3", "Ana", "2021-13-01", "2", "1", "4",
                           "datetime '2021-13-01' is not a valid ISO 8601 datetime; department_id 2 does not exist"]
    fixed = text.replace("2021-13-01", "2021-12-01").replace(",2,1,", ",1,1,")  # a date and a department fixed
    upload = _upload(client, "hired_employees", fixed.encode())
    assert upload["result"]["total"] == {"processed": 2, "inserted": 2, "already_exists": 0, "errors": 0}
    resolved = client.get(f"/rejections?task_id={rejected}&resolved=true").get_json()["items"]
    assert {r["resolved_by"] for r in resolved} == {upload["task_id"]} and len(resolved) == 2
    assert all(r["resolved_at"] for r in resolved)


def test_an_export_names_its_table_when_the_load_had_several(client, rejected):
    body = _is_problem(client.get("/rejections", headers={"Accept": "text/csv"}), 422)
    assert "name the table" in body["detail"]
    storage = client.application.extensions["settings"].storage_dir
    for name, data in (("departments", b"1,RH\n-1,Bad\n"), ("jobs", b"1,A\n"), ("hired_employees", EMPLOYEES)):
        (storage / f"{name}.csv").write_bytes(data)
    every = _run(client, client.post("/upload-files"))
    body = _is_problem(client.get(f"/rejections?task_id={every['task_id']}", headers={"Accept": "text/csv"}), 422)
    assert "loaded 3 tables (departments, jobs, hired_employees): name one with table=" in body["detail"]
    one = client.get(f"/rejections?task_id={every['task_id']}&table=departments", headers={"Accept": "text/csv"})
    assert one.get_data(as_text=True).splitlines()[1].startswith("-1,Bad,2,id '-1' is not a positive integer,")
    _is_problem(client.get("/rejections?task_id=nothing-here", headers={"Accept": "text/csv"}), 422)
    odd = client.get("/rejections?task_id=a%0d%0aX-Evil:%201&table=jobs", headers={"Accept": "text/csv"})
    assert odd.status_code == 200 and odd.headers["Content-Disposition"] == 'attachment; filename="rejections-jobs.csv"'


def test_a_replay_is_a_task_that_loads_the_rows_whose_parent_arrived(client, rejected):
    _upload(client, "departments", b"2,Log\xc3\xadstica\n")
    done = _run(client, client.post("/rejections/replay", json={"task_id": rejected}))
    assert done["state"] == "SUCCESS" and done["kind"] == "replay"
    assert done["result"]["total"] == {"processed": 2, "inserted": 1, "already_exists": 0, "errors": 1}
    [resolved] = client.get(f"/rejections?task_id={rejected}&resolved=true").get_json()["items"]
    assert (resolved["line_number"], resolved["resolved_by"]) == (3, done["task_id"])
    [left] = client.get(f"/rejections?task_id={rejected}").get_json()["items"]
    assert left["reasons"] == ["datetime '2021-13-01' is not a valid ISO 8601 datetime"]
    again = _run(client, client.post("/rejections/replay", json={"task_id": rejected, "table": "hired-employees"}))
    assert again["result"]["total"]["inserted"] == 0 and again["result"]["table"] == "hired_employees"


def test_a_replay_request_must_name_a_load_that_exists(client, rejected):
    _is_problem(client.post("/rejections/replay", json={}), 422)
    _is_problem(client.post("/rejections/replay", json={"task_id": "never-ran"}), 404)
    _is_problem(client.post("/rejections/replay", json={"table": "salaries"}), 404)
    _is_problem(client.post("/rejections/replay", json=[rejected]), 400)
    _is_problem(client.post("/rejections/replay", json={"task_id": 7}), 400)
    _is_problem(client.post("/rejections/replay"), 400)


@pytest.fixture
def runner(client):
    with client.application.app_context():  # as `flask` gives every command
        yield client.application.test_cli_runner()


def test_the_cli_exports_and_replays(client, runner, rejected, tmp_path):
    out = tmp_path / "rejected.csv"
    exported = runner.invoke(args=["rejections", "export", "--task-id", rejected, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("2,Zoë,")
    printed = runner.invoke(args=["rejections", "export", "--task-id", rejected, "--resolved", "all"])
    assert printed.exit_code == 0 and printed.output == out.read_text(encoding="utf-8")
    _upload(client, "departments", b"2,Compras\n")
    replayed = runner.invoke(args=["rejections", "replay", "--task-id", rejected, "--table", "hired_employees"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.output)["total"] == {"processed": 2, "inserted": 1, "already_exists": 0, "errors": 1}
    refused = runner.invoke(args=["rejections", "export"])
    assert refused.exit_code != 0 and "name the table" in refused.output
    assert runner.invoke(args=["rejections", "replay"]).exit_code != 0


def test_the_cli_loads_a_spreadsheet_s_file_with_its_options(client, runner, tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("department;id\nLogística;9\n".encode("cp1252"))
    loaded = runner.invoke(args=["load", "departments", "--file", str(path), "--encoding", "cp1252"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output)["total"]["inserted"] == 1
    assert client.get("/departments").get_json()["items"] == [{"id": 9, "department": "Logística"}]
    refused = runner.invoke(args=["load", "departments", "--file", str(path), "--encoding", "klingon"])
    assert refused.exit_code != 0 and "klingon" in refused.output
