"""Blob names every storage adapter accepts: relative paths of plain parts, the same rule everywhere."""
from __future__ import annotations

from pathlib import PurePosixPath

from core.errors import InvalidRequest


def safe_blob_name(name: str) -> PurePosixPath:
    """A relative path of plain parts: nothing in it can climb out of the store."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or "\\" in name or any(p in ("", ".", "..") for p in path.parts):
        raise InvalidRequest(f"'{name}' is not a valid blob name")
    return path
