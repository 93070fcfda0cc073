"""Follow tasks: one by id, or the most recent in any state."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from api.params import int_arg, page_args, services
from domain.tables import Table

bp = Blueprint("tasks", __name__)


@bp.get("/task-status/<task_id>")
def task_status(task_id: str):
    return jsonify(services().tasks.status(task_id).as_dict())


@bp.get("/task-status/<task_id>/batches")
def task_batches(task_id: str):
    """A load's committed batches with their figures and error ids, a page at a time: the result keeps totals only."""
    services().tasks.status(task_id)  # 404 for a task that does not exist
    limit, offset = page_args()
    name = request.args.get("table")
    table = Table.from_name(name) if name else None
    rows = services().rows
    return jsonify(items=rows.batches(task_id, table, limit, offset), limit=limit, offset=offset,
                   total=rows.batch_count(task_id, table))


@bp.get("/task-list")
def task_list():
    limit = int_arg("limit", 20, 1, 500)
    return jsonify(items=[record.as_brief_dict() for record in services().tasks.recent(limit)], limit=limit)
