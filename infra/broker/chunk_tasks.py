"""The Celery tasks of a load split into chunks (see core.chunked_load): unpack, call the use case, hand on.

A database or registry that is away is worth another attempt, as for a whole load. Chunk results come
back in the order of the chunks (the Redis backend keeps a chord's results in order)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from celery import Task, shared_task
from flask import current_app

from core.chunked_load import ChunkCommit, ChunkedFile, ChunkScan
from core.errors import StoreUnavailable
from core.tasks import CONTINUES
from domain.tables import Table
from infra.broker.fan_out import CHUNKS_FAILED, COMMIT_CHUNK, COMMIT_CHUNKS, FINISH_CHUNKS, SCAN_CHUNK
from infra.broker.tasks import ATTEMPTS, logged_as, retry_later

log = logging.getLogger(__name__)


def _services():
    return current_app.extensions["services"]


@contextmanager
def _step(task: Task, task_id: str) -> Iterator[None]:
    """One step of a chunked load: logged with the load's id, keeping the load's lease alive while it
    runs, tried again while the store is away."""
    with logged_as(task_id), _services().tasks.holding_on(task_id):
        try:
            yield
        except StoreUnavailable as error:
            raise retry_later(task, error) from error


def _progress(task_id: str):
    tasks = _services().tasks
    return lambda progress: tasks.record_progress(task_id, progress)


@shared_task(name=SCAN_CHUNK, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def scan_chunk(self, task_id: str, table: str, file: dict, index: int) -> dict:
    with _step(self, task_id):
        return _services().chunked_loads.scan(Table.from_name(table), ChunkedFile.from_dict(file), index).as_dict()


@shared_task(name=COMMIT_CHUNKS, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def commit_chunks(self, scans: list[dict], task_id: str, table: str, file: dict) -> None:
    with _step(self, task_id):
        result = _services().chunked_loads.after_scans(task_id, Table.from_name(table), ChunkedFile.from_dict(file),
                                                       [ChunkScan.from_dict(scan) for scan in scans],
                                                       _progress(task_id))
        if result is not CONTINUES:
            _services().tasks.record_success(task_id, result)


@shared_task(name=COMMIT_CHUNK, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def commit_chunk(self, task_id: str, table: str, file: dict, plan: dict) -> dict:
    with _step(self, task_id):
        return _services().chunked_loads.commit(task_id, Table.from_name(table), ChunkedFile.from_dict(file),
                                                ChunkCommit.from_dict(plan), _progress(task_id))


@shared_task(name=FINISH_CHUNKS, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def finish_chunks(self, parts: list[dict], task_id: str, table: str, file: dict) -> None:
    services = _services()
    with _step(self, task_id):
        result, progress = services.chunked_loads.combine(Table.from_name(table), ChunkedFile.from_dict(file),
                                                          task_id, parts)
        services.tasks.record_progress(task_id, progress)
        services.tasks.record_success(task_id, result)
        counts = {k: v for k, v in result["total"].items() if k != "error_ids"}
        log.info("load finished", extra={"table": table, "source": file["name"], "chunks": len(parts), **counts})


@shared_task(name=CHUNKS_FAILED)
def chunks_failed(request, error: Exception, traceback, task_id: str) -> None:
    """Called with the failure of a chunk (after its retries) or of a chord's callback. A chunk's own
    error travels as the cause of the chord's error: the load's record gets its words."""
    cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
    with logged_as(task_id):
        log.error("a chunk of the load failed", extra={"error": repr(cause)})
        _services().tasks.record_failure(task_id, cause)
