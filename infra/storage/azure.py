"""The BlobStore port on Azure Blob Storage (or Azurite): streamed both ways, memory flat for any blob size."""
from __future__ import annotations

import io
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ExponentialRetry

from core.byte_streams import PiecesStream
from core.errors import NotFound, StoreUnavailable
from core.ports import BlobInfo
from infra.storage.names import safe_blob_name

# What is held in memory at a time: a download is read in 1 MiB ranges (the SDK keeps a few copies of
# the current one), an upload is sent in 4 MiB blocks.
_READ_CHUNK = 1 << 20
_UPLOAD_BLOCK = 4 << 20


def _chunks(chunks: Iterator[bytes], describe: str) -> Iterator[bytes]:
    """The downloader's chunks, its errors told as the core's while the file is being read."""
    while True:
        with _translated(describe):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


@contextmanager
def _translated(describe: str, container: str | None = None) -> Iterator[None]:
    """The SDK's errors as the core's: a missing blob or container is NotFound, anything else unavailable."""
    try:
        yield
    except ResourceNotFoundError as error:
        if error.error_code == "ContainerNotFound" and container:
            raise NotFound(f"the storage container '{container}' does not exist") from None
        raise NotFound(f"{describe} is not in storage") from None
    except AzureError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StoreUnavailable(f"Azure Blob Storage failed on {describe}: {reason}") from error


class AzureBlobStore:
    def __init__(self, connection_string: str, container: str, *, retries: int = 3) -> None:
        # Building the clients parses the connection string; nothing is sent until a method is called.
        # The SDK's default backoff waits up to a minute in all; a store that is down is reported sooner.
        retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=retries, random_jitter_range=1)
        service = BlobServiceClient.from_connection_string(
            connection_string, retry_policy=retry, connection_timeout=10,
            max_single_get_size=_READ_CHUNK, max_chunk_get_size=_READ_CHUNK,
            max_single_put_size=_UPLOAD_BLOCK, max_block_size=_UPLOAD_BLOCK)
        self.container = container
        self._client: ContainerClient = service.get_container_client(container)
        self._container_ready = False

    def _blob(self, name: str):
        return self._client.get_blob_client(str(safe_blob_name(name)))

    @contextmanager
    def open(self, name: str, offset: int = 0) -> Iterator[BinaryIO]:
        blob = self._blob(name)
        describe = f"file '{name}'"
        with _translated(describe, self.container):
            downloader = blob.download_blob(offset or None, max_concurrency=1)
        with io.BufferedReader(PiecesStream(_chunks(downloader.chunks(), describe)), buffer_size=_READ_CHUNK) as stream:
            yield stream

    def size(self, name: str) -> int:
        blob = self._blob(name)
        with _translated(f"file '{name}'", self.container):
            return blob.get_blob_properties().size

    def write(self, name: str, stream: BinaryIO) -> int:
        blob = self._blob(name)
        self._ensure_container()
        with _translated(f"file '{name}'", self.container):
            blob.upload_blob(stream, overwrite=True, max_concurrency=1)
            return blob.get_blob_properties().size

    def list(self, prefix: str = "") -> list[BlobInfo]:
        """Like an empty folder, a container not created yet lists nothing."""
        try:
            with _translated("the blob list", self.container):
                return [BlobInfo(b.name, b.size, b.last_modified)
                        for b in self._client.list_blobs(name_starts_with=prefix or None)]
        except NotFound:
            return []

    def check(self) -> None:
        """Reaches the account and makes sure the container is there, as the local store makes its folder."""
        self._container_ready = False
        self._ensure_container()

    def _ensure_container(self) -> None:
        if self._container_ready:
            return
        with _translated(f"container '{self.container}'"):
            try:
                self._client.create_container()
            except ResourceExistsError:
                pass  # created earlier, by us or by another process
        self._container_ready = True
