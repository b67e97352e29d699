"""A crawl killed with SIGKILL at random points completes when the same command runs again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import FAST_CRAWL, ROOT, run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import (
    CrawlRun,
    History,
    ResearchLink,
    Study,
    StudyAuthor,
    StudyThread,
)

pytestmark = pytest.mark.e2e

# Slow enough (one request at a time, a small delay) that a kill lands mid-crawl.
SLOW = {
    "CONCURRENT_REQUESTS": "1",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "DOWNLOAD_DELAY": "0.08",
    "STORE_BATCH_SIZE": "4",
}


def snapshot(url: str) -> dict[str, object]:
    engine = make_engine(url)
    with Session(engine) as session:
        studies = {s.study_id: s.content_hash for s in session.execute(select(Study)).scalars()}
        authors = sorted(session.execute(select(StudyAuthor.study_id, StudyAuthor.position)).all())
        links = sorted(
            session.execute(
                select(ResearchLink.source_study_id, ResearchLink.kind, ResearchLink.position)
            ).all()
        )
        cards = sorted(session.execute(select(StudyThread.study_id, StudyThread.position)).all())
        history = session.execute(select(History)).scalars().all()
    engine.dispose()
    return {
        "studies": studies,
        "authors": authors,
        "links": links,
        "cards": cards,
        "history": len(history),
    }


def wait_until_crawling(db_url: str, proc: subprocess.Popen[str], timeout: float = 60) -> bool:
    """Wait until the process has opened its crawl run (start-up is slow on a busy machine)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        engine = make_engine(db_url)
        try:
            with engine.connect() as conn:
                running = conn.execute(
                    select(CrawlRun.id).where(
                        CrawlRun.pid == proc.pid, CrawlRun.status == "running"
                    )
                ).first()
        except Exception:  # no schema yet: the crawl is still starting
            running = None
        finally:
            engine.dispose()  # also after an error: a leaked connection is a ResourceWarning
        if running:
            return True
        time.sleep(0.1)
    return False


def run_status(db_url: str, pid: int) -> str | None:
    """The status the crawl run of process ``pid`` has in the database."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            status: str | None = conn.execute(
                select(CrawlRun.status).where(CrawlRun.pid == pid).order_by(CrawlRun.id.desc())
            ).scalar()
    finally:
        engine.dispose()
    return status


def start_crawl(site_url: str, db_url: str, cwd: Path, **extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "studies"]
    settings = {**FAST_CRAWL, **SLOW, "SITE_URL": site_url, "DATABASE_URL": db_url, **extra}
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def test_killed_crawls_resume_to_the_same_database(
    site_server, db_url: str, tmp_path: Path
) -> None:
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    done = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": reference_url}, tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reference = snapshot(reference_url)

    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    killed = 0
    for _ in range(4):
        proc = start_crawl(site_server.url, db_url, tmp_path)
        if not wait_until_crawling(db_url, proc):
            continue  # it finished (or failed) before it could be killed
        time.sleep(rng.uniform(0.0, 2.5))  # a random point of the crawl
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)  # waits and closes the stderr pipe
        # Killed before it recorded its end (a kill can also land while a finished crawl's
        # process shuts down: its run is rightly "finished" then).
        if proc.returncode == -signal.SIGKILL and run_status(db_url, proc.pid) == "running":
            killed += 1
    assert killed >= 2, f"the crawl finished before it could be killed (seed {seed})"

    final = run_scrapy(
        ["crawl", "studies"],
        {"SITE_URL": site_server.url, "DATABASE_URL": db_url, **SLOW},
        tmp_path,
    )
    assert final.returncode == 0, final.stderr[-3000:]
    assert snapshot(db_url) == reference, f"seed {seed}"

    engine = make_engine(db_url)
    with Session(engine) as session:
        statuses = [
            r.status for r in session.execute(select(CrawlRun).order_by(CrawlRun.id)).scalars()
        ]
    engine.dispose()
    assert statuses[-1] == "finished"
    assert "running" not in statuses  # the killed runs were marked interrupted
    assert statuses.count("interrupted") == killed, statuses


def test_a_killed_crawl_leaves_its_figures_so_far_in_its_run_row(
    site_server, sqlite_url: str, tmp_path: Path
) -> None:
    proc = start_crawl(site_server.url, sqlite_url, tmp_path, CRAWL_PROGRESS_SECONDS="0.3")
    assert wait_until_crawling(sqlite_url, proc)
    engine = make_engine(sqlite_url)
    try:
        deadline = time.time() + 60
        recorded = 0
        while time.time() < deadline and proc.poll() is None and recorded < 5:
            with engine.connect() as conn:
                recorded = conn.execute(select(CrawlRun.pages_fetched)).scalar_one()
            time.sleep(0.05)
        assert recorded >= 5, "no progress was recorded while the crawl ran"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "the crawl ended before it was killed"
        with engine.connect() as conn:
            run = conn.execute(select(CrawlRun)).one()
        # What it had counted by its last progress update outlives it.
        assert run.status == "running" and run.pages_fetched >= recorded
        assert run.stats["response_received_count"] == run.pages_fetched
        assert run.pages_fetched <= site_server.count()

        # The next crawl marks it interrupted and keeps those figures.
        settings = {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url}
        done = run_scrapy(["crawl", "studies"], settings, tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        with engine.connect() as conn:
            first = conn.execute(select(CrawlRun).order_by(CrawlRun.id)).first()
        assert first is not None and first.status == "interrupted"
        assert first.pages_fetched == run.pages_fetched
    finally:
        engine.dispose()
