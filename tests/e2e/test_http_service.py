"""The contract over HTTP against a running server and worker, in both configurations."""
from __future__ import annotations

import random

import requests

from tests.challenge import REPORT_2


def _employee(id_: int, department: int = 1, job: int = 1) -> dict:
    return {"id": id_, "name": f"Batch Person {id_}", "datetime": "2023-03-01T10:00:00Z",
            "department_id": department, "job_id": job}


def test_upload_files_loads_the_challenge_files_and_reports_match(live_service):
    response = requests.post(live_service.url("/upload-files"), timeout=10)
    assert response.status_code == 202
    body = response.json()
    assert response.headers["Location"] == body["status_url"] == f"/task-status/{body['task_id']}"

    status = live_service.wait_for_task(body["task_id"])
    assert status["state"] == "SUCCESS", status
    totals = {t["table"]: t["total"] for t in status["result"]["tables"]}
    assert totals["departments"]["inserted"] == 12
    assert totals["jobs"]["inserted"] == 183
    assert totals["hired_employees"]["inserted"] == 1929 and totals["hired_employees"]["errors"] == 70
    assert status["progress"]["rows_done"] == 12 + 183 + 1999
    assert status["progress"]["bytes_done"] == status["progress"]["bytes_total"]
    assert status["started_at"] and status["finished_at"]

    listed = requests.get(live_service.url("/task-list?limit=50"), timeout=10).json()["items"]
    assert body["task_id"] in [t["task_id"] for t in listed]

    quarters = requests.get(live_service.url("/report/hired-by-quarter?year=2021"), timeout=10).json()["rows"]
    assert len(quarters) == 933
    assert sum(r["Q1"] + r["Q2"] + r["Q3"] + r["Q4"] for r in quarters) == 1643
    above = requests.get(live_service.url("/report/hiring-above-average?year=2021"), timeout=10).json()["rows"]
    assert [(r["department"], r["hired"]) for r in above] == REPORT_2

    csv = requests.get(live_service.url("/report/hiring-above-average"), headers={"Accept": "text/csv"}, timeout=10)
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[:2] == ["id,department,hired", "8,Support,216"]

    rejected = requests.get(live_service.url(f"/rejections?task_id={body['task_id']}&limit=1000"), timeout=10)
    assert len(rejected.json()["items"]) == 70


def test_batches_insert_refuse_and_report_rejections(live_service):
    # Parents first, in case this module's first test did not load them.
    requests.post(live_service.url("/batch/departments"), json=[{"id": 1, "department": "Product Management"}],
                  timeout=10)
    requests.post(live_service.url("/batch/jobs"), json=[{"id": 1, "job": "Marketing Assistant"}], timeout=10)

    thousand = [_employee(100_000 + i) for i in range(1000)]
    response = requests.post(live_service.url("/batch/hired_employees"), json=thousand, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 1000 and response.json()["errors"] == 0

    for rows in ([_employee(200_000 + i) for i in range(1001)], []):
        refused = requests.post(live_service.url("/batch/hired-employees"), json=rows, timeout=60)
        assert refused.status_code == 422
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "1 to 1000 rows" in refused.json()["detail"]

    mixed = [_employee(300_001), {**_employee(300_002), "department_id": 999_999},
             {**_employee(300_003), "datetime": "2021-02-30T00:00:00Z"}, _employee(100_000)]
    result = requests.post(live_service.url("/batch/hired_employees"), json=mixed, timeout=10).json()
    assert (result["processed"], result["inserted"], result["already_exists"], result["errors"]) == (4, 1, 1, 2)
    assert [(r["index"], r["id"], r["reasons"]) for r in result["rejected"]] == [
        (1, 300_002, ["department_id 999999 does not exist"]),
        (2, 300_003, ["datetime '2021-02-30T00:00:00Z' is not a valid ISO 8601 datetime"]),
    ]
    logged = requests.get(live_service.url(f"/rejections?task_id={result['request_id']}"), timeout=10).json()
    assert [(r["line_number"], r["reasons"]) for r in logged["items"]] == [
        (2, ["department_id 999999 does not exist"]),
        (3, ["datetime '2021-02-30T00:00:00Z' is not a valid ISO 8601 datetime"]),
    ]

    body = "id,name,datetime,department_id,job_id\n400001,\"Doe, Jane\",2021-06-01T00:00:00Z,1,1\n400002,,x,1,1\n"
    csv_result = requests.post(live_service.url("/batch/hired_employees"), data=body.encode(),
                               headers={"Content-Type": "text/csv"}, timeout=10).json()
    assert (csv_result["inserted"], csv_result["errors"]) == (1, 1)
    assert csv_result["rejected"][0]["line"] == 3
    employee = requests.get(live_service.url("/hired-employees?limit=1000&offset=0"), timeout=10).json()
    assert employee["total"] >= 1002


def test_errors_are_problem_json(live_service):
    for method, path, status in [("get", "/report/hired-by-quarter?year=abc", 400),
                                 ("post", "/batch/salaries", 404), ("get", "/task-status/nope", 404),
                                 ("delete", "/departments", 405), ("get", "/no/such/path", 404)]:
        response = requests.request(method, live_service.url(path), timeout=10)
        assert response.status_code == status, (path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == status and response.json()["detail"]


def test_backup_and_restore_a_table_through_tasks(live_service):
    made = requests.post(live_service.url("/backup/departments"), timeout=10)
    assert made.status_code == 202
    backup = live_service.wait_for_task(made.json()["task_id"])
    assert backup["state"] == "SUCCESS", backup
    name = backup["result"]["name"]
    listed = requests.get(live_service.url("/backups"), timeout=10).json()
    assert name in [b["name"] for b in listed["departments"]]

    requests.post(live_service.url("/batch/departments"), json=[{"id": 77, "department": "Temporary"}], timeout=10)
    assert requests.get(live_service.url("/departments"), timeout=10).json()["total"] == 13
    restored = requests.post(live_service.url("/restore/departments"), json={"backup": name}, timeout=10)
    assert restored.status_code == 202
    assert live_service.wait_for_task(restored.json()["task_id"])["state"] == "SUCCESS"
    assert requests.get(live_service.url("/departments"), timeout=10).json()["total"] == 12

    missing = requests.post(live_service.url("/restore/departments"),
                            json={"backup": "20000101T000000000000Z.avro"}, timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    escaping = requests.post(live_service.url("/restore/departments"), json={"backup": "../../x.avro"}, timeout=10)
    assert escaping.status_code == 422


def _upload(live_service, table: str, body: bytes) -> dict:
    response = requests.post(live_service.url(f"/upload/{table}"),
                             files={"file": ("f.csv", body, "text/csv")}, timeout=60)
    assert response.status_code == 202, response.text
    return live_service.wait_for_task(response.json()["task_id"])


def test_hostile_files_are_answered_and_the_service_stays_healthy(live_service):
    random_bytes = bytes(random.Random(5).getrandbits(8) for _ in range(200_000))
    not_utf8 = "1,Café Ñandú\n2,Sales\n".encode("latin-1")
    huge_field = b"3," + b"x" * (10 * 1024 * 1024) + b"\n4,Legal\n"
    for body in (random_bytes, not_utf8, huge_field):
        status = _upload(live_service, "departments", body)
        assert status["state"] == "SUCCESS", status
        total = status["result"]["total"]
        assert total["processed"] == total["inserted"] + total["already_exists"] + total["errors"]
        assert total["errors"] >= 1
        logged = requests.get(live_service.url(f"/rejections?task_id={status['task_id']}&limit=1000"), timeout=10)
        assert all(r["reasons"] for r in logged.json()["items"])
        assert len(logged.json()["items"]) == total["errors"]
    reasons = requests.get(live_service.url(f"/rejections?task_id={status['task_id']}"), timeout=10).json()
    assert any("longer than" in reason for r in reasons["items"] for reason in r["reasons"])
    assert requests.get(live_service.url("/health"), timeout=10).json() == {"status": "ok"}
    assert requests.get(live_service.url("/ready"), timeout=10).status_code == 200


def test_slices_of_hired_employees_are_safe_to_run_again(live_service):
    first = requests.post(live_service.url("/upload-hired-employees?start=0&limit=500"), timeout=10).json()
    again = requests.post(live_service.url("/upload-hired-employees?start=0&limit=500"), timeout=10).json()
    one, two = (live_service.wait_for_task(t["task_id"])["result"]["total"] for t in (first, again))
    assert one["processed"] == two["processed"] == 500
    assert two["inserted"] == 0 and two["already_exists"] == one["inserted"] + one["already_exists"]


def test_a_nul_byte_or_a_lone_surrogate_is_a_rejected_row_not_a_failure(live_service):
    status = _upload(live_service, "departments", b"101,Sales\n102,Ma\x00rketing\n103,Ops\n")
    assert status["state"] == "SUCCESS", status
    assert status["result"]["total"]["errors"] == 1 and status["result"]["total"]["processed"] == 3
    body = '[{"id": 104, "department": "Ma\\u0000rk"}, {"id": 105, "department": "A\\ud800B"}]'
    answer = requests.post(live_service.url("/batch/departments"), data=body,
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert [r["reasons"] for r in answer.json()["rejected"]] == [
        ["department holds a control character or lone surrogate: U+0000 at position 3"],
        ["department holds a control character or lone surrogate: U+D800 at position 2"]]
