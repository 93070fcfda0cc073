"""Backup and restore requests from the API: checked at once, then handed to a worker as tasks."""
from __future__ import annotations

from core.backup import Backups
from core.tasks import Tasks
from domain.tables import Table

BACKUP = "backup"
RESTORE = "restore"


class BackupRequests:
    def __init__(self, tasks: Tasks, backups: Backups) -> None:
        self._tasks = tasks
        self._backups = backups

    def backup(self, table: Table) -> str:
        return self._tasks.submit(BACKUP, {"table": table.value})

    def restore(self, table: Table, backup: str | None, with_dependants: bool) -> str:
        """A missing backup (404), a bad name (422) or rows that would be orphaned (409) are answered
        now; the task checks again inside its transaction."""
        plan = self._backups.check_restore(table, backup, with_dependants)
        return self._tasks.submit(RESTORE, {"table": table.value, "backup": plan["backup"],
                                            "with_dependants": with_dependants})

    def list(self) -> dict[str, list[dict]]:
        return self._backups.list()
