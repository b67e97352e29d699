"""The crawler's own exceptions, in one place.

Each says where it is raised; :func:`tressless_crawler.cli.errors.explain` turns those that
end a command into the line a user reads and its exit code.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem, IgnoreRequest

from tressless_crawler.exit_codes import EXIT_FAILED, EXIT_USAGE


class CommandError(Exception):
    """A problem with a message for the user and the exit code that goes with it."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class SpiderArgumentError(CommandError, ValueError):
    """A ``-a NAME=VALUE`` the spider cannot use."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class SettingValueError(CommandError, ValueError):
    """A setting whose value cannot be read as the kind of value it takes (``-s
    STORE_BATCH_SIZE=abc``): raised by :mod:`tressless_crawler.defaults` and
    :mod:`tressless_crawler.cli.settings_check`."""

    def __init__(self, name: str, value: object, kind: str, default: object) -> None:
        super().__init__(
            f"setting {name}={value!r} is not {kind} (default {default!r}): "
            f"fix it in -s {name}=... or the settings",
            EXIT_USAGE,
        )


class SchemaOutdated(RuntimeError):
    """The database has an older (or unknown) schema than this crawler needs
    (:mod:`tressless_crawler.db.schema`)."""


class CrawlLocked(RuntimeError):
    """Another crawl of the same spider holds the lock (:mod:`tressless_crawler.db.locks`);
    ``holder`` is the lock's row as :class:`tressless_crawler.db.locks.Holder`."""

    def __init__(self, message: str, holder: object) -> None:
        super().__init__(message)
        self.holder = holder


class CrawlRefused(RuntimeError):
    """The crawl must not start (outdated schema, another crawl holds the lock); raised by
    :class:`tressless_crawler.runs.recorder.CrawlRunRecorder`."""


class SpoolBusy(RuntimeError):
    """Another process (a running crawl) holds the spool file
    (:mod:`tressless_crawler.db.spool`)."""


class RefusedRequest(IgnoreRequest):
    """A request the crawler refuses on purpose; ``reason`` names the rule (a stat key part,
    :mod:`tressless_crawler.middlewares.failures`)."""

    reason = "refused"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason


class QuerySyntaxError(ValueError):
    """A search query cannot be read; the message says what to change
    (:mod:`tressless_crawler.analysis.search`)."""


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed (:mod:`tressless_crawler.analysis.parquet`)."""


class DuplicateItem(DropItem):
    """A study or thread seen already in this crawl (raised by
    :class:`tressless_crawler.pipelines.dedupe.DedupePipeline`): unlike other drops, its
    content is stored, under the first URL it was read from."""
