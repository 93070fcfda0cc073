"""The composition root: settings → engine, storage, broker → use cases → Flask app.

Nothing else builds adapters, and nothing here connects to anything until it is used."""
from __future__ import annotations

import uuid
from functools import cache

import redis
import sqlalchemy as sa
from celery import Celery
from flask import Flask

from api import register_api
from api.cli import register_commands
from config import Settings
from core.backup import Backups
from core.backup_requests import BACKUP, RESTORE, BackupRequests
from core.batch_insert import BatchInsert
from core.chunked_load import ChunkedLoads, FanOut
from core.clock import utc_now
from core.ingestion import Ingestion
from core.load_requests import LOAD, LoadRequests
from core.loads import Loads
from core.ports import BlobStore
from core.readiness import Readiness
from core.rejection_export import RejectionExport
from core.replay import REPLAY, ReplayRequests, Replays
from core.reports import Reports
from core.services import Services
from core.tasks import TaskDispatcher, TaskRegistry, Tasks
from infra.avro.codec import AvroCodec
from infra.broker.celery_app import celery_init_app, make_celery
from infra.broker.dispatcher import CeleryDispatcher
from infra.broker.fan_out import CeleryFanOut
from infra.broker.redis_registry import RedisTaskRegistry
from infra.db.engine import create_engine
from infra.db.hire_summaries import SqlHireSummary
from infra.db.load_store import SqlLoadStore
from infra.db.migrate import upgrade
from infra.db.rejection_log import SqlRejectionLog
from infra.db.report_queries import SqlReportQueries
from infra.db.row_reader import SqlRowReader
from infra.db.table_replacer import SqlTableReplacer
from infra.db.table_rows import SqlTableRows
from infra.db.task_registry import SqlTaskRegistry
from infra.observability import configure_logging
from infra.process import settle_process_for_loads
from infra.storage.local import LocalBlobStore
from infra.storage.seed import seed_samples


def new_id() -> str:
    return uuid.uuid4().hex


def build_blob_store(settings: Settings) -> BlobStore:
    """Azure Blob when its connection string is set; else the local folder, seeded with the sample CSVs."""
    if settings.azure_storage_connection_string:
        from infra.storage.azure import AzureBlobStore  # the Azure SDK costs ~19 MB: only when used

        return AzureBlobStore(settings.azure_storage_connection_string, settings.azure_storage_container)
    seed_samples(settings.storage_dir)
    return LocalBlobStore(settings.storage_dir)


def task_registry_engine(settings: Settings, engine: sa.Engine) -> sa.Engine:
    """SQLite locks the whole file for a writer: a restore's long transaction would stall every task's
    progress, so on SQLite the registry keeps a file of its own. Other databases lock rows and share."""
    if engine.dialect.name != "sqlite":
        return engine
    return create_engine(f"sqlite:///{settings.var_dir / 'tasks.sqlite3'}")


def build_task_registry(settings: Settings, engine: sa.Engine) -> TaskRegistry:
    """Redis when the broker is Redis; else the database, so the embedded default needs no server."""
    broker = settings.celery_broker_url or ""
    if broker.startswith(("redis://", "rediss://")):
        client = redis.Redis.from_url(broker, socket_connect_timeout=3)
        return RedisTaskRegistry(client, prefix=f"{settings.celery_queue}:")
    return SqlTaskRegistry(engine)


def fan_out(settings: Settings, celery_app: Celery) -> FanOut | None:
    """Chunks of one load run as Celery chords, which need a broker more than one machine can reach
    and a result backend where the chunks meet (Redis: its chords need no polling task, and keep the
    results in order); the embedded default loads a file in one task."""
    backend = settings.celery_result_backend or ""
    if settings.celery_broker_url and backend.startswith(("redis://", "rediss://")):
        return CeleryFanOut(celery_app)
    return None


def upgrade_all(engines: set[sa.Engine]) -> None:
    for engine in engines:
        upgrade(engine)


def build_services(settings: Settings, dispatcher: TaskDispatcher | None = None,
                   fan_out: FanOut | None = None) -> Services:
    engine = create_engine(settings.database_url)
    blobs = build_blob_store(settings)
    store = SqlLoadStore(engine, utc_now)
    ingestion = Ingestion(store, blobs, settings.batch_size)
    chunked_loads = ChunkedLoads(ingestion, store, blobs, settings.load_chunk_bytes, fan_out)
    loads = Loads(ingestion, chunked_loads)
    backups = Backups(SqlTableRows(engine), SqlTableReplacer(engine), AvroCodec(), blobs, store, settings.batch_size)
    registry_engine = task_registry_engine(settings, engine)
    registry = build_task_registry(settings, registry_engine)
    dispatcher = dispatcher or CeleryDispatcher(make_celery(settings))
    rejection_log = SqlRejectionLog(engine)
    replays = Replays(ingestion, rejection_log)
    handlers = {LOAD: loads.run, BACKUP: backups.backup, RESTORE: backups.restore, REPLAY: replays.run}
    tasks = Tasks(registry, dispatcher, handlers, utc_now, new_id, lease_seconds=settings.task_lease_seconds)
    rows = SqlRowReader(engine)
    return Services(
        ingestion=ingestion,
        loads=loads,
        chunked_loads=chunked_loads,
        reports=Reports(SqlReportQueries(engine), SqlHireSummary(engine)),
        rows=rows,
        blobs=blobs,
        upgrade_schema=lambda: upgrade_all({engine, registry_engine}),
        settle_for_loads=settle_process_for_loads,
        tasks=tasks,
        load_requests=LoadRequests(tasks, blobs, utc_now, new_id),
        batch_insert=BatchInsert(store, utc_now, new_id),
        readiness=Readiness({"database": rows.check, "broker": dispatcher.check, "storage": blobs.check,
                             "task_registry": registry.check}),
        backups=backups,
        backup_requests=BackupRequests(tasks, backups),
        rejection_export=RejectionExport(rejection_log),
        replays=replays,
        replay_requests=ReplayRequests(tasks, rejection_log),
    )


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.json.sort_keys = False
    app.extensions["settings"] = settings
    celery_app = celery_init_app(app, settings)
    app.extensions["services"] = build_services(settings, CeleryDispatcher(celery_app), fan_out(settings, celery_app))
    register_api(app, settings.api_key, settings.cors_origins)
    register_commands(app)
    return app


@cache
def _worker_celery() -> Celery:
    return create_app().extensions["celery"]


def __getattr__(name: str) -> Celery:
    """`celery -A main worker` finds its app here, built on first use rather than at import."""
    if name == "celery":
        return _worker_celery()
    raise AttributeError(f"module 'main' has no attribute '{name}'")
