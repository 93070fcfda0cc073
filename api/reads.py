"""Read back the three tables, a page at a time (the rejected rows: api.rejections)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.params import page_args, services
from domain.tables import Table

bp = Blueprint("reads", __name__)


def _page(table: Table):
    limit, offset = page_args()
    rows = services().rows
    return jsonify(items=rows.page(table, limit, offset), limit=limit, offset=offset, total=rows.count(table))


@bp.get("/departments")
def departments():
    return _page(Table.DEPARTMENTS)


@bp.get("/jobs")
def jobs():
    return _page(Table.JOBS)


@bp.get("/hired-employees")
def hired_employees():
    return _page(Table.HIRED_EMPLOYEES)

