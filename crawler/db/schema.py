"""Schema versions through Alembic: upgrade on demand, refuse an outdated schema.

The migrations live in ``crawler/db/migrations``; there is no ``alembic.ini``
because the configuration is built here from the crawler's DATABASE_URL.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaOutdated(RuntimeError):
    """The database has an older (or unknown) schema than this crawler needs."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema (``scrapy db upgrade``)."""
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> str:
    """Prepare the database for a crawl.

    An empty database is upgraded to the current schema; a database at another
    revision is refused with the command that fixes it. Returns what happened:
    "created" or "current".
    """
    head = head_revision(engine)
    current = current_revision(engine)
    if current == head:
        return "current"
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables:
            raise SchemaOutdated(
                "the database has tables but no schema version "
                f"({', '.join(sorted(tables)[:5])}...); it was not created by this crawler. "
                "Point DATABASE_URL at an empty database or one made by `scrapy db upgrade`."
            )
        logger.info("Empty database: creating the schema (revision %s)", head)
        upgrade(engine)
        return "created"
    raise SchemaOutdated(
        f"the database schema is at revision {current}, this crawler needs {head}. "
        "Run `scrapy db upgrade` (with the same DATABASE_URL) and start the crawl again."
    )
