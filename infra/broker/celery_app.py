"""The Celery app, wired the way Flask documents it: every task runs inside the Flask app's context."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from flask import Flask

from config import Settings
from core.errors import BrokerUnavailable
from infra.process import settle_process_for_loads

log = logging.getLogger(__name__)
RUN_TASK = "hr.run_task"
ATOMIC_FILESYSTEM = "infra.broker.atomic_filesystem:Transport"


def embedded_broker(var_dir: Path) -> tuple[str, dict[str, Any]]:
    """A broker that needs no server: kombu's filesystem transport, one file per message.

    Its folders are shared by every process on the machine, so the API and a separate worker
    process meet there."""
    queue = var_dir / "broker" / "queue"
    return "filesystem://", {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(var_dir / "broker" / "control"),  # kombu's default is ./control
        "store_processed": False,
        "polling_interval": 0.2,
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    if settings.celery_broker_url:
        broker_url, options = settings.celery_broker_url, {
            # Longer than any load is expected to run: an unacknowledged task is redelivered after it.
            "visibility_timeout": 6 * 3600,
            "socket_connect_timeout": 3,
            "retry_on_timeout": True,
        }
    else:
        broker_url, options = embedded_broker(settings.var_dir)
        for key in ("data_folder_in", "control_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": broker_url,
        "broker_transport": None if settings.celery_broker_url else ATOMIC_FILESYSTEM,
        "broker_transport_options": options,
        "broker_connection_retry_on_startup": True,
        # A broker that goes away (Redis restarted) is waited for, however long, rather than the worker
        # giving up after a hundred tries; the task it runs goes on meanwhile (progress is best effort),
        # and a second delivery of it later does nothing (core.leases).
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "result_backend": settings.celery_result_backend,
        # The task registry is where status and results live; Celery keeps none unless asked.
        "task_ignore_result": not settings.celery_result_backend,
        "task_default_queue": settings.celery_queue,
        "task_serializer": "json",
        "accept_content": ["json"],
        # A task is acknowledged only once it is done, and given back if its worker dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                      "interval_max": 1},
        "worker_hijack_root_logger": False,
        "include": ["infra.broker.tasks", "infra.broker.chunk_tasks"],
    }


def make_celery(settings: Settings, name: str = "hr", task_cls: type[Task] | str | None = None) -> Celery:
    celery_app = Celery(name, task_cls=task_cls) if task_cls else Celery(name)
    celery_app.config_from_object(celery_config(settings))
    return celery_app


@worker_process_init.connect
def _settle_worker_process(**_: object) -> None:
    settle_process_for_loads()


def _sweep_while_running(app: Flask) -> None:
    """Every worker, on any broker, sweeps for tasks whose lease has lapsed as it starts and every half
    lease (see core.leases): a broker may lose a message with its worker (the embedded one), or keep it
    unacknowledged until its visibility timeout (Redis); the task registry still knows the task."""
    stop = threading.Event()

    def tasks():
        return app.extensions["services"].tasks

    def sweep() -> None:
        try:
            with app.app_context():
                resumed = tasks().sweep()
        except BrokerUnavailable as error:
            log.warning("could not re-queue tasks whose lease lapsed: the broker is away", extra={"error": str(error)})
            return
        if resumed:
            log.warning("re-queued tasks a dead worker left unfinished", extra={"tasks": resumed})

    def sweep_until_stopped() -> None:
        sweep()
        while not stop.wait(tasks().sweep_every):
            sweep()

    @worker_ready.connect(weak=False)
    def start(**_: object) -> None:
        threading.Thread(target=sweep_until_stopped, name="lease-sweeper", daemon=True).start()

    @worker_shutdown.connect(weak=False)
    def end(**_: object) -> None:
        stop.set()


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = make_celery(settings, app.name, FlaskTask)
    celery_app.set_default()
    _sweep_while_running(app)
    app.extensions["celery"] = celery_app
    return celery_app
