"""SQLite's batches committed by a forked process (core.commit_process), on a real database file: a loading
process killed mid-load takes its commit process with it (the group under way rolls back), and the load
run again lands every row once, each rejection logged once, the summary equal to the rows."""
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
from core.forks import CAN_FORK
from domain.tables import Table
from main import build_services
from tests.summaries import assert_summary_equals_the_rows

ROOT = Path(__file__).resolve().parents[2]
BATCH_SIZE = 10  # groups of 40 batches: 400 rows, five groups in the challenge's 1999 rows

pytestmark = pytest.mark.skipif(not CAN_FORK, reason="this system cannot fork: groups are committed in turn")

# Loads the employees and, once two groups have landed, prints its children (the commit process) and
# kills itself with SIGKILL: no handler, no exit code runs, as when a worker is killed. The third group,
# sent by then, takes a minute to commit: a commit process that outlived its loading process would still
# be there.
_KILLED_LOAD = textwrap.dedent("""
    import dataclasses, os, signal, sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from config import Settings
    from domain.tables import Table
    from infra.db.load_store import SqlLoadStore
    from main import build_services

    commit_batches = SqlLoadStore.commit_batches

    def slow_from_the_third_group(store, writes):
        if writes[0].batch > 80:
            time.sleep(60)
        return commit_batches(store, writes)

    SqlLoadStore.commit_batches = slow_from_the_third_group

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


def test_a_loading_process_killed_mid_load_takes_its_commit_process_along_and_a_rerun_lands_all_once(
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
    # Its output to a file: a pipe would keep run() waiting for every process that holds it, the child too.
    with (tmp_path / "out").open("w+") as out, (tmp_path / "err").open("w+") as err:
        killed = subprocess.run([sys.executable, "-c", script], stdout=out, stderr=err, timeout=120)
        err.seek(0)
        assert killed.returncode == -9, err.read()
        out.seek(0)
        printed = out.read()
    children = [int(pid) for pid in printed.split()]
    assert len(children) == 1, f"the load had no commit process: {printed!r}"
    deadline = time.monotonic() + 10
    while not _ended(children[0]):
        assert time.monotonic() < deadline, "the commit process outlived its loading process"
        time.sleep(0.05)

    engine = sa.create_engine(url)
    reference_engine = sa.create_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    expected_rows, expected_logged, expected_batches = _landed(reference_engine, "reference")
    reference_engine.dispose()
    _, _, batches = _landed(engine, "killed")
    # Two groups had landed; the third, under way, was rolled back whole as the child was killed.
    assert batches == 80, batches

    summary = services.ingestion.load_blob(Table.HIRED_EMPLOYEES, "killed")
    assert summary.totals()["processed"] == 1999
    assert _landed(engine, "killed") == (expected_rows, expected_logged, expected_batches)
    assert assert_summary_equals_the_rows(engine, [2021]) == len(expected_rows)
    engine.dispose()
