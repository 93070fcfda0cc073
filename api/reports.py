"""The two reports as JSON, or CSV when the client asks for text/csv; each with an ETag a client can send back.

The ETag is a hash of the answer itself, so it changes exactly when the answer does, whatever changed it
(hires, a department with none moving report 2's mean, a name restored), is the same from every API
process, and needs no counter that every batch would have to update (a row each batch in flight would
wait for). A matching If-None-Match is answered 304 with no body."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api.params import int_arg, services
from api.render import REPORT_COLUMNS, to_csv

bp = Blueprint("reports", __name__)


def _respond(name: str, year: int, rows: list[dict], **extra) -> Response:
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        response = Response(to_csv(rows, REPORT_COLUMNS[name]), mimetype="text/csv",
                            headers={"Content-Disposition": f'inline; filename="{name}-{year}.csv"'})
    else:
        response = jsonify(report=name, year=year, rows=rows, **extra)
    return _cacheable(response)


def _cacheable(response: Response) -> Response:
    response.vary.add("Accept")  # JSON and CSV are two answers, with two ETags
    response.cache_control.no_cache = True  # kept, but asked again (If-None-Match) before each use
    response.add_etag()
    return response.make_conditional(request)


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
