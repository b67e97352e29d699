"""``scrapy db upgrade|current|replay``: create or upgrade the schema, show its revision,
load the batches a crawl spooled while the database was unavailable.

Settings: ``DATABASE_URL``; for ``replay``, ``SPOOL_DIR`` (or its former name ``JOURNAL_DIR``)
unless ``--spool DIR`` (or ``--journal DIR``) is given. The output of ``replay`` keeps its
wording ("journal file(s)"): scripts read it.
"""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.db import schema
from tressless_crawler.db.engine import make_engine, redact_url
from tressless_crawler.db.replay import replay_spool
from tressless_crawler.db.spool import spool_dir
from tressless_crawler.stats import STORE_NEW, STORE_UPDATED

logger = logging.getLogger(__name__)

ACTIONS = ("upgrade", "current", "replay")


class Command(ProjectCommand, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "upgrade|current|replay [--spool DIR]"

    def short_desc(self) -> str:
        return "Manage the database schema (Alembic migrations); replay the store's spool"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--spool",
            "--journal",  # the option's former name, still accepted
            dest="spool",
            metavar="DIR",
            help="replay: the spool directory (default: SPOOL_DIR, or JOURNAL_DIR)",
        )

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        if len(args) != 1 or args[0] not in ACTIONS:
            raise UsageError(f"say one of: {', '.join(ACTIONS)}")
        url = self.require_database() if args[0] == "current" else self.settings.get("DATABASE_URL")
        engine = make_engine(url)
        try:
            before = schema.current_revision(engine)
            if args[0] == "replay":
                self.replay(url, opts.spool or spool_dir(self.settings))
            elif args[0] == "upgrade":
                schema.upgrade(engine)
                after = schema.current_revision(engine)
                sys.stdout.write(f"{redact_url(url)}: schema {before or 'empty'} -> {after}\n")
            else:
                head = schema.head_revision(engine)
                state = "current" if before == head else f"outdated, head is {head}"
                sys.stdout.write(f"{redact_url(url)}: schema {before or 'empty'} ({state})\n")
        finally:
            engine.dispose()

    def replay(self, url: str, directory: str) -> None:
        """Load the spool through the store's upserts; exit 1 if a file could not be loaded."""
        engine = make_engine(url, immediate=True)  # writes as the store pipeline does
        try:
            schema.ensure_schema(engine)
            result = replay_spool(engine, directory)
        finally:
            engine.dispose()
        new = result.counts.get(STORE_NEW, 0)
        updated = result.counts.get(STORE_UPDATED, 0)
        sys.stdout.write(
            f"{redact_url(url)}: replayed {result.batches} batches "
            f"({result.items} items: {new} new, "
            f"{updated} updated; {result.stale} older than the database, skipped) "
            f"from {len(result.files)} journal file(s) in {directory}"
            + (f"; closed {result.runs_finished} crawl run(s)" if result.runs_finished else "")
            + "\n"
        )
        for path in result.busy:
            sys.stdout.write(f"{path}: still being written by a running crawl, left for later\n")
        for path in result.failed:
            sys.stdout.write(f"{path}: could not be loaded (see the log), left in place\n")
        if result.failed:
            self.exitcode = 1
