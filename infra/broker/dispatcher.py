"""The TaskDispatcher port on Celery: send by name, so the API process never imports task code."""
from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError

from core.errors import BrokerUnavailable
from infra.broker.celery_app import RUN_TASK


class CeleryDispatcher:
    def __init__(self, celery_app: Celery) -> None:
        self._celery = celery_app

    def dispatch(self, task_id: str, kind: str, args: dict[str, Any]) -> None:
        try:
            self._celery.send_task(RUN_TASK, args=(task_id, kind, args), task_id=task_id)
        except (OperationalError, OSError) as error:
            raise BrokerUnavailable(f"the task broker is unavailable: {error}") from error

    def check(self) -> None:
        with self._celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
