"""The rejected rows: read in pages (JSON) or as a CSV file to fix and upload again, and replayed."""
from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from api.loads import accepted
from api.params import page_args, services
from domain.tables import Table

bp = Blueprint("rejections", __name__)

_RESOLVED = {"false": False, "true": True, "all": None}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _table_arg(value) -> Table | None:
    return Table.from_name(value) if value else None


def _resolved_arg() -> bool | None:
    text = request.args.get("resolved", "false")
    if text not in _RESOLVED:
        raise BadRequest(f"query parameter 'resolved' must be false, true or all, not '{text}'")
    return _RESOLVED[text]


@bp.get("/rejections")
def rejections():
    table, task_id = _table_arg(request.args.get("table")), request.args.get("task_id") or None
    resolved = _resolved_arg()
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        export = services().rejection_export
        table = export.table_of(table, task_id)
        # The task id goes into the file's name only as letters, digits and dashes: it is the client's text.
        name = f"rejections-{table.value}{'-' + task_id if task_id and _SAFE_NAME.fullmatch(task_id) else ''}.csv"
        return Response(export.csv(table, task_id, resolved), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    limit, offset = page_args()
    items = services().rows.rejections(table, task_id, limit, offset, resolved)
    return jsonify(items=items, limit=limit, offset=offset)


@bp.post("/rejections/replay")
def replay():
    body = request.get_json(silent=True) if request.get_data() else None
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object naming the load: {"task_id": …, "table": …} (either or both)')
    task_id, table = body.get("task_id"), body.get("table")
    if not isinstance(task_id, (str, type(None))) or not isinstance(table, (str, type(None))):
        raise BadRequest('"task_id" and "table" are strings')
    return accepted(services().replay_requests.replay(task_id or None, _table_arg(table)))
