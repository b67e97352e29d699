"""End to end: the real ``scrapy crawl studies`` against the fixture site, into a real database."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import SITE_DIR, run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import (
    Author,
    CrawlRun,
    History,
    Journal,
    ResearchLink,
    Study,
    StudyAuthor,
    StudyThread,
    Thread,
)
from tressless_crawler.demo.server import SiteServer
from tressless_crawler.parsers.study import parse_study

pytestmark = pytest.mark.e2e

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
TABLES = (Study, Journal, Author, StudyAuthor, ResearchLink, Thread, StudyThread, History)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        result = {
            m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
            for m in TABLES
        }
    engine.dispose()
    return result


def crawl(site_server, db_url: str, tmp_path: Path, *extra: str) -> str:
    result = run_scrapy(
        ["crawl", "studies", *extra],
        {"SITE_URL": site_server.url, "DATABASE_URL": db_url},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def test_crawl_stores_every_study_once_and_a_full_second_crawl_changes_nothing(
    site_server, db_url: str, tmp_path: Path
) -> None:
    crawl(site_server, db_url, tmp_path)
    engine = make_engine(db_url)
    with Session(engine) as session:
        studies = {s.study_id: s for s in session.execute(select(Study)).scalars()}
        runs = session.execute(select(CrawlRun)).scalars().all()
    expected = set(MANIFEST["expected_study_ids"])
    assert set(studies) == expected
    # Each study under its canonical path; the duplicate slug gives one row.
    for study_id, path in MANIFEST["expected_study_paths"].items():
        assert studies[study_id].url.endswith(path), study_id
    dup = MANIFEST["duplicate_slug"]
    assert studies[dup["study_id"]].url.endswith(dup["canonical_path"])
    # Case-sensitive ids are two studies.
    assert set(MANIFEST["case_pair"]) <= set(studies)
    # robots.txt is obeyed, links-only studies are found, the dead link is not a study.
    assert MANIFEST["disallowed"]["study_id"] not in studies
    assert MANIFEST["link_only"]["study_id"] in studies
    # Rows match what the site says of each study.
    for study_id, spec in MANIFEST["studies"].items():
        if study_id not in studies:
            continue
        row = studies[study_id]
        for field in ("title", "published", "journal"):
            assert row.snapshot[field] == spec.get(field), (study_id, field)
        assert len(row.snapshot["authors"]) == spec["authors"], study_id
        for kind in ("cited", "related"):
            linked = [ref["study_id"] for ref in row.snapshot[kind] if ref["study_id"]]
            assert linked == spec[kind], (study_id, kind)
        posts = [card["post_id"] for card in row.snapshot["community_posts"] if card["post_id"]]
        assert posts == spec["community"], study_id
    assert len(runs) == 1 and runs[0].status == "finished"
    assert runs[0].items_new == len(expected)
    assert runs[0].items_dropped == {"dedupe/dropped/duplicate_study": 1}
    first = counts(db_url)
    assert first["history"] == 0
    with engine.connect() as conn:
        before = dict(conn.execute(select(Study.study_id, Study.changed_at)).all())

    crawl(site_server, db_url, tmp_path, "-a", "full=1")
    assert counts(db_url) == first  # no row added, none moved to history
    with Session(engine) as session:
        after = dict(session.execute(select(Study.study_id, Study.changed_at)).all())
        runs = session.execute(select(CrawlRun).order_by(CrawlRun.id)).scalars().all()
    assert after == before  # nothing rewritten
    assert [r.status for r in runs] == ["finished", "finished"]
    assert runs[1].items_new == 0 and runs[1].items_updated == 0
    with engine.connect() as conn:
        assert set(conn.execute(select(Study.last_run_id)).scalars()) == {runs[1].id}
    engine.dispose()


def test_single_url(site_server, db_url: str, tmp_path: Path) -> None:
    study_id, path = next(iter(MANIFEST["expected_study_paths"].items()))
    crawl(site_server, db_url, tmp_path, "-a", f"url={site_server.url}{path}")
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ids = conn.execute(select(Study.study_id)).scalars().all()
    engine.dispose()
    assert ids == [study_id]


def stored_study_ids(url: str) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        ids = set(conn.execute(select(Study.study_id)).scalars())
    engine.dispose()
    return ids


def test_listings_when_there_is_no_sitemap(site_server, sqlite_url: str, tmp_path: Path) -> None:
    crawl(site_server, sqlite_url, tmp_path, "-a", "listings=1")
    assert stored_study_ids(sqlite_url) == set(MANIFEST["expected_study_ids"])


def test_sitemap_studies_wait_as_urls_and_all_arrive(
    site_server, sqlite_url: str, tmp_path: Path
) -> None:
    """With a backlog batch of 2 nearly every sitemap study waits as a URL, not a Request."""
    crawl(site_server, sqlite_url, tmp_path, "-s", "BACKLOG_BATCH=2", "-s", "CONCURRENT_REQUESTS=2")
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        ids = set(conn.execute(select(Study.study_id)).scalars())
        stats = conn.execute(select(CrawlRun.stats)).scalar_one()
    engine.dispose()
    assert ids == set(MANIFEST["expected_study_ids"])
    in_sitemaps = stats["discovery/sitemap_studies"]
    assert in_sitemaps >= 40
    # Each sitemap's studies were held back but the two handed over at once.
    assert stats["backlog/max"] >= in_sitemaps // 2 - 2


def test_incremental_crawl_fetches_little_and_finds_exactly_the_changed_pages(
    tmp_path: Path, db_url: str
) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    with SiteServer(site) as server:
        crawl(server, db_url, tmp_path)
        first_requests = len(server.requests)
        engine = make_engine(db_url)
        with engine.connect() as conn:
            before = dict(conn.execute(select(Study.study_id, Study.changed_at)).all())

        server.reset_requests()
        crawl(server, db_url, tmp_path)
        second_requests = len(server.requests)
        assert second_requests <= 0.2 * first_requests, (second_requests, first_requests)
        with engine.connect() as conn:
            assert dict(conn.execute(select(Study.study_id, Study.changed_at)).all()) == before
        assert counts(db_url)["history"] == 0

        changed = change_pages(site, ["ZpoR", "Cf9e", "66Gn"])
        server.reset_requests()
        crawl(server, db_url, tmp_path)
        with Session(engine) as session:
            updated = {
                s.study_id: s.tldr
                for s in session.execute(select(Study)).scalars()
                if s.changed_at != before[s.study_id]
            }
            last = session.execute(select(CrawlRun).order_by(CrawlRun.id.desc())).scalars().first()
        assert updated == changed
        assert last.items_updated == 3 and last.items_new == 0
        assert counts(db_url)["history"] == 3
        engine.dispose()


def change_pages(site: Path, study_ids: list[str]) -> dict[str, str]:
    """Give three studies a new TLDR and a fresh <lastmod>, as the site would."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    paths = {sid: MANIFEST["expected_study_paths"][sid] for sid in study_ids}
    new_tldrs = {}
    lastmod = json.loads((site / "lastmod.json").read_text(encoding="utf-8"))
    for sid, path in paths.items():
        page = site / path.lstrip("/") / "index.html"
        html = page.read_text(encoding="utf-8")
        old = studies_tldr(html, path)
        new_tldrs[sid] = f"Updated finding for {sid}."
        assert old and old in html
        page.write_text(html.replace(old, new_tldrs[sid]), encoding="utf-8")
        lastmod[path] = now[:10]
        for sitemap in (site / "sitemaps").glob("*.xml"):
            text = sitemap.read_text(encoding="utf-8")
            loc = f"<loc>{{{{SITE_URL}}}}{path}</loc>"
            if loc in text:
                start = text.index(loc)
                end = text.index("</lastmod>", start)
                begin = text.index("<lastmod>", start) + len("<lastmod>")
                sitemap.write_text(text[:begin] + now + text[end:], encoding="utf-8")
    (site / "lastmod.json").write_text(json.dumps(lastmod), encoding="utf-8")
    return new_tldrs


def studies_tldr(html: str, path: str) -> str | None:
    result = parse_study(html, "https://tressless.com" + path)
    return getattr(result, "tldr", None)


def change_link_only(site: Path) -> str:
    """Give the study that only links reach (no sitemap entry) a new TLDR; returns it."""
    path = MANIFEST["link_only"]["path"]
    page = site / path.lstrip("/") / "index.html"
    html = page.read_text(encoding="utf-8")
    old = studies_tldr(html, path)
    assert old and old in html
    new = "Updated finding for the study only links reach."
    page.write_text(html.replace(old, new), encoding="utf-8")
    return new


def test_incremental_crawl_sweeps_the_studies_only_links_reach(
    tmp_path: Path, sqlite_url: str
) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    link_only = MANIFEST["link_only"]
    linker = MANIFEST["expected_study_paths"][link_only["linked_from"][0]]
    with SiteServer(site) as server:
        crawl(server, sqlite_url, tmp_path)
        new_tldr = change_link_only(site)
        server.reset_requests()
        crawl(server, sqlite_url, tmp_path)
        paths = [record.path for record in server.requests]
    # The page linking to it was skipped as unchanged, so only the sweep could reach it.
    assert linker not in paths
    assert paths.count(link_only["path"]) == 1
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        study = session.get(Study, link_only["study_id"])
        assert study is not None and study.tldr == new_tldr
        last = session.execute(select(CrawlRun).order_by(CrawlRun.id.desc())).scalars().first()
    engine.dispose()
    assert last.items_updated == 1 and last.items_new == 0
    assert last.stats["incremental/swept"] >= 1


def snapshots_and_run(url: str) -> tuple[dict[str, Any], CrawlRun]:
    """The stored studies' snapshots by id, and the database's one crawl run."""
    engine = make_engine(url)
    with Session(engine) as session:
        snapshots = {s.study_id: s.snapshot for s in session.execute(select(Study)).scalars()}
        run = session.execute(select(CrawlRun)).scalar_one()
    engine.dispose()
    return snapshots, run


def test_parse_workers_store_what_the_crawl_s_own_process_does(site_server, tmp_path: Path) -> None:
    """PARSE_WORKERS moves the parse to worker processes: the same studies, snapshots, runs
    and report, and the workers exit with the crawl."""
    stored = {}
    for workers in ("0", "2"):
        where = tmp_path / workers
        where.mkdir()
        url = f"sqlite:///{where / 'crawler.db'}"
        log = crawl(site_server, url, where, "-s", f"PARSE_WORKERS={workers}")
        snapshots, run = snapshots_and_run(url)
        stored[workers] = (
            snapshots,
            counts(url),
            (run.status, run.items_new, run.items_dropped),
            {k: v for k, v in run.stats.items() if k.startswith(("fill/", "parse/"))},
        )
        if workers != "0":
            assert "Parsing study pages in 2 worker process(es) (forked)" in log
            assert "Parse workers: " in log and "A parse worker exited" not in log
    assert stored["2"] == stored["0"]
    assert set(stored["0"][0]) == set(MANIFEST["expected_study_ids"])


TWISTED_CLIENT = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"


def test_the_aiohttp_client_stores_what_twisteds_does(site_server, tmp_path: Path) -> None:
    """The crawl's HTTP client (docs/http-client.md) and the documented way back to Scrapy's
    Twisted one: the same studies, snapshots and page counts."""
    stored = {}
    handlers = {
        "aiohttp": None,
        "twisted": json.dumps({"http": TWISTED_CLIENT, "https": TWISTED_CLIENT}),
    }
    for name, value in handlers.items():
        where = tmp_path / name
        where.mkdir()
        url = f"sqlite:///{where / 'crawler.db'}"
        extra = ("-s", f"DOWNLOAD_HANDLERS={value}") if value else ()
        log = crawl(site_server, url, where, *extra)
        snapshots, run = snapshots_and_run(url)
        stored[name] = (snapshots, counts(url), (run.status, run.items_new, run.errors))
        if name == "aiohttp":
            assert "HTTP client: aiohttp" in log
            assert "experimental" not in log  # said once at INFO, not warned at every start
        else:
            assert "HTTP client: aiohttp" not in log
    assert stored["aiohttp"] == stored["twisted"]
    assert set(stored["aiohttp"][0]) == set(MANIFEST["expected_study_ids"])


def enabled_extensions(log: str) -> str:
    """The block of Scrapy's "Enabled extensions:" list in a crawl's log (LOG_DUMPS on)."""
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if "Enabled extensions:" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].rstrip().endswith("]"))
    return "\n".join(lines[start : end + 1])


def test_a_feed_asked_for_with_o_gets_every_stored_study(
    site_server, db_url: str, tmp_path: Path
) -> None:
    """Scrapy's feed exports are loaded only when a feed is set; ``-o`` still writes one."""
    feed = tmp_path / "items.jsonl"
    log = crawl(site_server, db_url, tmp_path, "-o", str(feed), "-s", "LOG_DUMPS=1")
    assert "FeedsWhenAsked" in enabled_extensions(log)
    fed = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    assert {item["study_id"] for item in fed} == set(MANIFEST["expected_study_ids"])
    assert stored_study_ids(db_url) == set(MANIFEST["expected_study_ids"])


def test_without_a_feed_no_feed_exporter_is_loaded_and_no_warning_is_noise(
    site_server, db_url: str, tmp_path: Path
) -> None:
    log = crawl(site_server, db_url, tmp_path, "-s", "LOG_DUMPS=1")
    assert "Feed" not in enabled_extensions(log)
    # A warning is a problem to look at: the fixture site's duplicate study is the only one
    # (no "Disabled ..." for components that are off, no redirect middleware missing Referer).
    warnings = [line for line in log.splitlines() if " WARNING: " in line]
    assert len(warnings) == 1 and "Dropped: duplicate study" in warnings[0], warnings
