"""The BackupCodec port with fastavro: one explicit schema per table, read from schemas/<table>.avsc.

Datetimes are `timestamp-micros` in UTC: the database's naive values are UTC already, and are made
aware before writing (fastavro takes naive ones as UTC too, but converts them three times slower);
read back, they come out aware, in UTC. Ids are `long`.
"""
from __future__ import annotations

import io
import json
import zlib
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, Sequence

import fastavro
from fastavro.read import SchemaResolutionError
from fastavro.schema import SchemaParseException, UnknownType
from fastavro.write import Writer

from core.errors import CorruptBackup
from domain.tables import Table

SCHEMAS = Path(__file__).resolve().parent / "schemas"

# What fastavro raises on a file it cannot read: bad header or sync marker, a block cut short,
# bytes that are no valid value (UnicodeDecodeError is a ValueError), a damaged schema in the header,
# a compressed block that does not inflate.
_UNREADABLE = (ValueError, EOFError, IndexError, OverflowError, KeyError, zlib.error, SchemaParseException,
               UnknownType)
_MAX_DETAIL = 200


def load_schema(table: Table, folder: Path = SCHEMAS) -> dict[str, Any]:
    return json.loads((folder / f"{table.value}.avsc").read_text(encoding="utf-8"))


class AvroCodec:
    """`codec` is AVRO's block compression: "null" (none) or "deflate"."""

    def __init__(self, codec: str = "deflate", folder: Path = SCHEMAS) -> None:
        self._codec = codec
        self._schemas = {table: fastavro.parse_schema(load_schema(table, folder)) for table in Table}
        self._names = {table: [f["name"] for f in load_schema(table, folder)["fields"]] for table in Table}
        self._moments = {table: _timestamp_positions(load_schema(table, folder)) for table in Table}

    def field_names(self, table: Table) -> list[str]:
        return list(self._names[table])

    def encode(self, table: Table, chunks: Iterable[Sequence[tuple]]) -> Iterator[bytes]:
        """One AVRO block per chunk, handed on as soon as it is written: memory holds one chunk."""
        buffer = io.BytesIO()
        writer = Writer(buffer, self._schemas[table], codec=self._codec, sync_interval=1 << 30)
        names, moments = self._names[table], self._moments[table]
        for chunk in chunks:
            for row in chunk:
                if moments:
                    row = _in_utc(row, moments)
                writer.write(dict(zip(names, row)))
            writer.flush()
            yield _take(buffer)
        writer.flush()
        yield _take(buffer)

    def decode(self, table: Table, stream: BinaryIO, size: int) -> Iterator[list[dict[str, Any]]]:
        """Records read against the table's schema, so a file of another shape is refused too."""
        try:
            records = fastavro.reader(stream, reader_schema=self._schemas[table])
            while chunk := list(islice(records, size)):
                yield chunk
        except SchemaResolutionError:
            raise CorruptBackup(f"the backup is not a backup of {table.value}: its AVRO schema does not match "
                                f"schemas/{table.value}.avsc; nothing was restored") from None
        except _UNREADABLE as error:
            detail = f"{type(error).__name__}: {error}"[:_MAX_DETAIL]
            raise CorruptBackup(f"the backup is not a readable AVRO file of {table.value} ({detail}); "
                                "nothing was restored") from None


def _timestamp_positions(schema: dict[str, Any]) -> tuple[int, ...]:
    return tuple(i for i, f in enumerate(schema["fields"])
                 if isinstance(f["type"], dict) and f["type"].get("logicalType", "").startswith("timestamp"))


def _in_utc(row: Sequence[Any], positions: tuple[int, ...]) -> list[Any]:
    row = list(row)
    for i in positions:
        if isinstance(row[i], datetime) and row[i].tzinfo is None:
            row[i] = row[i].replace(tzinfo=UTC)
    return row


def _take(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data
