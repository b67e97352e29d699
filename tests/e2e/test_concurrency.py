"""Two crawls on one database: the crawl lock refuses the second; without it, no duplicates."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from tests.conftest import FAST_CRAWL, ROOT, SITE_DIR, run_scrapy
from tressless_crawler.db import schema
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import (
    Author,
    CrawlLock,
    CrawlRun,
    Journal,
    Study,
    StudyAuthor,
    Thread,
)

pytestmark = pytest.mark.e2e


def hold_lock(url: str, pid: int, heartbeat: datetime) -> None:
    engine = make_engine(url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(CrawlLock).values(
                name="studies",
                host=socket.gethostname(),
                pid=pid,
                acquired_at=heartbeat,
                heartbeat_at=heartbeat,
            )
        )
    engine.dispose()


def test_second_crawl_is_refused_while_the_first_holds_the_lock(
    site_server, db_url: str, tmp_path: Path
) -> None:
    hold_lock(db_url, os.getpid(), datetime.now(UTC))  # this live process "is crawling"
    result = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": db_url}, tmp_path
    )
    assert result.returncode != 0
    assert "Crawl refused" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert site_server.count() == 0  # nothing was fetched


def test_lock_of_a_dead_crawl_is_taken_over(site_server, sqlite_url: str, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    hold_lock(sqlite_url, dead.pid, datetime.now(UTC) - timedelta(seconds=5))
    result = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url}, tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Took over the crawl lock" in result.stderr
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(CrawlLock)).scalar_one() == 0
        )  # released
    engine.dispose()


def test_two_processes_writing_at_once_give_no_duplicates(
    site_server, postgres_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    settings = {
        **FAST_CRAWL,
        "SITE_URL": site_server.url,
        "DATABASE_URL": postgres_url,
        "CRAWL_LOCK_ENABLED": "0",
        "STORE_BATCH_SIZE": "3",
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "studies", "-a", "full=1"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    procs = [
        subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[1] for p in procs]
    for proc, err in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err and "ERROR" not in err, err[-3000:]
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        studies = conn.execute(select(func.count()).select_from(Study)).scalar_one()
        authors = conn.execute(select(Author.name)).scalars().all()
        journals = conn.execute(select(Journal.name)).scalars().all()
        threads = conn.execute(select(Thread.thread_key)).scalars().all()
        runs = conn.execute(select(CrawlRun.status, CrawlRun.items_new)).all()
        links = conn.execute(select(func.count()).select_from(StudyAuthor)).scalar_one()
    engine.dispose()
    manifest = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert studies == len(manifest["expected_study_ids"])
    assert len(authors) == len(set(authors)) and len(journals) == len(set(journals))
    assert len(threads) == len(set(threads))
    assert [r.status for r in runs] == ["finished", "finished"]
    assert sum(r.items_new for r in runs) == studies  # each study inserted once, by one of them
    assert links > 0
