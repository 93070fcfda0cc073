"""The task every kind of work runs in: unpack primitive arguments and run the task use case; nothing else.

A load split into chunks goes on in the tasks of infra.broker.chunk_tasks, which share the helpers here."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from celery import Task, shared_task
from flask import current_app

from core import log_context
from core.tasks import RetryLater
from infra.broker.celery_app import RUN_TASK

ATTEMPTS = 5


def retry_later(task: Task, error: Exception):
    """Another attempt after a pause that grows, up to ATTEMPTS; raise what this returns."""
    return task.retry(countdown=min(2 ** task.request.retries, 30), exc=error)


@contextmanager
def logged_as(task_id: str) -> Iterator[None]:
    token = log_context.task_id.set(task_id)
    try:
        yield
    finally:
        log_context.task_id.reset(token)


@shared_task(name=RUN_TASK, bind=True, max_retries=ATTEMPTS)
def run_task(self, task_id: str, kind: str, args: dict) -> None:
    tasks = current_app.extensions["services"].tasks
    with logged_as(task_id):
        try:
            tasks.run(task_id, kind, args, attempt=self.request.retries + 1, attempts=ATTEMPTS)
        except RetryLater as error:
            raise retry_later(self, error) from error
