"""Follow tasks: one by id, or the most recent in any state."""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.params import int_arg, services

bp = Blueprint("tasks", __name__)


@bp.get("/task-status/<task_id>")
def task_status(task_id: str):
    return jsonify(services().tasks.status(task_id).as_dict())


@bp.get("/task-list")
def task_list():
    limit = int_arg("limit", 20, 1, 500)
    return jsonify(items=[record.as_brief_dict() for record in services().tasks.recent(limit)], limit=limit)
