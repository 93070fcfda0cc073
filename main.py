"""The composition root: settings → engine, storage → use cases → Flask app. Nothing else builds adapters."""
from __future__ import annotations

from flask import Flask

from api.cli import register_commands
from config import Settings
from core.ingestion import Ingestion, utc_now
from core.reports import Reports
from core.services import Services
from infra.db.engine import create_engine
from infra.db.load_store import SqlLoadStore
from infra.db.migrate import upgrade
from infra.db.report_queries import SqlReportQueries
from infra.db.row_reader import SqlRowReader
from infra.storage.local import LocalBlobStore
from infra.storage.seed import seed_samples


def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.database_url)
    blobs = LocalBlobStore(settings.storage_dir)
    seed_samples(settings.storage_dir)
    return Services(
        ingestion=Ingestion(SqlLoadStore(engine, utc_now), blobs, settings.batch_size),
        reports=Reports(SqlReportQueries(engine)),
        rows=SqlRowReader(engine),
        blobs=blobs,
        upgrade_schema=lambda: upgrade(engine),
    )


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.extensions["settings"] = settings
    app.extensions["services"] = build_services(settings)
    register_commands(app)
    return app
