"""The shapes the API sends and takes, as OpenAPI 3.1 components (JSON Schema 2020-12)."""
from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str] | None = None, **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required is None:
        required = list(properties)
    if required:
        schema["required"] = required
    return schema


def array(items: Schema, **limits: int) -> Schema:
    return {"type": "array", "items": items, **limits}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
ROW_ID = {"type": "integer", "minimum": 1, "description": "a positive whole number"}
MOMENT = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
TABLE_NAME = {"type": "string", "enum": ["departments", "jobs", "hired_employees"]}
TABLE_PARAMETER = {"type": "string", "enum": ["departments", "jobs", "hired_employees", "hired-employees"]}

_TOTALS = {"processed": COUNT, "inserted": COUNT, "already_exists": COUNT, "errors": COUNT}
_COUNTS = {**_TOTALS, "error_ids": array(INTEGER)}

SCHEMAS: dict[str, Schema] = {
    "Problem": {
        **obj(["type", "title", "status", "detail"], type=STRING, title=STRING, status=INTEGER, detail=STRING,
              errors={"description": "details where useful"}),
        "description": "RFC 9457 problem details",
    },
    "TaskAccepted": obj(task_id=STRING, status={"type": "string", "enum": ["PENDING"]},
                        status_url={"type": "string", "description": "where to follow the task (also Location)"}),
    "TaskProgress": obj([], table=STRING, rows_done=COUNT, bytes_done=COUNT, bytes_total=nullable(COUNT)),
    "Task": {
        **obj(["task_id", "kind", "args", "state", "submitted_at"],
              task_id=STRING, kind={"type": "string", "examples": ["load", "replay", "backup", "restore"]},
              args={"type": "object"}, state={"type": "string", "enum": ["PENDING", "STARTED", "RETRY", "SUCCESS",
                                                                         "FAILURE"]},
              submitted_at=MOMENT, started_at=nullable(MOMENT), finished_at=nullable(MOMENT),
              progress=ref("TaskProgress"),
              result={"description": "the task's result once it succeeded: a LoadSummary, {tables, total} for "
                                     "/upload-files (and a replay of several tables' rows), or what a backup or "
                                     "restore wrote. A load's result holds "
                                     "totals only, whatever the file's size: /task-status/{task_id}/batches pages "
                                     "its batches and the ids each rejected"},
              error=nullable(STRING)),
        "description": "A task and where it stands",
    },
    "TaskList": obj(items=array(ref("Task")), limit=COUNT),
    "LoadBatch": obj(["table", "batch", *_COUNTS], table=TABLE_NAME, batch=COUNT, **_COUNTS),
    "LoadBatchPage": obj(["items", "limit", "offset", "total"], items=array(ref("LoadBatch")), limit=COUNT,
                         offset=COUNT, total=COUNT),
    "LoadSummary": obj(["table", "source", "task_id", "header_skipped", "total"],
                       table=STRING, source=STRING, task_id=STRING, header_skipped={"type": "boolean"},
                       total=obj(**_TOTALS),
                       chunks={"type": "integer", "minimum": 2,
                               "description": "present when the file was loaded in chunks by several workers "
                                              "at once (LOAD_CHUNK_BYTES); a chunk's last batch may be short"}),
    "LoggedText": {"type": "string",
                   "description": "the row as received (a JSON row as JSON), in the log's escaped form: `\\\\` a "
                                  "backslash, `\\xNN` a control character or a byte that is not UTF-8, `\\uXXXX` a "
                                  "lone surrogate; at most 65,535 bytes (a reason says so when cut)"},
    "RejectedRow": obj(index={"type": "integer", "minimum": 0, "description": "position in the request"},
                       line={"type": "integer", "minimum": 1}, id=nullable(INTEGER), reasons=array(STRING),
                       raw=ref("LoggedText")),
    "BatchResult": obj(table=TABLE_NAME, request_id=STRING, **_COUNTS, rejected=array(ref("RejectedRow"))),
    "RowObject": {
        "description": "one row: departments {id, department}, jobs {id, job}, hired_employees "
                       "{id, name, datetime, department_id, job_id}. Anything is taken: a row that breaks a rule "
                       "(a missing or unknown field, an id that is not a positive integer, a bad datetime) comes "
                       "back in `rejected` with its reasons, and is logged",
        "properties": {"id": {"description": "a positive integer, or its text"},
                       "department": {"description": "departments: the name"},
                       "job": {"description": "jobs: the title"},
                       "name": {"description": "hired_employees: the name"},
                       "datetime": {"description": "hired_employees: ISO 8601; no offset means UTC"},
                       "department_id": {"description": "hired_employees: an existing department"},
                       "job_id": {"description": "hired_employees: an existing job"}},
        "examples": [{"id": 13, "department": "Logistics"}],
    },
    "Department": obj(id=ROW_ID, department=STRING),
    "Job": obj(id=ROW_ID, job=STRING),
    "HiredEmployee": obj(id=ROW_ID, name=STRING, datetime=MOMENT, department_id=ROW_ID, job_id=ROW_ID),
    "Rejection": obj(id=INTEGER, table_name=TABLE_NAME, source=STRING, line_number=INTEGER, raw_text=ref("LoggedText"),
                     reasons=array(STRING), task_id=STRING, rejected_at=MOMENT,
                     fields={**nullable(array(STRING)), "description": "the row's fields in the table's order, in "
                             "the log's escaped form, when its line was read into them; else null"},
                     resolved_by={**nullable(STRING), "description": "the task that loaded the row fixed (a "
                                  "replay, or an upload of the exported file); null while unresolved"},
                     resolved_at=nullable(MOMENT)),
    "ReplayRequest": {
        "type": "object", "minProperties": 1,
        "properties": {"task_id": {"type": "string", "minLength": 1,
                                   "description": "the load whose rejected rows to replay"},
                       "table": {**TABLE_NAME, "description": "only this table's (every load's, without task_id)"}},
        "examples": [{"task_id": "3f9c…", "table": "hired_employees"}],
    },
    "RejectionPage": obj(items=array(ref("Rejection")), limit=COUNT, offset=COUNT),
    "QuarterRow": obj(department=STRING, job=STRING, Q1=COUNT, Q2=COUNT, Q3=COUNT, Q4=COUNT),
    "HiredByQuarter": obj(report={"const": "hired-by-quarter"}, year=INTEGER, rows=array(ref("QuarterRow"))),
    "DepartmentHires": obj(id=ROW_ID, department=STRING, hired=COUNT),
    "HiringAboveAverage": obj(report={"const": "hiring-above-average"}, year=INTEGER,
                              rows=array(ref("DepartmentHires")),
                              mean={"type": "number", "minimum": 0,
                                    "description": "the year's hires over all departments, the line rows are above"}),
    "Backup": obj(name=STRING, rows=nullable(COUNT), size=COUNT, time=MOMENT),
    "Backups": obj(departments=array(ref("Backup")), jobs=array(ref("Backup")),
                   hired_employees=array(ref("Backup"))),
    "RestoreRequest": {
        "type": "object",
        "properties": {"backup": {"type": "string", "pattern": "^[0-9]{8}T[0-9]{12}Z\\.avro$",
                                  "description": "a name as GET /backups gives it; the latest if omitted"},
                       "with_dependants": {"type": "boolean", "default": False,
                                           "description": "also restore hired_employees from its latest backup"}},
    },
    "Health": obj(status={"const": "ok"}),
    "Readiness": obj(status={"type": "string", "enum": ["ready", "not ready"]},
                     checks={"type": "object", "additionalProperties": STRING,
                             "description": "per dependency: 'ok' or 'down: <reason>'"}),
}


def page_of(item: str) -> Schema:
    return obj(items=array(ref(item)), limit=COUNT, offset=COUNT, total=COUNT)


SCHEMAS |= {f"{name}Page": page_of(name) for name in ("Department", "Job", "HiredEmployee")}
