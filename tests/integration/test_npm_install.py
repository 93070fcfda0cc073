"""`make install` calls no one but the package registries: no npm package's install script runs."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

from config import PROJECT_DIR
from tests.conftest import unavailable

# Install scripts the lock file holds, each known and not needed: @scarf/scarf (under swagger-ui-dist) only
# reports the install to an analytics server.
NOT_NEEDED = {"node_modules/@scarf/scarf"}


def test_npm_runs_no_install_script_in_the_project():
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm", "not on PATH")
    setting = subprocess.run([npm, "config", "get", "ignore-scripts"], cwd=PROJECT_DIR, capture_output=True,
                             text=True, check=True, timeout=60)
    assert setting.stdout.strip() == "true"  # from .npmrc, for every npm command run here


def test_every_npm_install_passes_ignore_scripts_too():
    """The Makefile's and the Dockerfile's, so a copy without .npmrc runs none either."""
    for name in ("Makefile", "Dockerfile"):
        installs = re.findall(r"npm (?:ci|install)\b[^\n&]*", (PROJECT_DIR / name).read_text())
        assert installs and all("--ignore-scripts" in command for command in installs), (name, installs)


def test_the_install_scripts_in_the_lock_file_are_known_and_not_needed():
    packages = json.loads((PROJECT_DIR / "package-lock.json").read_text())["packages"]
    assert {name for name, package in packages.items() if package.get("hasInstallScript")} == NOT_NEEDED
    assert packages[""]["devDependencies"]["azurite"] == packages["node_modules/azurite"]["version"]
