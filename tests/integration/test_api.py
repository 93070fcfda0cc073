"""The HTTP adapter in process: real SQLite, real storage folder, the real Celery dispatcher (no worker)."""
from __future__ import annotations

import io
import shutil
import uuid
from dataclasses import replace

import pytest

from config import Settings
from domain.tables import LOAD_ORDER
from infra.storage.seed import SAMPLES
from main import create_app


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    """The project's own sample files in a storage folder of the test's: nothing here needs the originals."""
    storage = tmp_path / "storage"
    storage.mkdir()
    for table in LOAD_ORDER:
        shutil.copyfile(SAMPLES / table.file_name, storage / table.file_name)
    return Settings(database_url=f"sqlite:///{tmp_path / 'hr.sqlite3'}", storage_dir=storage,
                    var_dir=tmp_path / "var", max_content_length=64 * 1024)


def _client(settings: Settings):
    app = create_app(settings)
    app.extensions["services"].upgrade_schema()
    return app.test_client()


@pytest.fixture
def client(api_settings):
    return _client(api_settings)


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.parametrize("path", ["/upload-files", "/upload-hired-employees?start=0&limit=500", "/departments",
                                  "/jobs"])
def test_load_endpoints_queue_a_task(client, path):
    response = client.post(path)
    assert response.status_code == 202
    body = response.get_json()
    assert response.headers["Location"] == body["status_url"]
    status = client.get(body["status_url"]).get_json()
    assert status["state"] == "PENDING" and status["kind"] == "load"
    assert client.get("/task-list").get_json()["items"][0]["task_id"] == body["task_id"]


def test_slice_arguments_reach_the_task(client):
    body = client.post("/upload-hired-employees?start=1000&limit=500").get_json()
    assert client.get(body["status_url"]).get_json()["args"] == {
        "table": "hired_employees", "start": 1000, "limit": 500}


def test_a_missing_file_is_404_before_any_task(api_settings):
    (api_settings.storage_dir / "jobs.csv").unlink()
    client = _client(api_settings)
    _is_problem(client.post("/upload-files"), 404)
    _is_problem(client.post("/jobs"), 404)
    assert client.get("/task-list").get_json()["items"] == []


def test_upload_stores_under_a_generated_name(client, api_settings):
    data = {"file": (io.BytesIO(b"1,Sales\n"), "../../evil name.csv")}
    response = client.post("/upload/departments", data=data, content_type="multipart/form-data")
    assert response.status_code == 202
    args = client.get(response.get_json()["status_url"]).get_json()["args"]
    assert args["blob"].startswith("uploads/departments/") and "evil" not in args["blob"]
    assert (api_settings.storage_dir / args["blob"]).read_bytes() == b"1,Sales\n"
    _is_problem(client.post("/upload/departments", data={}, content_type="multipart/form-data"), 400)
    again = {"file": (io.BytesIO(b"1,Sales\n"), "d.csv")}
    _is_problem(client.post("/upload/salaries", data=again, content_type="multipart/form-data"), 404)


def test_batch_limits_and_media_types(client):
    _is_problem(client.post("/batch/departments", json=[]), 422)
    _is_problem(client.post("/batch/departments", json={"id": 1}), 422)
    _is_problem(client.post("/batch/departments", data="x", content_type="text/plain"), 415)
    _is_problem(client.post("/batch/departments", data="[1,", content_type="application/json"), 400)
    too_large = "x" * (64 * 1024 + 1)
    _is_problem(client.post("/batch/departments", data=too_large, content_type="text/csv"), 413)
    ok = client.post("/batch/departments", json=[{"id": 1, "department": "Sales"}, {"id": 2}, "x", {"id": 3, "x": 1}])
    assert ok.status_code == 200
    body = ok.get_json()
    assert (body["inserted"], body["errors"]) == (1, 3)
    assert [r["reasons"] for r in body["rejected"]] == [
        ["department is missing"],
        ["row must be a JSON object with the fields id, department"],
        ["unknown fields: x"],
    ]


def test_reads_are_paged_and_checked(client):
    client.post("/batch/departments", json=[{"id": i, "department": f"D{i}"} for i in range(1, 6)])
    page = client.get("/departments?limit=2&offset=1").get_json()
    assert [d["id"] for d in page["items"]] == [2, 3] and page["total"] == 5
    _is_problem(client.get("/departments?limit=0"), 400)
    _is_problem(client.get("/departments?limit=abc"), 400)
    _is_problem(client.get("/rejections?table=salaries"), 404)


def test_reports_in_json_and_csv(client):
    assert client.get("/report/hired-by-quarter?year=2021").get_json() == {
        "report": "hired-by-quarter", "year": 2021, "rows": []}
    csv = client.get("/report/hired-by-quarter", headers={"Accept": "text/csv"})
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True) == "department,job,Q1,Q2,Q3,Q4\n"
    _is_problem(client.get("/report/hired-by-quarter?year=0"), 422)
    _is_problem(client.get("/report/hiring-above-average?year=99999"), 422)


def _post_rows(client, table: str, rows: list[dict]) -> None:
    result = client.post(f"/batch/{table}", json=rows).get_json()
    assert result["inserted"] == len(rows), result


@pytest.mark.parametrize("path", ["/report/hired-by-quarter?year=2021", "/report/hiring-above-average?year=2021"])
def test_a_report_answers_304_to_its_own_etag_until_what_it_reads_changes(client, path):
    _post_rows(client, "departments", [{"id": 1, "department": "Sales"}, {"id": 2, "department": "Legal"}])
    _post_rows(client, "jobs", [{"id": 1, "job": "Nurse"}])
    _post_rows(client, "hired_employees", [{"id": 1, "name": "Ana", "datetime": "2021-02-01T00:00:00Z",
                                            "department_id": 1, "job_id": 1}])
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and "Accept" in first.headers["Vary"]
    assert first.headers["Cache-Control"] == "no-cache"

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert "Accept" in again.headers["Vary"]
    csv = client.get(path, headers={"Accept": "text/csv", "If-None-Match": etag})
    assert csv.status_code == 200 and csv.headers["ETag"] != etag  # the CSV is another answer

    _post_rows(client, "hired_employees", [{"id": 2, "name": "Bea", "datetime": "2021-05-01T00:00:00Z",
                                            "department_id": 1, "job_id": 1}])
    after_hire = client.get(path, headers={"If-None-Match": etag})
    assert after_hire.status_code == 200 and after_hire.headers["ETag"] != etag
    etag = after_hire.headers["ETag"]
    # A department with no hires: report 1's rows stay as they were; report 2's mean moves.
    _post_rows(client, "departments", [{"id": 3, "department": "Quiet"}])
    after_department = client.get(path, headers={"If-None-Match": etag})
    if "above-average" in path:
        assert after_department.status_code == 200 and after_department.get_json()["mean"] == 2 / 3
    else:
        assert after_department.status_code == 304


def test_health_ready_and_unknown_routes(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready").get_json()
    assert ready["status"] == "ready" and set(ready["checks"]) == {"database", "broker", "storage", "task_registry"}
    _is_problem(client.get("/nowhere"), 404)
    assert "POST" in _is_problem_allow(client.put("/upload-files"))


def _is_problem_allow(response) -> str:
    _is_problem(response, 405)
    return response.headers["Allow"]


def test_api_key_keeps_strangers_out(api_settings):
    client = _client(replace(api_settings, api_key="s3cret"))
    assert client.get("/health").status_code == 200
    _is_problem(client.get("/departments"), 401)
    _is_problem(client.get("/departments", headers={"Authorization": "Bearer wrong"}), 401)
    assert client.get("/departments", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/departments", headers={"X-API-Key": "s3cret"}).status_code == 200


def test_a_task_the_registry_lost_is_404_saying_it_is_unknown(api_settings, redis_url):
    """Redis restarted without persistence takes the task registry with it: a client polling a task it
    was told had started learns the task is unknown, rather than waiting on it."""
    import redis

    queue = f"hr-lost-{uuid.uuid4().hex[:8]}"
    client = _client(replace(api_settings, celery_broker_url=redis_url, celery_queue=queue))
    accepted = client.post("/departments").get_json()
    status_url = accepted["status_url"]
    assert client.get(status_url).status_code == 200
    server = redis.Redis.from_url(redis_url)
    try:  # this test's keys only: the registry "reset", the queued message with it
        assert server.delete(f"{queue}:task:{accepted['task_id']}", f"{queue}:tasks", f"{queue}:tasks:unfinished",
                             queue) == 4
    finally:
        server.close()
    body = _is_problem(client.get(status_url), 404)
    assert "is unknown, possibly because the task registry was reset" in body["detail"]
    _is_problem(client.get("/task-status/never-was"), 404)


def test_an_unreachable_broker_is_503_and_ready_names_it(api_settings):
    client = _client(replace(api_settings, celery_broker_url="redis://127.0.0.1:1/0"))
    body = _is_problem(client.post("/departments"), 503)
    assert "broker" in body["detail"] and "Redis" in body["detail"]
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.mimetype == "application/problem+json"
    assert ready.get_json()["checks"]["broker"].startswith("down") and "broker" in ready.get_json()["detail"]


def test_cors_only_for_the_named_origins(api_settings):
    client = _client(replace(api_settings, cors_origins=("https://app.example",), api_key="k"))
    preflight = client.options("/batch/jobs", headers={"Origin": "https://app.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "X-API-Key" in preflight.headers["Access-Control-Allow-Headers"]
    other = client.get("/jobs", headers={"Origin": "https://evil.example", "X-API-Key": "k"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    assert _client(api_settings).get("/jobs", headers={"Origin": "https://app.example"}).headers.get(
        "Access-Control-Allow-Origin") is None


def test_a_database_that_cannot_be_reached_is_503_on_reads_and_reports(tmp_path):
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", storage_dir=tmp_path / "s",
                        var_dir=tmp_path / "var")
    client = create_app(settings).test_client()
    for path in ("/departments", "/report/hired-by-quarter", "/rejections", "/task-status/x", "/task-list"):
        body = _is_problem(client.get(path), 503)
        assert body["detail"].startswith("the database is unavailable") and "SELECT" not in body["detail"], path


def test_a_loads_batches_are_paged_apart_from_its_result(client):
    body = client.post("/upload-files").get_json()
    tasks = client.application.extensions["services"].tasks
    record = tasks.status(body["task_id"])
    with client.application.app_context():
        tasks.run(body["task_id"], record.kind, record.args)
    status = client.get(body["status_url"]).get_json()
    assert status["state"] == "SUCCESS"
    assert all(set(t) == {"table", "source", "task_id", "header_skipped", "total"} for t in status["result"]["tables"])
    assert "error_ids" not in status["result"]["total"]

    url = f"{body['status_url']}/batches"
    everything = client.get(url).get_json()
    assert everything["total"] == len(everything["items"]) >= 3
    assert [b["table"] for b in everything["items"]][:2] == ["departments", "jobs"]  # load order
    employees = client.get(f"{url}?table=hired-employees&limit=1&offset=0").get_json()
    assert (employees["limit"], employees["offset"], len(employees["items"])) == (1, 0, 1)
    first = employees["items"][0]
    assert set(first) == {"table", "batch", "processed", "inserted", "already_exists", "errors", "error_ids"}
    assert (first["table"], first["batch"]) == ("hired_employees", 1)
    totals = status["result"]["tables"][2]["total"]
    rows = client.get(f"{url}?table=hired_employees&limit=1000").get_json()["items"]
    assert sum(b["errors"] for b in rows) == totals["errors"] == sum(len(b["error_ids"]) for b in rows)
    _is_problem(client.get("/task-status/no-such-task/batches"), 404)
    _is_problem(client.get(f"{url}?table=salaries"), 404)
    _is_problem(client.get(f"{url}?limit=0"), 400)
