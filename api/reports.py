"""The two reports as JSON, or CSV when the client asks for text/csv."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api.params import int_arg, services
from api.render import REPORT_COLUMNS, to_csv

bp = Blueprint("reports", __name__)


def _respond(name: str, year: int, rows: list[dict], **extra) -> Response:
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        return Response(to_csv(rows, REPORT_COLUMNS[name]), mimetype="text/csv",
                        headers={"Content-Disposition": f'inline; filename="{name}-{year}.csv"'})
    return jsonify(report=name, year=year, rows=rows, **extra)


@bp.get("/report/hired-by-quarter")
def hired_by_quarter():
    year = int_arg("year", 2021)
    return _respond("hired-by-quarter", year, services().reports.hired_by_quarter(year))


@bp.get("/report/hiring-above-average")
def hiring_above_average():
    year = int_arg("year", 2021)
    # The mean the rows are above, for the dashboard's line; the CSV keeps the rows alone.
    report = services().reports.above_mean(year)
    return _respond("hiring-above-average", year, report.rows, mean=report.mean)
