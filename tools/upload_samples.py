"""One-off for Docker Compose: put the sample CSVs into the Azure Blob container, once.

Reads AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_CONTAINER like the service does; a file that is
already in the container is left as it is, so running it again (every `docker compose up`) changes nothing.
"""
from __future__ import annotations

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from config import Settings  # noqa: E402
from core.errors import NotFound  # noqa: E402
from infra.storage.azure import AzureBlobStore  # noqa: E402
from infra.storage.seed import SAMPLES  # noqa: E402


def main() -> None:
    settings = Settings.from_env()
    if not settings.azure_storage_connection_string:
        sys.exit("AZURE_STORAGE_CONNECTION_STRING is not set: nothing to upload to")
    store = AzureBlobStore(settings.azure_storage_connection_string, settings.azure_storage_container)
    store.check()  # creates the container on first start
    for sample in sorted(SAMPLES.glob("*.csv")):
        try:
            store.size(sample.name)
            print(f"{sample.name}: already in '{settings.azure_storage_container}', left as it is")
        except NotFound:
            with sample.open("rb") as source:
                written = store.write(sample.name, source)
            print(f"{sample.name}: uploaded to '{settings.azure_storage_container}' ({written} bytes)")


if __name__ == "__main__":
    main()
