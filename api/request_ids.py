"""Every request gets an id (the client's X-Request-ID when it is sane), echoed back and in every log line."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from core.log_context import request_id

log = logging.getLogger("api.requests")
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def register_request_ids(app: Flask) -> None:
    @app.before_request
    def assign_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        g.request_token = request_id.set(g.request_id)
        g.request_started = time.perf_counter()

    @app.after_request
    def report(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if "request_started" in g:
            log.info("request", extra={"method": request.method, "path": request.path, "status": response.status_code,
                                       "ms": round((time.perf_counter() - g.request_started) * 1000, 1)})
        return response

    @app.teardown_request
    def forget_id(_error: BaseException | None) -> None:
        if "request_token" in g:
            request_id.reset(g.request_token)
