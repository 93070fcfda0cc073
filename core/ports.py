"""The ports the use cases need. Adapters in infra/ satisfy them structurally, without inheriting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, ContextManager, Iterable, Protocol, Sequence

from core.summary import BatchSummary
from domain.rejections import Rejection
from domain.tables import Table


@dataclass(frozen=True, slots=True)
class BlobInfo:
    name: str
    size: int
    modified: datetime


class BlobStore(Protocol):
    def open(self, name: str, offset: int = 0) -> ContextManager[BinaryIO]:
        """A binary stream of the blob from the byte offset on, read in chunks; raises core.errors.NotFound."""

    def size(self, name: str) -> int: ...

    def write(self, name: str, stream: BinaryIO) -> int:
        """Stores the stream under the name, replacing any blob there; returns the bytes written."""

    def list(self, prefix: str = "") -> list[BlobInfo]: ...

    def check(self) -> None:
        """Raises when the store cannot be reached."""


@dataclass(frozen=True, slots=True)
class Resolution:
    rejection_id: int
    row: tuple  # the row as it loads now


@dataclass(frozen=True, slots=True)
class BatchWrite:
    """One batch as it goes to the database in one transaction."""

    table: Table
    task_id: str
    batch: int
    processed: int
    # core.line_form.LineRows when every row comes from a line in the table's form: a store that sends the
    # lines as they are reads their keys (core.line_form.keys_of), and the rows are parsed only if read.
    rows: Sequence[tuple]
    rejections: Sequence[Rejection]
    # Each row's raw text as the input wrote it, when known: a store may send it as it is, if it is
    # already the database's own form, rather than write the row out again.
    lines: Sequence[str] = ()
    # Logged rejections these rows fix: each is marked resolved by this task when its row now stands in
    # the table with equal values (inserted now, or there already).
    resolves: Sequence[Resolution] = ()
    # The rejections are logged rows checked again (a replay): each updates, in place, the logged row whose
    # id is its line_number, and a resolve whose id holds other values says so there.
    rechecks: bool = False

    def summary(self, inserted: int) -> BatchSummary:
        """The batch's counts once the store knows how many of its valid rows were new."""
        error_ids = tuple(r.row_id for r in self.rejections if r.row_id is not None)
        return BatchSummary(self.batch, self.processed, inserted, len(self.rows) - inserted,
                            len(self.rejections), error_ids)


class LoadStore(Protocol):
    # How many batches the store commits in one transaction (each still counted and recorded alone):
    # more where a commit is dear (SQLite rewrites the index pages a transaction touched).
    batches_per_commit: int
    # How many of those transactions may be under way at once, each on its own connection, while the next
    # batches are checked: more where the server works on a core of its own (PostgreSQL); none: committed in
    # turn, by the loading thread (as are a commit process's groups where none can be forked).
    commits_in_flight: int
    # The writes need an interpreter all along (SQLite runs in this process): threads would only take turns
    # with the checks, so the transactions in flight are a forked process's (core.commit_process).
    commits_in_a_process: bool
    # The store may write a batch's rows from their lines as the input wrote them (BatchWrite.lines): where it
    # never does, the lines are not kept for it.
    writes_from_lines: bool

    def known_ids(self, table: Table, ids: Iterable[int]) -> set[int]:
        """Which of the ids exist in the table, in one query."""

    def recorded_batches(self, task_id: str, table: Table) -> dict[int, BatchSummary]:
        """The batches of this load already committed, for a load that is run again."""

    def recorded_rows(self, task_id: str, table: Table) -> int:
        """The rows the committed batches of this load processed: its progress, whoever committed them."""

    def commit_batch(self, write: BatchWrite) -> BatchSummary:
        """Inserts the rows not already there, logs the rejections and records the batch, in one
        transaction; an id already present is counted, not changed. Raises core.errors.StoreUnavailable."""

    def commit_batches(self, writes: Sequence[BatchWrite]) -> list[BatchSummary]:
        """commit_batch for several batches of a load in ONE transaction: all of them land or none does.
        A store may leave their flush to disk to make_durable, at the load's end."""

    def make_durable(self) -> None:
        """At a load's end: returns once every batch committed so far is on disk, those of commit_batches
        included, and what the store keeps from them for the reports is brought up to date."""


class RowReader(Protocol):
    def page(self, table: Table, limit: int, offset: int) -> list[dict[str, Any]]: ...

    def count(self, table: Table) -> int: ...

    def rejections(self, table: Table | None, task_id: str | None, limit: int, offset: int,
                   resolved: bool | None = False) -> list[dict[str, Any]]:
        """Logged rejected rows by id: unresolved ones (resolved False), resolved ones (True) or all (None)."""

    def batches(self, task_id: str, table: Table | None, limit: int, offset: int) -> list[dict[str, Any]]:
        """The committed batches of a load, tables in load order, each with its table and figures."""

    def batch_count(self, task_id: str, table: Table | None) -> int: ...

    def check(self) -> None:
        """Raises when the database cannot be reached."""
