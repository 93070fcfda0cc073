"""The FanOut port on Celery: a chord of chunk scans, whose callback starts a chord of chunk commits.

Tasks are sent by name, so the process that starts a load never imports task code. A chord needs a
result backend: the chunks' results meet there, and the last chunk to finish starts the callback, so
no worker waits for another."""
from __future__ import annotations

from celery import Celery, chord

from core.chunked_load import ChunkCommit, ChunkedFile

SCAN_CHUNK = "hr.scan_chunk"
COMMIT_CHUNKS = "hr.commit_chunks"
COMMIT_CHUNK = "hr.commit_chunk"
FINISH_CHUNKS = "hr.finish_chunks"
CHUNKS_FAILED = "hr.chunks_failed"


class CeleryFanOut:
    def __init__(self, celery_app: Celery) -> None:
        self._celery = celery_app

    def _chord(self, header: list, then: str, args: tuple, task_id: str) -> None:
        callback = self._celery.signature(then, args=args)
        callback.on_error(self._celery.signature(CHUNKS_FAILED, args=(task_id,)))
        chord(header, app=self._celery)(callback)

    def start(self, task_id: str, table: str, file: ChunkedFile) -> None:
        args = (task_id, table, file.as_dict())
        scans = [self._celery.signature(SCAN_CHUNK, args=(*args, index)) for index in range(len(file.starts))]
        self._chord(scans, COMMIT_CHUNKS, args, task_id)

    def commit(self, task_id: str, table: str, file: ChunkedFile, plans: list[ChunkCommit]) -> None:
        args = (task_id, table, file.as_dict())
        commits = [self._celery.signature(COMMIT_CHUNK, args=(*args, plan.as_dict())) for plan in plans]
        self._chord(commits, FINISH_CHUNKS, args, task_id)
