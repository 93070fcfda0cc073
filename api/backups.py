"""Backups of each table in AVRO: make one, list them, restore one — the long work as tasks."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from api.loads import accepted
from api.params import services
from domain.tables import Table

bp = Blueprint("backups", __name__)


@bp.post("/backup/<table>")
def backup(table: str):
    return accepted(services().backup_requests.backup(Table.from_name(table)))


@bp.get("/backups")
def backups():
    return jsonify(services().backup_requests.list())


@bp.post("/restore/<table>")
def restore(table: str):
    target = Table.from_name(table)
    body = request.get_json(silent=True) if request.get_data() else {}  # chunked bodies have no length
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object: {"backup": name} or {} for the latest')
    name = body.get("backup")
    with_dependants = body.get("with_dependants", False)
    if (name is not None and not isinstance(name, str)) or not isinstance(with_dependants, bool):
        raise BadRequest('"backup" is a backup name (string) and "with_dependants" a boolean')
    return accepted(services().backup_requests.restore(target, name, with_dependants))
