"""The BlobStore port on a local folder: the embedded default."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Iterator

from core.errors import NotFound
from core.ports import BlobInfo
from infra.storage.names import safe_blob_name

_CHUNK = 1 << 20


class LocalBlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*safe_blob_name(name).parts)

    @contextmanager
    def open(self, name: str, offset: int = 0) -> Iterator[BinaryIO]:
        try:
            stream = self._path(name).open("rb", buffering=_CHUNK)
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"file '{name}' is not in storage") from None
        with stream:
            stream.seek(offset)
            yield stream

    def size(self, name: str) -> int:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(f"file '{name}' is not in storage")
        return path.stat().st_size

    def write(self, name: str, stream: BinaryIO) -> int:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
        partial.replace(path)  # readers never see half a file
        return path.stat().st_size

    def list(self, prefix: str = "") -> list[BlobInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).as_posix()
            if path.is_file() and name.startswith(prefix) and not name.endswith(".partial"):
                stat = path.stat()
                found.append(BlobInfo(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return found

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.root.is_dir():
            raise NotFound(f"storage folder {self.root} is missing")
