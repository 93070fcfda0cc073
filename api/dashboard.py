"""GET /dashboard: a page that draws the two reports and the recent tasks from the API's own JSON."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.get("/dashboard")
def dashboard():
    return render_template("dashboard.html")
