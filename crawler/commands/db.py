"""``scrapy db upgrade|current``: create or upgrade the schema, show its revision."""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from crawler.db import schema
from crawler.db.engine import make_engine, redact_url

logger = logging.getLogger(__name__)

ACTIONS = ("upgrade", "current")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "upgrade|current"

    def short_desc(self) -> str:
        return "Manage the database schema (Alembic migrations)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        if len(args) != 1 or args[0] not in ACTIONS:
            raise UsageError(f"say one of: {', '.join(ACTIONS)}")
        url = self.settings.get("DATABASE_URL")
        engine = make_engine(url)
        try:
            before = schema.current_revision(engine)
            if args[0] == "upgrade":
                schema.upgrade(engine)
                after = schema.current_revision(engine)
                sys.stdout.write(f"{redact_url(url)}: schema {before or 'empty'} -> {after}\n")
            else:
                head = schema.head_revision(engine)
                state = "current" if before == head else f"outdated, head is {head}"
                sys.stdout.write(f"{redact_url(url)}: schema {before or 'empty'} ({state})\n")
        finally:
            engine.dispose()
