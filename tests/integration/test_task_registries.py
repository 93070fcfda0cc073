"""One contract for every TaskRegistry adapter, run on Redis and on each SQL database.

`RegistryContract` holds the behaviour /task-status and /task-list rely on; each subclass only says
how to build its adapter on a real server, emptied for every test.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

import pytest
import redis

from core.errors import BrokerUnavailable
from core.leases import Lease
from core.progress import Progress
from core.tasks import TaskState
from infra.broker.redis_registry import RETENTION, RedisTaskRegistry
from infra.db.engine import create_engine
from infra.db.task_registry import SqlTaskRegistry

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456)  # naive UTC with microseconds, as the core's clock gives
NESTED = {"tables": [{"table": "jobs", "batches": [{"batch": 1, "error_ids": [3, 9]}], "ok": True,
                      "ratio": 0.25, "note": None}], "total": {"inserted": 183, "name": "Añó ✓"}}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class RegistryContract:
    @pytest.fixture
    def registry(self):
        raise NotImplementedError

    def test_a_submitted_task_is_pending_in_get_recent_and_unfinished(self, registry):
        registry.submitted("t1", "load", {"table": "jobs", "start": 0, "limit": None}, T0)
        record = registry.get("t1")
        assert (record.id, record.kind, record.state) == ("t1", "load", TaskState.PENDING)
        assert record.args == {"table": "jobs", "start": 0, "limit": None}
        assert record.submitted_at == T0
        assert (record.started_at, record.finished_at, record.result, record.error) == (None, None, None, None)
        assert record.progress == {}
        assert [r.id for r in registry.recent(10)] == ["t1"]
        assert [r.id for r in registry.unfinished()] == ["t1"]

    def test_an_unknown_id_is_none(self, registry):
        assert registry.get("no-such-task") is None

    def test_start_progress_success(self, registry):
        registry.submitted("t1", "load", {"table": "all"}, T0)
        registry.started("t1", at(1))
        assert (registry.get("t1").state, registry.get("t1").started_at) == (TaskState.STARTED, at(1))
        progress = Progress(table="jobs", rows_done=1000, bytes_done=4096, bytes_total=8192)
        registry.progressed("t1", progress)
        assert registry.get("t1").progress == asdict(progress)
        registry.succeeded("t1", NESTED, at(2))
        record = registry.get("t1")
        assert (record.state, record.started_at, record.finished_at) == (TaskState.SUCCESS, at(1), at(2))
        assert record.result == NESTED and record.error is None
        assert record.progress == asdict(progress)
        assert registry.unfinished() == []
        assert record.as_dict()["finished_at"] == at(2).isoformat() + "Z"

    def test_nothing_that_arrives_after_success_undoes_it(self, registry):
        registry.submitted("t1", "load", {}, T0)
        registry.started("t1", at(1))
        registry.progressed("t1", Progress("jobs", 10, 10, 100))
        registry.succeeded("t1", {"inserted": 10}, at(2))
        registry.progressed("t1", Progress("jobs", 5, 5, 100))
        registry.started("t1", at(3))
        registry.retrying("t1", "late retry")
        registry.failed("t1", "late failure", at(4))
        record = registry.get("t1")
        assert (record.state, record.result, record.error) == (TaskState.SUCCESS, {"inserted": 10}, None)
        assert (record.started_at, record.finished_at) == (at(1), at(2))
        assert record.progress["rows_done"] == 10
        assert registry.unfinished() == []

    def test_retry_then_failure(self, registry):
        registry.submitted("t1", "load", {}, T0)
        registry.started("t1", at(1))
        registry.retrying("t1", "attempt 1 of 5: the database is unavailable")
        record = registry.get("t1")
        assert (record.state, record.error, record.finished_at) == (
            TaskState.RETRY, "attempt 1 of 5: the database is unavailable", None)
        assert [r.id for r in registry.unfinished()] == ["t1"]
        registry.started("t1", at(3))
        assert registry.get("t1").state == TaskState.STARTED
        registry.failed("t1", "gave up after 5 attempts", at(4))
        registry.progressed("t1", Progress("jobs", 1, 1, None))
        registry.succeeded("t1", {"late": True}, at(5))
        record = registry.get("t1")
        assert (record.state, record.error, record.finished_at, record.result) == (
            TaskState.FAILURE, "gave up after 5 attempts", at(4), None)
        assert record.started_at == at(3)
        assert registry.unfinished() == []

    def test_recent_is_newest_first_in_every_state_and_limited(self, registry):
        for i, state in enumerate(TaskState):
            _bring_to(registry, f"t{i}", state, at(i))
        states = {r.id: r.state for r in registry.recent(10)}
        assert [r.id for r in registry.recent(10)] == ["t4", "t3", "t2", "t1", "t0"]
        assert states == {"t0": TaskState.PENDING, "t1": TaskState.STARTED, "t2": TaskState.RETRY,
                          "t3": TaskState.SUCCESS, "t4": TaskState.FAILURE}
        assert [r.id for r in registry.recent(2)] == ["t4", "t3"]
        assert registry.recent(0) == []

    def test_unfinished_is_pending_started_retry_oldest_first(self, registry):
        order = [("a", TaskState.SUCCESS), ("b", TaskState.RETRY), ("c", TaskState.FAILURE),
                 ("d", TaskState.PENDING), ("e", TaskState.STARTED)]
        for i, (task_id, state) in reversed(list(enumerate(order))):  # submitted out of order on purpose
            _bring_to(registry, task_id, state, at(i))
        assert [(r.id, r.state) for r in registry.unfinished()] == [
            ("b", TaskState.RETRY), ("d", TaskState.PENDING), ("e", TaskState.STARTED)]

    def test_large_nested_results_round_trip(self, registry):
        result = {**NESTED, "error_ids": list(range(100_000)), "rows": [[i, f"name {i}"] for i in range(2000)]}
        registry.submitted("t1", "load", {"nested": {"a": [1, {"b": "c"}]}}, T0)
        registry.succeeded("t1", result, at(1))
        record = registry.get("t1")
        assert record.result == result
        assert record.args == {"nested": {"a": [1, {"b": "c"}]}}

    def test_aware_times_are_kept_as_naive_utc(self, registry):
        registry.submitted("t1", "load", {}, T0.replace(tzinfo=timezone(timedelta(hours=2))))
        assert registry.get("t1").submitted_at == T0 - timedelta(hours=2)

    def test_progress_racing_success_never_wins(self, registry):
        registry.submitted("t1", "load", {}, T0)
        registry.started("t1", at(1))

        def report() -> None:
            for n in range(200):
                registry.progressed("t1", Progress("jobs", n, n, 200))

        reporter = threading.Thread(target=report)
        reporter.start()
        registry.succeeded("t1", {"done": True}, at(2))
        reporter.join()
        record = registry.get("t1")
        assert (record.state, record.result, record.finished_at) == (TaskState.SUCCESS, {"done": True}, at(2))

    def test_check_passes_when_reachable(self, registry):
        registry.check()

    def test_a_lease_is_taken_once_while_it_is_live(self, registry):
        registry.submitted("t1", "load", {}, T0)
        assert registry.get("t1").lease == Lease(None, None)
        assert registry.claim("t1", "worker-a", at(60), at(0))
        assert registry.get("t1").lease == Lease("worker-a", at(60))
        assert not registry.claim("t1", "worker-b", at(70), at(10))  # a live lease is another's
        assert registry.claim("t1", "worker-a", at(80), at(20))  # one's own is taken again
        assert registry.get("t1").lease == Lease("worker-a", at(80))
        assert registry.claim("t1", "worker-b", at(150), at(80))  # lapsed
        assert registry.get("t1").lease == Lease("worker-b", at(150))

    def test_only_the_holder_renews_and_hands_on(self, registry):
        registry.submitted("t1", "load", {}, T0)
        registry.claim("t1", "worker-a", at(60), at(0))
        assert not registry.renew("t1", "worker-b", at(90))
        assert registry.renew("t1", "worker-a", at(90))
        assert registry.get("t1").lease == Lease("worker-a", at(90))
        assert registry.renew("t1", "worker-a", at(100), successor="chunks")
        assert registry.get("t1").lease == Lease("chunks", at(100))
        assert registry.renew("t1", "chunks", at(120))
        assert not registry.renew("t1", "worker-a", at(130))

    def test_a_released_lease_is_free_to_take_but_lapses_only_at_its_end(self, registry):
        registry.submitted("t1", "load", {}, T0)
        registry.claim("t1", "worker-a", at(60), at(0))
        registry.release("t1", "worker-b", at(5))  # not its holder: nothing
        assert registry.get("t1").lease == Lease("worker-a", at(60))
        registry.release("t1", "worker-a", at(90))
        assert registry.get("t1").lease == Lease(None, at(90))
        assert [r.lease for r in registry.unfinished()] == [Lease(None, at(90))]
        assert registry.claim("t1", "worker-b", at(100), at(40))

    def test_a_finished_task_cannot_be_claimed_or_renewed(self, registry):
        registry.submitted("t1", "load", {}, T0)
        registry.claim("t1", "worker-a", at(60), at(0))
        registry.succeeded("t1", {"ok": True}, at(1))
        assert not registry.claim("t1", "worker-b", at(70), at(100))
        assert not registry.renew("t1", "worker-a", at(70))
        assert not registry.claim("missing", "worker-a", at(70), at(0))

    def test_two_claims_racing_for_one_lapsed_lease_give_it_to_one(self, registry):
        registry.submitted("t1", "load", {}, T0)
        won: list[str] = []
        barrier = threading.Barrier(8)

        def claim(holder: str) -> None:
            barrier.wait()
            if registry.claim("t1", holder, at(60), at(0)):
                won.append(holder)

        threads = [threading.Thread(target=claim, args=(f"worker-{n}",)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1 and registry.get("t1").lease.holder == won[0]


def _bring_to(registry, task_id: str, state: TaskState, submitted: datetime) -> None:
    registry.submitted(task_id, "load", {"table": "jobs"}, submitted)
    if state is TaskState.PENDING:
        return
    registry.started(task_id, submitted + timedelta(seconds=0.5))
    if state is TaskState.RETRY:
        registry.retrying(task_id, "passing failure")
    elif state is TaskState.SUCCESS:
        registry.succeeded(task_id, {"ok": True}, submitted + timedelta(seconds=0.9))
    elif state is TaskState.FAILURE:
        registry.failed(task_id, "broken", submitted + timedelta(seconds=0.9))


class TestSqlTaskRegistry(RegistryContract):
    @pytest.fixture
    def registry(self, database_url):
        engine = create_engine(database_url)
        yield SqlTaskRegistry(engine)
        engine.dispose()


RUN = uuid.uuid4().hex[:8]  # keys of this run apart from any other on the shared server


class TestRedisTaskRegistry(RegistryContract):
    @pytest.fixture
    def client(self, redis_url):
        client = redis.Redis.from_url(redis_url)
        yield client
        client.close()

    @pytest.fixture
    def prefix(self, client):
        prefix = f"hr-test-{RUN}-{uuid.uuid4().hex[:8]}:"
        yield prefix
        ids = {i.decode() for z in ("tasks", "tasks:unfinished") for i in client.zrange(prefix + z, 0, -1)}
        client.delete(prefix + "tasks", prefix + "tasks:unfinished", *(f"{prefix}task:{i}" for i in ids))

    @pytest.fixture
    def registry(self, client, prefix):
        return RedisTaskRegistry(client, prefix=prefix)

    def test_keys_are_bounded(self, registry, client, prefix):
        _bring_to(registry, "done", TaskState.SUCCESS, T0)
        _bring_to(registry, "running", TaskState.STARTED, at(1))
        assert RETENTION - timedelta(minutes=1) < timedelta(seconds=client.ttl(f"{prefix}task:done")) <= RETENTION
        assert client.ttl(f"{prefix}task:running") == -1  # unfinished work never expires
        registry.submitted("later", "load", {}, T0 + RETENTION + timedelta(seconds=0.5))
        assert [r.id for r in registry.recent(10)] == ["later", "running"]  # older than a week: off the list
        assert registry.get("done").state == TaskState.SUCCESS  # but readable until its hash expires
        client.delete(f"{prefix}task:done")

    def test_check_raises_when_redis_is_unreachable(self):
        dead = RedisTaskRegistry(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1))
        with pytest.raises(BrokerUnavailable):
            dead.check()
