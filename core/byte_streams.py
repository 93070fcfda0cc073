"""Readable byte streams over pieces made on demand, and pass-through ones that hash or count line ends."""
from __future__ import annotations

import hashlib
import io
from typing import BinaryIO, Iterator


class PiecesStream(io.RawIOBase):
    """A readable stream over pieces made on demand: the blob store pulls the file as it is encoded."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._piece = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._piece:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._piece = memoryview(piece)
        count = min(len(buffer), len(self._piece))
        buffer[:count] = self._piece[:count]
        self._piece = self._piece[count:]
        return count


class HashingReader(io.RawIOBase):
    """Passes a stream through, counting and hashing what is read, to check it against the manifest."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        self.sha256.update(data)
        self.bytes_read += len(data)
        return len(data)

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


class LineEndCounter:
    """Passes a stream through (read and readline), counting the line ends in its first `length` bytes,
    or in all of it without a length."""

    def __init__(self, stream: BinaryIO, length: int | None) -> None:
        self._stream = stream
        self.length = length
        self.position = 0
        self.lines = 0

    @property
    def past_length(self) -> bool:
        return self.length is not None and self.position >= self.length

    def _counted(self, data: bytes) -> bytes:
        if self.length is None:
            self.lines += data.count(b"\n")
        elif self.position < self.length:
            self.lines += data.count(b"\n", 0, self.length - self.position)
        self.position += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        return self._counted(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._counted(self._stream.readline(size))
