"""``scrapy report [RUN_ID]``: the crawl report of a past run beside the run before it.

Settings: ``DATABASE_URL``."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.db import runs
from tressless_crawler.db.engine import make_engine, redact_url
from tressless_crawler.db.schema import current_revision
from tressless_crawler.db.types import as_utc
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_DATABASE
from tressless_crawler.runs.report import dropped_share_warnings, fill_rate_warnings, render_report


class Command(ProjectCommand, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[RUN_ID] [--spider NAME]"

    def short_desc(self) -> str:
        return "Show the report of a crawl run (default: the latest) beside the one before it"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--spider", help="latest run of this spider")

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        if len(args) > 1 or (args and not args[0].isdigit()):
            raise UsageError("give at most one run id (a number)")
        url = self.require_database()
        engine = make_engine(url)
        try:
            if current_revision(engine) is None:
                raise CommandError(
                    f"{redact_url(url)} has no crawler schema yet: run a crawl first",
                    EXIT_DATABASE,
                )
            run = runs.get_run(engine, int(args[0]) if args else None, opts.spider)
            if run is None:
                raise CommandError(self.no_run(args, opts), EXIT_DATABASE)
            previous = runs.previous_run(engine, run.spider, before=run.id, finished_only=True)
        finally:
            engine.dispose()
        before = dict(previous.stats) if previous else None
        started = as_utc(run.started_at).isoformat(timespec="seconds")
        header = f"Crawl run {run.id} of '{run.spider}': {run.status}, started {started}"
        text = render_report(
            f"run {run.id}", run.stats, before, f"run {previous.id}" if previous else ""
        )
        lines = [header, text]
        lines += [f"WARNING: {w}" for w in fill_rate_warnings(run.stats, before)]
        lines += [f"WARNING: {w}" for w in dropped_share_warnings(run.stats)]
        sys.stdout.write("\n".join(lines) + "\n")

    @staticmethod
    def no_run(args: list[str], opts: argparse.Namespace) -> str:
        if args:
            return f"no crawl run {args[0]} in this database (`scrapy export runs` lists them)"
        if opts.spider:
            return f"no crawl run of '{opts.spider}' in this database yet: run a crawl first"
        return "no crawl run in this database yet: run a crawl first"
