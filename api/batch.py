"""POST /batch/<table>: 1 to 1000 rows as JSON objects or CSV, inserted at once."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api.params import services
from domain.tables import Table

bp = Blueprint("batch", __name__)


@bp.post("/batch/<table>")
def insert_batch(table: str):
    target = Table.from_name(table)
    batch = services().batch_insert
    if request.mimetype == "text/csv":
        return jsonify(batch.insert_csv(target, request.get_data(), request.mimetype_params.get("charset")))
    if not request.is_json:
        raise UnsupportedMediaType("send a JSON array of row objects (application/json) or a CSV body (text/csv)")
    items = request.get_json(silent=True)
    if items is None:
        raise BadRequest("the body is not valid JSON")
    return jsonify(batch.insert_objects(target, items))
