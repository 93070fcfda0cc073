"""With API_KEY set, every request but /health carries the key; compared in constant time."""
from __future__ import annotations

import hmac

from flask import Flask, request

from api.problems import problem

OPEN_PATHS = frozenset({"/health", "/dashboard", "/docs"})  # the pages hold no data: their calls carry the key
OPEN_PREFIXES = ("/assets/",)


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def require_api_key(app: Flask, key: str) -> None:
    expected = key.encode()

    @app.before_request
    def check_key():
        if request.method == "OPTIONS" or request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES):
            return None  # a CORS preflight carries no credentials by design
        presented = _presented_key()
        if presented is None or not hmac.compare_digest(presented.encode(), expected):
            response = problem(401, "a valid API key is needed: send 'Authorization: Bearer <key>' or 'X-API-Key'")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return None
