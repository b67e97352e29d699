"""``scrapy export``: a table of the database streamed to a file, or the whole corpus copied
into a SQLite file (:mod:`tressless_crawler.analysis.sqlite_copy`).

Settings: ``DATABASE_URL``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from tressless_crawler.analysis.parquet import INSTALL_HINT
from tressless_crawler.analysis.sqlite_copy import copy_to_sqlite
from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.cli.errors import output_problem
from tressless_crawler.db.engine import make_engine, redact_url
from tressless_crawler.db.schema import current_revision, head_revision
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_DATABASE
from tressless_crawler.export import queries
from tressless_crawler.export.writers import FORMATS, write_records
from tressless_crawler.runs.progress import terminal_size

# Written by tressless_crawler.analysis: Parquet (one table) and a SQLite copy of the whole corpus.
FILE_FORMATS = ("parquet", "sqlite")
ALL = "all"

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
        return (
            f"<{'|'.join(queries.EXPORTS)}> [--format jsonl|json|csv|parquet] [-o FILE|-]\n"
            "       all --format sqlite -o FILE"
        )

    def short_desc(self) -> str:
        return "Export studies, threads, comments, authors or crawl runs from the database"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--format", "-f", choices=FORMATS + FILE_FORMATS, default="jsonl")
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
        if len(args) != 1 or args[0] not in (*queries.EXPORTS, ALL):
            raise UsageError(f"say what to export: one of {', '.join(queries.EXPORTS)} or all")
        what = args[0]
        if opts.format in FILE_FORMATS or what == ALL:
            self.check_file_format(what, opts)
        if opts.history and what != "studies":
            raise UsageError("--history applies to studies only")
        since = parse_since(opts.since) if opts.since else None
        url = self.require_database()
        engine = make_engine(url)
        try:
            self.check_schema(engine, url)
            if opts.format == "sqlite":
                self.export_sqlite(engine, opts.output)
                return
            records = queries.rows_for(what, opts.history)(engine, since=since, run=opts.run)
            fields = queries.fields_for(what, opts.history)
            with ExitStack() as stack:
                try:
                    if opts.format == "parquet":
                        records = self.with_progress(records, what, stack)
                        count = write_parquet(records, opts.output, fields)
                    else:
                        if opts.output == "-":
                            out = sys.stdout
                        else:
                            out = stack.enter_context(self.open_output(opts.output))
                            records = self.with_progress(records, what, stack)
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

    def check_file_format(self, what: str, opts: argparse.Namespace) -> None:
        """Parquet and SQLite go to a file; a SQLite copy is of everything, as it is."""
        if opts.format == "sqlite" and what != ALL:
            raise UsageError(
                "--format sqlite copies the whole corpus: "
                "scrapy export all --format sqlite -o FILE",
                print_help=False,
            )
        if what == ALL and opts.format != "sqlite":
            raise UsageError("`all` is exported with --format sqlite only", print_help=False)
        if opts.output == "-":
            raise UsageError(f"--format {opts.format} needs a file: -o FILE", print_help=False)
        if opts.format == "sqlite" and (opts.since or opts.run or opts.history):
            raise UsageError(
                "--format sqlite copies everything: --since, --run and --history do not apply",
                print_help=False,
            )
        if opts.format == "parquet":
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError:
                raise UsageError(INSTALL_HINT, print_help=False) from None

    def export_sqlite(self, engine: Any, output: str) -> None:
        if Path(output).resolve() == _sqlite_path(engine):
            raise UsageError(
                "-o is the database being exported: name another file", print_help=False
            )
        counts = copy_to_sqlite(engine, output)
        sys.stderr.write(
            f"{counts['studies']} studies, {counts['threads']} threads, "
            f"{counts['comments']} comments written to {output}\n"
        )

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
            tqdm(records, unit=f" {what}", file=sys.stderr, **terminal_size())
        )
        return iter(bar)


def _sqlite_path(engine: Any) -> Path | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return Path(database).resolve() if database and database != ":memory:" else None


def write_parquet(records: Iterator[dict[str, Any]], output: str, fields: list[str]) -> int:
    """The records as Parquet; a value its column cannot hold is a one-line error (exit 1)."""
    from tressless_crawler.analysis.parquet import write_parquet as write

    try:
        return write(records, output, fields)
    except ValueError as exc:
        sys.stderr.write(f"scrapy export: {output} not written: {exc}\n")
        raise SystemExit(1) from None
