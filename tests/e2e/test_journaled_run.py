"""A crawl that could not store all its items says so, and replay completes its run.

Another process holds the SQLite file's write lock for a few seconds in the middle of a real
crawl, with no store retries: the batches of those seconds go to the spool. The run ends
``finished_with_journal`` (not ``finished``), its report names the spool file and the replay
command, ``store/journaled_items`` counts the items in the spool; ``scrapy db replay``
stores them, adds them to the run's figures and the run is ``finished``. The spool directory
is given by the names it had when the spool was called the journal (``JOURNAL_DIR``,
``--journal``), which must keep working.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import SITE_DIR, run_scrapy, start_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, Page, Study
from tressless_crawler.demo.server import SiteServer
from tressless_crawler.exit_codes import EXIT_SPOOLED

pytestmark = pytest.mark.e2e

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
SLOW = {
    "CONCURRENT_REQUESTS": "1",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "DOWNLOAD_DELAY": "0.1",
    "STORE_BATCH_SIZE": "4",
    "CRAWL_LOCK_STALE_SECONDS": "600",
    "CRAWL_PROGRESS_SECONDS": "0",
}


def the_run(url: str) -> CrawlRun:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(CrawlRun)).one()
        return row  # type: ignore[return-value]
    finally:
        engine.dispose()


def stored(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            studies = set(conn.execute(select(Study.study_id)).scalars())
            pages = set(conn.execute(select(Page.url)).scalars())
        return studies, pages
    finally:
        engine.dispose()


def test_a_run_that_journaled_items_ends_finished_with_journal_and_replay_completes_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = make_url(sqlite_url).database
    assert path is not None
    journal = tmp_path / "journal"
    log = tmp_path / "crawl.log"
    with SiteServer(SITE_DIR) as site:
        settings = {
            "SITE_URL": site.url,
            "DATABASE_URL": sqlite_url,
            "JOURNAL_DIR": str(journal),
            "SQLITE_BUSY_TIMEOUT": "0.2",
            "STORE_RETRY_TIMES": "0",
            **SLOW,
        }
        proc = start_scrapy(["crawl", "studies"], settings, tmp_path, log)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None and len(site.requests) < 15:
                time.sleep(0.05)
            assert proc.poll() is None, log.read_text()[-3000:]
            holder = sqlite3.connect(path, isolation_level=None, timeout=30)
            try:
                holder.execute("BEGIN EXCLUSIVE")
                time.sleep(2.5)
                assert proc.poll() is None, "the crawl ended while the file was locked"
                holder.execute("COMMIT")
            finally:
                holder.close()
            proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    text = log.read_text()
    run = the_run(sqlite_url)
    assert run.status == "finished_with_journal", text[-3000:]

    files = list(journal.glob("*.jsonl"))
    assert len(files) == 1
    records = [json.loads(line) for line in files[0].read_text().splitlines() if line.strip()]
    journaled = [s["study_id"] for r in records for s in r["studies"]]
    assert journaled, "nothing was spooled"
    # Items, not items plus the page records that travel with them.
    assert run.stats["store/journaled_items"] == len(journaled) + sum(
        len(r["threads"]) for r in records
    )
    assert all(r["items"] == len(r["studies"]) + len(r["threads"]) for r in records)
    # The end of the crawl names the spool file and what to do.
    report = text[text.index("Crawl report") :]
    assert str(files[0]) in report and "scrapy db replay" in report
    # ... and so do its exit code and last line (tressless_crawler.exit_codes: 8, spooled).
    assert proc.returncode == EXIT_SPOOLED, text[-3000:]
    assert text.strip().splitlines()[-1].startswith("Error: ") and "scrapy db replay" in text

    studies, pages = stored(sqlite_url)
    assert not set(journaled) & studies  # a spooled batch left nothing half-written behind
    journaled_pages = {p["url"] for r in records for p in r["pages"]}
    assert not journaled_pages & pages
    before = run.items_new

    replay = run_scrapy(["db", "replay", "--journal", str(journal)], settings, tmp_path)
    assert replay.returncode == 0, replay.stderr[-3000:]
    run = the_run(sqlite_url)
    studies, _ = stored(sqlite_url)
    assert studies == set(MANIFEST["expected_study_ids"])
    assert run.status == "finished"
    assert run.items_new == before + len(set(journaled)) == len(studies)
    assert run.stats["store/replayed_items"] == run.stats["store/journaled_items"]
    assert run.stats["store/new"] == run.items_new
