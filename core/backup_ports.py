"""The ports backup and restore need: the rows of a table, a replacer that swaps them atomically, a codec."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO, Iterable, Iterator, Protocol, Sequence

from domain.rejections import Rejection
from domain.tables import Table


class RowSource(Protocol):
    def chunks(self, table: Table, size: int) -> Iterator[Sequence[tuple]]:
        """The table's rows in id order, columns in table order, `size` at a time, streamed from the
        database: never all of them in memory."""


@dataclass(frozen=True, slots=True)
class RestoreBatch:
    rows: Sequence[tuple]
    rejections: Sequence[Rejection]


class TableReplacer(Protocol):
    def referenced_ids(self, table: Table) -> set[int]:
        """The ids of `table` that rows of other tables point at through a foreign key."""

    def replace(self, fills: Sequence[tuple[Table, Iterable[RestoreBatch]]]) -> dict[Table, int]:
        """Replaces the rows of each table with its batches' rows, and logs their rejections, all in
        ONE transaction: an error raised by the database or by an iterable rolls everything back.
        Tables are filled in the order given (parents first). A table whose rows are still pointed at
        by a table not in `fills` keeps its referenced rows (updated in place) until the end; if any
        of them is not in its batches, core.errors.Conflict is raised. Returns the rows per table."""


class BackupCodec(Protocol):
    def encode(self, table: Table, chunks: Iterable[Sequence[tuple]]) -> Iterator[bytes]:
        """The file of the rows (columns in table order), piece by piece as the chunks arrive."""

    def decode(self, table: Table, stream: BinaryIO, size: int) -> Iterator[list[dict[str, Any]]]:
        """The file's records, `size` at a time; raises core.errors.CorruptBackup on a damaged file."""
