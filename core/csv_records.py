"""Stream a CSV file into records: line number, raw text and fields, with problems named, never raised."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import BinaryIO, Iterator

MAX_LINE_BYTES = 1_048_576
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Record:
    line_number: int
    raw: str
    fields: list[str]
    problem: str | None = None  # set when the line could not be read as UTF-8 CSV at all


class _Lines:
    """Decoded lines for csv.reader, remembering the raw text and bytes of the record being read."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int) -> None:
        self._stream = stream
        self._max = max_line_bytes
        self.line_number = 0
        self.bytes_read = 0
        self.pending: list[str] = []
        self.problem: str | None = None

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self._stream.readline(self._max + 1)
        if not raw:
            raise StopIteration
        self.bytes_read += len(raw)
        if self.line_number == 0 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        self.line_number += 1
        if len(raw) > self._max and not raw.endswith(b"\n"):
            self.bytes_read += self._skip_rest_of_line()
            self.problem = f"line is longer than {self._max} bytes"
            # Only a glimpse is kept for the trace; the reader gets an empty line, so a quote in the
            # cut-off text cannot open a field that swallows the lines after it.
            self.pending.append(raw[:200].decode("utf-8", "replace") + "\n")
            return "\n"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            self.problem = self.problem or f"line is not valid UTF-8 (byte {error.start})"
            text = raw.decode("utf-8", "replace")
        self.pending.append(text)
        return text

    def _skip_rest_of_line(self) -> int:
        skipped = 0
        while chunk := self._stream.readline(self._max):
            skipped += len(chunk)
            if chunk.endswith(b"\n"):
                break
        return skipped

    def take(self) -> tuple[int, str, str | None]:
        """The first line number, raw text and problem of the record just read; then forget them."""
        first = self.line_number - len(self.pending) + 1
        raw = "".join(self.pending).rstrip("\r\n")
        problem = self.problem
        self.pending = []
        self.problem = None
        return first, raw, problem


class CsvRecords:
    """Iterates the records of a UTF-8 CSV stream (BOM, CRLF and quoted fields handled); tells bytes read."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._lines = _Lines(stream, max_line_bytes)

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def __iter__(self) -> Iterator[Record]:
        reader = csv.reader(self._lines, strict=True)
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line, raw, problem = self._lines.take()
                yield Record(line, raw, [], problem or f"not valid CSV: {error}")
                continue
            line, raw, problem = self._lines.take()
            yield Record(line, raw, fields, problem)
