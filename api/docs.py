"""GET /openapi.json and /docs (Swagger UI from api/static/vendor, copied there by `make install`: no CDN)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from api.openapi import build_document

bp = Blueprint("docs", __name__, static_folder="static", static_url_path="/assets", template_folder="templates")


@bp.get("/openapi.json")
def openapi():
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_document(current_app)
    return jsonify(document)


@bp.get("/docs")
def docs():
    return render_template("docs.html")
