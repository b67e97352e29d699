"""``scrapy browse``: a SQLite database in Datasette, read only, on 127.0.0.1.

Settings: ``DATABASE_URL`` (the file, unless one is given).
"""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.utils.log import configure_logging
from sqlalchemy.engine import make_url

from tressless_crawler.analysis.browse import INSTALL_HINT, in_wal_mode, make_datasette
from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.db.engine import redact_url
from tressless_crawler.db.schema import head_revision

HOST = "127.0.0.1"  # never another interface: the corpus is served to this machine only


class Command(ProjectCommand, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[FILE] [--port N]"

    def short_desc(self) -> str:
        return "Browse the SQLite database (DATABASE_URL or FILE) in Datasette, read only"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--port", "-p", type=int, default=8001, help="port (8001)")

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)
        if len(args) > 1:
            return self.tell("give at most one SQLite file to browse", 2)
        if importlib.util.find_spec("datasette") is None:
            return self.tell(INSTALL_HINT, 2)
        path = Path(args[0]) if args else self.database_file()
        if path is None:
            return
        problem = check_database(path)
        if problem:
            return self.tell(problem, 2)
        immutable = not in_wal_mode(path)
        datasette = make_datasette(path, immutable=immutable)
        sys.stdout.write(
            f"Serving {path} ({'immutable' if immutable else 'read only'}) at "
            f"http://{HOST}:{opts.port}/{path.stem} (Ctrl-C stops)\n"
        )
        sys.stdout.flush()
        import uvicorn

        uvicorn.run(datasette.app(), host=HOST, port=opts.port, log_level="warning")

    def database_file(self) -> Path | None:
        assert self.settings is not None
        setting = self.settings.get("DATABASE_URL")
        url = make_url(setting)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            self.tell(
                f"{redact_url(setting)} is not a SQLite "
                "file: Datasette reads SQLite only; copy the corpus with `scrapy export all "
                "--format sqlite -o corpus.db` and run `scrapy browse corpus.db`",
                2,
            )
            return None
        return Path(url.database)


def check_database(path: Path) -> str | None:
    """What makes ``path`` unfit to browse, or None."""
    if not path.is_file():
        return f"{path}: no such file"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"{path} is not a crawler database ({exc})"
    head = head_revision()
    if revision is None or revision[0] != head:
        found = revision[0] if revision else "empty"
        return f"{path} has schema {found}, browse needs {head}: run `scrapy db upgrade` on it"
    return None
