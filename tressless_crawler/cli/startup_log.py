"""A run's log without Scrapy's dumps: settings, versions, component lists, stats at DEBUG.

Scrapy opens every run with ~100 lines (library versions, overridden settings, the enabled
add-ons, extensions, middlewares and pipelines), Alembic adds two lines per connection and
the stats dump closes it. They matter when debugging, so they are logged at DEBUG (``-L
DEBUG`` shows them) unless ``LOG_DUMPS`` is on. The crawl report keeps the figures, and
the stats stay in the run's ``crawl_runs`` row.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings

from tressless_crawler import defaults

# logger name -> message prefixes demoted to DEBUG (empty: every INFO record of that logger)
STARTUP_RECORDS: dict[str, tuple[str, ...]] = {
    "scrapy.utils.log": ("Versions:",),
    "scrapy.addons": (),
    "scrapy.middleware": (),
    "scrapy.crawler": ("Overridden settings",),
    "alembic.runtime.migration": ("Context impl", "Will assume"),
    "scrapy.statscollectors": ("Dumping Scrapy stats",),
}
# Errors already reported in one line elsewhere: robots.txt that cannot be fetched is counted
# and logged by middlewares/failures.py; Scrapy's own record repeats it with a traceback.
DUPLICATE_ERRORS: dict[str, tuple[str, ...]] = {
    "scrapy.downloadermiddlewares.robotstxt": ("Error downloading",),
}


class DemoteToDebug(logging.Filter):
    """Turns the matching INFO records into DEBUG ones (dropped unless DEBUG is logged)."""

    def __init__(self, prefixes: tuple[str, ...], level: int = logging.INFO) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == self.level and (
            not self.prefixes or str(record.msg).startswith(self.prefixes)
        ):
            record.levelno = logging.DEBUG
            record.levelname = "DEBUG"
        return True


_installed: list[tuple[logging.Logger, DemoteToDebug]] = []


def quiet_startup(settings: BaseSettings) -> None:
    """Install the filters (once per process) unless the settings ask for the dumps."""
    if defaults.getbool(settings, "LOG_DUMPS") or _installed:
        return
    for name, prefixes in STARTUP_RECORDS.items():
        log = logging.getLogger(name)
        demote = DemoteToDebug(prefixes)
        log.addFilter(demote)
        _installed.append((log, demote))
    for name, prefixes in DUPLICATE_ERRORS.items():
        log = logging.getLogger(name)
        demote = DemoteToDebug(prefixes, logging.ERROR)
        log.addFilter(demote)
        _installed.append((log, demote))
