"""Schema versions through Alembic: upgrade on demand, refuse an outdated schema.

The migrations live in ``tressless_crawler/db/migrations``; there is no ``alembic.ini``
because the configuration is built here from the crawler's DATABASE_URL.
Checking and upgrading happen in one transaction that excludes other writers
(an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so several
crawlers starting at once on an empty database create the schema once.

Alembic is loaded only to create or upgrade a schema (or to report on an odd one): a
database already at ``HEAD_REVISION`` is recognised by reading its version table, which
spares every command and scheduled crawl about 0.1 s of CPU at its start.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect

from tressless_crawler.db.engine import is_immediate, make_engine, redact_url
from tressless_crawler.exceptions import SchemaOutdated

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMA_LOCK_KEY = 0x7E55_5C4E
# The newest revision under migrations/versions, which this crawler reads and writes.
# tests/components/test_schema.py fails when a revision is added without it.
HEAD_REVISION = "0010"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    config.attributes["connection"] = connection
    return config


def head_revision(engine: Engine | None = None) -> str:
    """The revision this crawler's schema is at (``engine`` is not needed: kept for callers)."""
    return HEAD_REVISION


def scripts_head() -> str | None:
    """The newest revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision; None for a database without one (empty, or foreign)."""
    with engine.connect() as conn:
        return _stored_revision(conn)


def _stored_revision(conn: Connection) -> str | None:
    """What Alembic's ``get_current_revision`` answers, read with one query where it can be."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalars().all()
    if len(rows) <= 1:
        return rows[0] if rows else None
    from alembic.runtime.migration import MigrationContext  # it says what is wrong

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
            current = _stored_revision(conn)
            head = HEAD_REVISION
            if current == head:
                return "current"
            from alembic import command

            scripts = scripts_head()
            if scripts != head:  # a packaging mistake, never a user's
                raise RuntimeError(
                    f"the migration scripts end at {scripts}, the crawler reads {head}"
                )
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
