"""The task use case over a fake registry and dispatcher: submit, follow, run, fail."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

import pytest

from core.errors import BrokerUnavailable, NotFound, StoreUnavailable
from core.progress import Progress
from core.tasks import CONTINUES, PROGRESS_EVERY, RetryLater, TaskRecord, Tasks, TaskState
from domain.tables import Table

START = datetime(2024, 5, 1, 12, 0, 0)


def ticking_clock():
    """A clock that moves one second each time it is read, so every recorded time is told apart."""
    ticks = count()
    return lambda: START + timedelta(seconds=next(ticks))


def echo(task_id, on_progress, **args):
    on_progress(Progress("departments", 5, 50, 100))
    return {"task_id": task_id, **args}


def fail(task_id, on_progress, message=""):
    raise RuntimeError(message)


def refuse(task_id, on_progress, message=""):
    raise NotFound(message)


def hand_on(task_id, on_progress):
    return CONTINUES


@pytest.fixture
def tasks(registry, dispatcher) -> Tasks:
    ids = (f"task-{n}" for n in count(1))
    handlers = {"echo": echo, "fail": fail, "refuse": refuse, "hand_on": hand_on}
    return Tasks(registry, dispatcher, handlers, ticking_clock(), lambda: next(ids))


def test_submit_records_the_task_as_pending_and_dispatches_it(tasks, registry, dispatcher):
    task_id = tasks.submit("echo", {"table": "jobs"})
    assert task_id == "task-1"
    assert dispatcher.dispatched == [("task-1", "echo", {"table": "jobs"})]
    record = tasks.status(task_id)
    assert (record.kind, record.args, record.state, record.submitted_at) == (
        "echo", {"table": "jobs"}, TaskState.PENDING, START)


def test_submit_of_an_unknown_kind_is_refused_before_anything_is_recorded(tasks, registry, dispatcher):
    with pytest.raises(ValueError, match="no handler for task kind 'nope'"):
        tasks.submit("nope", {})
    assert registry.records == {} and dispatcher.dispatched == []


def test_dispatcher_failure_marks_the_task_failed_and_is_raised(tasks, registry, dispatcher):
    dispatcher.down = True
    with pytest.raises(BrokerUnavailable):
        tasks.submit("echo", {})
    [record] = registry.records.values()
    assert record.state is TaskState.FAILURE
    assert record.error == "could not be queued: the broker is down (as told)"
    assert record.finished_at is not None


def test_status_of_an_unknown_task_is_not_found(tasks):
    with pytest.raises(NotFound, match="no task with id 'missing': it is unknown, possibly because the task "
                                       "registry was reset"):
        tasks.status("missing")


def test_run_records_start_progress_and_result(tasks, registry):
    task_id = tasks.submit("echo", {"table": "jobs"})
    assert tasks.run(task_id, "echo", {"table": "jobs"}) == {"task_id": task_id, "table": "jobs"}
    record = tasks.status(task_id)
    assert record.state is TaskState.SUCCESS and record.state.finished
    assert record.result == {"task_id": task_id, "table": "jobs"}
    assert record.progress == {"table": "departments", "rows_done": 5, "bytes_done": 50, "bytes_total": 100}
    assert record.submitted_at < record.started_at < record.finished_at


def test_run_failure_is_recorded_then_raised(tasks):
    task_id = tasks.submit("fail", {"message": "disk on fire"})
    with pytest.raises(RuntimeError, match="disk on fire"):
        tasks.run(task_id, "fail", {"message": "disk on fire"})
    record = tasks.status(task_id)
    # an unexpected error's text may carry SQL or row values: clients are told only its kind
    assert (record.state, record.error, record.result) == (
        TaskState.FAILURE, "internal error (RuntimeError); the worker's log has the details", None)
    assert record.finished_at is not None


def test_work_handed_on_stays_started_until_its_last_step_records_the_end(tasks):
    done, failed = tasks.submit("hand_on", {}), tasks.submit("hand_on", {})
    for task_id in (done, failed):
        tasks.run(task_id, "hand_on", {})
        assert tasks.status(task_id).state is TaskState.STARTED
    tasks.record_progress(done, Progress("hired_employees", 10, 100, 1000))
    tasks.record_success(done, {"total": {"processed": 10}})
    tasks.record_failure(failed, NotFound("file 'x.csv' is not in storage"))
    record, gone = tasks.status(done), tasks.status(failed)
    assert (record.state, record.result, record.progress["rows_done"]) == (
        TaskState.SUCCESS, {"total": {"processed": 10}}, 10)
    assert (gone.state, gone.error) == (TaskState.FAILURE, "file 'x.csv' is not in storage")


def test_our_own_errors_are_recorded_in_their_words(tasks):
    task_id = tasks.submit("refuse", {"message": "file 'x.csv' is not in storage"})
    with pytest.raises(NotFound):
        tasks.run(task_id, "refuse", {"message": "file 'x.csv' is not in storage"})
    assert tasks.status(task_id).error == "file 'x.csv' is not in storage"


def test_recent_is_newest_first_and_limited(tasks):
    ids = [tasks.submit("echo", {}) for _ in range(3)]
    assert [r.id for r in tasks.recent(2)] == [ids[2], ids[1]]


def test_task_runs_a_load_on_the_fakes_and_reports_its_progress(ingestion, blobs, registry, dispatcher, store):
    blobs.blobs["jobs.csv"] = b"id,job\n1,Nurse\n2,Teacher\n"

    def load(task_id, on_progress, table):
        return ingestion.load_blob(Table(table), task_id, on_progress=on_progress).as_dict()

    tasks = Tasks(registry, dispatcher, {"load": load}, ticking_clock(), lambda: "task-7")
    task_id = tasks.submit("load", {"table": "jobs"})
    result = tasks.run(task_id, "load", {"table": "jobs"})
    assert result["total"]["inserted"] == 2 and len(store.rows(Table.JOBS)) == 2
    assert tasks.status(task_id).progress == {"table": "jobs", "rows_done": 2, "bytes_done": 25,
                                              "bytes_total": 25}


def test_task_record_as_dict_speaks_plain_json_types():
    record = TaskRecord("t1", "load", {"table": "jobs"}, TaskState.STARTED, START, started_at=START)
    assert record.as_dict() == {
        "task_id": "t1", "kind": "load", "args": {"table": "jobs"}, "state": "STARTED",
        "submitted_at": "2024-05-01T12:00:00Z", "started_at": "2024-05-01T12:00:00Z", "finished_at": None,
        "progress": {}, "result": None, "error": None}


@pytest.mark.parametrize("state, finished", [(TaskState.PENDING, False), (TaskState.STARTED, False),
                                             (TaskState.RETRY, False), (TaskState.SUCCESS, True),
                                             (TaskState.FAILURE, True)])
def test_only_success_and_failure_are_finished(state, finished):
    assert state.finished is finished


def test_the_brief_form_keeps_totals_and_drops_what_grows_with_the_file(tasks):
    task_id = tasks.submit("echo", {})
    record = tasks.status(task_id)
    record.result = {"table": "jobs", "batches": [{"batch": 1}], "tables": [],
                     "total": {"processed": 3, "errors": 1, "error_ids": [9]}}
    assert record.as_brief_dict()["result"] == {"table": "jobs", "total": {"processed": 3, "errors": 1}}
    assert record.as_dict()["result"]["batches"] == [{"batch": 1}]


# --- steps of work handed on (a load in chunks) ---------------------------------------------------

def _handed_on(tasks: Tasks) -> str:
    task_id = tasks.submit("hand_on", {})
    assert tasks.run(task_id, "hand_on", {}) is CONTINUES
    return task_id


def test_a_step_records_its_progress_and_the_last_step_the_tasks_end(tasks):
    task_id = _handed_on(tasks)

    def scan(progress):
        progress(Progress("hired_employees", 10, 100, 1000))
        return {"rows": 10}

    assert tasks.run_step(task_id, scan) == {"rows": 10}
    record = tasks.status(task_id)
    assert record.state is TaskState.STARTED and record.progress["rows_done"] == 10
    tasks.run_step(task_id, lambda progress: {"total": {"processed": 10}}, ends_task=True)
    record = tasks.status(task_id)
    assert record.state is TaskState.SUCCESS and record.result == {"total": {"processed": 10}}


def test_a_step_that_hands_on_again_does_not_end_the_task(tasks):
    task_id = _handed_on(tasks)
    assert tasks.run_step(task_id, lambda progress: CONTINUES, ends_task=True) is CONTINUES
    assert tasks.status(task_id).state is TaskState.STARTED


def test_a_step_that_meets_a_store_away_shows_retry_until_its_attempts_are_spent(tasks):
    task_id = _handed_on(tasks)

    def away(progress):
        raise StoreUnavailable("the database is unavailable")

    with pytest.raises(RetryLater):
        tasks.run_step(task_id, away, attempt=1, attempts=3)
    record = tasks.status(task_id)
    assert record.state is TaskState.RETRY and record.error == "a step, attempt 1 of 3: the database is unavailable"
    with pytest.raises(StoreUnavailable):
        tasks.run_step(task_id, away, attempt=3, attempts=3)  # the chord's error callback records the failure


def test_a_run_writes_its_progress_once_an_interval_and_its_last_figure_before_its_end(registry, dispatcher):
    """A load reports a figure a batch; the registry gets the first at once, then one a PROGRESS_EVERY, and the
    last before the task's end is recorded."""
    now = [0.0]

    def load(task_id, on_progress):
        for rows in range(1000, 11_000, 1000):
            on_progress(Progress("hired_employees", rows, rows * 50, 500_000))
            now[0] += PROGRESS_EVERY / 4
        return {"total": {"processed": 10_000}}

    tasks = Tasks(registry, dispatcher, {"load": load}, ticking_clock(), lambda: "task-9", monotonic=lambda: now[0])
    task_id = tasks.submit("load", {})
    tasks.run(task_id, "load", {})
    assert [p.rows_done for p in registry.progress_seen] == [1000, 5000, 9000, 10_000]
    record = tasks.status(task_id)
    assert record.state is TaskState.SUCCESS and record.progress["rows_done"] == 10_000


@pytest.mark.parametrize("error, attempts, raised, state", [
    (RuntimeError("disk on fire"), 1, RuntimeError, TaskState.FAILURE),
    (StoreUnavailable("the database is unavailable"), 3, RetryLater, TaskState.RETRY),
])
def test_a_run_that_fails_or_is_retried_still_writes_the_last_figure_it_held_back(registry, dispatcher, error,
                                                                                  attempts, raised, state):
    def load(task_id, on_progress):
        for rows in (1000, 2000, 3000):
            on_progress(Progress("hired_employees", rows, rows * 50, 500_000))  # the clock stands still
        raise error

    tasks = Tasks(registry, dispatcher, {"load": load}, ticking_clock(), lambda: "task-9", monotonic=lambda: 0.0)
    task_id = tasks.submit("load", {})
    with pytest.raises(raised):
        tasks.run(task_id, "load", {}, attempt=1, attempts=attempts)
    assert [p.rows_done for p in registry.progress_seen] == [1000, 3000]
    record = tasks.status(task_id)
    assert record.state is state and record.progress["rows_done"] == 3000


def test_a_step_writes_its_last_figure_though_it_fails(tasks):
    task_id = _handed_on(tasks)

    def scan(progress):
        progress(Progress("hired_employees", 10, 100, 1000))
        progress(Progress("hired_employees", 20, 200, 1000))  # held back: no time has passed
        raise StoreUnavailable("the database is unavailable")

    with pytest.raises(RetryLater):
        tasks.run_step(task_id, scan, attempt=1, attempts=2)
    record = tasks.status(task_id)
    assert record.state is TaskState.RETRY and record.progress["rows_done"] == 20
