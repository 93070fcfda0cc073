"""The ids already taken in one input, kept small: a bitmap for ordinary ids, a set for outliers."""
from __future__ import annotations

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
