"""Background work: the task record, the ports that keep and dispatch tasks, and the use case over them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, Protocol

from core.errors import NotFound, StoreUnavailable
from core.progress import Progress
from domain.errors import DomainError


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

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
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
        """PENDING, STARTED or RETRY tasks, oldest first: what a worker that starts may have to take over."""

    def check(self) -> None:
        """Raises when the registry cannot be reached."""


class TaskDispatcher(Protocol):
    def dispatch(self, task_id: str, kind: str, args: dict[str, Any]) -> None:
        """Hands the task to a worker; raises core.errors.BrokerUnavailable when the broker cannot take it."""

    def check(self) -> None: ...


class Tasks:
    """Submit work, follow it, and run it in a worker: the only way long work starts."""

    def __init__(self, registry: TaskRegistry, dispatcher: TaskDispatcher,
                 handlers: dict[str, Callable[..., Any]], clock: Callable[[], datetime],
                 new_id: Callable[[], str]) -> None:
        self._registry = registry
        self._dispatcher = dispatcher
        self._handlers = handlers
        self._clock = clock
        self._new_id = new_id

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
            raise NotFound(f"no task with id '{task_id}'")
        return record

    def recent(self, limit: int) -> list[TaskRecord]:
        return self._registry.recent(limit)

    def resume_abandoned(self) -> list[str]:
        """Hands to the broker again every task a dead worker left STARTED or RETRY; returns their ids.

        For a broker that loses a message with its worker (the embedded one), called as a worker starts.
        A resumed load picks up after its last committed batch, so a task that is in fact still running
        elsewhere is repeated harmlessly, never applied twice."""
        abandoned = [r for r in self._registry.unfinished() if r.state in (TaskState.STARTED, TaskState.RETRY)]
        for record in abandoned:
            self._dispatcher.dispatch(record.id, record.kind, record.args)
        return [record.id for record in abandoned]

    def run(self, task_id: str, kind: str, args: dict[str, Any], attempt: int = 1, attempts: int = 1) -> Any:
        """Runs the task in this worker, recording its start, progress and end.

        A database that is unavailable is worth another attempt: RetryLater is raised (the task shows
        RETRY) until the attempts are spent. Any other error is recorded as FAILURE and raised again,
        so the worker sees it too. Committed batches are never redone (see Ingestion.load_records)."""
        self._registry.started(task_id, self._clock())
        try:
            result = self._handlers[kind](task_id=task_id,
                                          on_progress=lambda p: self._registry.progressed(task_id, p), **args)
        except StoreUnavailable as error:
            if attempt < attempts:
                self._registry.retrying(task_id, f"attempt {attempt} of {attempts}: {error}")
                raise RetryLater(str(error)) from error
            self._registry.failed(task_id, f"gave up after {attempts} attempts: {error}", self._clock())
            raise
        except Exception as error:
            self._registry.failed(task_id, _told(error), self._clock())
            raise
        if result is not CONTINUES:
            self._registry.succeeded(task_id, result, self._clock())
        return result

    # For work a handler handed on to other workers (see Continues): its progress and its end.
    def record_progress(self, task_id: str, progress: Progress) -> None:
        self._registry.progressed(task_id, progress)

    def record_success(self, task_id: str, result: Any) -> None:
        self._registry.succeeded(task_id, result, self._clock())

    def record_failure(self, task_id: str, error: Exception) -> None:
        self._registry.failed(task_id, _told(error), self._clock())
