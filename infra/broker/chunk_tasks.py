"""The Celery tasks of a load split into chunks (see core.chunked_load): unpack, call the use case, hand on."""
from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from core import log_context
from core.chunked_load import ChunkCommit, ChunkScan
from core.errors import StoreUnavailable
from domain.tables import Table
from infra.broker.fan_out import CHUNKS_FAILED, COMMIT_CHUNK, COMMIT_CHUNKS, FINISH_CHUNKS, SCAN_CHUNK, CeleryFanOut

log = logging.getLogger(__name__)
ATTEMPTS = 5


def _services():
    return current_app.extensions["services"]


def _retrying(task, error: StoreUnavailable):
    """A database that is away is worth another attempt, as for the whole load (infra.broker.tasks)."""
    return task.retry(countdown=min(2 ** task.request.retries, 30), exc=error)


@shared_task(name=SCAN_CHUNK, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def scan_chunk(self, task_id: str, table: str, name: str, size: int, starts: list[int], index: int) -> dict:
    token = log_context.task_id.set(task_id)
    try:
        return _services().chunked_loads.scan(Table.from_name(table), name, size, starts, index).as_dict()
    except StoreUnavailable as error:
        raise _retrying(self, error) from error
    finally:
        log_context.task_id.reset(token)


@shared_task(name=COMMIT_CHUNKS, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def commit_chunks(self, scans: list[dict], task_id: str, table: str, name: str, size: int,
                  starts: list[int]) -> None:
    services = _services()
    token = log_context.task_id.set(task_id)
    try:
        plans = services.chunked_loads.plan_commits([ChunkScan.from_dict(scan) for scan in scans])
        if plans is None:
            log.warning("a cut fell inside a record: the file is loaded in one piece", extra={"source": name})
            result = services.chunked_loads.load_whole(
                task_id, Table.from_name(table), name, lambda p: services.tasks.record_progress(task_id, p))
            services.tasks.record_success(task_id, result)
            return
        CeleryFanOut(self.app).commit(task_id, table, name, size, starts, [plan.as_dict() for plan in plans])
    except StoreUnavailable as error:
        raise _retrying(self, error) from error
    finally:
        log_context.task_id.reset(token)


@shared_task(name=COMMIT_CHUNK, bind=True, max_retries=ATTEMPTS, ignore_result=False)
def commit_chunk(self, task_id: str, table: str, name: str, size: int, starts: list[int], plan: dict) -> dict:
    services = _services()
    token = log_context.task_id.set(task_id)
    try:
        return services.chunked_loads.commit(task_id, Table.from_name(table), name, size, starts,
                                             ChunkCommit.from_dict(plan),
                                             lambda p: services.tasks.record_progress(task_id, p))
    except StoreUnavailable as error:
        raise _retrying(self, error) from error
    finally:
        log_context.task_id.reset(token)


@shared_task(name=FINISH_CHUNKS, ignore_result=False)
def finish_chunks(parts: list[dict], task_id: str, table: str, name: str) -> None:
    services = _services()
    result = services.chunked_loads.combine(Table.from_name(table), name, task_id, parts)
    services.tasks.record_success(task_id, result)
    counts = {k: v for k, v in result["total"].items() if k != "error_ids"}
    log.info("load finished", extra={"table": table, "source": name, "chunks": len(parts), **counts})


@shared_task(name=CHUNKS_FAILED)
def chunks_failed(request, error: Exception, traceback, task_id: str) -> None:
    """Called with the failure of a chunk (after its retries) or of a chord's callback."""
    log.error("a chunk of the load failed", extra={"failed_task": request.id, "error": str(error)})
    _services().tasks.record_failure(task_id, error)
