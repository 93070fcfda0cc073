"""Liveness, and readiness that checks each dependency and names the one that is down."""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.params import services
from api.problems import problem

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    checks = services().readiness()
    body = {name: "ok" if error is None else f"down: {error}" for name, error in checks.items()}
    down = [name for name, error in checks.items() if error is not None]
    if down:
        return problem(503, f"not ready: {', '.join(down)} down", checks=body)
    return jsonify(status="ready", checks=body)
