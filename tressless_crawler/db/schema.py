"""Schema versions through Alembic: upgrade on demand, refuse an outdated schema.

The migrations live in ``tressless_crawler/db/migrations``; there is no ``alembic.ini``
because the configuration is built here from the crawler's DATABASE_URL.
Checking and upgrading happen in one transaction that excludes other writers
(an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so several
crawlers starting at once on an empty database create the schema once.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from tressless_crawler.db.engine import is_immediate, make_engine, redact_url
from tressless_crawler.exceptions import SchemaOutdated

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMA_LOCK_KEY = 0x7E55_5C4E


@functools.cache
def migrations_dir() -> Path:
    """The migration scripts as a real directory, which Alembic needs.

    Scrapyd runs the project from a zipped egg: the scripts are then copied
    out of the archive once per process.
    """
    if MIGRATIONS_DIR.is_dir():
        return MIGRATIONS_DIR
    target = Path(tempfile.mkdtemp(prefix="crawler-migrations-"))
    _copy_tree(importlib.resources.files("tressless_crawler.db") / "migrations", target)
    return target


def _copy_tree(source: Any, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                _copy_tree(entry, target / entry.name)
        elif entry.name.endswith((".py", ".mako")):
            (target / entry.name).write_bytes(entry.read_bytes())


def alembic_config(engine: Engine | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    config.attributes["connection"] = connection
    return config


def head_revision(engine: Engine | None = None) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _exclusive(engine: Engine) -> Engine:
    """An engine whose transactions exclude other writers from the start (SQLite)."""
    if engine.dialect.name == "sqlite" and not is_immediate(engine):
        return make_engine(engine.url.render_as_string(hide_password=False), immediate=True)
    return engine


def _locked_upgrade(engine: Engine, decide: bool) -> str:
    logger.debug("Schema check on %s", redact_url(engine.url.render_as_string()))
    writer = _exclusive(engine)
    try:
        with writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
            current = MigrationContext.configure(conn).get_current_revision()
            head = head_revision()
            if current == head:
                return "current"
            if decide and current is not None:
                raise SchemaOutdated(
                    f"the database schema is at revision {current}, this crawler needs {head}. "
                    "Run `scrapy db upgrade` (with the same DATABASE_URL) "
                    "and start the crawl again."
                )
            if decide:
                tables = set(inspect(conn).get_table_names())
                if tables:
                    raise SchemaOutdated(
                        "the database has tables but no schema version "
                        f"({', '.join(sorted(tables)[:5])}...); "
                        "it was not created by this crawler. Point DATABASE_URL at an empty "
                        "database or one made by `scrapy db upgrade`."
                    )
                logger.info("Empty database: creating the schema (revision %s)", head)
            command.upgrade(alembic_config(connection=conn), "head")
            return "created" if current is None else "upgraded"
    finally:
        if writer is not engine:
            writer.dispose()


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema (``scrapy db upgrade``)."""
    return _locked_upgrade(engine, decide=False)


def ensure_schema(engine: Engine) -> str:
    """Prepare the database for a crawl.

    An empty database is upgraded to the current schema; a database at another
    revision is refused with the command that fixes it. Returns "created" or
    "current".
    """
    return _locked_upgrade(engine, decide=True)
