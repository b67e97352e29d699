"""``scrapy crawl <spider>``: Scrapy's command, with an exit code that says how the crawl ended.

0 when it finished with work done or nothing to do; otherwise one line on stderr and the
code of :mod:`tressless_crawler.exit_codes` (site unreachable, nothing found, refused,
interrupted, spooled, failed). cron and Scrapyd read it. Settings: ``DATABASE_URL`` (named in a
database error).
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from tressless_crawler.cli.command import ProjectCommand
from tressless_crawler.cli.outcome import judge, run_crawl
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_USAGE
from tressless_crawler.scrapy_internals import create_crawler


class Command(ProjectCommand, ScrapyCrawlCommand):
    crawls_site = True

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process is not None and self.settings is not None
        spiders = sorted(self.crawler_process.spider_loader.list())
        if args[0] not in spiders:
            raise CommandError(
                f"no spider named {args[0]!r}; the spiders are: {', '.join(spiders)}", EXIT_USAGE
            )
        crawler = create_crawler(self, args[0])
        watch = run_crawl(self.crawler_process, crawler, opts.spargs)
        problem = judge(watch, str(self.settings.get("DATABASE_URL") or ""))
        if problem.code:
            if watch.errors:
                raise watch.errors[0]
            self.tell(problem.message, problem.code)
