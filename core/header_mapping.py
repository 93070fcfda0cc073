"""A header row that names the columns: which cell of each row holds which field of the table.

A first row maps the columns by name when any of its cells, trimmed and case-folded, names a column of the
table. Then every cell must name a column, or be one of the columns the rejections export adds (which the
loader leaves out, but for `rejection_id`, which says which logged rejection the row fixes), and every
column must be named. A file whose header says otherwise cannot be loaded at all: that is about the file's
shape, not a row, so the load fails before any row is written."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, NamedTuple

from core.csv_records import Record
from core.errors import InvalidRequest
from domain.rules import TableRules, is_header

# The columns GET /rejections adds after the table's own, in this order (core.rejection_export).
EXPORT_COLUMNS = ("line_number", "reasons", "rejection_id")


class HeaderMismatch(InvalidRequest):
    """A header row names columns, but not exactly the table's (422, or the load's FAILURE)."""


class MappedRecord(NamedTuple):
    """A record whose fields are in the table's order, and the logged rejection it fixes, if it says so."""

    line_number: int
    raw: str
    fields: list[str]
    problem: str | None = None
    rejection_id: int | None = None


@dataclass(frozen=True)
class ColumnMap:
    positions: tuple[int, ...]  # for each field of the table, where its cell stands in a row
    width: int  # how many cells a row has
    rejection_at: int | None  # where the rejection_id cell stands, if there is one
    names: tuple[str, ...]  # the header's cells, as written (for a reason)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ColumnMap:
        return cls(tuple(data["positions"]), data["width"], data["rejection_at"], tuple(data["names"]))

    def record(self, record: Record) -> Record | MappedRecord:
        fields = record.fields
        if record.problem is not None or len(fields) <= 1 and not any(f.strip() for f in fields):
            return record  # unreadable, or a blank line (passed over as blank lines are)
        if len(fields) != self.width:
            if self.width == len(self.positions):  # the table's own reason, as for a file in its order
                return MappedRecord(record.line_number, record.raw, fields)
            return MappedRecord(record.line_number, record.raw, [],
                                f"expected {self.width} fields ({', '.join(self.names)}), found {len(fields)}")
        rejection_id = None
        if self.rejection_at is not None:
            cell = fields[self.rejection_at].strip()
            rejection_id = int(cell) if cell.isascii() and cell.isdigit() and len(cell) < 19 else None
        return MappedRecord(record.line_number, record.raw, [fields[at] for at in self.positions], None,
                            rejection_id)

    def runs(self, runs: Iterable[list[Record]]) -> Iterator[list[Record]]:
        """The runs of a file (CsvRecords.runs) with each row's cells put in the table's order."""
        record = self.record
        for run in runs:
            yield list(map(record, run))


def _folded(cell: str) -> str:
    return cell.strip().casefold()


def column_map(rules: TableRules, cells: list[str]) -> ColumnMap | None:
    """The map a first row sets up; None when it names no column (or names exactly the table's columns in
    their order, which needs no map). Raises HeaderMismatch for a header that cannot be mapped.

    A first row whose first cell is a number is data, as it is without a header (domain.rules.is_header):
    a department named "Department" in the first line does not make it a header."""
    folded = [_folded(cell) for cell in cells]
    if not is_header(cells) or not set(folded) & set(rules.names):
        return None
    unknown = [cell.strip() for cell, name in zip(cells, folded) if name not in rules.names + EXPORT_COLUMNS]
    missing = [name for name in rules.names if name not in folded]
    twice = sorted({name for name in folded if folded.count(name) > 1})
    if unknown or missing or twice:
        told = [f"missing columns: {', '.join(missing)}" if missing else "",
                f"unknown columns: {', '.join(map(repr, unknown))}" if unknown else "",
                f"named more than once: {', '.join(twice)}" if twice else ""]
        raise HeaderMismatch(f"the header row does not fit the table {rules.table.value} "
                             f"({', '.join(rules.names)}): {'; '.join(filter(None, told))}")
    positions = tuple(folded.index(name) for name in rules.names)
    if positions == tuple(range(len(cells))):
        return None
    rejection_at = folded.index("rejection_id") if "rejection_id" in folded else None
    return ColumnMap(positions, len(cells), rejection_at, tuple(cell.strip() for cell in cells))
