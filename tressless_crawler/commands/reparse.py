"""``scrapy reparse [--spider studies|community] [--since DATE]``: the archive, parsed again.

Reads the WARC files under ARCHIVE_DIR (written by crawls with ``-s ARCHIVE=warc``) and
stores what today's parsers make of them, through the crawl's item pipelines, as a crawl
run of its own ("reparse"); nothing is fetched. Exit codes: 0 done, 1 the run could not
start or store (see the log), 2 a usage error (bad option, no archive).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from tressless_crawler import defaults
from tressless_crawler.archive import KINDS
from tressless_crawler.archive.reader import archive_files
from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.cli.outcome import run_crawl
from tressless_crawler.commands.export import parse_since


class Command(ProjectCommand, ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "[--spider studies|community] [--since DATE] [--workers N]"

    def short_desc(self) -> str:
        return "Parse the archived pages (ARCHIVE_DIR) again into the database, without fetching"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--spider", choices=sorted(KINDS), help="only study pages, or only community threads"
        )
        parser.add_argument(
            "--since", help="only pages fetched at or after this date (YYYY-MM-DD or ISO 8601)"
        )
        parser.add_argument(
            "--workers", type=int, default=0, help="parsing processes (default: one per core)"
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar, even on a terminal"
        )

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if args:
            raise UsageError(f"unexpected argument {args[0]!r}")
        if opts.workers < 0:
            raise UsageError("--workers must be 0 (one per core) or more")
        since = parse_since(opts.since) if opts.since else None
        directory = Path(defaults.get(self.settings, "ARCHIVE_DIR"))
        if not archive_files(directory):
            raise UsageError(
                f"no WARC files under {directory}: crawl with -s ARCHIVE=warc first, "
                "or point -s ARCHIVE_DIR at the archive",
                print_help=False,
            )
        kinds = KINDS[opts.spider] if opts.spider else ",".join(KINDS.values())
        # Here, not at the top: Scrapy imports every command to list them, and a crawl
        # would pay for the reparse's worker pool and parsers.
        from tressless_crawler.archive.spider import ReparseSpider

        crawler = self.crawler_process.create_crawler(ReparseSpider)
        watch = run_crawl(
            self.crawler_process,
            crawler,
            {
                "kinds": kinds,
                "since": since,
                "workers": opts.workers,
                "progress": sys.stderr.isatty() and not opts.no_progress,
            },
        )
        if watch.errors:
            raise watch.errors[0]  # one line and its exit code (ProjectCommand.fail)
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
