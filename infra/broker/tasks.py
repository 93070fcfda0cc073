"""The task every kind of work runs in: unpack primitive arguments and run the task use case; nothing else.

A load split into chunks goes on in the tasks of infra.broker.chunk_tasks."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from core import log_context
from core.tasks import RetryLater
from infra.broker.celery_app import RUN_TASK

ATTEMPTS = 5


@shared_task(name=RUN_TASK, bind=True, max_retries=ATTEMPTS)
def run_task(self, task_id: str, kind: str, args: dict) -> None:
    tasks = current_app.extensions["services"].tasks
    token = log_context.task_id.set(task_id)
    try:
        tasks.run(task_id, kind, args, attempt=self.request.retries + 1, attempts=ATTEMPTS)
    except RetryLater as error:
        raise self.retry(countdown=min(2 ** self.request.retries, 30), exc=error) from error
    finally:
        log_context.task_id.reset(token)
