"""Every error leaves as application/problem+json (RFC 9457); this is the one place that maps kinds to codes."""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from core.errors import BrokerUnavailable, Conflict, DependencyMissing, InvalidRequest, NotFound, StoreUnavailable
from domain.errors import DomainError, UnknownTable

log = logging.getLogger(__name__)

STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (UnknownTable, 404),
    (NotFound, 404),
    (InvalidRequest, 422),
    (Conflict, 409),
    (BrokerUnavailable, 503),
    (StoreUnavailable, 503),
    (DependencyMissing, 503),
)


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        for kind, status in STATUS_OF:
            if isinstance(error, kind):
                return problem(status, str(error))
        return problem(400, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = problem(error.code or 500, error.description or "")
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # The client gets no stack trace and no SQL; the log keeps both.
        log.exception("unhandled error")
        return problem(500, "the server could not complete the request; the error is logged")

