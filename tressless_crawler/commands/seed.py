"""``scrapy seed <spider> [-a NAME=VALUE ...]``: push a spider's start requests, once.

Distributed workers (``scrapy crawl <spider>`` with REDIS_URL set) start
nothing themselves; this command runs the spider's start logic once, through
the real engine and the shared scheduler in seeding mode, so the requests are
filtered and serialised exactly as the workers' own, and exits.

A new seed starts a new crawl: the previous crawl's duplicate filter is
cleared, so pages fetched last time are fetched again. It refuses to run over
an unfinished crawl (requests queued or in flight) unless told ``--reset``
(discard it) or ``--add`` (push the start requests into it, keeping what it
has seen). To resume an unfinished crawl, start workers: no seed is needed.
Settings: ``REDIS_URL`` (required), ``REDIS_KEY_PREFIX``, ``CRAWL_ID``, ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from scrapy.commands.crawl import Command as CrawlCommand
from scrapy.exceptions import UsageError

from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.cli.outcome import run_crawl
from tressless_crawler.db.engine import make_engine, redact_url
from tressless_crawler.db.schema import ensure_schema
from tressless_crawler.distributed.inflight import frontier_state
from tressless_crawler.distributed.mode import FrontierKeys, redis_client
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_INTERRUPTED, EXIT_USAGE
from tressless_crawler.runs.recorder import CrawlRunRecorder
from tressless_crawler.scrapy_internals import create_crawler

logger = logging.getLogger(__name__)


class Command(ProjectCommand, CrawlCommand):
    crawls_site = True
    requires_project = True

    def syntax(self) -> str:
        return "[options] <spider>"

    def short_desc(self) -> str:
        return "Push a spider's start requests into the shared Redis frontier (REDIS_URL), once"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        group = parser.add_argument_group("Seeding")
        mode = group.add_mutually_exclusive_group()
        mode.add_argument(
            "--reset", action="store_true", help="discard an unfinished crawl and start anew"
        )
        mode.add_argument(
            "--add", action="store_true", help="add the start requests to the unfinished crawl"
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        self.settings.set("FRONTIER_SEEDING", True, priority="cmdline")
        # A seed fetches nothing: it is not a crawl run of its own.
        self.settings.set_in_component_priority_dict("EXTENSIONS", CrawlRunRecorder, None)
        self.settings.set("CRAWL_REPORT_ENABLED", False, priority="cmdline")

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            raise UsageError("name one spider to seed")
        if not str(self.settings.get("REDIS_URL") or "").strip():
            raise UsageError("seeding needs a shared frontier: -s REDIS_URL=redis://host:6379/0")
        spider = args[0]
        keys = FrontierKeys.for_spider(self.settings, spider)
        queue_key = self.key("SCHEDULER_QUEUE_KEY", spider, keys.queue)
        dupefilter_key = self.key("SCHEDULER_DUPEFILTER_KEY", spider, keys.dupefilter)
        server = redis_client(self.settings)
        state = frontier_state(server, keys, queue_key)
        unfinished = state["queued"] or state["in_flight"] or state["processed"]
        if unfinished and not (opts.reset or opts.add):
            raise CommandError(
                f"the crawl in {keys.base} is not finished ({state['queued']} queued, "
                f"{state['in_flight']} in flight, {state['alive_workers']} live workers): "
                "start workers to resume it, or seed with --reset to discard it, "
                "or with --add to push the start requests into it",
                EXIT_USAGE,
            )
        self.prepare_database()
        if not opts.add:
            cleared = self.clear(server, keys, queue_key, dupefilter_key)
            if cleared:
                logger.info("New crawl: cleared %d keys under %s", cleared, keys.base)
        assert self.crawler_process is not None
        watch = run_crawl(self.crawler_process, create_crawler(self, spider), opts.spargs)
        if watch.errors:
            raise watch.errors[0]  # one line and its exit code (tressless_crawler.cli.errors)
        if watch.stats().get("finish_reason") != "finished":
            raise CommandError("the seed was interrupted: seed again", EXIT_INTERRUPTED)
        after = frontier_state(server, keys, queue_key)
        logger.info("Shared frontier %s: %d requests queued", queue_key, after["queued"])

    def prepare_database(self) -> None:
        """Create (or check) the schema once, here, so that workers never race to create it.

        An outdated schema refuses the seed (exit code 7, tressless_crawler.cli.errors)."""
        assert self.settings is not None
        url = self.settings.get("DATABASE_URL")
        engine = make_engine(url)
        try:
            state = ensure_schema(engine)
        finally:
            engine.dispose()
        logger.info("Database %s ready (schema %s)", redact_url(url), state)

    def key(self, setting: str, spider: str, default: str) -> str:
        """A scrapy-redis key given with ``-s`` (a ``%(spider)s`` template), else ours."""
        assert self.settings is not None
        template = self.settings.get(setting)
        return str(template) % {"spider": spider} if template else default

    @staticmethod
    def clear(server: Any, keys: FrontierKeys, queue_key: str, dupefilter_key: str) -> int:
        """Forget the previous crawl: its queue, fingerprints, touched studies, workers' ledgers.

        Live workers stay registered (idle ones wait for this seed); the rate
        limit, outside ``keys.base``, belongs to the site and is kept too.
        """
        names = {queue_key, dupefilter_key, keys.tickets, keys.touched, keys.sweep}
        for pattern in (keys.inflight("*"), keys.processed("*")):
            names.update(server.scan_iter(match=pattern))
        return int(server.delete(*names))
