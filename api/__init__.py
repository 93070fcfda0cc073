"""HTTP driving adapter: blueprints parse requests, call one use case, map the result."""
from __future__ import annotations

from flask import Flask

from api import backups, batch, dashboard, docs, health, loads, reads, rejections, reports, tasks
from api.auth import require_api_key
from api.cors import allow_origins
from api.problems import register_problem_handlers
from api.request_ids import register_request_ids


def register_api(app: Flask, api_key: str | None, cors_origins: tuple[str, ...] = ()) -> None:
    register_request_ids(app)
    if cors_origins:
        allow_origins(app, cors_origins)
    register_problem_handlers(app)
    if api_key:
        require_api_key(app, api_key)
    for module in (health, loads, batch, reads, rejections, reports, tasks, backups, docs, dashboard):
        app.register_blueprint(module.bp)
