"""The OpenAPI document: it describes every route, it is a valid OpenAPI 3.1 document, and the pages that
show it and the dashboard are served by the service itself."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from openapi_spec_validator import validate

from api.openapi import build_document, openapi_path, undocumented
from config import Settings
from main import create_app


@pytest.fixture
def app(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hr.sqlite3'}", storage_dir=tmp_path / "storage",
                        var_dir=tmp_path / "var")
    app = create_app(settings)
    app.extensions["services"].upgrade_schema()
    return app


def test_every_route_of_the_app_is_in_the_document(app):
    assert undocumented(app) == []
    paths = build_document(app)["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in ("static", "docs.static"):
            methods = rule.methods - {"HEAD", "OPTIONS"}
            assert methods <= {m.upper() for m in paths[openapi_path(rule)]}, rule


def test_the_contract_paths_are_described(app):
    paths = build_document(app)["paths"]
    for path, method in [("/upload-files", "post"), ("/upload-hired-employees", "post"), ("/departments", "post"),
                         ("/jobs", "post"), ("/upload/{table}", "post"), ("/batch/{table}", "post"),
                         ("/departments", "get"), ("/jobs", "get"), ("/hired-employees", "get"),
                         ("/rejections", "get"), ("/backup/{table}", "post"), ("/backups", "get"),
                         ("/restore/{table}", "post"), ("/report/hired-by-quarter", "get"),
                         ("/report/hiring-above-average", "get"), ("/task-status/{task_id}", "get"),
                         ("/task-list", "get"), ("/health", "get"), ("/ready", "get"), ("/openapi.json", "get"),
                         ("/docs", "get"), ("/dashboard", "get")]:
        assert method in paths[path], (method, path)


def test_a_route_added_without_a_description_is_caught(app):
    app.add_url_rule("/salaries", "salaries.list", lambda: "")
    assert undocumented(app) == ["GET /salaries (salaries.list)"]


def test_the_served_document_is_valid_openapi(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"] == "3.1.0" and "security" not in document
    batch = document["paths"]["/batch/{table}"]["post"]
    assert {"200", "404", "422"} <= set(batch["responses"])
    problem = document["components"]["responses"]["Problem404"]["content"]
    assert list(problem) == ["application/problem+json"]


def test_pages_and_their_assets_are_served_here(app):
    client = app.test_client()
    for page in ("/docs", "/dashboard"):
        response = client.get(page)
        assert response.status_code == 200 and response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
        assert assets and not re.search(r'(?:src|href)="(?:https?:)?//', html), "no asset from another host"
        for asset in assets:
            if "/vendor/" in asset:
                continue  # copied from npm by `make install`: the browser tests need them
            assert client.get(asset).status_code == 200, asset


def test_with_an_api_key_the_pages_open_and_the_data_needs_the_key(app):
    keyed = create_app(replace(app.extensions["settings"], api_key="s3cret"))
    client = keyed.test_client()
    for open_path in ("/health", "/dashboard", "/docs", "/assets/dashboard.js"):
        assert client.get(open_path).status_code == 200, open_path
    assert client.get("/openapi.json").status_code == 401
    document = client.get("/openapi.json", headers={"X-API-Key": "s3cret"}).get_json()
    assert document["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}]
    assert client.get("/report/hiring-above-average", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_an_offset_past_any_integer_is_a_400_not_a_500(app):
    # Found by the schemathesis run: SQLite cannot bind an integer past 64 bits.
    client = app.test_client()
    for path in ("/jobs?offset=36573960738606344568832", "/upload-hired-employees?start=99999999999"):
        response = client.get(path) if path.startswith("/jobs") else client.post(path)
        assert response.status_code == 400 and response.mimetype == "application/problem+json", path
