"""What each route does, keyed by its Flask endpoint: the document's paths are read from app.url_map
(api.openapi), so a route that is added without a line here is caught by tests/integration/test_openapi.py."""
from __future__ import annotations

import codecs
from encodings.aliases import aliases
from typing import Any

from api.openapi_schemas import STRING, TABLE_PARAMETER, array, ref
from api.params import MAX_INT

Operation = dict[str, Any]

PROBLEM_RESPONSES = {
    400: "a query parameter or the body could not be read; `detail` says which",
    401: "API_KEY is set and the request carries no valid key",
    404: "no such table, task, file or backup",
    409: "the restore would leave rows pointing at nothing",
    413: "the body is larger than MAX_CONTENT_LENGTH",
    415: "the body is neither JSON nor CSV",
    422: "the request is well formed but breaks a rule (rows out of 1..1000, year out of range, bad backup name)",
    503: "the database, broker or storage is down",
}

PATH_PARAMETERS = {
    "table": {"name": "table", "in": "path", "required": True,
              "description": "`hired-employees` is accepted for `hired_employees`",
              "schema": {"type": "string", "enum": ["departments", "jobs", "hired_employees", "hired-employees"]}},
    "task_id": {"name": "task_id", "in": "path", "required": True, "schema": STRING,
                "description": "the id a 202 answer gave"},
}


def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def json_body(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description or "the result", "content": {"application/json": {"schema": schema}}}


def problems(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/Problem{code}"} for code in (401, *codes)}


def operation(tag: str, summary: str, ok: dict[str, Any], *errors: int, status: int = 200,
              **extra: Any) -> Operation:
    responses = {str(status): ok, **problems(*errors)}
    if extra.get("security") == []:
        del responses["401"]  # open even when API_KEY is set
    return {"tags": [tag], "summary": summary, **extra, "responses": responses}


ACCEPTED = {
    "description": "the task is queued; follow it at `status_url`",
    "headers": {"Location": {"description": "the same as `status_url`", "schema": STRING}},
    "content": {"application/json": {"schema": ref("TaskAccepted")}},
}
PAGE = [query("limit", "rows per page (1 to 1000)", {"type": "integer", "minimum": 1, "maximum": 1000,
                                                     "default": 100}),
        query("offset", "rows to skip", {"type": "integer", "minimum": 0, "maximum": MAX_INT, "default": 0})]
YEAR = [query("year", "the year, in UTC (1 to 9998)", {"type": "integer", "minimum": 1, "maximum": 9998,
                                                       "default": 2021})]
HTML = {"description": "an HTML page", "content": {"text/html": {"schema": STRING}}}


def csv_or_json(schema: str, what: str) -> dict[str, Any]:
    return {"description": f"{what}; send `Accept: text/csv` for CSV",
            "content": {"application/json": {"schema": ref(schema)}, "text/csv": {"schema": STRING}}}


def _text_encodings() -> list[str]:
    """The codecs Python knows as text encodings, by their own names (any alias of one is taken too)."""
    names = set()
    for name in {*aliases.values(), "utf_8"}:
        try:
            if getattr(codecs.lookup(name), "_is_text_encoding", True):
                names.add(codecs.lookup(name).name)
        except LookupError:
            continue
    return sorted(names)


DIALECT = [query("delimiter", "the separator: `,` `;` `|` or `tab` (detected from the first 20 lines when omitted)",
                 {"type": "string", "enum": [",", ";", "|", "tab"]}),
           query("encoding", "the file's encoding when it has no byte order mark, e.g. `cp1252` or `latin-1` "
                 "(default UTF-8; UTF-8 and UTF-16 with a BOM are recognised by themselves); any alias Python "
                 "knows of these is taken too, an encoding it does not know is a 422",
                 {"type": "string", "enum": _text_encodings()})]


def load(summary: str, *errors: int, parameters: tuple = (), **extra: Any) -> Operation:
    return operation("loads", summary, ACCEPTED, 404, 422, 503, *errors, status=202,
                     parameters=[*parameters, *DIALECT], **extra)


# Reports are answers a client may keep: an ETag that is a hash of the answer, and 304 to a matching If-None-Match.
REPORT_PARAMETERS = [*YEAR, {
    "name": "If-None-Match", "in": "header", "required": False, "schema": STRING,
    "description": "the `ETag` of an answer kept from before: 304 with no body while the report is the same"}]
REPORT_HEADERS = {
    "ETag": {"description": "a hash of this answer: it changes when the report does (hires, departments, jobs)",
             "schema": STRING},
    "Vary": {"description": "`Accept`: JSON and CSV are two answers, each with its own ETag", "schema": STRING},
    "Cache-Control": {"description": "`no-cache`: keep it, but ask again with If-None-Match", "schema": STRING},
}


def report(summary: str, schema: str, what: str) -> Operation:
    ok = {**csv_or_json(schema, what), "headers": REPORT_HEADERS}
    op = operation("reports", summary, ok, 400, 422, 503, parameters=REPORT_PARAMETERS,
                   description="Read from the summary of hires every batch keeps in its own transaction: "
                               "a few rows per department and job, however many employees there are.")
    op["responses"]["304"] = {"description": "the report is still the one whose ETag was sent; no body",
                              "headers": REPORT_HEADERS}
    return op


OPERATIONS: dict[str, Operation] = {
    "health.health": operation("health", "Liveness: answers while the process runs; needs no key",
                               json_body(ref("Health")), security=[]),
    "health.ready": {**operation("health", "Readiness of the database, broker, storage and task registry",
                                 json_body(ref("Readiness"))),
                     "responses": {"200": json_body(ref("Readiness"), "every dependency answered"),
                                   "503": json_body(ref("Readiness"), "a dependency is down: `checks` says which"),
                                   **problems()}},
    "loads.upload_files": load("Load departments.csv, jobs.csv and hired_employees.csv from storage, in that order"),
    "loads.upload_hired_employees": load(
        "Load hired_employees.csv, or a slice of its data rows, in 1000-row batches", 400,
        parameters=(query("start", "data rows to skip", {"type": "integer", "minimum": 0, "maximum": MAX_INT,
                                                         "default": 0}),
                    query("limit", "data rows to load (all if omitted)", {"type": "integer", "minimum": 1,
                                                                          "maximum": MAX_INT}))),
    "loads.load_departments": load("Load departments.csv from storage"),
    "loads.load_jobs": load("Load jobs.csv from storage"),
    "loads.upload": load(
        "Store an uploaded CSV under a generated name, then load it", 400, 413,
        requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary", "description": "the CSV file"}}}}}}),
    "batch.insert_batch": operation(
        "batch", "Insert 1 to 1000 rows at once; every rejected row comes back with its reasons",
        json_body(ref("BatchResult"), "what was inserted, already there or rejected"), 400, 404, 413, 415, 422, 503,
        requestBody={"required": True, "content": {
            "application/json": {"schema": array(ref("RowObject"), minItems=1, maxItems=1000)},
            "text/csv": {"schema": {"type": "string", "pattern": "^[0-9]+,",
                                    "description": "the table's CSV lines in any dialect a file may have: "
                                                   "`charset=` of Content-Type, `,` `;` tab or `|` (detected), "
                                                   "a header naming the columns in any order"},
                         "example": "13,Logistics\n14,Legal\n"}}}),
    "reads.departments": operation("reads", "Departments, a page at a time, by id",
                                   json_body(ref("DepartmentPage")), 400, 503, parameters=PAGE),
    "reads.jobs": operation("reads", "Jobs, a page at a time, by id", json_body(ref("JobPage")), 400, 503,
                            parameters=PAGE),
    "reads.hired_employees": operation("reads", "Hired employees, a page at a time, by id",
                                       json_body(ref("HiredEmployeePage")), 400, 503, parameters=PAGE),
    "rejections.rejections": operation(
        "rejections", "The logged rejected rows: table, source, line, raw text, reasons, task, resolution",
        {"description": "a page of rows (JSON); with `Accept: text/csv`, every row of one table as a CSV file "
                        "to fix and upload again: the table's columns, then line_number, reasons, rejection_id",
         "content": {"application/json": {"schema": ref("RejectionPage")}, "text/csv": {"schema": STRING}}},
        400, 404, 422, 503,
        parameters=[query("table", "only this table's (required for CSV when the task loaded several)",
                          TABLE_PARAMETER),
                    query("task_id", "only this task's (or batch request's)", STRING),
                    query("resolved", "unresolved rows (default), resolved ones, or all",
                          {"type": "string", "enum": ["false", "true", "all"], "default": "false"}), *PAGE]),
    "rejections.replay": operation(
        "rejections", "Run a load's unresolved rejected rows again against the database as it is now", ACCEPTED,
        400, 404, 413, 422, 503, status=202,
        description="Rows that now pass are inserted in 1000-row batches and marked resolved by the task; a row "
                    "whose id is present is resolved only if the stored row equals it; rows that still fail keep "
                    "their logged row with their reasons as of now. A second replay inserts nothing.",
        requestBody={"required": True, "content": {"application/json": {"schema": ref("ReplayRequest")}}}),
    "reports.hired_by_quarter": report(
        "Report 1: hires per department and job in each quarter of the year", "HiredByQuarter",
        "rows ordered by department, then job (case-folded)"),
    "reports.hiring_above_average": report(
        "Report 2: departments that hired more than the mean of all departments in the year", "HiringAboveAverage",
        "rows ordered by hires, most first, then department"),
    "tasks.task_status": operation(
        "tasks", "A task's state, progress (rows, bytes of total), result or error, times", json_body(ref("Task")),
        404, 503, description="404 when the task registry does not know the id: never given, expired (7 days "
        "after it finished, on Redis), or lost with a task registry that was reset (a Redis restarted without "
        "persistence). A task the registry knows is never left waiting on a worker that is gone: it is run "
        "again once its lease lapses."),
    "tasks.task_batches": operation(
        "tasks", "A load's committed batches, a page at a time: each one's figures and the ids it rejected",
        json_body(ref("LoadBatchPage")), 400, 404, 503,
        parameters=[query("table", "only this table's batches", {"type": "string", "enum": [
            "departments", "jobs", "hired_employees", "hired-employees"]}), *PAGE]),
    "tasks.task_list": operation(
        "tasks", "Recent tasks, newest first, in any state", json_body(ref("TaskList")), 400, 503,
        parameters=[query("limit", "how many (1 to 500)", {"type": "integer", "minimum": 1, "maximum": 500,
                                                           "default": 20})]),
    "backups.backup": operation("backups", "Write the table to a new AVRO backup in storage", ACCEPTED, 404, 503,
                                status=202),
    "backups.backups": operation("backups", "The backups in storage, per table, newest first",
                                 json_body(ref("Backups")), 503),
    "backups.restore": operation(
        "backups", "Replace the table with a backup (the latest if none is named), atomically", ACCEPTED,
        400, 404, 409, 413, 422, 503, status=202,
        requestBody={"required": False, "content": {"application/json": {"schema": ref("RestoreRequest")}}}),
    "docs.openapi": operation("docs", "This document", {
        "description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}),
    "docs.docs": operation("docs", "A browsable page of this document (assets served here, no CDN)", HTML,
                           security=[]),
    "dashboard.dashboard": operation(
        "docs", "The two reports as charts and tables, and the recent tasks; the page asks for the key itself",
        HTML, security=[]),
}

# Routes that are files, not API operations.
NOT_OPERATIONS = frozenset({"static", "docs.static"})  # Flask's own folder (unused) and the pages' assets
