"""Credentials never reach the log: secrets in URLs are masked in every log record.

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
produced (:func:`redact_url`, :func:`redact_value`), with the same rule as free
text (:func:`redact_secrets`): a URL's password, and the value of any parameter
named like a secret (``?password=``, ``sslpassword=``, ``token``, ``api_key``...),
which psycopg, libpq and redis-py all accept in the query string.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

MASK = "***"
# scheme://user:PASSWORD@host: everything from the colon to the last "@" of the run of
# non-blank characters, so that a password holding "@", "/" or "?" (which SQLAlchemy and
# urllib read differently) never shows a part of itself.
URL_PASSWORD_RE = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/?#@\s]*:)(?P<secret>\S*?)(?P<tail>@(?!\S*@))"
)
# A parameter whose name says it holds a secret: ?password=..., &sslpassword=..., #token=...,
# libpq's "password=..." and "password='...'", an "api_key=..." in a message.
PARAMETER_RE = re.compile(
    r"(?P<head>(?<![\w.\-])(?P<name>[A-Za-z_][\w.\-]*)\s*=\s*)"
    r"(?P<secret>'[^']*'|\"[^\"]*\"|[^&#\s'\",;)}\]]+)"
)
# "password": "..." and 'password': '...' (JSON and Python reprs of settings and options).
QUOTED_RE = re.compile(
    r"(?P<head>(?P<q>['\"])(?P<name>[A-Za-z_][\w.\-]*)(?P=q)\s*:\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
)
# Names of parameters that hold secrets.
SECRET_NAME_RE = re.compile(
    r"pass|pwd|secret|token|credential|auth(?!or)|signature|session|cookie|key$|^sig$",
    re.IGNORECASE,
)

_lock = threading.Lock()
_installed = False


def is_secret_name(name: str) -> bool:
    """Whether a parameter or option called ``name`` holds a secret (``sslpassword``...)."""
    return SECRET_NAME_RE.search(name) is not None


def _mask_parameter(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("name")):
        return match.group(0)
    secret = match.group("secret")
    quote = secret[0] if secret[:1] in ("'", '"') else ""
    return f"{match.group('head')}{quote}{MASK}{quote}"


def redact_secrets(text: str) -> str:
    """``text`` with every credential replaced by ``***``.

    URL passwords (``scheme://user:***@host``) and the values of parameters named like
    secrets, in URLs (``?password=***``, ``&sslpassword=***``, ``#access_token=***``), in
    libpq connection strings (``password=***``) and in reprs (``'password': '***'``).
    User names, hosts and the other parameters stay readable.
    """
    if "=" not in text and "@" not in text and ":" not in text:
        return text
    if "@" in text:
        text = URL_PASSWORD_RE.sub(lambda m: m.group("head") + MASK + m.group("tail"), text)
    if "=" in text:
        text = PARAMETER_RE.sub(_mask_parameter, text)
    if ":" in text:
        text = QUOTED_RE.sub(_mask_parameter, text)
    return text


def redact_url(url: str) -> str:
    """A URL (DATABASE_URL, REDIS_URL...) fit for logs, stats, rows, exports and reports."""
    return redact_secrets(str(url))


def redact_value(value: Any) -> Any:
    """``value`` with the secrets of every string in it masked (dicts and lists walked)."""
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, dict):
        return {key: _redact_item(key, item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


def _redact_item(key: Any, item: Any) -> Any:
    if isinstance(key, str) and is_secret_name(key) and isinstance(item, str) and item:
        return MASK
    return redact_value(item)


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
    """Mask credentials in every log record, and in uncaught tracebacks, from now on
    (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()
        previous_hook = sys.excepthook

        def excepthook(
            kind: type[BaseException], value: BaseException, tb: TracebackType | None
        ) -> None:
            text = "".join(traceback.format_exception(kind, value, tb))
            if text == redact_secrets(text):
                previous_hook(kind, value, tb)
            else:
                sys.stderr.write(redact_secrets(text))

        sys.excepthook = excepthook

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
