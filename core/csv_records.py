"""Stream a CSV file into records: line number, raw text and fields, with problems named, never raised."""
from __future__ import annotations

import csv
from itertools import chain, count, repeat
from operator import attrgetter
from typing import BinaryIO, Iterable, Iterator, NamedTuple

from domain.rules import is_header

MAX_LINE_BYTES = 1_048_576
CHUNK_BYTES = 131_072  # what the fast path decodes at once
_BOM = b"\xef\xbb\xbf"
_GLIMPSE_BYTES = 200  # of a line too long to read, what the log keeps


class Record(NamedTuple):
    line_number: int
    raw: str  # an undecodable byte of the line stands in as a lone surrogate (Python's surrogateescape)
    fields: list[str]
    problem: str | None = None  # set when the line could not be read as UTF-8 CSV at all


class PlainRecord(Record):
    """A line with no quote, read as UTF-8: its fields are its text split at commas, made only when asked for
    (the column path reads a batch of such lines a column at a time, core.columns)."""

    __slots__ = ()

    @property
    def fields(self) -> list[str]:  # an empty line has no field, as csv.reader reads it
        return self.raw.split(",") if self.raw else []


raw_of = attrgetter("raw")


def _plain_records(first_line: int, lines: list[str]) -> list[Record]:
    """Records of plain lines, made without a Python call per line."""
    return list(map(tuple.__new__, repeat(PlainRecord), zip(count(first_line), lines, repeat(None), repeat(None))))


def all_plain(records: list[Record]) -> bool:
    return set(map(type, records)) == {PlainRecord}


class _Lines:
    """Decoded lines for csv.reader, remembering the raw text and bytes of the record being read.

    Bytes the fast path read ahead but handed back are served first, so both paths see one stream."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int, first_line: int, file_start: bool,
                 encoding: str = "utf-8") -> None:
        self._stream = stream
        self._encoding = encoding
        self._encoding_name = "UTF-8" if encoding == "utf-8" else encoding
        self._max = max_line_bytes
        self.line_number = first_line
        self.at_file_start = file_start  # where a byte order mark may stand
        self.bytes_read = 0
        self.pending: list[str] = []
        self.problem: str | None = None
        self._ahead = b""  # read but not yet consumed
        self._at = 0
        self._slow_end = 0  # _ahead up to here is for the line-by-line path (handed back); the rest is not

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self._readline(self._max + 1)
        if not raw:
            raise StopIteration
        self.bytes_read += len(raw)
        if self.at_file_start and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        self.at_file_start = False
        self.line_number += 1
        if len(raw) > self._max and not raw.endswith(b"\n"):
            self.bytes_read += self._skip_rest_of_line()
            self.problem = f"line is longer than {self._max} bytes; the log keeps its first {_GLIMPSE_BYTES} bytes"
            # Only a glimpse is kept for the trace; the reader gets an empty line, so a quote in the
            # cut-off text cannot open a field that swallows the lines after it.
            self.pending.append(raw[:_GLIMPSE_BYTES].decode("utf-8", "surrogateescape") + "\n")
            return "\n"
        try:
            text = raw.decode(self._encoding)
        except UnicodeDecodeError as error:
            self.problem = self.problem or f"line is not valid {self._encoding_name} (byte {error.start})"
            # Each undecodable byte stands in as a lone surrogate, which the log writes as that byte.
            text = _escaped_bytes(raw, self._encoding)
        self.pending.append(text)
        return text

    def _readline(self, limit: int) -> bytes:
        if self._at >= len(self._ahead):
            return self._stream.readline(limit)
        ahead, at = self._ahead, self._at
        end = ahead.find(b"\n", at, at + limit)
        if end >= 0:
            self._at = end + 1
            return ahead[at:end + 1]
        if len(ahead) - at >= limit:
            self._at = at + limit
            return ahead[at:at + limit]
        self._ahead, self._at, self._slow_end = b"", 0, 0
        rest = ahead[at:]
        return rest + self._stream.readline(limit - len(rest))

    def _skip_rest_of_line(self) -> int:
        skipped = 0
        while chunk := self._readline(self._max):
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

    @property
    def in_handed_back(self) -> bool:
        """Bytes handed back to the line-by-line path are still to be read. (The rest of a line the fast
        path cut off is not among them: the next chunk starts with it.)"""
        return self._at < self._slow_end

    def read_chunk(self) -> bytes | None:
        """Whole lines, every one shorter than the line limit and the csv field limit; b"" at the end.

        None when the window holds no line end (a line that may be too long): the bytes are kept for
        the line-by-line path."""
        window = min(CHUNK_BYTES, self._max, csv.field_size_limit())
        data = self._ahead[self._at:]
        self._ahead, self._at, self._slow_end = b"", 0, 0
        while len(data) < window:
            more = self._stream.read(window - len(data))
            if not more:
                break
            data += more
        else:  # the window is full: cut after its last line end, keep the rest for the next chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                self._ahead, self._slow_end = data, len(data)
                return None
            data, self._ahead = data[:cut], data[cut:]
        self.bytes_read += len(data)
        return data

    def hand_back(self, chunk: bytes) -> None:
        """Returns a chunk the fast path cannot take to the line-by-line path."""
        self._ahead = chunk + self._ahead[self._at:]
        self._at, self._slow_end = 0, len(chunk)
        self.bytes_read -= len(chunk)


def _escaped_bytes(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding, "surrogateescape")
    except UnicodeDecodeError:  # a codec that fails on a byte below 0x80, which no surrogate stands for
        return "".join(chr(0xDC00 + b) if b >= 0x80 else "\ufffd" for b in raw)


def _plain_lines(chunk: bytes, first: bool) -> list[str] | None:
    """The lines of a chunk that csv.reader would split exactly as str.split(",") does: valid UTF-8,
    no quote, no carriage return but before a line feed. None for any other chunk."""
    if b'"' in chunk:
        return None
    if first and chunk.startswith(_BOM):
        chunk = chunk[len(_BOM):]
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


class CsvRecords:
    """Iterates the records of a UTF-8 CSV stream (BOM, CRLF and quoted fields handled); tells bytes read.

    Chunks of plain lines (the common case) are split without csv.reader; any chunk with a quote, a
    stray carriage return, invalid UTF-8 or an over-long line goes through csv.reader line by line,
    which gives the same records for plain lines, so the fast path changes speed only.

    A stream that starts inside a file (a chunk of it, cut after a line end) is not at the file's
    start, so has no byte order mark, and may number its lines from first_line + 1.

    Another separator or encoding (core.dialects, whose encodings all cut lines at b"\n" as ASCII does)
    is read by csv.reader line by line: the fast path is for UTF-8 with commas."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES, *, first_line: int = 0,
                 file_start: bool = True, delimiter: str = ",", encoding: str = "utf-8") -> None:
        self._lines = _Lines(stream, max_line_bytes, first_line, file_start, encoding)
        self._delimiter = delimiter
        self._fast = delimiter == "," and encoding == "utf-8"

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def __iter__(self) -> Iterator[Record]:
        return chain.from_iterable(self.runs())

    def runs(self) -> Iterator[list[Record]]:
        """The records in lists, as they are read: a chunk of plain lines at once, any other record alone."""
        lines = self._lines
        reader = csv.reader(lines, strict=True, delimiter=self._delimiter)  # holds no state between records
        while True:
            if self._fast and not lines.in_handed_back:
                first = lines.at_file_start
                chunk = lines.read_chunk()
                if chunk == b"":
                    return
                plain = _plain_lines(chunk, first) if chunk is not None else None
                if plain is not None:
                    lines.at_file_start = False
                    start = lines.line_number + 1
                    lines.line_number += len(plain)
                    if plain:
                        yield _plain_records(start, plain)
                    continue
                if chunk is not None:
                    lines.hand_back(chunk)
            # Line by line until the bytes handed back are used up, then the fast path again.
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line, raw, problem = lines.take()
                yield [Record(line, raw, [], problem or f"not valid CSV: {error}")]
                continue
            line, raw, problem = lines.take()
            yield [Record(line, raw, fields, problem)]


def _is_blank(record: Record) -> bool:
    """An empty line carries no data; `,,,,` does (a row with every field missing) and is rejected."""
    return record.problem is None and len(record.fields) <= 1 and not any(f.strip() for f in record.fields)


def _may_hold_blanks(run: list[Record]) -> bool:
    if all_plain(run):  # a plain line is blank when it holds nothing but spaces (a comma makes it a row)
        return not all(map(str.strip, map(raw_of, run)))
    return min(len(record.fields) for record in run) <= 1


class DataBatches:
    """The data records of runs of records (CsvRecords.runs) in lists of `size`: blank lines passed over, a
    header row (only ever the first record, and only where one may stand) skipped, and, for a slice, the
    first `start` data records passed over and at most `limit` taken."""

    def __init__(self, runs: Iterable[list[Record]], size: int, *, header_possible: bool = True, start: int = 0,
                 limit: int | None = None) -> None:
        self._runs = runs
        self._size = size
        self._header_possible = header_possible
        self._start = start
        self._limit = limit
        self.header_skipped = False

    def __iter__(self) -> Iterator[list[Record]]:
        size, header, skip, left = self._size, self._header_possible, self._start, self._limit
        pending: list[Record] = []
        for run in self._runs:
            if _may_hold_blanks(run):  # every other run goes whole
                run = [record for record in run if not _is_blank(record)]
            if not run:
                continue
            if header:
                header = False
                if run[0].problem is None and is_header(run[0].fields):
                    self.header_skipped = True
                    run = run[1:]
            if skip:
                passed = min(skip, len(run))
                run, skip = run[passed:], skip - passed
            if left is not None:
                run = run[:left]
                left -= len(run)
            pending += run
            while len(pending) >= size:
                yield pending[:size]
                del pending[:size]
            if left == 0:
                break
        if pending:
            yield pending
