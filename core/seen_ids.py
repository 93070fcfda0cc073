"""The ids already taken in one input, kept small: a bitmap for ordinary ids, a set for outliers."""
from __future__ import annotations

import struct
import zlib

_BITMAP_LIMIT = 1 << 26  # ids below this cost one bit each (8 MiB at most)


class SeenIds:
    def __init__(self) -> None:
        self._bits = bytearray()
        self._others: set[int] = set()

    def __contains__(self, id_: int) -> bool:
        if id_ >= _BITMAP_LIMIT:
            return id_ in self._others
        index = id_ >> 3
        return index < len(self._bits) and bool(self._bits[index] & (1 << (id_ & 7)))

    def add(self, id_: int) -> bool:
        """Marks the id as taken; False when it was taken already."""
        if id_ >= _BITMAP_LIMIT:
            if id_ in self._others:
                return False
            self._others.add(id_)
            return True
        index, bit = id_ >> 3, 1 << (id_ & 7)
        if index >= len(self._bits):
            self._bits.extend(bytes(max(index + 1 - len(self._bits), len(self._bits))))
        if self._bits[index] & bit:
            return False
        self._bits[index] |= bit
        return True

    def add_new(self, ids: list[int]) -> bool:
        """Takes every id when none is taken yet and none repeats (a batch's usual case, checked without a
        call per id); otherwise takes none and answers False, and the caller goes id by id."""
        if not ids or len(set(ids)) != len(ids):
            return not ids
        top = max(ids)
        if top >= _BITMAP_LIMIT:
            small = [id_ for id_ in ids if id_ < _BITMAP_LIMIT]
            large = [id_ for id_ in ids if id_ >= _BITMAP_LIMIT]
            if not self._others.isdisjoint(large) or not self.add_new(small):
                return False
            self._others.update(large)
            return True
        bits = self._bits
        if (top >> 3) >= len(bits):
            bits.extend(bytes(max((top >> 3) + 1 - len(bits), len(bits))))
        if any([bits[id_ >> 3] & (1 << (id_ & 7)) for id_ in ids]):
            return False
        for id_ in ids:
            bits[id_ >> 3] |= 1 << (id_ & 7)
        return True

    def update(self, other: SeenIds) -> None:
        """Takes every id the other has taken too."""
        size = max(len(self._bits), len(other._bits))
        union = int.from_bytes(self._bits, "little") | int.from_bytes(other._bits, "little")
        self._bits = bytearray(union.to_bytes(size, "little"))
        self._others |= other._others

    def count_not_in(self, other: SeenIds) -> int:
        """How many of these ids the other has not taken."""
        mine, theirs = int.from_bytes(self._bits, "little"), int.from_bytes(other._bits, "little")
        return (mine & ~theirs).bit_count() + len(self._others - other._others)

    def to_bytes(self) -> bytes:
        """Compressed, for a message between workers: a dense run of ids packs to a few hundred bytes."""
        others = sorted(self._others)
        return zlib.compress(struct.pack(f"<I{len(others)}q", len(others), *others) + self._bits, 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> SeenIds:
        raw = zlib.decompress(data)
        (count,) = struct.unpack_from("<I", raw)
        seen = cls()
        seen._others = set(struct.unpack_from(f"<{count}q", raw, 4))
        seen._bits = bytearray(raw[4 + 8 * count:])
        return seen
