"""The CSV files people really export: which separator, which encoding and which order of columns a file
has, found once from its first bytes, and a reader of its records that keeps to them.

A file that is UTF-8, comma-separated and in the table's order (a header in that order, or none) is the
plain dialect: it is read by the fast path of core.csv_records, and its lines are already the table's CSV
form (a store may send them as they are). Any other goes through csv.reader line by line."""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from core.csv_records import CsvRecords, Record
from core.errors import InvalidRequest
from core.header_mapping import EXPORT_COLUMNS, ColumnMap, column_map
from domain.rules import RULES
from domain.tables import Table

HEAD_BYTES = 65_536  # what the dialect is read from
SNIFFED_LINES = 20
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "|": "|"}  # `tab` as a query parameter names it
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_ASCII_SAMPLE = "\r\n\t ,;|\"0123456789-:.TZabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class ReadOptions:
    """What the user forced: a separator, an encoding (a byte order mark still wins over it)."""

    delimiter: str | None = None
    encoding: str | None = None

    @classmethod
    def parse(cls, delimiter: str | None, encoding: str | None) -> ReadOptions:
        """From a query parameter or a CLI option; raises InvalidRequest (422) for one that cannot be used."""
        if delimiter is not None and delimiter not in DELIMITERS:
            raise InvalidRequest(f"delimiter '{delimiter}' is not one of ',', ';', '|' or 'tab'")
        if encoding is not None:
            _codec(encoding)
        return cls(DELIMITERS[delimiter] if delimiter else None, encoding or None)

    def as_args(self) -> dict:
        """For a task's arguments (primitive values), without the defaults."""
        return {key: value for key, value in (("delimiter", self.delimiter), ("encoding", self.encoding)) if value}


def _codec(name: str) -> str:
    """The codec's own name; InvalidRequest for a name Python does not know as a text encoding."""
    try:
        info = codecs.lookup(name)
        if not getattr(info, "_is_text_encoding", True):
            raise LookupError(name)
    except LookupError:
        raise InvalidRequest(f"encoding '{name}' is not a text encoding Python knows") from None
    return "utf-8" if info.name in ("utf-8", "utf-8-sig") else info.name


def _ascii_compatible(codec: str) -> bool:
    """Lines and separators are the same bytes as in ASCII, so a file can be cut at b"\\n" and read line by line."""
    try:
        return _ASCII_SAMPLE.encode(codec) == _ASCII_SAMPLE.encode("ascii")
    except UnicodeError:
        return False


@dataclass(frozen=True)
class Dialect:
    delimiter: str = ","
    encoding: str = "utf-8"  # the codec each line is decoded with
    transcoded_from: str | None = None  # a codec whose lines are not ASCII's (UTF-16): decoded as a stream first
    columns: ColumnMap | None = None  # None: the fields are in the table's order

    @property
    def plain(self) -> bool:
        """UTF-8, commas, the table's order: lines as the file wrote them are the table's CSV form."""
        return self.delimiter == "," and self.encoding == "utf-8" and self.transcoded_from is None \
            and self.columns is None

    @property
    def resolves(self) -> bool:
        """Its rows may name the logged rejection they fix (a rejections export come back)."""
        return self.columns is not None and self.columns.rejection_at is not None

    @property
    def cuts_at_line_ends(self) -> bool:
        """A byte range cut after a b"\\n" starts at a line (not so for UTF-16): chunked loads may split it."""
        return self.transcoded_from is None

    def as_dict(self) -> dict:
        return {"delimiter": self.delimiter, "encoding": self.encoding, "transcoded_from": self.transcoded_from,
                "columns": self.columns.as_dict() if self.columns else None}

    @classmethod
    def from_dict(cls, data: dict | None) -> Dialect:
        if not data:
            return PLAIN
        columns = ColumnMap.from_dict(data["columns"]) if data.get("columns") else None
        return cls(data["delimiter"], data["encoding"], data.get("transcoded_from"), columns)

    def records(self, stream: BinaryIO, *, first_line: int = 0, file_start: bool = True) -> CsvRecords:
        """The file's records; a stream that starts inside the file (a chunk) starts after a line end."""
        if self.transcoded_from:
            stream = io.BufferedReader(Utf8Transcoder(stream, self.transcoded_from), 1 << 16)
        return CsvRecords(stream, first_line=first_line, file_start=file_start, delimiter=self.delimiter,
                          encoding=self.encoding)

    def runs(self, records: CsvRecords | Iterator[list[Record]]) -> Iterator[list[Record]]:
        """The runs of the records, each row's fields in the table's order."""
        runs = records.runs() if isinstance(records, CsvRecords) else records
        return self.columns.runs(runs) if self.columns else runs


PLAIN = Dialect()


def _encoding(head: bytes, forced: str | None) -> tuple[str, int]:
    """The codec and the length of the byte order mark: a BOM says it, else encoding=, else UTF-8."""
    if head.startswith(_UTF8_BOM):
        return "utf-8", len(_UTF8_BOM)
    for bom, codec in _UTF16_BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    return (_codec(forced) if forced else "utf-8"), 0


def _rows(text: str, delimiter: str) -> list[list[str]]:
    """The first non-blank records of the text, quoted fields respected."""
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if any(cell.strip() for cell in row):
                rows.append(row)
                if len(rows) == SNIFFED_LINES:
                    break
    except csv.Error:
        pass  # what was read before a broken quote still counts
    return rows


def _best_delimiter(text: str, widths: set[int]) -> str:
    """The separator that splits the most of the first lines into the table's number of fields (or that
    with the export's columns); a tie goes to the comma, which comes first."""
    best, most = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        fitting = sum(len(row) in widths for row in _rows(text, delimiter))
        if fitting > most:
            best, most = delimiter, fitting
    return best


def detect(head: bytes, table: Table, options: ReadOptions = ReadOptions(), *, whole: bool = False) -> Dialect:
    """The dialect of a file from its first bytes (`whole` when they are the whole file). Raises
    InvalidRequest for an encoding Python does not know, HeaderMismatch for a header that does not fit."""
    codec, bom = _encoding(head, options.encoding)
    body = head[bom:]
    if not whole:  # the last line may be cut: left out
        body = body[:body.rfind(b"\n") + 1] if _ascii_compatible(codec) else body
    text = body.decode(codec, "replace")
    rules = RULES[table]
    delimiter = options.delimiter or _best_delimiter(text, {len(rules.names), len(rules.names) + len(EXPORT_COLUMNS)})
    first = _rows(text, delimiter)[:1]
    columns = column_map(rules, first[0]) if first else None
    if _ascii_compatible(codec):
        return Dialect(delimiter, codec, None, columns)
    return Dialect(delimiter, "utf-8", codec, columns)


def sniffed(stream: BinaryIO, table: Table, options: ReadOptions = ReadOptions()) -> tuple[Dialect, BinaryIO]:
    """The dialect of a stream at the file's start, and a stream that reads the file from its start again."""
    head = stream.read(HEAD_BYTES)
    dialect = detect(head, table, options, whole=len(head) < HEAD_BYTES)
    if stream.seekable():
        stream.seek(stream.tell() - len(head))
        return dialect, stream
    return dialect, io.BufferedReader(_HeadThenRest(head, stream), 1 << 16)


class _HeadThenRest(io.RawIOBase):
    """A stream's first bytes, read already, then the rest of it."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _as_bytes(error: UnicodeDecodeError) -> tuple[str, int]:
    """A byte that does not decode stands in as a lone surrogate, as surrogateescape has it (domain.log_text)
    writes it back as that byte); one below 0x80, which surrogateescape cannot hold, as U+FFFD."""
    bad = error.object[error.start:error.end]
    return "".join(chr(0xDC00 + b) if b >= 0x80 else "\ufffd" for b in bad), error.end


codecs.register_error("hr-bytes", _as_bytes)


class Utf8Transcoder(io.RawIOBase):
    """A stream in an encoding whose lines are not ASCII's (UTF-16) read as UTF-8, so that it is cut into
    lines as any other. A byte that does not decode comes out as that byte, which is then not valid UTF-8:
    its line is rejected as such, and the log keeps the byte (`\\xNN`)."""

    def __init__(self, stream: BinaryIO, codec: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(codec)("hr-bytes")
        self._ready = b""
        self._bom = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._ready:
            data = self._stream.read(HEAD_BYTES)
            text = self._decoder.decode(data, final=not data)
            if self._bom:  # the byte order mark that told the encoding is not part of the first line
                text, self._bom = (text[1:] if text.startswith("\ufeff") else text), not text
            self._ready = text.encode("utf-8", "surrogateescape")
            if not data:
                break
        count = min(len(buffer), len(self._ready))
        buffer[:count] = self._ready[:count]
        self._ready = self._ready[count:]
        return count
