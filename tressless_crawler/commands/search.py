"""``scrapy search``: full-text search of the stored studies, threads or comments.

The query language and both engines are :mod:`tressless_crawler.analysis.search`.
Settings: ``DATABASE_URL``."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging
from sqlalchemy import exc as sa_exc

from tressless_crawler.analysis.search import KINDS, search
from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.db.engine import make_engine, redact_url
from tressless_crawler.db.schema import current_revision, head_revision
from tressless_crawler.exceptions import QuerySyntaxError
from tressless_crawler.exit_codes import EXIT_DATABASE
from tressless_crawler.export.writers import json_text


class Command(ProjectCommand, ScrapyCommand):
    free_text_args = True  # "dutasteride -topical": a word to leave out starts with "-"
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return '"QUERY" [--in studies|threads|comments] [--limit N] [--format table|jsonl]'

    def short_desc(self) -> str:
        return "Full-text search of the stored studies, threads or comments, best hits first"

    def long_desc(self) -> str:
        return (
            'Words must all match; "a phrase" matches as written; word* matches a prefix; '
            "a OR b matches either; -word excludes. Case and accents do not matter."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--in", dest="kind", choices=KINDS, default="studies")
        parser.add_argument("--limit", "-n", type=int, default=20, help="hits to show (20)")
        parser.add_argument("--format", "-f", choices=("table", "jsonl"), default="table")

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        if not args:
            raise UsageError('say what to search for: scrapy search "dutasteride frontal"')
        if opts.limit < 1:
            raise UsageError("--limit must be 1 or more", print_help=False)
        query = " ".join(args)
        url = self.require_database()  # a SQLite file that does not exist is refused
        engine = make_engine(url)
        try:
            revision = current_revision(engine)
            if revision != head_revision(engine):
                self.tell(
                    f"{redact_url(url)} is at schema {revision or 'empty'}, search needs "
                    f"{head_revision(engine)}: run `scrapy db upgrade`",
                    EXIT_DATABASE,
                )
                return
            hits = list(search(engine, query, opts.kind, opts.limit))
        except QuerySyntaxError as exc:
            self.tell(f"bad query: {exc}", 2)
            return
        except sa_exc.OperationalError as exc:
            self.tell(f"{redact_url(url)}: {str(exc.orig).splitlines()[0]}", EXIT_DATABASE)
            return
        finally:
            engine.dispose()
        if opts.format == "jsonl":
            sys.stdout.writelines(json_text(hit) + "\n" for hit in hits)
        else:
            sys.stdout.write(render_table(hits, opts.kind))


def render_table(hits: list[dict[str, Any]], kind: str) -> str:
    """The hits as a table fitted to the terminal: rank, id, title, snippet."""
    if not hits:
        return f"no {kind} match\n"
    width = shutil.get_terminal_size((120, 24)).columns
    id_width = max(len("id"), *(len(str(hit["id"])) for hit in hits))
    title_width = min(40, max(len("title"), *(len(hit["title"] or "") for hit in hits)))
    rest = max(20, width - id_width - title_width - 9)
    lines = [f"{'#':>3}  {'id':<{id_width}}  {'title':<{title_width}}  snippet"]
    for hit in hits:
        snippet = " ".join((hit["snippet"] or "").split())
        lines.append(
            f"{hit['rank']:>3}  {hit['id']!s:<{id_width}}  "
            f"{_cut(hit['title'] or '', title_width):<{title_width}}  {_cut(snippet, rest)}"
        )
    return "\n".join(lines) + "\n"


def _cut(value: str, width: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"
