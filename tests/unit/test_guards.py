"""Origins, secrets, decoding and sizes, piece by piece (the e2e half: tests/e2e/test_guards.py)."""

from __future__ import annotations

import gzip
import logging
import sys
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response, XmlResponse
from scrapy.utils.test import get_crawler

from tressless_crawler import redact, urls
from tressless_crawler.exceptions import RefusedRequest
from tressless_crawler.middlewares.charset import (
    CharsetRepairMiddleware,
    better_encoding,
    mostly_utf8,
)
from tressless_crawler.middlewares.failures import TOO_BIG_META, failure_reason
from tressless_crawler.middlewares.guard import RedirectGuardMiddleware, RequestGuardMiddleware
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.spiders.community import CommunitySpider
from tressless_crawler.spiders.studies import SITEMAP_MAX_URLS, StudiesSpider
from tressless_crawler.urls import (
    Origins,
    canonical_url,
    host_origins,
    on_site_scheme,
    origin_of,
    rebase_on_site,
    site_origins,
)

SITE = "http://127.0.0.1:8000"


def crawler_for(spidercls: type = StudiesSpider, **settings: object):  # type: ignore[no-untyped-def]
    crawler = get_crawler(spidercls, {"SITE_URL": SITE, **settings})
    crawler.spider = spidercls.from_crawler(crawler)
    return crawler


# -- origins ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000/research/x-Ab12", True),
        ("HTTP://127.0.0.1:8000/research/x-Ab12", True),
        ("http://127.0.0.1:8001/research/x-Ab12", False),  # another server on the same host
        ("https://127.0.0.1:8000/research/x-Ab12", False),  # https on that port: another one
        ("http://127.0.0.1/research/x-Ab12", False),
        ("http://127.0.0.2:8000/research/x-Ab12", False),
        ("ftp://127.0.0.1:8000/research/x-Ab12", False),
        ("http://127.0.0.1:80x/research/x-Ab12", False),
        ("/research/x-Ab12", False),
    ],
)
def test_a_site_on_a_port_of_its_own_is_that_origin_only(url: str, allowed: bool) -> None:
    assert Origins.for_site(SITE).allows(url) is allowed


def test_a_site_on_the_default_port_takes_its_http_https_and_www_twins() -> None:
    origins = Origins.for_site("https://tressless.com")
    for url in (
        "https://tressless.com/x",
        "http://tressless.com/x",
        "https://tressless.com:443/x",
        "http://www.tressless.com/x",
    ):
        assert origins.allows(url), url
    for url in ("https://tressless.com:8443/x", "http://tressless.com:8080/x", "https://evil.com/"):
        assert not origins.allows(url), url


def test_community_hosts_may_name_ports_and_schemes() -> None:
    assert host_origins("old.reddit.com") == {
        origin_of("https://old.reddit.com"),
        origin_of("http://old.reddit.com"),
    }
    assert host_origins("127.0.0.1:9000") == {
        origin_of("http://127.0.0.1:9000"),
        origin_of("https://127.0.0.1:9000"),
    }
    assert host_origins("https://forum.example:8443") == {origin_of("https://forum.example:8443")}
    assert host_origins("[::1]:9000") == {
        origin_of("http://[::1]:9000"),
        origin_of("https://[::1]:9000"),
    }
    assert host_origins("") == frozenset() and host_origins("x:notaport") == frozenset()
    origins = Origins.for_site(SITE, ["www.reddit.com", "127.0.0.1:9000"])
    assert origins.allows("http://127.0.0.1:9000/community/x-abcd")
    assert not origins.allows("http://127.0.0.1:9001/community/x-abcd")
    assert origins.hosts == ["127.0.0.1", "www.reddit.com"]


def test_spiders_admit_the_origins_of_site_url_and_community_hosts() -> None:
    crawler = crawler_for(CommunitySpider, COMMUNITY_HOSTS="127.0.0.1:9000,www.reddit.com")
    spider = crawler.spider
    assert spider.allowed_domains == ["127.0.0.1", "www.reddit.com"]  # Scrapy's: no ports
    assert spider.threads.request("http://127.0.0.1:9000/community/a-thread-abcd") is not None
    assert spider.threads.request("http://127.0.0.1:9001/community/a-thread-abcd") is None
    studies = crawler_for(StudiesSpider).spider
    assert studies.on_site(f"{SITE}/research/x-Ab12")
    assert not studies.on_site("http://127.0.0.1:9000/research/x-Ab12")


def test_the_guard_refuses_every_request_and_redirect_off_the_origins() -> None:
    crawler = crawler_for()
    guard = RequestGuardMiddleware.from_crawler(crawler)
    assert guard.process_request(Request(f"{SITE}/research/x-Ab12")) is None
    with pytest.raises(RefusedRequest) as refused:
        guard.process_request(Request("http://127.0.0.1:9000/research/x-Ab12", dont_filter=True))
    assert refused.value.reason == "offsite"
    with pytest.raises(RefusedRequest) as refused:
        guard.process_request(
            Request("http://127.0.0.1:9000/x", meta={"redirect_urls": [f"{SITE}/x"]})
        )
    assert refused.value.reason == "offsite_redirect"
    redirects = RedirectGuardMiddleware.from_crawler(crawler)
    request = Request(f"{SITE}/research/x-Ab12", dont_filter=True)
    for location in ("http://127.0.0.1:9000/research/x-Ab12", "https://127.0.0.1:8000/x"):
        response = Response(request.url, status=301, headers={"Location": location})
        with pytest.raises(RefusedRequest) as refused:
            redirects.process_response(request, response)
        assert refused.value.reason == "offsite_redirect"
    assert crawler.stats.get_value("guard/offsite_redirect") == 3


def test_a_study_url_on_another_port_is_refused_as_argument() -> None:
    crawler = crawler_for()
    # Refused when the spider is made, before anything starts (tressless_crawler.cli.errors: exit
    # code 2).
    with pytest.raises(ValueError, match="not on the site's origin"):
        StudiesSpider.from_crawler(crawler, url="http://127.0.0.1:9000/research/x-Ab12")


# -- canonical URLs keep the site's scheme ------------------------------------------------------


def test_canonical_urls_keep_http_where_a_port_is_named() -> None:
    assert canonical_url("http://127.0.0.1:8000/research/x-Ab12/") == (
        "http://127.0.0.1:8000/research/x-Ab12"
    )
    assert canonical_url("http://tressless.com/research/x-Ab12") == (
        "https://tressless.com/research/x-Ab12"
    )
    page = (
        "<html><head><title>T</title></head><body><h1>A study</h1>"
        "<p>November 2017 in “Journal</p><p>TLDR It works.</p>"
        '<h2>Related Research</h2><a href="/research/other-study-Cd34">Other study</a>'
        "<p>3 citations, May 2014 in “J” Other.</p></body></html>"
    )
    item = parse_study(page, f"{SITE}/research/a-study-Ab12")
    assert item.url == f"{SITE}/research/a-study-Ab12"
    assert [ref.url for ref in item.related] == [f"{SITE}/research/other-study-Cd34"]


def test_a_mirror_over_http_keeps_http_for_its_own_pages() -> None:
    assert on_site_scheme("https://mirror.local/research/x-Ab12", "http://mirror.local") == (
        "http://mirror.local/research/x-Ab12"
    )
    assert on_site_scheme("https://other.example/x", "http://mirror.local") == (
        "https://other.example/x"
    )
    assert on_site_scheme("https://mirror.local:8443/x", "http://mirror.local") == (
        "https://mirror.local:8443/x"
    )


@given(
    st.sampled_from(["https", "http", "HTTPS", "ftp"]),
    st.sampled_from(
        ["mirror.local", "MIRROR.local", "www.mirror.local", "other.example", "1.2.3.4"]
    ),
    st.sampled_from(["", ":80", ":443", ":8443", ":8000", ":x"]),
    st.text(alphabet="/abAB09._~-%?#:@!&=+ ", max_size=20),
    st.sampled_from(["http://mirror.local", "http://mirror.local:8000", "https://mirror.local"]),
)
def test_on_site_scheme_by_origin_answers_as_the_long_way(
    scheme: str, host: str, port: str, path: str, site: str
) -> None:
    url = f"{scheme}://{host}{port}/{path}"
    assert on_site_scheme(url, site) == urls._on_site_scheme(url, site)


def test_rebase_moves_the_site_s_own_urls_only() -> None:
    assert rebase_on_site("https://127.0.0.1:8000/research/x-Ab12", SITE) == (
        f"{SITE}/research/x-Ab12"  # stored as https by earlier versions
    )
    assert rebase_on_site("http://127.0.0.1:9000/research/x-Ab12", SITE) == (
        "http://127.0.0.1:9000/research/x-Ab12"
    )
    assert rebase_on_site("http://tressless.com/research/x-Ab12", "https://tressless.com") == (
        "https://tressless.com/research/x-Ab12"
    )
    assert site_origins("not a url") == frozenset()


# -- secrets ---------------------------------------------------------------------------------------

SECRET_NAMES = [
    "password",
    "PASSWORD",
    "sslpassword",
    "passwd",
    "pwd",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "secret",
    "client_secret",
    "auth",
    "sslkey",
    "key",
]
# What a secret is made of: letters, digits and what needs percent-encoding in a URL.
SECRETS = st.text(
    st.sampled_from(list("abcXYZ0189-_.~!$&'()*+,;=:@/?#[]% é")), min_size=6, max_size=24
).filter(lambda s: s.strip() == s and len(set(s)) > 3)


def _forms(secret: str, name: str) -> list[str]:
    """Every way a secret rides in a URL or a connection string."""
    q = quote(secret, safe="")
    raw = secret.replace(" ", "").replace("#", "").replace("&", "")
    return [
        f"postgresql+psycopg://crawler:{q}@db.internal:5432/tressless",
        f"postgresql+psycopg://crawler:{raw}@db.internal/tressless",  # unencoded, as users type it
        f"redis://:{q}@127.0.0.1:6379/0",
        f"rediss://default:{q}@redis.internal:6380/1?ssl_cert_reqs=none",
        f"postgresql+psycopg://crawler@db/x?{name}={q}",
        f"postgresql+psycopg://crawler@db/x?sslmode=require&{name}={q}&application_name=c",
        f"redis://127.0.0.1:6379/0?{name}={q}",
        f"https://api.example/v1?{name}={q}#frag",
        f"https://app.example/callback#{name}={q}",
        f"host=db user=crawler {name}={q} dbname=x",
        f"host=db user=crawler {name}='{secret.replace(chr(39), '')}' dbname=x",
    ]


def _assert_hidden(text: str, secret: str) -> None:
    for form in {
        secret,
        quote(secret, safe=""),
        secret.replace(" ", "").replace("#", "").replace("&", ""),
    }:
        if len(form) >= 6:
            assert form not in text, (form, text)


@settings(max_examples=300, deadline=None)
@given(SECRETS, st.sampled_from(SECRET_NAMES))
def test_secrets_in_every_position_are_masked_everywhere(secret: str, name: str) -> None:
    for url in _forms(secret, name):
        _assert_hidden(redact.redact_secrets(url), secret)
        _assert_hidden(redact.redact_url(url), secret)
        # in a sentence, a repr of settings and a JSON document
        _assert_hidden(redact.redact_secrets(f"Cannot reach {url}: refused"), secret)
        _assert_hidden(redact.redact_secrets(repr({"DATABASE_URL": url, "X": 1})), secret)
        record = redact.redact_value({"settings": {"REDIS_URL": url}, "list": [url]})
        _assert_hidden(repr(record), secret)
    _assert_hidden(repr(redact.redact_value({name: secret})), secret)
    _assert_hidden(redact.redact_secrets(repr({name: secret})), secret)
    _assert_hidden(redact.redact_secrets(f'{{"{name}": "{secret}"}}'.replace("\\", "")), secret)


@pytest.fixture
def redaction() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    hook = sys.excepthook
    redact.install_log_redaction()
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)
        sys.excepthook = hook
        redact._installed = False


def test_query_secrets_are_masked_in_log_records_and_uncaught_tracebacks(
    redaction: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://crawler@db/x?password=s3cret-q&sslpassword=s3cret-ssl"
    log = logging.getLogger("tests.guards")
    with caplog.at_level(logging.INFO, logger="tests.guards"):
        log.info("Overridden settings: %(s)s", {"s": {"DATABASE_URL": url}})
        try:
            raise ConnectionError(f"cannot reach {url}")
        except ConnectionError:
            log.exception("store failed")
    text = caplog.text + "".join(logging.Formatter().format(r) for r in caplog.records)
    assert "s3cret" not in text and text.count("password=***") >= 4
    try:
        raise ValueError(f"bad url {url}")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert "ValueError: bad url" in err and "s3cret" not in err


def test_names_that_are_not_secrets_stay_readable() -> None:
    text = "http://h/x?page=2&author=Smith&REDIS_KEY_PREFIX=p {'REDIS_KEY_PREFIX': 'p'}"
    assert redact.redact_secrets(text) == text
    assert redact.redact_secrets("postgresql://crawler@db/x") == "postgresql://crawler@db/x"


# -- decoding: one bad byte costs one character ----------------------------------------------------

TEXT = (
    "<html><body><h1>Café au lait</h1><p>It’s a “smart” naïve finding – déjà vu</p></body></html>"
)


def _one_bad_byte(text: str = TEXT) -> bytes:
    body = text.encode()
    at = body.index(b"finding")
    return body[:at] + b"\xff" + body[at:]


@pytest.mark.parametrize(
    ("body", "used", "declared"),
    [
        (_one_bad_byte(), "utf-8", True),  # declared UTF-8, one invalid byte
        (b"\xef\xbb\xbf" + _one_bad_byte(), "utf-8", True),  # a UTF-8 byte-order mark
        (_one_bad_byte(), "cp1252", False),  # nothing declared, Scrapy guessed
    ],
)
def test_a_utf8_page_with_a_bad_byte_is_read_as_utf8(
    body: bytes, used: str, declared: bool
) -> None:
    encoding = better_encoding(body, used, declared) or used
    assert encoding == "utf-8"
    text = body.decode(encoding, errors="replace").lstrip("\ufeff")
    assert text == TEXT.replace("finding", "\ufffdfinding")


def test_a_cp1252_page_that_claims_utf8_is_still_repaired() -> None:
    body = TEXT.encode("cp1252")
    assert not mostly_utf8(body, declared_utf8=True)
    assert better_encoding(body, "utf-8", True) == "cp1252"


def test_the_middleware_keeps_utf8_and_counts_the_bad_byte() -> None:
    crawler = crawler_for()
    mw = CharsetRepairMiddleware.from_crawler(crawler)
    url = f"{SITE}/research/x-Ab12"
    for headers in ({"Content-Type": "text/html; charset=utf-8"}, {"Content-Type": "text/html"}):
        response = HtmlResponse(url, body=_one_bad_byte(), headers=headers)
        out = mw.process_response(Request(url), response)
        assert out.text == TEXT.replace("finding", "\ufffdfinding")
    assert crawler.stats.get_value("charset/invalid_bytes") == 2
    assert crawler.stats.get_value("charset/repaired/cp1252") is None


# -- sizes -----------------------------------------------------------------------------------------


def test_gzip_bombs_and_unannounced_big_bodies_are_too_big() -> None:
    bomb = IgnoreRequest(
        "Ignored response <200 http://x/> because its body (1000 B compressed, 9000000 B "
        "decompressed so far) exceeded DOWNLOAD_MAXSIZE (8388608 B) during decompression."
    )
    assert failure_reason(bomb) == "too_big"
    request = Request(f"{SITE}/research/x-Ab12")
    assert failure_reason(DownloadCancelledError(""), request) == "cancelled"
    request.meta[TOO_BIG_META] = 9_000_000
    assert failure_reason(DownloadCancelledError(""), request) == "too_big"


def test_the_body_watch_marks_an_unannounced_body_past_the_limit() -> None:
    from scrapy import signals
    from twisted.web.iweb import UNKNOWN_LENGTH

    crawler = crawler_for(DOWNLOAD_MAXSIZE=1000)
    guard = RequestGuardMiddleware.from_crawler(crawler)  # noqa: F841 - its receivers live with it
    known, unknown = Request(f"{SITE}/a"), Request(f"{SITE}/b")
    send = crawler.signals.send_catch_log
    send(signals.headers_received, headers={}, body_length=5000, request=known, spider=None)
    send(
        signals.headers_received,
        headers={},
        body_length=UNKNOWN_LENGTH,
        request=unknown,
        spider=None,
    )
    for _ in range(3):
        for request in (known, unknown):
            send(signals.bytes_received, data=b"x" * 400, request=request, spider=None)
    assert TOO_BIG_META not in known.meta  # Scrapy refuses announced sizes itself
    assert unknown.meta[TOO_BIG_META] == 1200


# -- sitemaps: the protocol's limit ----------------------------------------------------------------


def _sitemap(urls: list[str], index: bool = False) -> bytes:
    tag, outer = ("sitemap", "sitemapindex") if index else ("url", "urlset")
    entries = "".join(f"<{tag}><loc>{u}</loc></{tag}>" for u in urls)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{outer} '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{outer}>'
    ).encode()


def test_a_sitemap_is_read_up_to_the_protocol_s_limit_and_the_rest_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = crawler_for()
    spider = crawler.spider
    crawler.stats.open_spider()
    urls = [f"{SITE}/research/study-{i:05d}-{i % 9000 + 1000}" for i in range(SITEMAP_MAX_URLS + 7)]
    urls[3] = "http://127.0.0.1:9000/research/foreign-Fo01"
    response = XmlResponse(f"{SITE}/sitemap.xml", body=gzip.compress(_sitemap(urls)))
    with caplog.at_level(logging.WARNING):
        list(spider.parse_sitemap(response))
    stats = crawler.stats
    assert stats.get_value("discovery/sitemap_studies") == SITEMAP_MAX_URLS - 1
    assert stats.get_value("discovery/sitemap_cut") == 7
    assert stats.get_value("discovery/sitemap_offsite") == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "over the sitemap protocol's limit of 50000" in m and "last 7" in m for m in messages
    )
    assert any("127.0.0.1:9000/research/foreign-Fo01" in m for m in messages)
