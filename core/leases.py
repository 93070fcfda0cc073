"""Leases on running tasks: a worker renews its task's lease while the task runs, and every worker
hands again to the broker a task whose lease has lapsed, so no task waits on a worker that is gone.

Two rules keep a lapse honest:
- a lease is renewed every quarter of its length, and every second while the registry does not
  answer, so its holder renews it at once when the registry comes back;
- a sweeper counts a lease as lapsed only once it has seen it lapsed, unchanged, for a quarter of a
  lease on end while the registry answered; a sweep that cannot read the registry forgets what it saw.
  An outage alone therefore lapses nothing: the holder renews before the sweeper's count runs out.
A holder whose process is known to have ended (it ran on this host, and its pid is gone) is not waited
out: a delivery takes its lease, and a sweep hands its task on, at once.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from core.errors import BrokerUnavailable, StoreUnavailable
from core.forks import FORK_LOCK, fork_safe_thread

log = logging.getLogger(__name__)

# What a registry raises when it cannot be reached: Redis is the broker, SQL a database.
REGISTRY_AWAY = (BrokerUnavailable, StoreUnavailable)
RETRY_RENEWAL_SECONDS = 1.0


def this_process() -> str:
    """The start of a holder's name: the host and process that hold a lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


def gone_from_this_host(holder: str) -> bool:
    """The holder's process ran on this host and has ended (a pool process killed, a worker restarted):
    its lease needs no waiting out. Unknown (another host, a process still there) is never gone."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseLost(Exception):
    """Another worker took the task over (its lease had lapsed): this run stops without writing its end."""


@dataclass(frozen=True)
class Lease:
    holder: str | None
    until: datetime | None

    def lapsed(self, now: datetime) -> bool:
        return self.until is None or self.until <= now


class Heartbeat:
    """Renews a lease in a thread of its own while the work runs; `lost` once a renewal is refused."""

    def __init__(self, renew: Callable[[], bool], every: float, retry_every: float = RETRY_RENEWAL_SECONDS) -> None:
        self._renew = renew
        self._every = every
        self._retry_every = min(retry_every, every)
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        # A load may fork beside this thread (core.commit_process): its renewals, statements on a
        # connection, never run across a fork.
        with fork_safe_thread():
            self._beat_until_stopped()

    def _beat_until_stopped(self) -> None:
        pause = self._every
        while not self._stop.wait(pause):
            try:
                with FORK_LOCK:
                    renewed = self._renew()
            except REGISTRY_AWAY as error:
                if pause != self._retry_every:  # said once per outage
                    log.warning("could not renew a task's lease: trying every second until the task registry "
                                "answers", extra={"error": str(error)})
                pause = self._retry_every
                continue
            if not renewed:
                self._lost.set()
                return
            if pause != self._every:
                log.info("the task's lease is renewed again")
            pause = self._every


class LapseWatch:
    """A sweeper's memory of the leases it has seen lapsed: which have stayed lapsed long enough."""

    def __init__(self, grace: float, monotonic: Callable[[], float]) -> None:
        self._grace = grace
        self._monotonic = monotonic
        self._seen: dict[str, tuple[datetime | None, float]] = {}

    def due(self, leases: dict[str, Lease], now: datetime, gone: frozenset[str] = frozenset()) -> list[str]:
        """The ids whose lease has been seen lapsed and unchanged for the grace on end, and at once those
        whose holder is known to be `gone` (its process has ended): there is no one left to renew."""
        moment = self._monotonic()
        seen: dict[str, tuple[datetime | None, float]] = {}
        for task_id, lease in leases.items():
            if not (task_id in gone or lease.lapsed(now)):
                continue
            first = moment - self._grace if task_id in gone else moment
            until, since = self._seen.get(task_id, (lease.until, first))
            seen[task_id] = (lease.until, since if until == lease.until else first)
        self._seen = seen
        return [task_id for task_id, (_, since) in seen.items() if moment - since >= self._grace]

    def handed_on(self, task_id: str, wait: float) -> None:
        """Dispatched again: not again before `wait` more seconds, so a busy queue is not flooded."""
        until, _ = self._seen[task_id]
        self._seen[task_id] = (until, self._monotonic() + wait)

    def forget(self) -> None:
        """The registry did not answer: time unseen does not count."""
        self._seen = {}
