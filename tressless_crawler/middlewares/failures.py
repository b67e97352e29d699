"""Accounting for requests that finally failed: one stat, one log line, one reason.

Scrapy reports a failed request in several places (retry give-ups, "Ignoring
response", "Error downloading", robots.txt and offsite filters at DEBUG), or not
at all. The spiders route every request's failure through
:meth:`FailureAccounting.request_failed` instead, so that each failure is counted
under ``failures/<reason>`` (kept with the crawl run, shown in the report) and
logged once, at a level that says whether it is a problem of the site (ERROR),
a page we refused (WARNING) or policy (INFO).
"""

from __future__ import annotations

import errno
import logging
import re
from typing import Any

import aiohttp
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_error
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from tressless_crawler.exceptions import RefusedRequest
from tressless_crawler.stats import FAILURES, FAILURES_COUNT

logger = logging.getLogger(__name__)

FAILURE_PREFIX = FAILURES.prefix.rstrip("/")  # kept for importers
# Set on a request whose body grew past DOWNLOAD_MAXSIZE without a Content-Length
# (tressless_crawler.middlewares.guard.BodySizeWatch): the bytes received when it was cut.
TOO_BIG_META = "body_too_big"
REASON_RE = re.compile(r"[^a-z0-9_]+")


# Exception type -> reason, checked in order (subclasses before their bases).
EXCEPTION_REASONS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, tx_error.TimeoutError), "timeout"),
    (ResponseDataLossError, "truncated"),
    ((DownloadConnectionRefusedError, tx_error.ConnectionRefusedError), "connection_refused"),
    ((CannotResolveHostError, tx_error.DNSLookupError), "dns"),
    ((tx_error.ConnectionLost, tx_error.ConnectionDone, ResponseNeverReceived), "connection_lost"),
    ((UnsupportedURLSchemeError, NotSupported), "bad_scheme"),
    (tx_error.ConnectError, "connect_error"),
    ((DownloadFailedError, ResponseFailed), "download_failed"),
)
# What aiohttp raised behind a DownloadFailedError (its __cause__) when the server closed or
# reset the connection before the response was whole (tressless_crawler.http_client).
CONNECTION_LOST_CAUSES = (aiohttp.ServerDisconnectedError, ConnectionError)
CONNECTION_LOST_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE})
# Words in a DownloadFailedError (Twisted's failures as text) saying the connection dropped.
CONNECTION_LOST_WORDS = (
    "ConnectionLost",
    "ConnectionDone",
    "ConnectionAborted",
    "ResponseNeverReceived",
)
# What an IgnoreRequest says -> reason (Scrapy's own filters only differ by message).
IGNORE_MESSAGES = (
    ("forbidden by robots.txt", "robots_forbidden"),
    ("max redirections reached", "too_many_redirects"),
    ("filtered offsite request", "offsite"),
    ("exceeded download_maxsize", "too_big"),  # a compressed body too big unpacked (gzip bomb)
)
# Reasons that are policy, not a problem: logged at INFO.
POLICY_REASONS = frozenset({"robots_forbidden"})
# Reasons where the crawler refused what the site sent: logged at WARNING.
REFUSED_REASONS = frozenset(
    {
        "offsite",
        "offsite_redirect",
        "redirect_loop",
        "too_many_redirects",
        "bad_scheme",
        "too_big",
        "ignored",
    }
)


def failure_reason(failure: Failure | BaseException, request: Request | None = None) -> str:
    """A short, stat-safe reason for a failed request (``http_503``, ``timeout``, ...)."""
    exc = failure.value if isinstance(failure, Failure) else failure
    if isinstance(exc, RefusedRequest):
        return _safe(exc.reason)
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, DownloadCancelledError):
        too_big = "max size" in str(exc) or (request is not None and TOO_BIG_META in request.meta)
        return "too_big" if too_big else "cancelled"
    if isinstance(exc, (DownloadFailedError, ResponseFailed)) and (
        _connection_lost(exc.__cause__) or any(w in str(exc) for w in CONNECTION_LOST_WORDS)
    ):
        return "connection_lost"
    for types, reason in EXCEPTION_REASONS:
        if isinstance(exc, types):
            return reason
    if isinstance(exc, IgnoreRequest):
        message = str(exc).lower()
        return next((reason for text, reason in IGNORE_MESSAGES if text in message), "ignored")
    return _safe(type(exc).__name__)


def _connection_lost(cause: BaseException | None) -> bool:
    return isinstance(cause, CONNECTION_LOST_CAUSES) or (
        isinstance(cause, OSError) and cause.errno in CONNECTION_LOST_ERRNOS
    )


def failure_level(reason: str) -> int:
    if reason in POLICY_REASONS:
        return logging.INFO
    if reason in REFUSED_REASONS or reason.startswith("http_4"):
        return logging.WARNING
    return logging.ERROR


def record_failure(
    crawler: Any, failure: Failure | BaseException, request: Request | None = None
) -> str:
    """Count and log one finally failed request; returns its reason."""
    if request is None and isinstance(failure, Failure):
        request = getattr(failure, "request", None)
    reason = failure_reason(failure, request)
    stats = getattr(crawler, "stats", None)
    if stats is not None:
        stats.inc_value(FAILURES_COUNT)
        stats.inc_value(FAILURES.key(reason))
    exc = failure.value if isinstance(failure, Failure) else failure
    url = request.url if request is not None else "?"
    retries = request.meta.get("retry_times", 0) if request is not None else 0
    after = f" after {retries} retries" if retries else ""
    logger.log(
        failure_level(reason), "Failed %s%s: %s (%s)", url, after, reason, _describe(exc, request)
    )
    return reason


class FailureAccounting:
    """Spider mixin: ``errback=self.request_failed`` counts and logs a final failure."""

    crawler: Any

    def request_failed(self, failure: Failure) -> None:
        record_failure(self.crawler, failure)


def _safe(text: str) -> str:
    """Lower-case snake case for a stat key: ``DownloadError`` -> ``download_error``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    return REASON_RE.sub("_", snake).strip("_") or "unknown"


def _describe(exc: BaseException, request: Request | None) -> str:
    if (
        request is not None
        and TOO_BIG_META in request.meta
        and isinstance(exc, DownloadCancelledError)
    ):
        return (
            f"body without Content-Length cut at {request.meta[TOO_BIG_META]} bytes, "
            "past DOWNLOAD_MAXSIZE"
        )
    return _short(exc)


def _short(exc: BaseException) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
