"""Nothing foreign, nothing leaked, nothing garbled: the real ``scrapy`` against real servers.

* another server on the same host (127.0.0.1, another port) is never fetched, whether a
  sitemap, robots.txt, a link or a redirect points at it; a study stored from there by an
  earlier version is refetched from the site; the site's stored URLs keep its http scheme;
* credentials in every URL form (userinfo, ``?password=``, ``sslpassword=``) never reach logs,
  output, crawl records or exports of any command, failing ones included;
* one invalid UTF-8 byte costs one character, and pages read by an older, faulty decoder are
  refetched;
* gzip bombs and bodies past DOWNLOAD_MAXSIZE without Content-Length are ``too_big``, one line.
"""

from __future__ import annotations

import gzip
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.conftest import SITE_DIR, run_scrapy
from tests.e2e.test_faults import PLAIN, SMART_TLDR, _tldr, crawl_site, page_with_tldr
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, Study
from tressless_crawler.demo.server import Fault, SiteServer

pytestmark = pytest.mark.e2e

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
PATHS: dict[str, str] = MANIFEST["expected_study_paths"]
EXPECTED = set(MANIFEST["expected_study_ids"])


def crawl(server_url: str, db_url: str, tmp_path: Path, *args: str, **settings: str) -> str:
    result = run_scrapy(
        ["crawl", "studies", *args],
        {"SITE_URL": server_url, "DATABASE_URL": db_url, **settings},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def stored(db_url: str) -> tuple[dict[str, Study], CrawlRun]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            studies = {s.study_id: s for s in session.execute(select(Study)).scalars()}
            run = session.execute(
                select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)
            ).scalar_one()
            session.expunge_all()
    finally:
        engine.dispose()
    return studies, run


# -- other ports of the same host ------------------------------------------------------------------


def foreign_site(tmp_path: Path, study_id: str) -> Path:
    """The fixture site with the study's title changed: what another server would serve."""
    site = tmp_path / "foreign"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    page = site / PATHS[study_id].lstrip("/") / "index.html"
    title = MANIFEST["studies"][study_id]["title"]
    html = page.read_text(encoding="utf-8")
    assert title in html
    page.write_text(html.replace(title, "A foreign study"), encoding="utf-8")
    return site


def plant_other_port(site: Path, other: str, replaced: str, linker: str) -> None:
    """A sitemap entry, a robots.txt sitemap and a study link on the other server."""
    sitemap = site / "sitemaps" / "research-1.xml"
    entry = f"<url><loc>{other}{PATHS[replaced]}</loc><lastmod>2026-12-01</lastmod></url>"
    text = sitemap.read_text(encoding="utf-8")
    sitemap.write_text(text.replace("</urlset>", entry + "</urlset>"), encoding="utf-8")
    robots = site / "robots.txt"
    robots.write_text(
        robots.read_text(encoding="utf-8") + f"Sitemap: {other}/sitemap.xml\n", encoding="utf-8"
    )
    page = site / PATHS[linker].lstrip("/") / "index.html"
    html = page.read_text(encoding="utf-8")
    anchor = '<div class="css-gg08w5">'
    assert anchor in html
    card = (
        f'<a class="css-fsjvmt" href="{other}/research/only-over-there-Ov01">'
        "<div>A study over there</div><div>3 citations, <span>March 2012</span> in "
        "“Planted Journal”</div><p>Planted.</p></a>"
    )
    page.write_text(html.replace(anchor, anchor + card, 1), encoding="utf-8")


def test_another_port_of_the_site_s_host_is_never_fetched(tmp_path: Path, sqlite_url: str) -> None:
    replaced, redirected, linker = PLAIN[0], PLAIN[1], "Wn3a"
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    with SiteServer(foreign_site(tmp_path, replaced)) as other:
        assert other.host == "127.0.0.1"
        other_url = other.url
        plant_other_port(site, other.url, replaced, linker)
        faults = {
            PATHS[redirected]: Fault(
                status=301, headers={"Location": other.url + PATHS[redirected]}
            )
        }
        with SiteServer(site, faults=faults) as server:
            assert server.port != other.port
            site_url = server.url
            stderr = crawl(server.url, sqlite_url, tmp_path)
            # -a url= on the other port: refused with one line, nothing fetched
            refused = run_scrapy(
                ["crawl", "studies", "-a", f"url={other.url}{PATHS[replaced]}"],
                {"SITE_URL": server.url, "DATABASE_URL": sqlite_url},
                tmp_path,
            )
        assert other.requests == []
    assert "not on the site's origin" in refused.stderr
    studies, _ = stored(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        run = session.execute(select(CrawlRun).order_by(CrawlRun.id)).scalars().first()
    engine.dispose()
    assert set(studies) == EXPECTED - {redirected}
    assert studies[replaced].title == MANIFEST["studies"][replaced]["title"]
    assert run is not None and run.status == "finished"
    assert run.stats["failures/offsite_redirect"] == 1
    assert run.stats["discovery/sitemap_offsite"] == 2  # the sitemap entry and the robots line
    assert f"{other_url}{PATHS[replaced]}" in stderr
    # The site is served over http: its stored URLs say so (and name its port).
    for study in studies.values():
        assert study.url.startswith(f"{site_url}/research/"), study.url
        for ref in [*study.snapshot["cited"], *study.snapshot["related"]]:
            url = ref["url"] or ""
            assert not url.startswith("https://127.0.0.1"), url


def test_a_study_stored_from_another_server_is_refetched(tmp_path: Path, sqlite_url: str) -> None:
    replaced = PLAIN[2]
    with SiteServer(SITE_DIR) as server:
        site_url = server.url
        crawl(server.url, sqlite_url, tmp_path)
        # What an earlier version let in: another server's study under a real study's id.
        engine = make_engine(sqlite_url)
        with engine.begin() as conn:
            conn.execute(
                update(Study)
                .where(Study.study_id == replaced)
                .values(
                    url=f"http://127.0.0.1:1{PATHS[replaced]}",
                    title="A foreign study",
                    content_hash="0" * 64,  # the foreign study's: not the site's
                )
            )
        engine.dispose()
        server.reset_requests()
        crawl(server.url, sqlite_url, tmp_path)
        paths = [r.path for r in server.requests]
    studies, run = stored(sqlite_url)
    assert studies[replaced].title == MANIFEST["studies"][replaced]["title"]
    assert studies[replaced].url == f"{site_url}{PATHS[replaced]}"
    assert paths.count(PATHS[replaced]) == 1
    assert run.stats["incremental/refetch_origin"] == 1
    assert len(paths) < len(EXPECTED)  # the rest stayed incremental


# -- one bad byte ----------------------------------------------------------------------------------


def test_one_invalid_byte_costs_one_character(tmp_path: Path, sqlite_url: str) -> None:
    def with_bad_byte(sid: str, *, meta: bool = True, bom: bool = False) -> bytes:
        body = page_with_tldr(sid, SMART_TLDR, meta_charset=meta).encode()
        at = body.index("naïve".encode(), body.index(b"<body"))  # in the visible TLDR
        return (b"\xef\xbb\xbf" if bom else b"") + body[:at] + b"\xff" + body[at:]

    cases = {
        PLAIN[3]: ("text/html; charset=utf-8", with_bad_byte(PLAIN[3], meta=False)),
        PLAIN[4]: ("text/html", with_bad_byte(PLAIN[4])),  # <meta charset="utf-8"> only
        PLAIN[5]: ("text/html", with_bad_byte(PLAIN[5], meta=False, bom=True)),  # a BOM only
        PLAIN[6]: ("text/html", with_bad_byte(PLAIN[6], meta=False)),  # nothing declared
    }
    faults = {
        sid: Fault(headers={"Content-Type": ctype}, body=body)
        for sid, (ctype, body) in cases.items()
    }
    outcome = crawl_site(faults, tmp_path, sqlite_url)
    damaged = SMART_TLDR.replace("naïve", "\ufffdnaïve")
    assert set(outcome.studies) == EXPECTED
    for sid in cases:
        snapshot = outcome.studies[sid]
        assert snapshot["tldr"] == damaged, (sid, snapshot["tldr"])
        for name in ("title", "published", "journal"):
            assert snapshot[name] == MANIFEST["studies"][sid].get(name), (sid, name)
    assert outcome.stats["charset/invalid_bytes"] == len(cases)
    assert not [k for k in outcome.stats if k.startswith("charset/repaired/cp1252")]


def test_pages_read_by_an_older_faulty_decoder_are_refetched(
    tmp_path: Path, sqlite_url: str
) -> None:
    garbled = PLAIN[7]
    with SiteServer(SITE_DIR) as server:
        crawl(server.url, sqlite_url, tmp_path)
        first = len(server.requests)
        # The database as the decoder before DECODER_VERSION 2 left it: a run that re-decoded
        # a page as Windows-1252, a title in mojibake, nothing newer than the sitemap's lastmod.
        title = MANIFEST["studies"][garbled]["title"]
        engine = make_engine(sqlite_url)
        with Session(engine) as session:
            run = session.execute(select(CrawlRun)).scalar_one()
            run.settings = {k: v for k, v in run.settings.items() if k != "DECODER_VERSION"}
            run.stats = {**run.stats, "charset/repaired": 1, "charset/repaired/cp1252": 1}
            study = session.get(Study, garbled)
            assert study is not None
            study.title = title.encode("utf-8").decode("cp1252", errors="replace") + " Ã©"
            study.content_hash = "0" * 64  # the hash of what was stored, garbled
            session.commit()
        engine.dispose()
        server.reset_requests()
        crawl(server.url, sqlite_url, tmp_path)
        paths = [r.path for r in server.requests]
        server.reset_requests()
        crawl(server.url, sqlite_url, tmp_path)  # and the next run trusts what it read
        third = [r.path for r in server.requests]
    studies, _ = stored(sqlite_url)
    assert studies[garbled].title == title
    assert PATHS[garbled] in paths
    assert PATHS[garbled] not in third and len(third) < 0.5 * first


# -- sizes -----------------------------------------------------------------------------------------


class RawSite:
    """A site whose pages have no Content-Length (HTTP/1.0, closed at the end) or are gzip bombs."""

    def __init__(self, maxsize: int) -> None:
        good_path = PATHS[PLAIN[8]]
        self.good = (SITE_DIR / good_path.lstrip("/") / "index.html").read_bytes()
        self.pages = {
            "/": (
                "<html><body>"
                f'<a href="{good_path}">good</a>'
                '<a href="/research/endless-study-Bg01">endless</a>'
                '<a href="/research/bomb-study-Bm01">bomb</a>'
                "</body></html>"
            ).encode(),
            good_path: self.good,
        }
        self.endless = 4 * maxsize
        self.bomb = gzip.compress(b"<html><body>" + b" " * (10 * maxsize), compresslevel=9)
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                site.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        if path == "/research/endless-study-Bg01":
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.end_headers()
            chunk = b"<p>hair</p>" * 6000
            sent = 0
            try:
                while sent < self.endless:
                    handler.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the crawler hung up: as it should
            return
        if path == "/research/bomb-study-Bm01":
            body, headers = self.bomb, {"Content-Encoding": "gzip"}
        elif path in self.pages:
            body, headers = self.pages[path], {}
        else:
            handler.send_error(404)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def __enter__(self) -> RawSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_gzip_bombs_and_unannounced_big_bodies_are_too_big(tmp_path: Path, sqlite_url: str) -> None:
    maxsize = 1_000_000
    with RawSite(maxsize) as site:
        stderr = crawl(site.url, sqlite_url, tmp_path, DOWNLOAD_MAXSIZE=str(maxsize))
    studies, run = stored(sqlite_url)
    assert set(studies) == {PLAIN[8]}
    assert run.stats["failures/too_big"] == 2
    assert not [k for k in run.stats if k in ("failures/cancelled", "failures/ignored")]
    for name in ("endless-study-Bg01", "bomb-study-Bm01"):
        lines = [line for line in stderr.splitlines() if name in line]
        assert len(lines) == 1, lines
        assert "WARNING" in lines[0] and "too_big" in lines[0], lines[0]
    assert run.errors == 0


# -- secrets ---------------------------------------------------------------------------------------

SECRETS = {
    "userinfo": "us3r-s3cret",
    "query": "qu3ry-s3cret",
    "sslpassword": "ssl-s3cret",
    "redis_query": "r3dis-qu3ry",
}


@pytest.fixture
def secret_urls(postgres_url: str, redis_url: str) -> Iterator[tuple[str, str]]:
    database = make_url(postgres_url).set(password=SECRETS["userinfo"])
    database_url = (
        database.render_as_string(hide_password=False)
        + f"?password={SECRETS['query']}&sslpassword={SECRETS['sslpassword']}"
    )
    redis = make_url(redis_url)
    yield (
        database_url,
        f"redis://{redis.host}:{redis.port or 6379}/{redis.database or 0}"
        f"?username=default&password={SECRETS['redis_query']}",
    )


def test_secrets_in_every_url_form_never_appear_anywhere(
    secret_urls: tuple[str, str], tmp_path: Path
) -> None:
    database_url, redis_with_secret = secret_urls
    log_file = tmp_path / "crawl.log"
    outputs: list[str] = []
    with SiteServer(SITE_DIR) as server:
        settings = {
            "SITE_URL": server.url,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_with_secret,
            "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
            "REDIS_IDLE_TIMEOUT": "1",
            "SHARED_RATE_LIMIT": "0",
        }

        def scrapy(*args: str, ok: bool = True, **extra: str) -> None:
            result = run_scrapy(list(args), {**settings, **extra}, tmp_path)
            assert (result.returncode == 0) is ok, result.stderr[-3000:]
            outputs.append(result.stdout + result.stderr)

        scrapy("seed", "studies")
        scrapy("crawl", "studies", LOG_FILE=str(log_file), LOG_LEVEL="DEBUG")
        outputs.append(log_file.read_text(encoding="utf-8"))
        scrapy("report")
        for fmt in ("json", "csv", "jsonl"):
            out = tmp_path / f"runs.{fmt}"
            scrapy("export", "runs", "--format", fmt, "-o", str(out))
            outputs.append(out.read_text(encoding="utf-8"))
        scrapy("db", "current")
        # Failing commands: an unreachable server, an unknown driver.
        unreachable = database_url.replace(f":{make_url(database_url).port or 5432}/", ":1/")
        scrapy("db", "current", ok=False, DATABASE_URL=unreachable)
        scrapy(
            "export",
            "runs",
            "--format",
            "json",
            "-o",
            "-",
            ok=False,
            DATABASE_URL="nosuchdb" + database_url[10:],
        )
    studies, run = stored(database_url)
    assert set(studies) == EXPECTED and run.status == "finished"  # it really ran through both
    outputs += [json.dumps(run.settings), json.dumps(run.stats)]
    assert "Overridden settings" in outputs[2] and "password=***" in outputs[2]
    for text in outputs:
        for secret in SECRETS.values():
            assert secret not in text, (secret, text[-2000:])
    assert run.settings["DATABASE_URL"].startswith("postgresql+psycopg://postgres:***@")
    assert "password=***&sslpassword=***" in run.settings["DATABASE_URL"]
    assert run.settings["REDIS_URL"].endswith("?username=default&password=***")


def test_runs_recorded_before_with_a_leaked_secret_are_exported_masked(
    site_server: SiteServer, sqlite_url: str, tmp_path: Path
) -> None:
    crawl(site_server.url, sqlite_url, tmp_path)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        run = session.execute(select(CrawlRun)).scalar_one()
        run.settings = {**run.settings, "REDIS_URL": "redis://h:6379/0?password=old-l3ak"}
        session.commit()
    engine.dispose()
    out = tmp_path / "runs.json"
    result = run_scrapy(
        ["export", "runs", "--format", "json", "-o", str(out)],
        {"DATABASE_URL": sqlite_url},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    assert "old-l3ak" not in text and "password=***" in text
    assert _tldr(PLAIN[0])  # the helpers imported from test_faults still describe the site
