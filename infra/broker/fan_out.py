"""The FanOut port on Celery: a chord of chunk scans, whose callback starts a chord of chunk commits.

Tasks are sent by name, so the process that starts a load never imports task code. A chord needs a
result backend: the chunks' results meet there, and the last chunk to finish starts the callback, so
no worker waits for another."""
from __future__ import annotations

from celery import Celery, chord

SCAN_CHUNK = "hr.scan_chunk"
COMMIT_CHUNKS = "hr.commit_chunks"
COMMIT_CHUNK = "hr.commit_chunk"
FINISH_CHUNKS = "hr.finish_chunks"
CHUNKS_FAILED = "hr.chunks_failed"


class CeleryFanOut:
    def __init__(self, celery_app: Celery) -> None:
        self._celery = celery_app

    def _when_failed(self, task_id: str):
        return self._celery.signature(CHUNKS_FAILED, args=(task_id,))

    def start(self, task_id: str, table: str, name: str, size: int, starts: list[int]) -> None:
        args = (task_id, table, name, size, starts)
        scans = [self._celery.signature(SCAN_CHUNK, args=(*args, index)) for index in range(len(starts))]
        then = self._celery.signature(COMMIT_CHUNKS, args=args).on_error(self._when_failed(task_id))
        chord(scans, app=self._celery)(then)

    def commit(self, task_id: str, table: str, name: str, size: int, starts: list[int], plans: list[dict]) -> None:
        args = (task_id, table, name, size, starts)
        commits = [self._celery.signature(COMMIT_CHUNK, args=(*args, plan)) for plan in plans]
        then = self._celery.signature(FINISH_CHUNKS, args=(task_id, table, name)).on_error(self._when_failed(task_id))
        chord(commits, app=self._celery)(then)
