"""The exit codes of the ``scrapy`` commands, for cron and Scrapyd (``docs/operations.md``).

:mod:`tressless_crawler.cli.errors` turns an exception into one of them,
:mod:`tressless_crawler.cli.outcome` the way a crawl ended.
"""

from __future__ import annotations

EXIT_OK = 0  # finished, with work done or nothing to do
EXIT_FAILED = 1  # the crawl or command failed (an unexpected error: see the log)
EXIT_USAGE = 2  # a wrong command line: option, argument, -a value, -s value
EXIT_DATABASE = 3  # DATABASE_URL cannot be used (scheme, server, role, database, no schema)
EXIT_OUTPUT = 4  # the output file cannot be written
EXIT_UNREACHABLE = 5  # the site could not be reached: no page answered
EXIT_NOTHING_FOUND = 6  # the site answered, but the crawl found nothing to store
EXIT_REFUSED = 7  # another crawl holds the lock, or the schema is outdated
EXIT_SPOOLED = 8  # finished, but items went to the spool: run `scrapy db replay`
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells do)
