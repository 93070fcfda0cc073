"""In-memory fakes of the backup ports, over the FakeLoadStore's tables (tests/unit/fakes.py)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, BinaryIO, Iterable, Iterator, Sequence

from core.backup import dependants
from core.backup_ports import RestoreBatch
from core.errors import Conflict, CorruptBackup
from domain.rules import RULES
from domain.tables import Table
from tests.unit.fakes import FakeLoadStore

MAGIC = b"FAKE-BACKUP\n"


class FakeRowSource:
    """The store's rows in id order; remembers how far it got, to show that rows are pulled lazily."""

    def __init__(self, store: FakeLoadStore) -> None:
        self._store = store
        self.chunks_given = 0
        self.finished = False

    def chunks(self, table: Table, size: int) -> Iterator[Sequence[tuple]]:
        rows = self._store.rows(table)
        for start in range(0, len(rows), size):
            self.chunks_given += 1
            yield rows[start:start + size]
        self.finished = True


def _referenced(tables: dict[Table, dict[int, tuple]], table: Table, children: Iterable[Table]) -> set[int]:
    return {row[ref.position] for child in children for ref in RULES[child].references if ref.parent is table
            for row in tables[child].values()}


class FakeTableReplacer:
    """The port's contract on the fake store: staged changes applied only when every fill succeeds."""

    def __init__(self, store: FakeLoadStore) -> None:
        self._store = store
        self.replaced: list[list[Table]] = []

    def referenced_ids(self, table: Table) -> set[int]:
        return _referenced(self._store.tables, table, dependants(table))

    def replace(self, fills: Sequence[tuple[Table, Iterable[RestoreBatch]]]) -> dict[Table, int]:
        staged = {table: dict(rows) for table, rows in self._store.tables.items()}
        replacing = {table for table, _ in fills}
        for table, _ in reversed(fills):
            kept = _referenced(staged, table, [t for t in dependants(table) if t not in replacing])
            staged[table] = {id_: row for id_, row in staged[table].items() if id_ in kept}
        rejections, counts = [], {}
        for table, batches in fills:
            restored: set[int] = set()
            for batch in batches:
                staged[table].update((row[0], row) for row in batch.rows)
                restored.update(row[0] for row in batch.rows)
                rejections.extend(batch.rejections)
            if staged[table].keys() - restored:
                raise Conflict(f"rows of {table.value} that other rows point at are not in the backup")
            counts[table] = len(restored)
        self._check_foreign_keys(staged)
        self._store.tables = staged
        self._store.rejections.extend(rejections)
        self.replaced.append([table for table, _ in fills])
        return counts

    @staticmethod
    def _check_foreign_keys(tables: dict[Table, dict[int, tuple]]) -> None:
        """What the database would refuse at commit."""
        for table in Table:
            for ref in RULES[table].references:
                if any(row[ref.position] not in tables[ref.parent] for row in tables[table].values()):
                    raise Conflict(f"{table.value}.{ref.name} points at a missing row")


def _plain(value: Any) -> Any:
    return {"$datetime": value.isoformat()} if isinstance(value, datetime) else value


def _typed(value: Any) -> Any:
    return datetime.fromisoformat(value["$datetime"]) if isinstance(value, dict) else value


class FakeCodec:
    """JSON lines after a magic line, one piece per chunk: readable in tests, as strict as AVRO on damage."""

    def encode(self, table: Table, chunks: Iterable[Sequence[tuple]]) -> Iterator[bytes]:
        yield MAGIC
        for chunk in chunks:
            yield b"".join(json.dumps([_plain(v) for v in row]).encode() + b"\n" for row in chunk)

    def decode(self, table: Table, stream: BinaryIO, size: int) -> Iterator[list[dict[str, Any]]]:
        if stream.readline() != MAGIC:
            raise CorruptBackup("not a fake backup")
        names = RULES[table].names
        chunk: list[dict[str, Any]] = []
        for line in stream:
            try:
                values = json.loads(line)
            except ValueError:
                raise CorruptBackup("a damaged line") from None
            chunk.append({name: _typed(v) for name, v in zip(names, values)})
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def encode_rows(table: Table, rows: Sequence[Sequence[Any]]) -> bytes:
    """A backup file written by hand: any values, valid or not."""
    return b"".join(FakeCodec().encode(table, [[tuple(r) for r in rows]]))
