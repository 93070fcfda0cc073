"""A worker process, once started, takes its start-up heap out of the collector's sight."""
from __future__ import annotations

import gc

from celery.signals import worker_process_init

import infra.broker.celery_app  # noqa: F401  (connects the worker's signal handlers)


def test_a_started_worker_process_freezes_what_start_up_built():
    gc.unfreeze()
    try:
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 1000  # the modules and objects alive at that point
    finally:
        gc.unfreeze()
