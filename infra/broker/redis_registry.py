"""The TaskRegistry port on Redis, beside the Celery broker.

Keys, all under `prefix`:
- `task:{id}`        a hash per task; args, progress and result as JSON, times as naive-UTC ISO text;
- `tasks`            a sorted set of every task id scored by submission time: /task-list reads its top
                     end (ZREVRANGE), so no KEYS and no SCAN of the keyspace are ever needed;
- `tasks:unfinished` a sorted set of the PENDING, STARTED and RETRY ids, oldest first.

Bounded: a finished task's hash expires after RETENTION (7 days); `tasks` drops ids submitted more than
RETENTION ago and keeps at most MAX_LISTED ids. Unfinished tasks never expire: they are work to take over.

Every change after submission runs in one Lua script that checks the state and writes in one step, so
a finished task stays finished whatever arrives late (progress, a redelivered start, a second ending).
A lease (fields `lease_holder`, and `lease_until` in seconds since the epoch) is taken, renewed and
released the same way, so two workers never both take one task.
"""
from __future__ import annotations

import functools
import json
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from core.clock import naive_utc
from core.errors import BrokerUnavailable
from core.leases import Lease
from core.progress import Progress
from core.tasks import TaskRecord, TaskState

RETENTION = timedelta(days=7)
MAX_LISTED = 10_000

# KEYS: the task's hash, the unfinished set. ARGV: id, "finish" or "keep", ttl seconds, field, value, ...
_UPDATE = """
local state = redis.call('HGET', KEYS[1], 'state')
if (not state) or state == 'SUCCESS' or state == 'FAILURE' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if ARGV[2] == 'finish' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return 1
"""


_UNFINISHED_OR_RETURN = """
local state = redis.call('HGET', KEYS[1], 'state')
if (not state) or state == 'SUCCESS' or state == 'FAILURE' then return 0 end
local holder = redis.call('HGET', KEYS[1], 'lease_holder')
"""
# ARGV: holder, until, at. Free: no holder, the caller's own, or lapsed at `at`.
_CLAIM = _UNFINISHED_OR_RETURN + """
local lease_until = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '')
if holder and holder ~= ARGV[1] and lease_until and lease_until > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'lease_holder', ARGV[1], 'lease_until', ARGV[2])
return 1
"""
# ARGV: holder, until, successor ('' to free the lease).
_RENEW = _UNFINISHED_OR_RETURN + """
if holder ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'lease_holder')
else redis.call('HSET', KEYS[1], 'lease_holder', ARGV[3]) end
redis.call('HSET', KEYS[1], 'lease_until', ARGV[2])
return 1
"""


def _unavailable_when_down(method):
    """A Redis that does not answer is the broker being down: 503 at the API, not a stack trace."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except redis.RedisError as error:
            raise BrokerUnavailable(f"Redis, the broker and task registry, is unavailable: {error}") from error
    return wrapper


class RedisTaskRegistry:
    def __init__(self, client: redis.Redis, prefix: str = "hr:") -> None:
        self._client = client
        self._prefix = prefix
        self._all = f"{prefix}tasks"
        self._unfinished = f"{prefix}tasks:unfinished"
        self._update_script = client.register_script(_UPDATE)  # no round trip until first used
        self._claim_script = client.register_script(_CLAIM)
        self._renew_script = client.register_script(_RENEW)

    @_unavailable_when_down
    def submitted(self, task_id: str, kind: str, args: dict[str, Any], at: datetime) -> None:
        score = _score(at)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._key(task_id), mapping={
            "kind": kind, "args": json.dumps(args), "state": TaskState.PENDING.value,
            "submitted_at": naive_utc(at).isoformat(), "progress": "{}"})
        pipe.zadd(self._all, {task_id: score})
        pipe.zadd(self._unfinished, {task_id: score})
        pipe.zremrangebyscore(self._all, "-inf", score - RETENTION.total_seconds())
        pipe.zremrangebyrank(self._all, 0, -MAX_LISTED - 1)
        pipe.execute()

    @_unavailable_when_down
    def started(self, task_id: str, at: datetime) -> None:
        self._update(task_id, False, state=TaskState.STARTED.value, started_at=naive_utc(at).isoformat())

    @_unavailable_when_down
    def progressed(self, task_id: str, progress: Progress) -> None:
        data = asdict(progress) if is_dataclass(progress) else dict(progress)
        self._update(task_id, False, progress=json.dumps(data))

    @_unavailable_when_down
    def succeeded(self, task_id: str, result: Any, at: datetime) -> None:
        self._update(task_id, True, state=TaskState.SUCCESS.value, result=json.dumps(result),
                     finished_at=naive_utc(at).isoformat())

    @_unavailable_when_down
    def failed(self, task_id: str, error: str, at: datetime) -> None:
        self._update(task_id, True, state=TaskState.FAILURE.value, error=error, finished_at=naive_utc(at).isoformat())

    @_unavailable_when_down
    def retrying(self, task_id: str, error: str) -> None:
        self._update(task_id, False, state=TaskState.RETRY.value, error=error)

    @_unavailable_when_down
    def claim(self, task_id: str, holder: str, until: datetime, at: datetime) -> bool:
        return self._claim_script(keys=[self._key(task_id)], args=[holder, _score(until), _score(at)]) == 1

    @_unavailable_when_down
    def renew(self, task_id: str, holder: str, until: datetime, successor: str | None = None) -> bool:
        return self._renew_script(keys=[self._key(task_id)], args=[holder, _score(until), successor or holder]) == 1

    @_unavailable_when_down
    def release(self, task_id: str, holder: str, until: datetime) -> None:
        self._renew_script(keys=[self._key(task_id)], args=[holder, _score(until), ""])

    @_unavailable_when_down
    def get(self, task_id: str) -> TaskRecord | None:
        return _record(task_id, self._client.hgetall(self._key(task_id)))

    @_unavailable_when_down
    def recent(self, limit: int) -> list[TaskRecord]:
        return self._records(self._client.zrevrange(self._all, 0, limit - 1) if limit > 0 else [])

    @_unavailable_when_down
    def unfinished(self) -> list[TaskRecord]:
        return self._records(self._client.zrange(self._unfinished, 0, -1))

    def check(self) -> None:
        try:
            self._client.ping()
        except redis.RedisError as error:
            raise BrokerUnavailable(f"Redis, the broker and task registry, is unavailable: {error}") from error

    def _update(self, task_id: str, finish: bool, **fields: str) -> None:
        pairs = [item for pair in fields.items() for item in pair]
        self._update_script(keys=[self._key(task_id), self._unfinished],
                            args=[task_id, "finish" if finish else "keep", int(RETENTION.total_seconds()), *pairs])

    def _records(self, ids: list) -> list[TaskRecord]:
        ids = [_text(i) for i in ids]
        pipe = self._client.pipeline(transaction=False)
        for task_id in ids:
            pipe.hgetall(self._key(task_id))
        records = (_record(task_id, data) for task_id, data in zip(ids, pipe.execute()))
        return [r for r in records if r is not None]  # an id whose hash has expired is skipped

    def _key(self, task_id: str) -> str:
        return f"{self._prefix}task:{task_id}"



def _score(at: datetime) -> float:
    return naive_utc(at).replace(tzinfo=UTC).timestamp()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _from_score(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None) if value else None


def _record(task_id: str, raw: dict) -> TaskRecord | None:
    if not raw:
        return None
    data = {_text(k): _text(v) for k, v in raw.items()}
    return TaskRecord(
        id=task_id, kind=data["kind"], args=json.loads(data["args"]), state=TaskState(data["state"]),
        submitted_at=_time(data["submitted_at"]), started_at=_time(data.get("started_at")),
        finished_at=_time(data.get("finished_at")), progress=json.loads(data.get("progress") or "{}"),
        result=json.loads(data["result"]) if "result" in data else None, error=data.get("error"),
        lease=Lease(data.get("lease_holder"), _from_score(data.get("lease_until"))))
