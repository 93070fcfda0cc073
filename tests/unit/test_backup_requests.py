"""Backup and restore requests: checked at once, then queued as tasks with primitive arguments."""
from __future__ import annotations

from itertools import count

import pytest

from core.backup_requests import BACKUP, RESTORE, BackupRequests
from core.errors import NotFound
from core.tasks import Tasks
from domain.tables import Table
from tests.unit.fakes import FakeDispatcher, FakeTaskRegistry


class CheckingBackups:
    """Answers check_restore like the use case: the plan, or the error that refuses it."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.checked: list[tuple] = []

    def check_restore(self, table, backup=None, with_dependants=False):
        self.checked.append((table, backup, with_dependants))
        if self.refuse:
            raise self.refuse
        return {"table": table.value, "backup": backup or "20260101T000000000000Z.avro", "dependants": []}

    def list(self):
        return {"departments": [{"name": "20260101T000000000000Z.avro"}]}


def _requests(backups) -> tuple[BackupRequests, FakeDispatcher]:
    dispatcher = FakeDispatcher()
    ids = (f"task-{n}" for n in count(1))
    handlers = {BACKUP: lambda **_: None, RESTORE: lambda **_: None}
    tasks = Tasks(FakeTaskRegistry(), dispatcher, handlers, lambda: None, lambda: next(ids))
    return BackupRequests(tasks, backups), dispatcher


def test_backup_is_queued_with_the_table_name_only():
    requests, dispatcher = _requests(CheckingBackups())
    assert requests.backup(Table.JOBS) == "task-1"
    assert dispatcher.dispatched == [("task-1", BACKUP, {"table": "jobs"})]


def test_restore_names_the_backup_the_check_chose():
    backups = CheckingBackups()
    requests, dispatcher = _requests(backups)
    requests.restore(Table.DEPARTMENTS, None, True)
    assert backups.checked == [(Table.DEPARTMENTS, None, True)]
    assert dispatcher.dispatched == [("task-1", RESTORE, {
        "table": "departments", "backup": "20260101T000000000000Z.avro", "with_dependants": True})]
    assert requests.list() == {"departments": [{"name": "20260101T000000000000Z.avro"}]}


def test_a_refused_restore_queues_nothing():
    requests, dispatcher = _requests(CheckingBackups(refuse=NotFound("no backup")))
    with pytest.raises(NotFound):
        requests.restore(Table.JOBS, "20000101T000000000000Z.avro", False)
    assert dispatcher.dispatched == []
