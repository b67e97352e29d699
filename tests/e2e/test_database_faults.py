"""The database goes away in the middle of a real crawl, and nothing is lost or stored twice.

PostgreSQL is stopped for a few seconds while ``scrapy crawl studies`` runs (the real
server, with ``pg_ctlcluster``; it is restarted in a ``finally`` and the test waits until it
answers again — this briefly affects every database of the server). With store retries long
enough the batches wait and get in; with short ones they go to the journal and
``scrapy db replay`` loads them. A SQLite file locked by another process longer than the
busy timeout makes batches fail and retry until the lock is gone. Either way, afterwards the
database holds what an undisturbed crawl stores: every study once, no history, no duplicates.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.conftest import SITE_DIR, run_scrapy, start_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import (
    CrawlRun,
    History,
    Page,
    ResearchLink,
    Study,
    StudyAuthor,
    StudyThread,
)
from tressless_crawler.demo.server import SiteServer
from tressless_crawler.exit_codes import EXIT_SPOOLED

pytestmark = pytest.mark.e2e

# One request at a time, a small delay, small batches: the crawl takes several seconds and
# writes many batches, so the outage lands in the middle of it.
SLOW = {
    "CONCURRENT_REQUESTS": "1",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "DOWNLOAD_DELAY": "0.1",
    "STORE_BATCH_SIZE": "4",
    "CRAWL_LOCK_STALE_SECONDS": "600",  # no heartbeat during the outage
}
OUTAGE_SECONDS = 3.0
STOP_AFTER_REQUESTS = 15


def snapshot(url: str) -> dict[str, Any]:
    """What a crawl stored, independent of times and run ids."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            studies = dict(session.execute(select(Study.study_id, Study.content_hash)).all())
            authors = session.execute(select(func.count()).select_from(StudyAuthor)).scalar_one()
            links = session.execute(select(func.count()).select_from(ResearchLink)).scalar_one()
            cards = session.execute(select(func.count()).select_from(StudyThread)).scalar_one()
            history = session.execute(select(func.count()).select_from(History)).scalar_one()
            pages = session.execute(select(func.count()).select_from(Page)).scalar_one()
    finally:
        engine.dispose()
    return {
        "studies": studies,
        "authors": authors,
        "links": links,
        "cards": cards,
        "history": history,
        "pages": pages,
    }


def last_run(url: str) -> CrawlRun:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.execute(
                select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)
            ).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    """One server for the module: stored URLs (and so content hashes) carry its port."""
    with SiteServer(SITE_DIR) as server:
        yield server


@pytest.fixture(scope="module")
def reference(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What an undisturbed crawl of the fixture site stores."""
    tmp = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{tmp / 'reference.db'}"
    result = run_scrapy(["crawl", "studies"], {"SITE_URL": site.url, "DATABASE_URL": url}, cwd=tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    return snapshot(url)


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- PostgreSQL ------------------------------------------------------------------------------------


def _cluster() -> tuple[str, str]:
    """(version, name) of the local cluster on port 5432; skips if it cannot be stopped here."""
    if (
        shutil.which("pg_ctlcluster") is None
        or shutil.which("pg_lsclusters") is None
        or os.geteuid() != 0
    ):
        pytest.skip("stopping PostgreSQL needs a Debian cluster (pg_ctlcluster) and root")
    listing = subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "5432" and parts[3] == "online":
            return parts[0], parts[1]
    pytest.skip("no online PostgreSQL cluster on port 5432 to stop")
    raise AssertionError("unreachable")


def _pg_ctl(version: str, name: str, action: str) -> None:
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action]
    if action == "stop":
        args += ["-m", "fast"]
    subprocess.run(args, capture_output=True, text=True, check=True, timeout=120)


def _accepts_connections(admin_url: str) -> bool:
    url = make_url(admin_url)
    try:
        with psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            dbname=url.database,
            connect_timeout=2,
        ) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


@contextmanager
def postgres_stopped(admin_url: str) -> Iterator[None]:
    """PostgreSQL stopped for the block; always started again, and answering, afterwards."""
    version, name = _cluster()
    _pg_ctl(version, name, "stop")
    try:
        yield
    finally:
        for attempt in range(3):
            try:
                _pg_ctl(version, name, "start")
                break
            except subprocess.CalledProcessError:
                if _accepts_connections(admin_url) or attempt == 2:
                    break
                time.sleep(1)
        wait_for(
            lambda: _accepts_connections(admin_url), 60, "PostgreSQL to accept connections again"
        )


def crawl_through_a_postgres_outage(
    server: SiteServer, postgres_url: str, tmp_path: Path, exit_code: int = 0, **settings: str
) -> tuple[str, Path]:
    """Crawl, stopping PostgreSQL midway for OUTAGE_SECONDS; return the log and journal dir.

    ``exit_code``: the crawl's, 8 when batches went to the journal
    (tressless_crawler.cli.errors)."""
    admin_url = os.environ["TEST_DATABASE_URL"]
    journal = tmp_path / "journal"
    log = tmp_path / "crawl.log"
    server.reset_requests()
    proc = start_scrapy(
        ["crawl", "studies"],
        {
            "SITE_URL": server.url,
            "DATABASE_URL": postgres_url,
            "JOURNAL_DIR": str(journal),
            **SLOW,
            **settings,
        },
        tmp_path,
        log,
    )
    try:
        wait_for(
            lambda: len(server.requests) >= STOP_AFTER_REQUESTS or proc.poll() is not None,
            60,
            "the crawl",
        )
        assert proc.poll() is None, "the crawl ended before the outage:\n" + log.read_text()[-3000:]
        with postgres_stopped(admin_url):
            time.sleep(OUTAGE_SECONDS)
            assert proc.poll() is None, (
                "the crawl ended during the outage:\n" + log.read_text()[-3000:]
            )
        assert proc.wait(timeout=180) == exit_code, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    return text, journal


def test_postgres_down_mid_crawl_batches_wait_and_get_in(
    site: SiteServer, postgres_url: str, tmp_path: Path, reference: dict[str, Any]
) -> None:
    """Retries that outlast the outage: nothing journaled, every item in the database once."""
    log, journal = crawl_through_a_postgres_outage(
        site, postgres_url, tmp_path, STORE_RETRY_TIMES="8", STORE_RETRY_BACKOFF="0.25"
    )
    run = last_run(postgres_url)
    assert run.status == "finished"
    assert run.stats["store/retries"] >= 1, run.stats
    assert "store/journaled" not in run.stats
    assert not journal.exists() or not list(journal.iterdir())
    assert "Database write failed" in log
    assert snapshot(postgres_url) == reference


def test_postgres_down_mid_crawl_batches_go_to_the_journal_and_replay_loads_them_once(
    site: SiteServer, postgres_url: str, tmp_path: Path, reference: dict[str, Any]
) -> None:
    """Retries shorter than the outage: batches journaled, the crawl goes on, replay ends it."""
    log, journal = crawl_through_a_postgres_outage(
        site,
        postgres_url,
        tmp_path,
        EXIT_SPOOLED,
        STORE_RETRY_TIMES="1",
        STORE_RETRY_BACKOFF="0.2",
    )
    run = last_run(postgres_url)
    assert run.status == "finished_with_journal"  # not "finished": items wait in the journal
    journaled = run.stats["store/journaled"]
    assert journaled >= 1, run.stats
    assert log.count("The database is not taking writes") == 1  # one ERROR, not one per batch
    files = list(journal.glob("*.jsonl"))
    assert [f.name for f in files] == [f"studies-run{run.id}.jsonl"]
    assert len(files[0].read_text().splitlines()) == journaled
    before = snapshot(postgres_url)
    assert len(before["studies"]) < len(reference["studies"])  # the journaled studies are missing

    settings = {"DATABASE_URL": postgres_url}
    replay = run_scrapy(["db", "replay", "--journal", str(journal)], settings, cwd=tmp_path)
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert f"replayed {journaled} batches" in replay.stdout
    assert snapshot(postgres_url) == reference  # every study once, nothing in history
    assert last_run(postgres_url).status == "finished"  # its journal is in
    assert list(journal.glob("*.jsonl")) == [] and len(list(journal.glob("*.jsonl.replayed"))) == 1

    again = run_scrapy(["db", "replay", "--journal", str(journal)], settings, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "replayed 0 batches" in again.stdout
    assert snapshot(postgres_url) == reference


# -- SQLite ----------------------------------------------------------------------------------------


def test_sqlite_locked_by_another_process_batches_retry_and_succeed(
    site: SiteServer, sqlite_url: str, tmp_path: Path, reference: dict[str, Any]
) -> None:
    """Another process holds the write lock past the busy timeout: batches retry until it ends."""
    path = make_url(sqlite_url).database
    assert path is not None
    journal = tmp_path / "journal"
    log = tmp_path / "crawl.log"
    settings = {
        "SITE_URL": site.url,
        "DATABASE_URL": sqlite_url,
        "JOURNAL_DIR": str(journal),
        "SQLITE_BUSY_TIMEOUT": "0.3",
        "STORE_RETRY_TIMES": "8",
        "STORE_RETRY_BACKOFF": "0.25",
        **SLOW,
    }
    site.reset_requests()
    proc = start_scrapy(["crawl", "studies"], settings, tmp_path, log)
    try:
        wait_for(
            lambda: len(site.requests) >= STOP_AFTER_REQUESTS or proc.poll() is not None,
            60,
            "the crawl",
        )
        assert proc.poll() is None, "the crawl ended before the lock:\n" + log.read_text()[-3000:]
        holder = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            time.sleep(OUTAGE_SECONDS)
            assert proc.poll() is None, "the crawl ended while the file was locked"
            holder.execute("COMMIT")
        finally:
            holder.close()
        assert proc.wait(timeout=180) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "database is locked" in text
    run = last_run(sqlite_url)
    assert run.status == "finished"
    assert run.stats["store/retries"] >= 1
    assert "store/journaled" not in run.stats
    assert snapshot(sqlite_url) == reference
