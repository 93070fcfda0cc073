"""The OpenAPI 3.1 document, built from the app's own routes: paths, methods and path parameters come from
app.url_map, what each operation takes and answers from api.openapi_paths. Nothing is kept by hand twice."""
from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from api.openapi_paths import NOT_OPERATIONS, OPERATIONS, PATH_PARAMETERS, PROBLEM_RESPONSES
from api.openapi_schemas import SCHEMAS, ref

IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
DESCRIPTION = """Moves the `departments`, `jobs` and `hired_employees` CSV files into a SQL database, takes new
rows in batches, and answers the two reports. Long work runs as tasks: a 202 answer names the task, and
`GET /task-status/{task_id}` follows it. Errors are `application/problem+json` (RFC 9457).
When the server has `API_KEY` set, every request but `/health` (and the pages) carries it as
`Authorization: Bearer <key>` or `X-API-Key: <key>`."""


def openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def operations(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) the app answers, but the implicit HEAD and OPTIONS, in path order."""
    found = [(rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods - IMPLICIT_METHODS)]
    return sorted(found, key=lambda item: (item[0].rule, item[1]))


def undocumented(app: Flask) -> list[str]:
    """Routes the document does not describe: a test keeps this empty."""
    return [f"{method} {rule.rule} ({rule.endpoint})" for rule, method in operations(app)
            if rule.endpoint not in OPERATIONS and rule.endpoint not in NOT_OPERATIONS]


def _operation(rule: Rule, method: str) -> dict[str, Any]:
    declared = OPERATIONS[rule.endpoint]
    parameters = [PATH_PARAMETERS[name] for name in sorted(rule.arguments)] + declared.get("parameters", [])
    operation = {**declared, "operationId": rule.endpoint.replace(".", "_")}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _problem_responses() -> dict[str, Any]:
    return {f"Problem{code}": {"description": f"{HTTPStatus(code).phrase}: {why}",
                               "content": {"application/problem+json": {"schema": ref("Problem")}}}
            for code, why in PROBLEM_RESPONSES.items()}


def build_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule, method in operations(app):
        if rule.endpoint in OPERATIONS:
            paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(rule, method)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "HR data migration service", "version": "1.0.0", "description": DESCRIPTION},
        "tags": [{"name": name} for name in ("loads", "batch", "reads", "rejections", "reports", "tasks", "backups",
                                             "health", "docs")],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": _problem_responses(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"},
                                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }
    settings = app.extensions.get("settings")
    if settings is not None and settings.api_key:
        document["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
    return document
