"""docker-compose.yml and the Dockerfile kept honest without a Docker engine: what they name must exist."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from config import PROJECT_DIR

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
SERVICES = {"web", "worker", "redis", "postgres", "azurite"}
APP_SERVICES = ("web", "worker", "azurite-init")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def settings_config_reads() -> set[str]:
    """Every setting name config.py looks up, read from its source as written."""
    source = (PROJECT_DIR / "config.py").read_text()
    return set(re.findall(r"""values(?:\.get\(|,)\s*["']([A-Z][A-Z0-9_]*)["']""", source))


def test_the_settings_list_is_read_from_config():
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_CONTAINER",
            "API_KEY", "BATCH_SIZE", "PORT"} <= settings_config_reads()


def test_the_stack_has_each_service_with_a_healthcheck(compose):
    services = compose["services"]
    assert SERVICES <= set(services)
    for name in SERVICES:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


@pytest.mark.parametrize("service", ["web", "worker"])
def test_web_and_worker_wait_for_healthy_backing_services(compose, service):
    depends = compose["services"][service]["depends_on"]
    for backing in ("postgres", "redis", "azurite"):
        assert depends[backing]["condition"] == "service_healthy"
    assert depends["azurite-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_set_for_the_app_is_a_setting_config_reads(compose, service):
    spec = compose["services"][service]
    assert {"path": ".env", "required": False} in spec["env_file"]
    unknown = set(spec["environment"]) - settings_config_reads()
    assert not unknown, f"{service} sets {sorted(unknown)}, which config.py never reads"


def test_web_requires_an_api_key_and_the_app_uses_the_container_network(compose):
    environment = compose["services"]["web"]["environment"]
    assert environment["API_KEY"].startswith("${API_KEY:?")  # compose refuses to start without it
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert "redis://redis:6379/" in environment["CELERY_BROKER_URL"]
    assert "BlobEndpoint=http://azurite:10000/devstoreaccount1" in environment["AZURE_STORAGE_CONNECTION_STRING"]


def test_azurite_never_reaches_out(compose):
    azurite = compose["services"]["azurite"]
    assert azurite["image"].startswith("mcr.microsoft.com/azure-storage/azurite")
    assert {"--disableTelemetry", "--skipApiVersionCheck"} <= set(azurite["command"])


def test_the_commands_name_files_and_modules_of_the_project(compose):
    worker = compose["services"]["worker"]["command"]
    module = worker[worker.index("-A") + 1]
    path = PROJECT_DIR / (module.replace(".", "/") + ".py")
    assert path.is_file(), f"celery -A {module}: no such module"
    source = path.read_text()  # read, not imported: importing main must not be what this test depends on
    assert re.search(r"^celery\s*[:=]", source, re.M) or re.search(r"def __getattr__[\s\S]*[\"']celery[\"']", source), \
        f"celery -A {module}: the module has no `celery` app"
    script = compose["services"]["azurite-init"]["command"][-1]
    assert (PROJECT_DIR / script).is_file()


def test_the_dockerfile_serves_the_app_factory_as_a_non_root_user():
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert "msodbcsql18" in dockerfile and "ACCEPT_EULA=Y" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "gunicorn --bind 0.0.0.0:8000" in dockerfile and "'main:create_app()'" in dockerfile
    ignored = (PROJECT_DIR / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "var"} <= set(ignored)


def test_docker_compose_parses_the_file():
    if shutil.which("docker") is None:
        pytest.skip("SKIPPED: the docker client is not installed; the file was checked with PyYAML only")
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if version.returncode != 0:
        pytest.skip("SKIPPED: the docker compose plugin is not installed; the file was checked with PyYAML only")
    env = {**os.environ, "API_KEY": "compose-config-check"}
    result = subprocess.run(["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
                            capture_output=True, text=True, env=env, cwd=PROJECT_DIR)
    assert result.returncode == 0, result.stderr
