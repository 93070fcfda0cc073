"""Background work: the task record, the ports that keep and dispatch tasks, and the use case over them."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Callable, Iterator, Protocol

from core.errors import NotFound, StoreUnavailable
from core.leases import REGISTRY_AWAY, Heartbeat, LapseWatch, Lease, LeaseLost, gone_from_this_host, this_process
from core.progress import Progress, ThrottledProgress
from domain.errors import DomainError

log = logging.getLogger(__name__)
# Pauses between writes of a task's end while the registry is away: about a minute in all.
END_WRITE_PAUSES = (0.5, 1, 2, 4, 8, 15, 15, 15)
# The holder of a load's lease while its chunks run: every chunk step renews it, whichever worker runs it.
CHUNKS_HOLDER = "chunks"
PROGRESS_EVERY = 0.25  # seconds between the progress figures a run writes to the registry


def _told(error: Exception) -> str:
    """What a client may read of a failure: our own errors' words; of anything else only its kind, since
    a driver's message can carry SQL and row values. The worker's log keeps the whole traceback."""
    if isinstance(error, DomainError):
        return str(error) or type(error).__name__
    return f"internal error ({type(error).__name__}); the worker's log has the details"


class Continues:
    """What a handler returns when its work goes on in other workers: they record the task's end."""


CONTINUES = Continues()


class RetryLater(Exception):
    """The task hit a passing failure and should run again after a pause; it is recorded as RETRY."""


class TaskState(str, Enum):
    PENDING = "PENDING"
    STARTED = "STARTED"
    RETRY = "RETRY"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"

    @property
    def finished(self) -> bool:
        return self in (TaskState.SUCCESS, TaskState.FAILURE)


@dataclass
class TaskRecord:
    id: str
    kind: str
    args: dict[str, Any]
    state: TaskState
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: dict[str, Any] = field(default_factory=dict)  # table, rows_done, bytes_done, bytes_total
    result: Any = None
    error: str | None = None
    lease: Lease = Lease(None, None)  # which worker runs it, until when; not shown to clients

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["lease"]
        data["task_id"] = data.pop("id")
        data["state"] = self.state.value
        for key in ("submitted_at", "started_at", "finished_at"):
            data[key] = data[key].isoformat() + "Z" if data[key] else None
        return data

    def as_brief_dict(self) -> dict[str, Any]:
        """For lists: the result's totals without per-batch figures or error ids, whose size grows with
        the file; /task-status has the whole result."""
        data = self.as_dict()
        if isinstance(self.result, dict):
            data["result"] = {key: _without_ids(value) for key, value in self.result.items()
                              if key not in ("batches", "tables")}
        return data


def _without_ids(value: Any) -> Any:
    return {k: v for k, v in value.items() if k != "error_ids"} if isinstance(value, dict) else value


class TaskRegistry(Protocol):
    """Where tasks are recorded: the source of truth for /task-status and /task-list."""

    def submitted(self, task_id: str, kind: str, args: dict[str, Any], at: datetime) -> None: ...

    def started(self, task_id: str, at: datetime) -> None: ...

    def progressed(self, task_id: str, progress: Progress) -> None: ...

    def succeeded(self, task_id: str, result: Any, at: datetime) -> None: ...

    def failed(self, task_id: str, error: str, at: datetime) -> None: ...

    def retrying(self, task_id: str, error: str) -> None: ...

    def get(self, task_id: str) -> TaskRecord | None: ...

    def recent(self, limit: int) -> list[TaskRecord]:
        """Newest first, every state."""

    def unfinished(self) -> list[TaskRecord]:
        """PENDING, STARTED or RETRY tasks, oldest first, with their leases: what a sweep may take over."""

    def claim(self, task_id: str, holder: str, until: datetime, at: datetime) -> bool:
        """Takes the lease of an unfinished task whose lease is free (no holder), lapsed at `at`, or
        `holder`'s own, in one step; False when the task is finished or a live lease is another's."""

    def renew(self, task_id: str, holder: str, until: datetime, successor: str | None = None) -> bool:
        """Moves the lease's end to `until` (and hands it to `successor` if given) if `holder` holds it
        and the task is unfinished; False otherwise."""

    def release(self, task_id: str, holder: str, until: datetime) -> None:
        """Frees the lease `holder` holds, for the task's next delivery; it lapses at `until` if none comes."""

    def check(self) -> None:
        """Raises when the registry cannot be reached."""


class TaskDispatcher(Protocol):
    def dispatch(self, task_id: str, kind: str, args: dict[str, Any]) -> None:
        """Hands the task to a worker; raises core.errors.BrokerUnavailable when the broker cannot take it."""

    def check(self) -> None: ...


class Tasks:
    """Submit work, follow it, and run it in a worker under a lease: the only way long work starts."""

    def __init__(self, registry: TaskRegistry, dispatcher: TaskDispatcher,
                 handlers: dict[str, Callable[..., Any]], clock: Callable[[], datetime],
                 new_id: Callable[[], str], lease_seconds: float = 60.0,
                 pause: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 gone: Callable[[str], bool] = gone_from_this_host) -> None:
        self._registry = registry
        self._dispatcher = dispatcher
        self._handlers = handlers
        self._clock = clock
        self._new_id = new_id
        self._lease = timedelta(seconds=lease_seconds)
        self._pause = pause
        self._monotonic = monotonic
        self._lapses = LapseWatch(lease_seconds / 4, monotonic)
        self._gone = gone
        self._progress_unrecorded: set[str] = set()  # tasks whose last progress write failed

    @property
    def sweep_every(self) -> float:
        """Seconds between a worker's sweeps for lapsed leases: half a lease."""
        return self._lease.total_seconds() / 2

    def submit(self, kind: str, args: dict[str, Any]) -> str:
        if kind not in self._handlers:
            raise ValueError(f"no handler for task kind '{kind}'")
        task_id = self._new_id()
        self._registry.submitted(task_id, kind, args, self._clock())
        try:
            self._dispatcher.dispatch(task_id, kind, args)
        except Exception as error:
            self._registry.failed(task_id, f"could not be queued: {error}", self._clock())
            raise
        return task_id

    def status(self, task_id: str) -> TaskRecord:
        record = self._registry.get(task_id)
        if record is None:
            raise NotFound(f"no task with id '{task_id}': it is unknown, possibly because the task registry "
                           "was reset (Redis restarted without persistence) or the task expired")
        return record

    def recent(self, limit: int) -> list[TaskRecord]:
        return self._registry.recent(limit)

    def sweep(self) -> list[str]:
        """Hands to the broker again every STARTED or RETRY task whose lease has lapsed, as this worker
        sees it (see core.leases); returns their ids. Run by every worker as it starts and every half lease.

        A resumed load picks up after its last committed batch, and a delivery of a task a live worker
        holds does nothing, so a task that is in fact still running is never applied twice."""
        try:
            records = self._registry.unfinished()
        except REGISTRY_AWAY as error:
            self._lapses.forget()
            log.warning("could not sweep for lapsed leases: the task registry is away", extra={"error": str(error)})
            return []
        running = {r.id: r for r in records if r.state in (TaskState.STARTED, TaskState.RETRY)}
        handed = []
        gone = frozenset(i for i, r in running.items() if r.lease.holder and self._gone(r.lease.holder))
        for task_id in self._lapses.due({i: r.lease for i, r in running.items()}, self._clock(), gone):
            record = running[task_id]
            self._dispatcher.dispatch(record.id, record.kind, record.args)
            self._lapses.handed_on(task_id, self._lease.total_seconds())
            handed.append(task_id)
        return handed

    def run(self, task_id: str, kind: str, args: dict[str, Any], attempt: int = 1, attempts: int = 1) -> Any:
        """Runs the task in this worker under a lease, recording its start, progress and end; returns
        None without running it when the task is finished or a live worker holds it.

        A database that is unavailable is worth another attempt: RetryLater is raised (the task shows
        RETRY) until the attempts are spent. Any other error is recorded as FAILURE and raised again,
        so the worker sees it too. Committed batches are never redone (see Ingestion.load_records).
        Progress is written as the registry allows; the end is written again while it is away."""
        holder = f"{this_process()}:{self._new_id()}"
        try:
            if not self._claim(task_id, holder):
                log.info("the task is finished or a live worker runs it: this delivery does nothing")
                return None
            self._registry.started(task_id, self._clock())
        except REGISTRY_AWAY as error:
            raise RetryLater(f"the task registry is unavailable: {error}") from error
        with self._heartbeat(task_id, holder) as heartbeat:
            try:
                with self._progress(task_id, heartbeat) as on_progress:
                    result = self._handlers[kind](task_id=task_id, on_progress=on_progress, **args)
            except LeaseLost:
                log.warning("another worker took the task over: this run stops")
                return None
            except StoreUnavailable as error:
                if attempt < attempts:
                    self._write_end(self._registry.retrying, task_id, f"attempt {attempt} of {attempts}: {error}")
                    self._write_end(self._registry.release, task_id, holder, self._clock() + self._lease)
                    raise RetryLater(str(error)) from error
                self._write_end(self._registry.failed, task_id, f"gave up after {attempts} attempts: {error}",
                                self._clock())
                raise
            except Exception as error:
                self.record_failure(task_id, error)
                raise
            if result is CONTINUES:
                self._write_end(self._registry.renew, task_id, holder, self._clock() + self._lease, CHUNKS_HOLDER)
            else:
                self.record_success(task_id, result)
        return result

    def _claim(self, task_id: str, holder: str) -> bool:
        until = self._clock() + self._lease
        if self._registry.claim(task_id, holder, until, self._clock()):
            return True
        # A holder whose process has ended on this host (a pool process killed, its task given back
        # at once) need not be waited out: its lease is taken as lapsed, unless renewed meanwhile.
        record = self._registry.get(task_id)
        lease = record.lease if record else Lease(None, None)
        if lease.holder and lease.until and self._gone(lease.holder):
            return self._registry.claim(task_id, holder, until, lease.until)
        return False

    @contextmanager
    def holding_on(self, task_id: str) -> Iterator[None]:
        """Around each step of work handed on (see Continues): the task's lease is renewed while it runs."""
        def renew() -> bool:
            # A first step may start before the run that handed it on has passed the lease to the
            # chunks: a refusal then, or once the task is finished, is no reason to stop renewing.
            self._registry.renew(task_id, CHUNKS_HOLDER, self._clock() + self._lease)
            return True

        with Heartbeat(renew, every=self._lease.total_seconds() / 4):
            yield

    def _heartbeat(self, task_id: str, holder: str) -> Heartbeat:
        def renew() -> bool:
            # A registry that no longer knows the task (Redis restarted without persistence) has no one
            # to hand it to: the run goes on, so the rows land, though its end cannot be recorded.
            return (self._registry.renew(task_id, holder, self._clock() + self._lease)
                    or self._registry.get(task_id) is None)

        return Heartbeat(renew, every=self._lease.total_seconds() / 4)

    @contextmanager
    def _progress(self, task_id: str, heartbeat: Heartbeat | None = None) -> Iterator[Callable[[Progress], None]]:
        """The callback a run or a step reports its progress to: written to the registry at most every
        PROGRESS_EVERY seconds, and the figure held back written as the work ends, however it ends, before
        its end is recorded. A run whose lease another worker has taken (heartbeat.lost) stops at its next
        figure and writes no more."""
        throttled = ThrottledProgress(lambda figures: self.record_progress(task_id, figures), PROGRESS_EVERY,
                                      self._monotonic)

        def on_progress(progress: Progress) -> None:
            if heartbeat is not None and heartbeat.lost:
                raise LeaseLost(task_id)
            throttled(progress)

        try:
            yield on_progress
        finally:
            if heartbeat is None or not heartbeat.lost:
                throttled.flush()

    def _write_end(self, write: Callable[..., Any], *args: Any) -> Any:
        """A task's end must not be lost to a registry that is away for a moment: it is tried again."""
        for pause in END_WRITE_PAUSES:
            try:
                return write(*args)
            except REGISTRY_AWAY as error:
                log.warning("could not record a task's end; trying again", extra={"error": str(error), "pause": pause})
                self._pause(pause)
        return write(*args)

    # For work a handler handed on to other workers (see Continues): its progress and its end.
    def record_progress(self, task_id: str, progress: Progress) -> None:
        """Best effort: a registry away for a moment costs progress figures, never the task. Said once
        per outage, not once per batch."""
        try:
            self._registry.progressed(task_id, progress)
        except REGISTRY_AWAY as error:
            if task_id not in self._progress_unrecorded:
                self._progress_unrecorded.add(task_id)
                log.warning("could not record progress: going on without it until the task registry answers",
                            extra={"error": str(error)})
            return
        if task_id in self._progress_unrecorded:
            self._progress_unrecorded.discard(task_id)
            log.info("progress is recorded again")

    def run_step(self, task_id: str, step: Callable[[Callable[[Progress], None]], Any], *, attempt: int = 1,
                 attempts: int = 1, ends_task: bool = False) -> Any:
        """One step of work a task handed on (see Continues), such as a chunk of a load: run under the
        task's lease with its progress recorded. A store that is away is worth another attempt, shown as
        RETRY, as for a whole task (RetryLater); the step that ends the task records its result."""
        with self.holding_on(task_id):
            try:
                with self._progress(task_id) as on_progress:
                    result = step(on_progress)
            except StoreUnavailable as error:
                if attempt < attempts:
                    self._write_end(self._registry.retrying, task_id, f"a step, attempt {attempt} of {attempts}: "
                                                                      f"{error}")
                    raise RetryLater(str(error)) from error
                raise
        if ends_task and result is not CONTINUES:
            self.record_success(task_id, result)
        return result

    def record_success(self, task_id: str, result: Any) -> None:
        self._write_end(self._registry.succeeded, task_id, result, self._clock())

    def record_failure(self, task_id: str, error: Exception) -> None:
        self._write_end(self._registry.failed, task_id, _told(error), self._clock())
