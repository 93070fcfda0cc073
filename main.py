"""The composition root: settings → engine, storage → use cases → Flask app. Nothing else builds adapters."""
from __future__ import annotations

from flask import Flask

from api.cli import register_commands
from config import Settings
from core.backup import Backups
from core.ingestion import Ingestion, utc_now
from core.ports import BlobStore
from core.reports import Reports
from core.services import Services
from infra.avro.codec import AvroCodec
from infra.db.engine import create_engine
from infra.db.load_store import SqlLoadStore
from infra.db.migrate import upgrade
from infra.db.report_queries import SqlReportQueries
from infra.db.row_reader import SqlRowReader
from infra.db.table_replacer import SqlTableReplacer
from infra.db.table_rows import SqlTableRows
from infra.storage.azure import AzureBlobStore
from infra.storage.local import LocalBlobStore
from infra.storage.seed import seed_samples


def build_blob_store(settings: Settings) -> BlobStore:
    """Azure Blob when its connection string is set; else the local folder, seeded with the sample CSVs."""
    if settings.azure_storage_connection_string:
        return AzureBlobStore(settings.azure_storage_connection_string, settings.azure_storage_container)
    seed_samples(settings.storage_dir)
    return LocalBlobStore(settings.storage_dir)


def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.database_url)
    blobs = build_blob_store(settings)
    store = SqlLoadStore(engine, utc_now)
    backups = Backups(SqlTableRows(engine), SqlTableReplacer(engine), AvroCodec(), blobs, store, settings.batch_size)
    return Services(
        ingestion=Ingestion(store, blobs, settings.batch_size),
        reports=Reports(SqlReportQueries(engine)),
        rows=SqlRowReader(engine),
        blobs=blobs,
        upgrade_schema=lambda: upgrade(engine),
        backups=backups,
    )


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.extensions["settings"] = settings
    app.extensions["services"] = build_services(settings)
    register_commands(app)
    return app
