"""`make run`'s launcher: without an API key it listens on loopback only, and says so."""
from __future__ import annotations

import logging

from config import Settings
from tools.serve import commands, is_loopback, listen_host


def test_without_a_key_a_public_host_is_refused_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="serve"):
        assert listen_host(Settings(host="0.0.0.0")) == "127.0.0.1"
    assert "API_KEY is not set" in caplog.text and "0.0.0.0" in caplog.text


def test_with_a_key_or_on_loopback_the_host_is_kept():
    assert listen_host(Settings(host="0.0.0.0", api_key="k")) == "0.0.0.0"
    assert listen_host(Settings(host="::1")) == "::1"
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2", "10.0.0.1", "example.org")] == [
        True, True, False, False]


def test_the_api_and_a_worker_are_started_together():
    started = commands(Settings(port=8123), "127.0.0.1")
    assert "127.0.0.1:8123" in started["api"] and "main:create_app()" in started["api"]
    assert started["worker"][2:5] == ["celery", "-A", "main"]
