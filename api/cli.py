"""`flask init-db | load | report | rebuild-summaries | generate | backup | restore`: the CLI drives the same
use cases as the API."""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import click
from flask import Flask

from api.params import services
from api.render import REPORT_COLUMNS, to_csv, to_table
from core.dialects import DELIMITERS, ReadOptions
from core.progress import Progress
from core.sample_data import write_samples
from domain.errors import DomainError
from domain.tables import Table


class _Bar:
    """A progress bar on stderr when it is a terminal; silent otherwise, so stdout stays pure JSON."""

    def __init__(self) -> None:
        self._bar = None
        self._table = None
        self._shown = 0

    def __call__(self, progress: Progress) -> None:
        if not sys.stderr.isatty():
            return
        if progress.table != self._table:
            self.close()
            self._table, self._shown = progress.table, 0
            self._bar = click.progressbar(length=progress.bytes_total or 0, label=progress.table,
                                          file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(progress.bytes_done - self._shown)
        self._shown = progress.bytes_done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the schema."""
    try:
        services().upgrade_schema()
    except DomainError as error:  # a database out of reach, or a driver missing: one line, not a traceback
        raise click.ClickException(str(error)) from None
    click.echo("schema is up to date", err=True)


@click.command("load")
@click.argument("table", default="all")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Load this local CSV instead of the table's file in storage.")
@click.option("--delimiter", type=click.Choice(sorted(set(DELIMITERS) - {"\t"})),
              help="The separator (detected when omitted).")
@click.option("--encoding", help="The file's encoding when it has no byte order mark, e.g. cp1252 (default UTF-8).")
def load(table: str, path: Path | None, delimiter: str | None, encoding: str | None) -> None:
    """Load departments, jobs, hired_employees or all of them, and print the summary as JSON."""
    services().settle_for_loads()
    ingestion = services().ingestion
    task_id = f"cli-{uuid.uuid4().hex}"
    bar = _Bar()
    try:
        options = ReadOptions.parse(delimiter, encoding)
        if table == "all":
            if path:
                raise click.UsageError("--file names one table's file: give the table too")
            summaries = ingestion.load_all(task_id, on_progress=bar, options=options)
        elif path:
            with path.open("rb") as stream:
                summaries = [ingestion.load_stream(Table.from_name(table), stream, source=str(path),
                                                   task_id=task_id, bytes_total=path.stat().st_size,
                                                   on_progress=bar, options=options)]
        else:
            summaries = [ingestion.load_blob(Table.from_name(table), task_id, on_progress=bar, options=options)]
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        bar.close()
    click.echo(json.dumps([s.as_dict() for s in summaries] if table == "all" else summaries[0].as_dict()))


@click.command("report")
@click.argument("name", type=click.Choice(sorted(REPORT_COLUMNS)))
@click.option("--year", type=int, default=2021, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def report(name: str, year: int, fmt: str) -> None:
    """Print report 1 (hired-by-quarter) or report 2 (hiring-above-average) for a year."""
    reports = services().reports
    try:
        rows = reports.hired_by_quarter(year) if name == "hired-by-quarter" else reports.hiring_above_average(year)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    columns = REPORT_COLUMNS[name]
    text = json.dumps(rows) + "\n" if fmt == "json" else (to_csv if fmt == "csv" else to_table)(rows, columns)
    click.echo(text, nl=False)


@click.command("rebuild-summaries")
def rebuild_summaries() -> None:
    """Rebuild the reports' summary from the hires, in one transaction, and print what it corrected as JSON."""
    try:
        result = services().reports.rebuild_summary()
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(result))


@click.command("generate")
@click.option("--rows", type=click.IntRange(min=0), required=True, help="Rows of hired_employees.csv.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=2021, show_default=True)
@click.option("--departments", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=183, show_default=True)
def generate(rows: int, out: Path, seed: int, departments: int, jobs: int) -> None:
    """Write departments.csv, jobs.csv and hired_employees.csv with the originals' shape and error mix."""
    out.mkdir(parents=True, exist_ok=True)
    names = ("departments.csv", "jobs.csv", "hired_employees.csv")
    files = [(out / name).open("w", encoding="utf-8", newline="") for name in names]
    try:
        write_samples(*files, rows=rows, seed=seed, departments=departments, jobs=jobs)
    finally:
        for f in files:
            f.close()
    click.echo(json.dumps({"out": str(out), "rows": rows, "seed": seed}))


@click.command("backup")
@click.argument("table")
def backup(table: str) -> None:
    """Write TABLE to a new AVRO backup in storage and print its name, rows, size and time as JSON."""
    try:
        result = services().backups.backup(table, task_id=f"cli-{uuid.uuid4().hex}")
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(result))


@click.command("restore")
@click.argument("table")
@click.option("--backup", "name", help="The backup to restore (as `GET /backups` names it); the latest if omitted.")
@click.option("--with-dependants", is_flag=True,
              help="Also restore the tables that point at TABLE (hired_employees) from their latest backup.")
def restore(table: str, name: str | None, with_dependants: bool) -> None:
    """Replace TABLE with a backup, atomically, and print what was restored as JSON."""
    bar = _Bar()
    try:
        result = services().backups.restore(table, name, with_dependants, task_id=f"cli-{uuid.uuid4().hex}",
                                             on_progress=bar)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        bar.close()
    click.echo(json.dumps(result))


@click.group("rejections")
def rejections() -> None:
    """The rejected rows: export them as CSV to fix, or replay them once their parents are loaded."""


@rejections.command("export")
@click.option("--task-id", help="The load whose rejected rows to export.")
@click.option("--table", help="The table (needed when the load had several).")
@click.option("--resolved", type=click.Choice(["false", "true", "all"]), default="false", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def export_rejections(task_id: str | None, table: str | None, resolved: str, out: Path | None) -> None:
    """Write the rejected rows of one table as CSV: its columns, then line_number, reasons, rejection_id."""
    export = services().rejection_export
    try:
        target = export.table_of(Table.from_name(table) if table else None, task_id)
        pieces = export.csv(target, task_id, {"false": False, "true": True, "all": None}[resolved])
        if out is None:
            for piece in pieces:
                click.echo(piece, nl=False)
            return
        with out.open("w", encoding="utf-8", newline="") as sink:
            sink.writelines(pieces)
    except DomainError as error:
        raise click.ClickException(str(error)) from None


@rejections.command("replay")
@click.option("--task-id", help="The load whose unresolved rejected rows to run again.")
@click.option("--table", help="Only this table's (every load's, without --task-id).")
def replay_rejections(task_id: str | None, table: str | None) -> None:
    """Run the unresolved rejected rows of a load again, now, and print the summary as JSON."""
    if not task_id and not table:
        raise click.UsageError("name the load's --task-id, its --table, or both")
    bar = _Bar()
    try:
        result = services().replays.run(f"cli-{uuid.uuid4().hex}", bar, of_task=task_id,
                                        table=Table.from_name(table).value if table else None)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        bar.close()
    click.echo(json.dumps(result))


def register_commands(app: Flask) -> None:
    for command in (init_db, load, report, rebuild_summaries, generate, backup, restore, rejections):
        app.cli.add_command(command)
