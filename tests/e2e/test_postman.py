"""The Postman collection, run by newman (npm, pinned in package-lock.json) against a running server and
worker whose storage holds the original files: every request's pm.test assertions pass."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from config import PROJECT_DIR
from tests.conftest import unavailable

COLLECTION = PROJECT_DIR / "Documentation" / "hr-migration.postman_collection.json"
NEWMAN = PROJECT_DIR / "node_modules" / ".bin" / "newman"


@pytest.fixture(scope="module")
def newman() -> str:
    if shutil.which("node") is None:
        unavailable("newman", "node is not installed")
    if not NEWMAN.is_file():
        unavailable("newman", f"{NEWMAN} is missing: run make install (npm ci)")
    return str(NEWMAN)


def test_collection_names_only_the_base_url_as_host():
    text = COLLECTION.read_text()
    urls = [item["request"]["url"]["raw"] for folder in json.loads(text)["item"] for item in folder["item"]]
    assert urls and all(url.startswith("{{baseUrl}}/") for url in urls)
    assert "localhost" not in text.replace('"value": "http://127.0.0.1:8000"', "")


# The embedded configuration: a database of this module's own, so the collection's exact counts hold (the
# PostgreSQL e2e database is shared by every e2e module of the session).
@pytest.mark.parametrize("live_service", ["embedded"], indirect=True)
def test_newman_runs_the_collection_green(newman, live_service, tmp_path):
    report = tmp_path / "newman.json"
    result = subprocess.run(
        [newman, "run", str(COLLECTION), "--env-var", f"baseUrl={live_service.base_url}", "--timeout-request",
         "60000", "--reporters", "cli,json", "--reporter-json-export", str(report), "--color", "off"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:] + live_service.log()
    stats = json.loads(report.read_text())["run"]["stats"]
    assert stats["assertions"]["failed"] == 0 and stats["assertions"]["total"] >= 50
    assert stats["requests"]["failed"] == 0
