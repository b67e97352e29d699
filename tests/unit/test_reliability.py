"""The reliability pieces alone: retry waits, failure reasons, guards, charsets, log redaction."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Iterator

import pytest
from scrapy import Request
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler

from tressless_crawler import redact
from tressless_crawler.exceptions import RefusedRequest
from tressless_crawler.middlewares.backoff import BackoffRetryMiddleware, parse_retry_after
from tressless_crawler.middlewares.charset import CharsetRepairMiddleware, better_encoding
from tressless_crawler.middlewares.failures import (
    failure_level,
    failure_reason,
    record_failure,
)
from tressless_crawler.middlewares.guard import (
    RedirectGuardMiddleware,
    RequestGuardMiddleware,
    host_allowed,
)
from tressless_crawler.runs.report import report_rows
from tressless_crawler.spiders.studies import StudiesSpider

SITE = "http://127.0.0.1:8000"


def crawler_for(**settings: object):  # type: ignore[no-untyped-def]
    crawler = get_crawler(StudiesSpider, {"SITE_URL": SITE, **settings})
    crawler.spider = StudiesSpider.from_crawler(crawler)
    return crawler


# -- retry waits -----------------------------------------------------------------------------------


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert parse_retry_after(b"120") == 120
    assert parse_retry_after("  3 ") == 3
    now = time.time()
    assert parse_retry_after(
        email.utils.formatdate(now + 30, usegmt=True), now=now
    ) == pytest.approx(30, abs=1)
    assert (
        parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    )  # already past
    assert parse_retry_after(b"-5") == 0
    for junk in (None, b"", b"soon", b"nan", b"Mon, 99 Foo 2024"):
        assert parse_retry_after(junk) is None


def test_backoff_grows_exponentially_with_jitter_and_retry_after_is_capped() -> None:
    crawler = crawler_for(RETRY_BACKOFF_BASE=1.0, RETRY_BACKOFF_MAX=5.0, RETRY_AFTER_MAX=10.0)
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request(f"{SITE}/research/x-Ab12")
    for attempt, ceiling in enumerate([1, 2, 4, 5, 5], start=0):
        request.meta["retry_times"] = attempt
        waits = [mw.delay(request, None)[0] for _ in range(50)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (
            attempt,
            min(waits),
            max(waits),
        )
        assert len(set(waits)) > 1  # jitter
    response = Response(request.url, status=503, headers={"Retry-After": "3"})
    assert mw.delay(request, response) == (3.0, "retry_after")
    response = Response(request.url, status=429, headers={"Retry-After": "3600"})
    assert mw.delay(request, response) == (10.0, "retry_after")


def test_retries_are_decided_as_scrapy_decides_them() -> None:
    crawler = crawler_for(RETRY_TIMES=1)
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    assert mw.max_retry_times == 1
    assert 503 in mw.retry_http_codes and 404 not in mw.retry_http_codes
    assert DownloadTimeoutError in mw.exceptions_to_retry


# -- failure reasons -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "reason", "level"),
    [
        (HttpError(Response(f"{SITE}/x", status=503)), "http_503", logging.ERROR),
        (HttpError(Response(f"{SITE}/x", status=403)), "http_403", logging.WARNING),
        (DownloadTimeoutError("Getting x took longer than 1 seconds."), "timeout", logging.ERROR),
        (ResponseDataLossError(), "truncated", logging.ERROR),
        (
            DownloadFailedError("[<Failure twisted.internet.error.ConnectionLost: lost>]"),
            "connection_lost",
            logging.ERROR,
        ),
        (
            DownloadCancelledError(
                "Expected to receive 20971520 bytes which is larger than download max size (8)"
            ),
            "too_big",
            logging.WARNING,
        ),
        (IgnoreRequest("Forbidden by robots.txt"), "robots_forbidden", logging.INFO),
        (IgnoreRequest("max redirections reached"), "too_many_redirects", logging.WARNING),
        (RefusedRequest("off the hosts", "offsite_redirect"), "offsite_redirect", logging.WARNING),
        (ValueError("odd"), "value_error", logging.ERROR),
    ],
)
def test_failure_reasons_are_short_stat_keys(exc: BaseException, reason: str, level: int) -> None:
    assert failure_reason(exc) == reason
    assert failure_level(reason) == level


def test_a_failure_is_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    crawler = crawler_for()
    request = Request(f"{SITE}/research/x-Ab12", meta={"retry_times": 3})
    with caplog.at_level(logging.INFO, logger="tressless_crawler.middlewares.failures"):
        record_failure(crawler, HttpError(Response(request.url, status=502)), request)
    assert crawler.stats.get_value("failures/http_502") == 1
    assert crawler.stats.get_value("failures/count") == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"Failed {request.url} after 3 retries: http_502 (HTTP 502)"
    ]


def test_the_report_shows_failures_and_journaled_batches() -> None:
    rows = report_rows(
        {"failures/count": 3, "failures/http_503": 2, "failures/timeout": 1, "store/journaled": 4}
    )
    assert rows["failed: failures/http_503"] == "2" and rows["failed: failures/timeout"] == "1"
    assert rows["failed: store/journaled"] == "4"
    assert "failed: failures/count" not in rows


# -- guards ----------------------------------------------------------------------------------------


def test_host_allowed_takes_subdomains_and_nothing_else() -> None:
    assert host_allowed("tressless.com", ["tressless.com"])
    assert host_allowed("www.tressless.com", ["tressless.com"])
    assert not host_allowed("eviltressless.com", ["tressless.com"])
    assert not host_allowed("tressless.com.evil.example", ["tressless.com"])
    assert host_allowed("anything.example", [])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/research/x-Ab12",
        "file:///etc/passwd",
        "data:text/html,hi",
        "s3://bucket/key",
    ],
)
def test_only_http_requests_pass(url: str) -> None:
    mw = RequestGuardMiddleware.from_crawler(crawler_for())
    with pytest.raises(RefusedRequest) as refused:
        mw.process_request(Request(url))
    assert refused.value.reason == "bad_scheme"
    assert mw.process_request(Request(f"{SITE}/research/x-Ab12")) is None


def test_a_redirected_request_off_the_hosts_is_refused_even_with_dont_filter() -> None:
    mw = RequestGuardMiddleware.from_crawler(crawler_for())
    escaped = Request(
        "http://127.0.0.2:8000/x", dont_filter=True, meta={"redirect_urls": [f"{SITE}/x"]}
    )
    with pytest.raises(RefusedRequest, match="redirected off the allowed origins"):
        mw.process_request(escaped)
    assert (
        mw.process_request(
            Request("http://127.0.0.2:8000/x", meta={"allow_offsite": True, "redirect_urls": ["a"]})
        )
        is None
    )


@pytest.mark.parametrize(
    ("location", "meta", "reason"),
    [
        ("http://127.0.0.2:8000/research/x-Ab12", {}, "offsite_redirect"),
        ("//evil.example/research/x-Ab12", {}, "offsite_redirect"),
        ("ftp://127.0.0.1/research/x-Ab12", {}, "bad_scheme"),
        ("/research/x-Ab12", {}, "redirect_loop"),
        ("/research/y-Cd34", {"redirect_urls": [f"{SITE}/research/y-Cd34"]}, "redirect_loop"),
        ("/research/y-Cd34", {}, None),
        ("http://127.0.0.2:8000/elsewhere", {"dont_redirect": True}, None),
        ("http://127.0.0.2:8000/elsewhere", {"handle_httpstatus_list": [302]}, None),
    ],
)
def test_redirect_guard(location: str, meta: dict[str, object], reason: str | None) -> None:
    mw = RedirectGuardMiddleware.from_crawler(crawler_for())
    request = Request(f"{SITE}/research/x-Ab12", meta=meta, dont_filter=True)
    response = Response(request.url, status=302, headers={"Location": location})
    if reason is None:
        assert mw.process_response(request, response) is response
        return
    with pytest.raises(RefusedRequest) as refused:
        mw.process_response(request, response)
    assert refused.value.reason == reason


# -- charset ---------------------------------------------------------------------------------------

TEXT = "<html><body><p>It’s a “smart” café – naïve</p></body></html>"


@pytest.mark.parametrize(
    ("body", "used", "declared", "expected"),
    [
        (TEXT.encode("cp1252"), "utf-8", True, "cp1252"),  # a lying header
        (TEXT.encode("cp1252"), "cp1250", False, "cp1252"),  # a bad guess
        (TEXT.encode("utf-8"), "cp1252", True, "utf-8"),  # UTF-8 sent as Latin-1
        (TEXT.encode("utf-8"), "utf-8", True, None),
        (TEXT.encode("cp1252"), "cp1252", True, None),
        (b"<p>plain ascii</p>", "utf-8", True, None),
        (
            '<html><meta charset="koi8-r"><p>Выпадение волос</p></html>'.encode("koi8-r"),
            "utf-8",
            True,
            "koi8-r",
        ),
    ],
)
def test_better_encoding(body: bytes, used: str, declared: bool, expected: str | None) -> None:
    assert better_encoding(body, used, declared) == expected


def test_charset_repair_gives_the_right_text() -> None:
    crawler = crawler_for()
    mw = CharsetRepairMiddleware.from_crawler(crawler)
    url = f"{SITE}/research/x-Ab12"
    response = HtmlResponse(
        url, body=TEXT.encode("cp1252"), headers={"Content-Type": "text/html; charset=utf-8"}
    )
    assert "\ufffd" in response.text
    repaired = mw.process_response(Request(url), response)
    assert "It’s a “smart” café – naïve" in repaired.text
    assert crawler.stats.get_value("charset/repaired") == 1


# -- log redaction ---------------------------------------------------------------------------------


@pytest.fixture
def redaction() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    redact.install_log_redaction()
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)
        redact._installed = False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgresql+psycopg://crawler:s3cret@db:5432/x",
            "postgresql+psycopg://crawler:***@db:5432/x",
        ),
        ("redis://:p%40ss@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        (
            "{'DATABASE_URL': 'postgresql://u:pw@h/db'}",
            "{'DATABASE_URL': 'postgresql://u:***@h/db'}",
        ),
        (
            "postgresql://h/db?user=u&password=pw&sslmode=require",
            "postgresql://h/db?user=u&password=***&sslmode=require",
        ),
        (  # read as SQLAlchemy reads a URL, "8080/path" could be a password: masked
            "http://127.0.0.1:8080/path@x and mailto:a@b.c",
            "http://127.0.0.1:***@x and mailto:a@b.c",
        ),
        (
            "http://127.0.0.1:8080/path and mailto:a@b.c",
            "http://127.0.0.1:8080/path and mailto:a@b.c",
        ),
        ("postgresql://crawler@db/x", "postgresql://crawler@db/x"),
    ],
)
def test_redact_secrets(text: str, expected: str) -> None:
    assert redact.redact_secrets(text) == expected


def test_log_records_and_tracebacks_are_redacted(
    redaction: None, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("tests.redaction")
    url = "postgresql+psycopg://crawler:s3cret@db/x"
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        log.info("Overridden settings: %(settings)s", {"settings": {"DATABASE_URL": url}})
        try:
            raise ConnectionError(f"cannot reach {url}")
        except ConnectionError:
            log.exception("store failed")
    text = caplog.text + "".join(logging.Formatter().format(r) for r in caplog.records)
    assert "s3cret" not in text
    assert text.count("crawler:***@db") >= 3


def test_the_add_on_is_enabled_in_the_project() -> None:
    from tressless_crawler import settings

    assert "tressless_crawler.redact.RedactCredentials" in settings.ADDONS
    assert (
        settings.DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.retry.RetryMiddleware"]
        is None
    )
