"""Query parameters parsed the same way everywhere; a bad one is a 400 that names it."""
from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import BadRequest

from core.dialects import ReadOptions
from core.services import Services


def services() -> Services:
    return current_app.extensions["services"]


# The largest INTEGER on every database we run on: a larger offset or slice bound cannot mean anything.
MAX_INT = 2**31 - 1


def int_arg(name: str, default: int | None, low: int = 0, high: int = MAX_INT) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"query parameter '{name}' must be a whole number, not '{text}'") from None
    if not low <= value <= high:
        bounds = f"from {low} to {high}"
        raise BadRequest(f"query parameter '{name}' must be {bounds}, not {value}")
    return value


def read_options() -> ReadOptions:
    """`delimiter=` and `encoding=` of a load; core says whether they can be used (422 if not)."""
    return ReadOptions.parse(request.args.get("delimiter") or None, request.args.get("encoding") or None)


def page_args(default_limit: int = 100, max_limit: int = 1000) -> tuple[int, int]:
    return int_arg("limit", default_limit, 1, max_limit), int_arg("offset", 0)
