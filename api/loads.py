"""Load endpoints of the original service: each starts a task and answers 202 with where to follow it."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest

from api.params import int_arg, read_options, services
from domain.tables import Table

bp = Blueprint("loads", __name__)


def accepted(task_id: str) -> Response:
    status_url = url_for("tasks.task_status", task_id=task_id)
    response = jsonify(task_id=task_id, status="PENDING", status_url=status_url)
    response.status_code = 202
    response.headers["Location"] = status_url
    return response


@bp.post("/upload-files")
def upload_files():
    return accepted(services().load_requests.load_all(read_options()))


@bp.post("/upload-hired-employees")
def upload_hired_employees():
    start = int_arg("start", 0)
    limit = int_arg("limit", None, low=1)
    return accepted(services().load_requests.load_table(Table.HIRED_EMPLOYEES, start, limit, read_options()))


@bp.post("/departments")
def load_departments():
    return accepted(services().load_requests.load_table(Table.DEPARTMENTS, options=read_options()))


@bp.post("/jobs")
def load_jobs():
    return accepted(services().load_requests.load_table(Table.JOBS, options=read_options()))


@bp.post("/upload/<table>")
def upload(table: str):
    target = Table.from_name(table)
    options = read_options()
    # Uploads may be far larger than other bodies: werkzeug spools the file to disk as it arrives.
    request.max_content_length = current_app.extensions["settings"].max_upload_bytes
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the CSV as multipart/form-data in a field named 'file'")
    return accepted(services().load_requests.load_upload(target, upload.stream, options))
