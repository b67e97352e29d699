"""``scrapy export <what> --format jsonl|json|csv -o FILE``: the database, streamed to a file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import IO, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from crawler.cli.command import ProjectCommand
from crawler.cli.errors import EXIT_DATABASE, CommandError, output_problem
from crawler.db import queries
from crawler.db.engine import make_engine, redact_url
from crawler.db.schema import current_revision, head_revision
from crawler.exporters import FORMATS, write_records

logger = logging.getLogger(__name__)


def parse_since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not a date (YYYY-MM-DD or an ISO 8601 time)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Command(ProjectCommand, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return f"<{'|'.join(queries.EXPORTS)}> [--format jsonl|json|csv] [-o FILE|-]"

    def short_desc(self) -> str:
        return "Export studies, threads, comments, authors or crawl runs from the database"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--format", "-f", choices=FORMATS, default="jsonl")
        parser.add_argument("-o", "--output", default="-", help="file to write, - for stdout")
        parser.add_argument("--since", help="only rows changed since this date/time (UTC)")
        parser.add_argument("--run", type=int, help="only rows last seen by this crawl run")
        parser.add_argument("--history", action="store_true", help="studies: every stored version")
        parser.add_argument(
            "--raw", action="store_true", help="CSV: do not escape cells that start with = + - @"
        )

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        if len(args) != 1 or args[0] not in queries.EXPORTS:
            raise UsageError(f"say what to export: one of {', '.join(queries.EXPORTS)}")
        what = args[0]
        if opts.history and what != "studies":
            raise UsageError("--history applies to studies only")
        since = parse_since(opts.since) if opts.since else None
        url = self.require_database()
        engine = make_engine(url)
        try:
            self.check_schema(engine, url)
            records = queries.rows_for(what, opts.history)(engine, since=since, run=opts.run)
            fields = queries.fields_for(what, opts.history)
            with ExitStack() as stack:
                if opts.output == "-":
                    out = sys.stdout
                else:
                    out = stack.enter_context(self.open_output(opts.output))
                    records = self.with_progress(records, what, stack)
                try:
                    count = write_records(records, out, opts.format, fields, not opts.raw)
                    out.flush()
                except OSError as exc:
                    raise output_problem(opts.output, exc) from exc
        finally:
            engine.dispose()
        logger.info("Exported %d %s to %s", count, what, opts.output)
        if opts.output != "-":
            sys.stderr.write(f"{count} {what} written to {opts.output}\n")

    @staticmethod
    def open_output(path: str) -> IO[str]:
        try:
            return open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise output_problem(path, exc) from exc

    def check_schema(self, engine: Any, url: str) -> None:
        current, head = current_revision(engine), head_revision(engine)
        if current is None:
            raise CommandError(
                f"{redact_url(url)} has no crawler schema yet: "
                "run `scrapy db upgrade` or a crawl first",
                EXIT_DATABASE,
            )
        if current != head:
            raise CommandError(
                f"the database schema is at {current}, this crawler reads {head}: "
                "run `scrapy db upgrade`",
                EXIT_DATABASE,
            )

    @staticmethod
    def with_progress(
        records: Iterator[dict[str, Any]], what: str, stack: ExitStack
    ) -> Iterator[dict[str, Any]]:
        """A progress bar on stderr, only when a person is watching."""
        if not sys.stderr.isatty():
            return records
        from tqdm import tqdm

        bar = stack.enter_context(
            tqdm(records, unit=f" {what}", file=sys.stderr, **_terminal_size())
        )
        return iter(bar)


def _terminal_size() -> dict[str, int]:
    """A size for tqdm when stderr's terminal reports none (a bare pty, ``script``): tqdm then
    takes it for 0 rows, and a bar on no row is never drawn."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return {}
    if size.columns and size.lines:
        return {}
    return {"ncols": size.columns or 80, "nrows": size.lines or 24}
