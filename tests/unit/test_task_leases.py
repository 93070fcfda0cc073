"""Leases: a task runs once however often it is delivered, a registry away costs nothing, and a task
whose worker is gone is handed to the broker again by a sweep, never because of an outage alone."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from itertools import count

import pytest

from core.errors import BrokerUnavailable, NotFound
from core.leases import Heartbeat, Lease, gone_from_this_host, this_process
from core.progress import Progress
from core.tasks import CHUNKS_HOLDER, CONTINUES, END_WRITE_PAUSES, RetryLater, Tasks, TaskState

START = datetime(2024, 5, 1, 12, 0, 0)
LEASE = 60.0


class Clocks:
    """The registry's clock and the sweeper's monotonic one, both moved by hand."""

    def __init__(self) -> None:
        self.now = START
        self.monotonic = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.monotonic += seconds


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def pauses() -> list[float]:
    return []


class Handlers:
    def __init__(self) -> None:
        self.runs = 0
        self.during = None  # called with on_progress while the work runs

    def work(self, task_id, on_progress, **args):
        self.runs += 1
        if self.during:
            self.during(on_progress)
        return {"done": task_id}


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


def make_tasks(registry, dispatcher, clocks, pauses, handlers, lease=LEASE) -> Tasks:
    ids = (f"id-{n}" for n in count(1))
    return Tasks(registry, dispatcher, {"work": handlers.work, "hand_on": lambda task_id, on_progress: CONTINUES},
                 lambda: clocks.now, lambda: next(ids), lease_seconds=lease, pause=pauses.append,
                 monotonic=lambda: clocks.monotonic)


@pytest.fixture
def tasks(registry, dispatcher, clocks, pauses, handlers) -> Tasks:
    return make_tasks(registry, dispatcher, clocks, pauses, handlers)


def held_by(registry, task_id: str, holder: str, until: datetime) -> None:
    record = registry.records[task_id]
    record.state, record.lease = TaskState.STARTED, Lease(holder, until)


def test_a_run_holds_the_lease_and_a_second_delivery_while_it_is_live_does_nothing(tasks, registry, clocks, handlers):
    task_id = tasks.submit("work", {})
    held_by(registry, task_id, "worker-a", clocks.now + timedelta(seconds=30))
    assert tasks.run(task_id, "work", {}) is None
    assert handlers.runs == 0 and registry.records[task_id].state is TaskState.STARTED


def test_a_delivery_of_a_finished_task_does_nothing(tasks, handlers):
    task_id = tasks.submit("work", {})
    assert tasks.run(task_id, "work", {}) == {"done": task_id}
    assert tasks.run(task_id, "work", {}) is None
    assert handlers.runs == 1 and tasks.status(task_id).state is TaskState.SUCCESS


def test_a_lapsed_lease_is_taken_by_the_next_delivery(tasks, registry, clocks, handlers):
    task_id = tasks.submit("work", {})
    held_by(registry, task_id, "dead-worker", clocks.now - timedelta(seconds=1))
    assert tasks.run(task_id, "work", {}) == {"done": task_id}
    assert handlers.runs == 1 and tasks.status(task_id).state is TaskState.SUCCESS


def test_a_progress_write_that_fails_costs_the_figure_not_the_task(tasks, registry, handlers, clocks):
    def away_for_one_write(on_progress):
        registry.fail_next = 1
        on_progress(Progress("jobs", 1, 1, 10))
        clocks.advance(1)  # the next figure is written as it comes, not held for the run's end
        on_progress(Progress("jobs", 2, 2, 10))
        assert registry.progress_seen[-1].rows_done == 2

    handlers.during = away_for_one_write
    task_id = tasks.submit("work", {})
    assert tasks.run(task_id, "work", {}) == {"done": task_id}
    record = tasks.status(task_id)
    assert record.state is TaskState.SUCCESS and record.progress["rows_done"] == 2


def test_the_end_is_written_again_while_the_registry_is_away(tasks, registry, handlers, pauses):
    handlers.during = lambda on_progress: setattr(registry, "fail_next", 3)
    task_id = tasks.submit("work", {})
    tasks.run(task_id, "work", {})
    assert tasks.status(task_id).state is TaskState.SUCCESS
    assert pauses == list(END_WRITE_PAUSES[:3])


def test_a_registry_away_for_good_fails_the_run_after_about_a_minute_of_tries(tasks, registry, handlers, pauses):
    handlers.during = lambda on_progress: setattr(registry, "down", True)
    task_id = tasks.submit("work", {})
    with pytest.raises(BrokerUnavailable):
        tasks.run(task_id, "work", {})
    assert pauses == list(END_WRITE_PAUSES) and 55 <= sum(pauses) <= 65
    assert registry.calls.count("succeeded") == len(END_WRITE_PAUSES) + 1


def test_a_registry_away_when_the_task_starts_asks_for_another_delivery(tasks, registry, handlers):
    task_id = tasks.submit("work", {})
    registry.down = True
    with pytest.raises(RetryLater, match="the task registry is unavailable"):
        tasks.run(task_id, "work", {})
    assert handlers.runs == 0


def test_a_retry_frees_the_lease_for_the_next_delivery(registry, dispatcher, clocks, pauses):
    from core.errors import StoreUnavailable

    failures = iter([StoreUnavailable("database away"), None])

    def flaky(task_id, on_progress):
        if error := next(failures):
            raise error
        return "ok"

    tasks = Tasks(registry, dispatcher, {"flaky": flaky}, lambda: clocks.now, lambda: "h", lease_seconds=LEASE,
                  pause=pauses.append, monotonic=lambda: clocks.monotonic)
    task_id = "task-1"
    registry.submitted(task_id, "flaky", {}, START)
    with pytest.raises(RetryLater):
        tasks.run(task_id, "flaky", {}, attempt=1, attempts=3)
    lease = registry.records[task_id].lease
    assert lease.holder is None and lease.until == clocks.now + timedelta(seconds=LEASE)
    assert tasks.run(task_id, "flaky", {}, attempt=2, attempts=3) == "ok"


def test_work_handed_on_passes_the_lease_to_the_chunks_which_keep_it_alive(registry, dispatcher, clocks, pauses,
                                                                            handlers):
    tasks = make_tasks(registry, dispatcher, clocks, pauses, handlers, lease=0.04)
    task_id = tasks.submit("hand_on", {})
    assert tasks.run(task_id, "hand_on", {}) is CONTINUES
    assert registry.records[task_id].lease.holder == CHUNKS_HOLDER
    assert tasks.run(task_id, "hand_on", {}) is None  # a second delivery while the chunks hold it
    before = registry.records[task_id].lease.until
    clocks.advance(5)
    with tasks.holding_on(task_id):
        _wait_for(lambda: registry.records[task_id].lease.until > before)
    assert registry.records[task_id].lease.holder == CHUNKS_HOLDER


def test_the_heartbeat_renews_while_the_work_runs(registry, dispatcher, clocks, pauses, handlers):
    tasks = make_tasks(registry, dispatcher, clocks, pauses, handlers, lease=0.04)
    task_id = tasks.submit("work", {})

    def run_a_while(on_progress):
        first = registry.records[task_id].lease.until
        clocks.advance(10)
        _wait_for(lambda: registry.records[task_id].lease.until > first)

    handlers.during = run_a_while
    tasks.run(task_id, "work", {})
    assert registry.calls.count("renew") >= 1 and tasks.status(task_id).state is TaskState.SUCCESS


def test_a_run_whose_lease_was_taken_over_stops_without_writing_its_end(registry, dispatcher, clocks, pauses,
                                                                         handlers):
    tasks = make_tasks(registry, dispatcher, clocks, pauses, handlers, lease=0.04)
    task_id = tasks.submit("work", {})

    def taken_over(on_progress):
        held_by(registry, task_id, "worker-b", clocks.now + timedelta(seconds=60))
        for rows in range(500):  # a batch every 10 ms: the first after the refused renewal stops the run
            on_progress(Progress("jobs", rows, rows, 500))
            threading.Event().wait(0.01)

    handlers.during = taken_over
    assert tasks.run(task_id, "work", {}) is None
    assert "succeeded" not in registry.calls and tasks.status(task_id).state is TaskState.STARTED


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        deadline.wait(0.01)
    raise AssertionError("the condition never came true")


# The sweep

def _abandoned(tasks, registry, clocks) -> tuple[str, str, str, str]:
    pending, started, retrying, done = (tasks.submit("work", {"n": n}) for n in range(4))
    held_by(registry, started, "dead-worker", clocks.now + timedelta(seconds=LEASE))
    held_by(registry, retrying, "dead-worker", clocks.now + timedelta(seconds=LEASE))
    registry.retrying(retrying, "database down")
    tasks.run(done, "work", {"n": 3})
    return pending, started, retrying, done


def test_the_sweep_hands_on_started_and_retrying_tasks_once_their_lease_has_lapsed_a_while(
        tasks, registry, dispatcher, clocks):
    pending, started, retrying, _ = _abandoned(tasks, registry, clocks)
    dispatcher.dispatched.clear()
    assert tasks.sweep() == []  # the leases are live
    clocks.advance(LEASE)
    assert tasks.sweep() == []  # lapsed, but only just seen so
    clocks.advance(LEASE / 4)
    assert tasks.sweep() == [started, retrying]
    assert dispatcher.dispatched == [(started, "work", {"n": 1}), (retrying, "work", {"n": 2})]
    assert registry.records[pending].state is TaskState.PENDING
    clocks.advance(LEASE / 2)
    assert tasks.sweep() == []  # not flooded while the new delivery waits in the queue
    clocks.advance(LEASE)
    assert tasks.sweep() == [started, retrying]


def test_an_outage_alone_lapses_nothing(tasks, registry, dispatcher, clocks):
    alive, dead = tasks.submit("work", {}), tasks.submit("work", {})
    for task_id, holder in ((alive, "live-worker"), (dead, "dead-worker")):
        held_by(registry, task_id, holder, clocks.now + timedelta(seconds=LEASE))
    assert tasks.sweep() == []
    registry.down = True
    clocks.advance(LEASE * 10)
    assert tasks.sweep() == []  # unreachable: nothing seen, nothing counted
    registry.down = False
    assert tasks.sweep() == []  # both seen lapsed, from now on
    clocks.advance(1)
    registry.renew(alive, "live-worker", clocks.now + timedelta(seconds=LEASE))  # its heartbeat, at once
    clocks.advance(LEASE / 4)
    assert tasks.sweep() == [dead]


def test_a_renewal_between_sweeps_restarts_the_count(tasks, registry, dispatcher, clocks):
    task_id = tasks.submit("work", {})
    held_by(registry, task_id, "slow-worker", clocks.now)
    assert tasks.sweep() == []
    clocks.advance(LEASE / 4 - 1)
    registry.records[task_id].lease = Lease("slow-worker", clocks.now)  # renewed, but lapses at once
    clocks.advance(1)
    assert tasks.sweep() == []
    clocks.advance(LEASE / 4)
    assert tasks.sweep() == [task_id]


def test_the_sweep_runs_every_half_lease(tasks):
    assert tasks.sweep_every == LEASE / 2


# A holder whose process has ended on this host

def test_a_redelivery_takes_over_at_once_from_a_holder_whose_process_ended(registry, dispatcher, clocks, pauses,
                                                                            handlers):
    ended = {"host:41:x"}
    ids = (f"id-{n}" for n in count(1))
    tasks = Tasks(registry, dispatcher, {"work": handlers.work}, lambda: clocks.now, lambda: next(ids),
                  lease_seconds=LEASE, pause=pauses.append, monotonic=lambda: clocks.monotonic,
                  gone=ended.__contains__)
    task_id, other = tasks.submit("work", {}), tasks.submit("work", {})
    held_by(registry, task_id, "host:41:x", clocks.now + timedelta(seconds=LEASE))
    held_by(registry, other, "host:42:y", clocks.now + timedelta(seconds=LEASE))
    assert tasks.run(task_id, "work", {}) == {"done": task_id}
    assert tasks.run(other, "work", {}) is None  # its holder is alive
    assert handlers.runs == 1


def test_the_sweep_hands_on_at_once_a_task_whose_holders_process_ended(registry, dispatcher, clocks, pauses,
                                                                        handlers):
    ids = (f"id-{n}" for n in count(1))
    tasks = Tasks(registry, dispatcher, {"work": handlers.work}, lambda: clocks.now, lambda: next(ids),
                  lease_seconds=LEASE, pause=pauses.append, monotonic=lambda: clocks.monotonic,
                  gone={"host:41:x"}.__contains__)
    ended, alive = tasks.submit("work", {}), tasks.submit("work", {})
    held_by(registry, ended, "host:41:x", clocks.now + timedelta(seconds=LEASE))
    held_by(registry, alive, "host:42:y", clocks.now + timedelta(seconds=LEASE))
    assert tasks.sweep() == [ended]
    clocks.advance(LEASE / 2)
    assert tasks.sweep() == []  # handed on already: not again before a lease has passed


def test_a_process_that_ended_on_this_host_is_gone_and_others_are_not():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = socket.gethostname()
    assert gone_from_this_host(f"{host}:{child.pid}:abc")
    assert not gone_from_this_host(f"{this_process()}:abc")
    assert not gone_from_this_host(f"another-host-{host}:{child.pid}:abc")
    assert not gone_from_this_host(CHUNKS_HOLDER)


def test_a_run_whose_task_the_registry_forgot_goes_on_to_the_end(registry, dispatcher, clocks, pauses, handlers):
    tasks = make_tasks(registry, dispatcher, clocks, pauses, handlers, lease=0.04)
    task_id = tasks.submit("work", {})
    seen = []

    def registry_reset(on_progress):
        del registry.records[task_id]
        _wait_for(lambda: registry.calls.count("renew") >= 2)
        on_progress(Progress("jobs", 1, 1, 10))
        seen.append("went on")

    handlers.during = registry_reset
    assert tasks.run(task_id, "work", {}) == {"done": task_id}
    assert seen == ["went on"] and tasks.sweep() == []
    with pytest.raises(NotFound):
        tasks.status(task_id)


def test_a_heartbeat_keeps_trying_while_the_registry_is_away_and_renews_as_soon_as_it_answers():
    answers = iter([BrokerUnavailable("away")] * 3 + [True] * 1000)
    renewals = []

    def renew() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        renewals.append(answer)
        return answer

    with Heartbeat(renew, every=0.02, retry_every=0.001) as heartbeat:
        _wait_for(lambda: len(renewals) >= 2)
    assert not heartbeat.lost


def test_a_heartbeat_whose_renewal_is_refused_says_the_lease_is_lost_and_stops():
    calls = []

    def refused() -> bool:
        calls.append(1)
        return False

    with Heartbeat(refused, every=0.001) as heartbeat:
        _wait_for(lambda: heartbeat.lost)
        threading.Event().wait(0.02)
    assert len(calls) == 1
