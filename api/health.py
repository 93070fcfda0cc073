"""Liveness, and readiness that checks each dependency and names the one that is down."""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.params import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    checks = services().readiness()
    body = {name: "ok" if error is None else f"down: {error}" for name, error in checks.items()}
    ok = all(error is None for error in checks.values())
    return jsonify(status="ready" if ok else "not ready", checks=body), 200 if ok else 503
