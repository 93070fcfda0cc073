"""SQLite's batches committed by a forked process (core.commit_process), on a real database file: a loading
process killed mid-load leaves its commit process to finish what it was sent and exit, and the load run
again lands every row once, each rejection logged once, the summary equal to the rows."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import Settings
from core.commit_process import CAN_FORK
from domain.tables import Table
from main import build_services
from tests.summaries import assert_summary_equals_the_rows

ROOT = Path(__file__).resolve().parents[2]
BATCH_SIZE = 10  # groups of 40 batches: 400 rows, five groups in the challenge's 1999 rows

pytestmark = pytest.mark.skipif(not CAN_FORK, reason="this system cannot fork: groups are committed in turn")

# Loads the employees and, once two groups have landed, prints its children (the commit process) and
# kills itself with SIGKILL: no handler, no exit code runs, as when a worker is killed.
_KILLED_LOAD = textwrap.dedent("""
    import dataclasses, os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from config import Settings
    from domain.tables import Table
    from main import build_services

    settings = dataclasses.replace(Settings.from_env(), database_url={url!r}, storage_dir=Path({storage!r}),
                                   batch_size={batch_size})
    services = build_services(settings)

    def killed_after_two_groups(progress):
        if progress.rows_done >= 800:
            print(Path(f"/proc/self/task/{{os.getpid()}}/children").read_text(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    services.ingestion.load_blob(Table.HIRED_EMPLOYEES, "killed", on_progress=killed_after_two_groups)
""")


def _services(url: str, storage: Path):
    settings = dataclasses.replace(Settings.from_env(), database_url=url, storage_dir=storage, batch_size=BATCH_SIZE)
    services = build_services(settings)
    services.upgrade_schema()
    return services


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # exited; its new parent may not have reaped it yet


def _landed(engine: sa.Engine, task_id: str) -> tuple[list[tuple], int, int]:
    with engine.connect() as conn:
        rows = sorted(map(tuple, conn.execute(sa.text("SELECT * FROM hired_employees"))))
        logged = conn.execute(sa.text("SELECT COUNT(*) FROM rejected_rows WHERE task_id = :t"),
                              {"t": task_id}).scalar_one()
        batches = conn.execute(sa.text("SELECT COUNT(*) FROM load_batches WHERE task_id = :t AND table_name = "
                                       "'hired_employees'"), {"t": task_id}).scalar_one()
    return rows, logged, batches


def test_a_loading_process_killed_mid_load_leaves_its_commit_process_to_finish_and_a_rerun_lands_all_once(
        tmp_path, challenge_dir):
    storage = tmp_path / "storage"
    storage.mkdir()
    for table in Table:
        shutil.copy(challenge_dir / table.file_name, storage / table.file_name)
    reference = _services(f"sqlite:///{tmp_path / 'reference.sqlite3'}", storage)
    for table in (Table.DEPARTMENTS, Table.JOBS, Table.HIRED_EMPLOYEES):
        reference.ingestion.load_blob(table, "reference")
    url = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    services = _services(url, storage)
    for table in (Table.DEPARTMENTS, Table.JOBS):
        services.ingestion.load_blob(table, "parents")

    script = _KILLED_LOAD.format(root=str(ROOT), url=url, storage=str(storage), batch_size=BATCH_SIZE)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    children = [int(pid) for pid in killed.stdout.split()]
    assert len(children) == 1, f"the load had no commit process: {killed.stdout!r}"
    deadline = time.monotonic() + 60
    while not _ended(children[0]):
        assert time.monotonic() < deadline, "the commit process outlived its loading process by a minute"
        time.sleep(0.05)

    engine = sa.create_engine(url)
    expected_rows, expected_logged, expected_batches = _landed(sa.create_engine(
        f"sqlite:///{tmp_path / 'reference.sqlite3'}"), "reference")
    _, _, batches = _landed(engine, "killed")
    assert 80 <= batches < expected_batches, "the kill did not fall mid-load: nothing was tested"

    summary = services.ingestion.load_blob(Table.HIRED_EMPLOYEES, "killed")
    assert summary.totals()["processed"] == 1999
    assert _landed(engine, "killed") == (expected_rows, expected_logged, expected_batches)
    assert assert_summary_equals_the_rows(engine, [2021]) == len(expected_rows)
    engine.dispose()
