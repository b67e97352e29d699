"""``scrapy demo``: serve the bundled site on 127.0.0.1, crawl it, print what was stored.

Needs no network: the site is the project's own fixture site. The database is
``sqlite:///data/demo.db`` unless DATABASE_URL is given on the command line; with ``ARCHIVE``
on, the archive goes under ``ARCHIVE_DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import sys
import threading
from pathlib import Path

from scrapy.commands import ScrapyCommand
from sqlalchemy import func, select

from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.cli.outcome import judge, run_crawl
from tressless_crawler.db.engine import make_engine, redact_url
from tressless_crawler.db.models import (
    Author,
    Comment,
    CrawlRun,
    Journal,
    ResearchLink,
    Study,
    StudyAuthor,
    Thread,
)
from tressless_crawler.demo.server import SiteServer
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_USAGE

logger = logging.getLogger(__name__)

SITE_DIR = Path(__file__).resolve().parent.parent / "demo" / "site"
DEMO_DATABASE_URL = "sqlite:///data/demo.db"
DEMO_ARCHIVE_DIR = "data/demo-archive"  # `scrapy reparse -s ARCHIVE_DIR=data/demo-archive`
DEMO_PORT = 8631  # fixed so that a second demo run sees the same URLs


def free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            return 0
    return preferred


class Command(ProjectCommand, ScrapyCommand):
    requires_project = True
    default_settings = {
        "LOG_LEVEL": "INFO",
        # The demo site is ours and local: no politeness delays.
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }

    def syntax(self) -> str:
        return "[--port N] [--site DIR] [--serve]"

    def short_desc(self) -> str:
        return "Crawl the bundled demo site on 127.0.0.1 into a database and print a summary"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=DEMO_PORT, help="port to serve the site on")
        parser.add_argument("--site", default=str(SITE_DIR), help="directory of the site to serve")
        parser.add_argument(
            "--serve",
            action="store_true",
            help="only serve the demo site (until Ctrl-C), to crawl it with `scrapy crawl`",
        )

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if (self.settings.getpriority("DATABASE_URL") or 0) < 40:  # not given with -s
            self.settings.set("DATABASE_URL", DEMO_DATABASE_URL, priority="cmdline")
        if (self.settings.getpriority("ARCHIVE") or 0) < 40:  # the demo archives what it fetches
            self.settings.set("ARCHIVE", "warc", priority="cmdline")
        if (self.settings.getpriority("ARCHIVE_DIR") or 0) < 40:
            self.settings.set("ARCHIVE_DIR", DEMO_ARCHIVE_DIR, priority="cmdline")
        port = free_port(opts.port)
        if opts.serve and not port:
            raise CommandError(f"port {opts.port} is taken: give another with --port", EXIT_USAGE)
        server = SiteServer(Path(opts.site), port=port)
        server.start()
        try:
            if opts.serve:
                self.serve(server.url)
                return
            self.settings.set("SITE_URL", server.url, priority="cmdline")
            self.settings.set("COMMUNITY_HOSTS", "127.0.0.1", priority="cmdline")
            logger.info("Serving the demo site at %s", server.url)
            crawler = self.crawler_process.create_crawler("studies")
            watch = run_crawl(self.crawler_process, crawler, {"follow_community": "1"})
        finally:
            server.stop()
        url = str(self.settings.get("DATABASE_URL"))
        problem = judge(watch, url)
        if problem.code:
            if watch.errors:
                raise watch.errors[0]
            self.tell(problem.message, problem.code)
            return
        self.print_summary(url)

    @staticmethod
    def serve(url: str) -> None:
        sys.stderr.write(
            f"Serving the demo site at {url} (Ctrl-C to stop). Crawl it with:\n"
            f"  scrapy crawl studies -a follow_community=1 -s SITE_URL={url} "
            "-s COMMUNITY_HOSTS=127.0.0.1 -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=0\n"
        )
        sys.stderr.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()

    @staticmethod
    def print_summary(url: str) -> None:
        engine = make_engine(url)
        counts: dict[str, int] = {}
        try:
            with engine.connect() as conn:
                for label, model in (
                    ("studies", Study),
                    ("journals", Journal),
                    ("authors", Author),
                    ("study authors", StudyAuthor),
                    ("research links", ResearchLink),
                    ("community threads", Thread),
                    ("comments", Comment),
                    ("crawl runs", CrawlRun),
                ):
                    counts[label] = conn.execute(
                        select(func.count()).select_from(model)
                    ).scalar_one()
        finally:
            engine.dispose()
        lines = [f"Demo crawl stored into {redact_url(url)}:"]
        lines += [f"  {label:<18} {count:>6}" for label, count in counts.items()]
        lines.append(
            "Export it: scrapy export studies --format jsonl -o studies.jsonl "
            f"-s DATABASE_URL={redact_url(url)}"
        )
        sys.stdout.write("\n".join(lines) + "\n")
