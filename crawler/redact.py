"""Credentials never reach the log: passwords in URLs are masked in every log record.

Scrapy logs the settings given with ``-s`` when a crawl starts ("Overridden
settings"), so ``-s DATABASE_URL=postgresql://user:secret@host/db`` would put the
password in every log file, and so would any exception or message that happens
to quote such a URL. The :class:`RedactCredentials` add-on (in ``ADDONS``) runs
before that line is logged and installs a log record factory whose records give
their message (and exception text) with URL passwords replaced by ``***``. A
record factory, unlike a handler filter, also covers handlers added later
(``--logfile``, a second crawler). The work is done when a handler formats the
record, not when it is created: Scrapy creates a DEBUG record for every response
and item (with the item's full repr) that an INFO handler then discards.

What is stored (crawl_runs settings, stats) and exported is redacted where it is
produced (:func:`crawler.db.engine.redact_url`); :func:`redact_secrets` is the
same rule for free text.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

MASK = "***"
# scheme://user:PASSWORD@host (user may be empty: redis://:PASSWORD@host)
URL_PASSWORD_RE = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/?#@\s]*:)(?P<secret>[^@/?#\s]+)(?=@)"
)
# ...?password=PASSWORD (libpq and most drivers accept it in the query)
QUERY_PASSWORD_RE = re.compile(
    r"(?P<head>[?&](?:password|passwd|pwd)=)(?P<secret>[^&#\s'\"]+)", re.IGNORECASE
)

_lock = threading.Lock()
_installed = False


def redact_secrets(text: str) -> str:
    """``text`` with every URL password replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    text = URL_PASSWORD_RE.sub(lambda m: m.group("head") + MASK, text)
    return QUERY_PASSWORD_RE.sub(lambda m: m.group("head") + MASK, text)


class RedactedLogRecord(logging.LogRecord):
    """A log record whose message and exception text come out with passwords masked."""

    def getMessage(self) -> str:
        return redact_secrets(super().getMessage())

    @property
    def exc_text(self) -> str | None:  # type: ignore[override]
        return self.__dict__.get("_exc_text")

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        # Formatters cache the formatted traceback here before writing it.
        self.__dict__["_exc_text"] = redact_secrets(value) if value else value


def install_log_redaction() -> None:
    """Mask URL passwords in every log record from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if type(record) is logging.LogRecord:
                exc_text = record.exc_text
                record.__class__ = RedactedLogRecord
                record.exc_text = exc_text
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


class RedactCredentials:
    """Scrapy add-on: installs the log redaction before the crawl logs its settings."""

    def update_settings(self, settings: BaseSettings) -> None:
        install_log_redaction()
