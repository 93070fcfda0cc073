"""Settings read once from the environment and `.env`, each with an embedded default."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import quote_plus

from dotenv import dotenv_values

PROJECT_DIR = Path(__file__).resolve().parent
VAR_DIR = PROJECT_DIR / "var"

# Users write the short schemes; the drivers this project ships are psycopg 3 and PyMySQL.
_SCHEMES = {
    "postgres://": "postgresql+psycopg://",
    "postgresql://": "postgresql+psycopg://",
    "mysql://": "mysql+pymysql://",
    "mariadb://": "mysql+pymysql://",
}


def database_url(values: Mapping[str, str]) -> str:
    url = values.get("DATABASE_URL", "").strip()
    if url:
        for short, full in _SCHEMES.items():
            if url.startswith(short):
                return full + url[len(short):]
        return url
    odbc = values.get("AZURE_SQL_CONNECTION_STRING", "").strip()
    if odbc:
        return "mssql+pyodbc:///?odbc_connect=" + quote_plus(odbc)
    return f"sqlite:///{VAR_DIR / 'hr.sqlite3'}"


def _int(values: Mapping[str, str], name: str, default: int) -> int:
    text = values.get(name, "").strip()
    try:
        return int(text) if text else default
    except ValueError:
        raise ValueError(f"setting {name}={text!r} is not a whole number") from None


@dataclass(frozen=True)
class Settings:
    database_url: str = database_url({})
    storage_dir: Path = VAR_DIR / "storage"
    azure_storage_connection_string: str | None = None
    azure_storage_container: str = "hr-data"
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    celery_queue: str = "hr"  # also the prefix of the task registry's Redis keys
    batch_size: int = 1000
    # A file larger than this is loaded as chunks that several workers take at once, where the broker
    # and a result backend can run the chunks as a Celery chord (Redis); else as one task.
    load_chunk_bytes: int = 8 * 1024 * 1024
    api_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: tuple[str, ...] = ()
    max_content_length: int = 16 * 1024 * 1024  # any request body but an upload
    max_upload_bytes: int = 1024 * 1024 * 1024  # POST /upload/<table>: streamed to storage, never held in memory
    # How long a running task's lease lasts unless its worker renews it (core.leases): a task whose
    # worker is gone runs again about this long (and a quarter more) after its last renewal.
    task_lease_seconds: int = 60
    var_dir: Path = VAR_DIR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 env_file: Path | None = PROJECT_DIR / ".env") -> Settings:
        """The process environment wins over `.env`, which wins over the defaults."""
        file_values = dotenv_values(env_file) if env_file and env_file.is_file() else {}
        values = {**{k: v or "" for k, v in file_values.items()}, **(os.environ if environ is None else environ)}
        var_dir = Path(values.get("VAR_DIR") or VAR_DIR)
        return cls(
            database_url=database_url(values),
            storage_dir=Path(values.get("STORAGE_DIR") or var_dir / "storage"),
            azure_storage_connection_string=values.get("AZURE_STORAGE_CONNECTION_STRING") or None,
            azure_storage_container=(values.get("AZURE_STORAGE_CONTAINER") or values.get("AZURE_BLOB_CONTAINER")
                                     or cls.azure_storage_container),
            celery_broker_url=values.get("CELERY_BROKER_URL") or None,
            celery_result_backend=values.get("CELERY_RESULT_BACKEND") or None,
            celery_queue=values.get("CELERY_QUEUE") or cls.celery_queue,
            batch_size=_int(values, "BATCH_SIZE", cls.batch_size),
            load_chunk_bytes=_int(values, "LOAD_CHUNK_BYTES", cls.load_chunk_bytes),
            api_key=values.get("API_KEY") or None,
            host=values.get("HOST") or cls.host,
            port=_int(values, "PORT", cls.port),
            cors_origins=tuple(o.strip() for o in values.get("CORS_ORIGINS", "").split(",") if o.strip()),
            max_content_length=_int(values, "MAX_CONTENT_LENGTH", cls.max_content_length),
            max_upload_bytes=_int(values, "MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            task_lease_seconds=_int(values, "TASK_LEASE_SECONDS", cls.task_lease_seconds),
            var_dir=var_dir,
        )
