"""Starts the Azurite blob emulator (from package-lock.json, by `make install`) offline on a free loopback port."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from config import PROJECT_DIR
from tests.net import free_port

AZURITE_BIN = PROJECT_DIR / "node_modules" / ".bin" / "azurite-blob"
# The emulator's documented, public development account: not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteMissing(RuntimeError):
    """Azurite is not installed or did not come up; the message says why."""


def connection_string(port: int) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_until_up(process: subprocess.Popen, port: int, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(port):
        if process.poll() is not None:
            raise AzuriteMissing(f"Azurite exited with {process.returncode}: {log.read_text()[-500:]}")
        if time.monotonic() > deadline:
            raise AzuriteMissing(f"Azurite did not answer on port {port} within {timeout:.0f} s")
        time.sleep(0.1)


@contextmanager
def running_azurite() -> Iterator[str]:
    """Yields the connection string of a fresh in-memory Azurite; stops it afterwards."""
    if shutil.which("node") is None:
        raise AzuriteMissing("node is not installed")
    if not AZURITE_BIN.is_file():
        raise AzuriteMissing(f"{AZURITE_BIN.relative_to(PROJECT_DIR)} is missing: run `make install` (needs npm)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="azurite-") as workdir:
        log = Path(workdir) / "azurite.log"
        with log.open("wb") as out:
            # --disableTelemetry: Azurite must never try to reach the internet.
            process = subprocess.Popen(
                [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--disableTelemetry",
                 "--skipApiVersionCheck", "--inMemoryPersistence", "--silent"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
        try:
            _wait_until_up(process, port, log)
            yield connection_string(port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
