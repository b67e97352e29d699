"""Alembic environment: the connection comes from tressless_crawler.db.schema, never from a file."""

from __future__ import annotations

from alembic import context

from tressless_crawler.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `scrapy db upgrade`")
if config.attributes.get("connection") is not None:
    run_migrations(config.attributes["connection"])
else:
    with config.attributes["engine"].connect() as connection:
        run_migrations(connection)
        connection.commit()
