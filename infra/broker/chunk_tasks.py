"""The Celery tasks of a load split into chunks (see core.chunked_load): unpack, call the use case, hand on.

Each step runs through core (Tasks.run_step): a database that is away is worth another attempt, shown as
RETRY, as for a whole load. Chunk results come back in the order of the chunks (the Redis backend keeps a
chord's results in order)."""
from __future__ import annotations

import logging

from celery import Task, shared_task
from flask import current_app

from core.chunked_load import ChunkCommit, ChunkedFile, ChunkScan
from core.tasks import RetryLater
from domain.tables import Table
from infra.broker.fan_out import CHUNKS_FAILED, COMMIT_CHUNK, COMMIT_CHUNKS, FINISH_CHUNKS, SCAN_CHUNK
from infra.broker.tasks import ATTEMPTS, logged_as, retry_later

log = logging.getLogger(__name__)


def _services():
    return current_app.extensions["services"]


def _run(task: Task, task_id: str, step, *, ends_task: bool = False):
    """One step of a chunked load, logged with the load's id; core runs it (lease, progress, RETRY, the
    load's end) and says when it is worth another attempt."""
    with logged_as(task_id):
        try:
            return _services().tasks.run_step(task_id, step, attempt=task.request.retries + 1, attempts=ATTEMPTS,
                                              ends_task=ends_task)
        except RetryLater as error:
            raise retry_later(task, error) from error


@shared_task(name=SCAN_CHUNK, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def scan_chunk(self, task_id: str, table: str, file: dict, index: int) -> dict:
    loads = _services().chunked_loads
    return _run(self, task_id, lambda _: loads.scan(Table.from_name(table), ChunkedFile.from_dict(file),
                                                    index).as_dict())


@shared_task(name=COMMIT_CHUNKS, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def commit_chunks(self, scans: list[dict], task_id: str, table: str, file: dict) -> None:
    loads = _services().chunked_loads
    _run(self, task_id, lambda progress: loads.after_scans(
        task_id, Table.from_name(table), ChunkedFile.from_dict(file), [ChunkScan.from_dict(s) for s in scans],
        progress), ends_task=True)


@shared_task(name=COMMIT_CHUNK, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def commit_chunk(self, task_id: str, table: str, file: dict, plan: dict) -> dict:
    loads = _services().chunked_loads
    return _run(self, task_id, lambda progress: loads.commit(
        task_id, Table.from_name(table), ChunkedFile.from_dict(file), ChunkCommit.from_dict(plan), progress))


@shared_task(name=FINISH_CHUNKS, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def finish_chunks(self, parts: list[dict], task_id: str, table: str, file: dict) -> None:
    loads = _services().chunked_loads
    _run(self, task_id, lambda progress: loads.finish(Table.from_name(table), ChunkedFile.from_dict(file),
                                                      task_id, parts, progress), ends_task=True)


@shared_task(name=CHUNKS_FAILED)
def chunks_failed(request, error: Exception, traceback, task_id: str) -> None:
    """Called with the failure of a chunk (after its retries) or of a chord's callback. A chunk's own
    error travels as the cause of the chord's error: the load's record gets its words."""
    cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
    with logged_as(task_id):
        log.error("a chunk of the load failed", extra={"error": repr(cause)})
        _services().tasks.record_failure(task_id, cause)
