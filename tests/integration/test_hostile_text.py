"""Hostile text through the HTTP adapter on SQLite, PostgreSQL and MariaDB: a NUL byte, a lone surrogate or a
control character is a rejected row with its reason, never a failed load or a 5xx, and the log keeps every byte."""
from __future__ import annotations

import io
import json

import pytest

from domain.log_text import unescaped
from main import create_app

FORBIDDEN = "U+{:04X}"


@pytest.fixture
def client(settings):
    app = create_app(settings)
    app.extensions["services"].upgrade_schema()
    return app.test_client()


def _upload_and_run(client, table: str, body: bytes) -> dict:
    """The upload as a client sends it, then its task run here, as a worker would run it."""
    response = client.post(f"/upload/{table}", data={"file": (io.BytesIO(body), "f.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_data(as_text=True)
    task_id = response.get_json()["task_id"]
    tasks = client.application.extensions["services"].tasks
    record = tasks.status(task_id)
    with client.application.app_context():
        tasks.run(task_id, record.kind, record.args)
    return client.get(f"/task-status/{task_id}").get_json()


def _departments(client) -> dict[int, str]:
    return {d["id"]: d["department"] for d in client.get("/departments?limit=1000").get_json()["items"]}


def _logged(client, task_id: str) -> dict[int, dict]:
    return {r["line_number"]: r for r in client.get(f"/rejections?task_id={task_id}").get_json()["items"]}


def test_a_nul_byte_rejects_its_row_and_the_load_goes_on(client):
    body = b"101,Sales\n102,Ma\x00rketing\n103,Ops\n104,Caf\xe9\x00\n"  # the last line is not UTF-8 either
    status = _upload_and_run(client, "departments", body)
    assert status["state"] == "SUCCESS", status
    assert _departments(client) == {101: "Sales", 103: "Ops"}
    logged = _logged(client, status["task_id"])
    assert logged[2]["reasons"] == ["department holds a control character or lone surrogate: U+0000 at position 3"]
    assert logged[2]["raw_text"] == "102,Ma\\x00rketing"
    assert logged[4]["reasons"] == ["line is not valid UTF-8 (byte 7)"]
    assert unescaped(logged[4]["raw_text"]).encode("utf-8", "surrogateescape") == b"104,Caf\xe9\x00"


@pytest.mark.parametrize("name, code, position", [("Ma\u0000rk", 0, 3), ("A\ud800B", 0xD800, 2),
                                                  ("x\udc80", 0xDC80, 2)])
def test_a_batch_with_a_nul_or_a_lone_surrogate_is_answered_with_the_row_rejected(client, name, code, position):
    response = client.post("/batch/departments", json=[{"id": 104, "department": name},
                                                       {"id": 105, "department": "Finance"}])
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["inserted"], body["errors"]) == (1, 1)
    reason = f"department holds a control character or lone surrogate: {FORBIDDEN.format(code)} at position {position}"
    assert body["rejected"][0]["reasons"] == [reason]
    logged = _logged(client, body["request_id"])[1]
    assert logged["reasons"] == [reason]
    assert logged["raw_text"] == body["rejected"][0]["raw"]
    assert json.loads(unescaped(logged["raw_text"])) == {"id": 104, "department": name}  # the row as sent
    assert _departments(client) == {105: "Finance"}


@pytest.mark.parametrize("char", ["\x01", "\x03", "\x0b", "\x7f"])
def test_control_characters_are_not_stored_as_names(client, char):
    for send in ("json", "csv"):
        name = f"Z¢Cü\U000f7b1f{char}Ò"
        if send == "json":
            body = client.post("/batch/jobs", json=[{"id": 7, "job": name}]).get_json()
        else:
            body = client.post("/batch/jobs", data=f"7,{name}\n".encode(), content_type="text/csv").get_json()
        assert body["errors"] == 1
        assert body["rejected"][0]["reasons"] == [
            f"job holds a control character or lone surrogate: {FORBIDDEN.format(ord(char))} at position 6"]
    assert client.get("/jobs").get_json()["total"] == 0


def test_any_other_unicode_is_stored_and_read_back_unchanged(client):
    names = ["Logística 🚚", "Recursos Humanos y Administración", "\u0085 C1 control, NEL", "private \U000f7b1f",
             "a\\b 'quoted' \"double\" %s %% ;--", "\ufeffzero width\u200b", "東京 الرياض"]
    rows = [{"id": i, "department": name} for i, name in enumerate(names, start=1)]
    body = client.post("/batch/departments", json=rows).get_json()
    assert body["errors"] == 0, body
    assert _departments(client) == {i: name.strip() for i, name in enumerate(names, start=1)}
