"""kill -9 at random moments, with and without JOBDIR, at every batch size, on both databases:
rerunning the same command ends with the rows of an uninterrupted crawl, and a crawl killed at
a polite pace has lost at most ``STORE_FLUSH_SECONDS`` of what it fetched.

The seed of the random kill moments is printed in every failure (``CRASH_SEED`` replays it).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import ROOT, SITE_DIR, run_scrapy, start_scrapy
from tests.e2e.test_crash_resume import snapshot, wait_until_crawling
from tressless_crawler.db.batch import Batch, write_batch
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, Page, Study
from tressless_crawler.db.schema import upgrade
from tressless_crawler.demo.server import SiteServer
from tressless_crawler.runs.jobdir import MARKER
from tressless_crawler.urls import study_id_from_url

pytestmark = pytest.mark.e2e

# One request at a time and a small delay: the crawl takes a few seconds, so kills land in it.
SLOW = {
    "CONCURRENT_REQUESTS": "1",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "DOWNLOAD_DELAY": "0.08",
}
KILLS_PER_CASE = 2


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    server = SiteServer(SITE_DIR)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def reference(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What one uninterrupted crawl stores."""
    where = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{where / 'reference.db'}"
    done = run_scrapy(["crawl", "studies"], {"SITE_URL": site.url, "DATABASE_URL": url}, where)
    assert done.returncode == 0, done.stderr[-2000:]
    return snapshot(url)


def statuses(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return [
                r.status for r in session.execute(select(CrawlRun).order_by(CrawlRun.id)).scalars()
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("batch", [1, 50, 500])
@pytest.mark.parametrize("jobdir", [False, True], ids=["no-jobdir", "jobdir"])
def test_killed_crawls_rerun_to_the_rows_of_an_uninterrupted_one(
    site: SiteServer,
    reference: dict[str, object],
    db_url: str,
    tmp_path: Path,
    jobdir: bool,
    batch: int,
) -> None:
    settings = {
        "SITE_URL": site.url,
        "DATABASE_URL": db_url,
        "STORE_BATCH_SIZE": str(batch),
        **SLOW,
    }
    job = tmp_path / "job"
    if jobdir:
        settings["JOBDIR"] = str(job)
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    killed = 0
    for attempt in range(KILLS_PER_CASE + 2):
        if killed == KILLS_PER_CASE:
            break
        proc = start_scrapy(["crawl", "studies"], settings, tmp_path, tmp_path / f"{attempt}.log")
        try:
            if wait_until_crawling(db_url, proc):  # type: ignore[arg-type]
                time.sleep(rng.uniform(0.0, 3.0))  # a random moment of the crawl
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert killed >= 1, f"every crawl finished before it could be killed (seed {seed})"

    final = run_scrapy(["crawl", "studies"], settings, tmp_path)
    assert final.returncode == 0, final.stderr[-3000:]
    assert snapshot(db_url) == reference, f"seed {seed}"
    ran = statuses(db_url)
    # The killed runs are interrupted, never "finished"; the one that completed the crawl is.
    assert ran[-1] == "finished", (ran, seed)
    assert "running" not in ran, (ran, seed)
    assert ran.count("interrupted") == killed, (ran, seed)
    if jobdir:
        assert not (job / MARKER).exists()  # the last run stopped cleanly

    # And the database is now complete: another run finds nothing new.
    again = run_scrapy(["crawl", "studies"], settings, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert snapshot(db_url) == reference, f"seed {seed}"


def studies_served(site: SiteServer) -> int:
    return sum(1 for r in site.requests if study_id_from_url(f"http://x{r.path}"))


def run_until(
    site: SiteServer, settings: dict[str, str], cwd: Path, log: Path, pages: int, stop: int
) -> None:
    """Run a crawl until ``pages`` more study pages were served, then send it ``stop``."""
    site.reset_requests()
    proc = start_scrapy(["crawl", "studies"], settings, cwd, log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if studies_served(site) >= pages:
                break
            time.sleep(0.02)
        assert proc.poll() is None, (
            "the crawl ended before it could be stopped:\n" + (log.read_text()[-3000:])
        )
        proc.send_signal(stop)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_a_jobdir_left_by_a_kill_is_not_trusted_one_left_by_ctrl_c_is(
    site: SiteServer, reference: dict[str, object], sqlite_url: str, tmp_path: Path
) -> None:
    job = tmp_path / "job"
    settings = {"SITE_URL": site.url, "DATABASE_URL": sqlite_url, "JOBDIR": str(job), **SLOW}
    # Large batches, no timed flush: what a run fetched is stored only when it closes.
    held = {**settings, "STORE_BATCH_SIZE": "5000", "STORE_FLUSH_SECONDS": "0"}

    # Ctrl-C: Scrapy writes the queue and the seen-set out; the next run resumes from them.
    run_until(site, held, tmp_path, tmp_path / "paused.log", 10, signal.SIGINT)
    assert not (job / MARKER).exists()
    assert (job / "requests.seen").stat().st_size > 0

    # kill -9 in the resumed run: the seen-set holds the whole sitemap, the queue is stale.
    run_until(site, held, tmp_path, tmp_path / "resumed.log", 5, signal.SIGKILL)
    resumed = (tmp_path / "resumed.log").read_text()
    assert "did not stop cleanly" not in resumed  # a clean pause is trusted
    assert (job / MARKER).exists()

    final = run_scrapy(["crawl", "studies"], settings, tmp_path)
    assert final.returncode == 0, final.stderr[-3000:]
    assert "did not stop cleanly" in final.stderr
    assert list(job.glob("requests.seen.unclean-*")), "the untrusted seen-set is kept aside"
    assert snapshot(sqlite_url) == reference
    assert statuses(sqlite_url) == ["interrupted", "interrupted", "finished"]
    assert not (job / MARKER).exists()


class TimedSite(SiteServer):
    """The fixture site, noting when each study page was answered."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.served: list[tuple[float, str]] = []
        self._served_lock = threading.Lock()

    def handle(self, handler: Any) -> None:
        super().handle(handler)
        study_id = study_id_from_url(f"http://x{handler.path}")
        if study_id:
            with self._served_lock:
                self.served.append((time.monotonic(), study_id))


FLUSH_SECONDS = 1.0
# Parsing, the pipelines and the write itself on a busy machine.
SLACK_SECONDS = 2.5


def test_a_crawl_killed_at_a_polite_pace_loses_at_most_the_flush_interval(
    db_url: str, tmp_path: Path
) -> None:
    with TimedSite(SITE_DIR) as server:
        settings = {
            "SITE_URL": server.url,
            "DATABASE_URL": db_url,
            "CONCURRENT_REQUESTS": "1",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            "DOWNLOAD_DELAY": "0.3",
            "STORE_BATCH_SIZE": "500",  # never reached: only the timed flush writes
            "STORE_FLUSH_SECONDS": str(FLUSH_SECONDS),
        }
        proc = start_scrapy(["crawl", "studies"], settings, tmp_path, tmp_path / "crawl.log")
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None and len(server.served) < 15:
                time.sleep(0.05)
            assert proc.poll() is None, (tmp_path / "crawl.log").read_text()[-3000:]
            proc.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        served = list(server.served)

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(select(Study.study_id)).scalars())
    finally:
        engine.dispose()
    due = {sid for when, sid in served if when < killed_at - FLUSH_SECONDS - SLACK_SECONDS}
    assert len(due) >= 3, "the crawl was killed too early to tell"
    assert due - stored == set(), "pages fetched long before the kill were never stored"
    assert len(stored) < 54  # it was killed mid-crawl


def test_the_flush_interval_is_a_setting_of_its_own(tmp_path: Path) -> None:
    """STORE_FLUSH_SECONDS has a default of a few seconds, overridable with -s."""
    done = run_scrapy(["settings", "--get", "STORE_FLUSH_SECONDS"], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert 0 < float(done.stdout.strip()) <= 10


def test_ctrl_c_then_the_same_command_completes_the_threads_of_a_follow_community_crawl(
    site: SiteServer, sqlite_url: str, tmp_path: Path
) -> None:
    """As `scrapy demo` crawls: studies with follow_community. Studies stored before Ctrl-C are
    skipped as unchanged by the rerun, and yield no thread requests: their threads, known from
    the cards, are swept."""
    from tressless_crawler.db.models import Thread

    settings = {
        "SITE_URL": site.url,
        "DATABASE_URL": sqlite_url,
        "COMMUNITY_HOSTS": "127.0.0.1",
        "STORE_FLUSH_SECONDS": "0.2",
        **SLOW,
    }
    args = ["crawl", "studies", "-a", "follow_community=1"]
    site.reset_requests()
    proc = start_scrapy(args, settings, tmp_path, tmp_path / "interrupted.log")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and studies_served(site) < 12:
            time.sleep(0.02)
        assert proc.poll() is None, (tmp_path / "interrupted.log").read_text()[-3000:]
        proc.send_signal(signal.SIGINT)  # one Ctrl-C: a graceful stop
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    def crawled_threads() -> set[str]:
        engine = make_engine(sqlite_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(Thread.post_id).where(Thread.source == "thread"))
                return set(rows.scalars())
        finally:
            engine.dispose()

    manifest = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
    linked = {p for p, spec in manifest["threads"].items() if spec["linked_from"]}
    assert linked - crawled_threads(), "every thread was fetched before the Ctrl-C"

    again = run_scrapy(args, settings, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert linked <= crawled_threads()
    assert "community threads known from cards" in again.stderr
    assert statuses(sqlite_url) == ["interrupted", "finished"]


@pytest.fixture(scope="module")
def bigger_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SiteServer, int]]:
    """A generated site of 600 studies (benchmarks/sitegen.py): enough requests for Scrapy to
    write its seen-set to disk (it buffers ~8 KB of fingerprints) while the crawl runs."""
    out = tmp_path_factory.mktemp("site600") / "site"
    built = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "sitegen.py"),
            "--pages",
            "600",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    studies = json.loads((out / "bench.json").read_text(encoding="utf-8"))["studies"]
    with SiteServer(out) as server:
        yield server, studies


def test_a_kill_after_the_jobdir_seen_set_reached_the_disk_loses_nothing(
    bigger_site: tuple[SiteServer, int], sqlite_url: str, tmp_path: Path
) -> None:
    """The fault trials' case: killed once requests.seen holds the sitemap's studies (and the
    sitemap), with no queue written; the rerun of the same command stores every study."""
    site, studies = bigger_site
    job = tmp_path / "job"
    settings = {
        "SITE_URL": site.url,
        "DATABASE_URL": sqlite_url,
        "JOBDIR": str(job),
        "STORE_BATCH_SIZE": "50",
    }
    log = tmp_path / "killed.log"
    proc = start_scrapy(["crawl", "studies"], settings, tmp_path, log)
    try:
        seen = job / "requests.seen"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if seen.exists() and seen.stat().st_size >= 4096:
                break
            time.sleep(0.02)
        assert proc.poll() is None, log.read_text()[-3000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    final = run_scrapy(["crawl", "studies"], settings, tmp_path, timeout=900)
    assert final.returncode == 0, final.stderr[-3000:]
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            stored = len(conn.execute(select(Study.study_id)).all())
    finally:
        engine.dispose()
    assert stored == studies, final.stderr[-3000:]
    assert statuses(sqlite_url) == ["interrupted", "finished"]


def test_page_records_left_without_their_studies_do_not_keep_the_studies_out(
    site: SiteServer, reference: dict[str, object], tmp_path: Path
) -> None:
    """A database in which pages' validators reached the disk and their studies did not (an
    older crawler, killed between the two): the next crawl reads those pages in full instead
    of taking the server's 304 for them, and stores every study."""
    full = f"sqlite:///{tmp_path / 'full.db'}"
    done = run_scrapy(["crawl", "studies"], {"SITE_URL": site.url, "DATABASE_URL": full}, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    columns = ("url", "kind", "key", "status", "etag", "last_modified")
    engine = make_engine(full)
    try:
        with engine.connect() as conn:
            batch = Batch()
            for row in conn.execute(select(*(getattr(Page, c) for c in columns))):
                batch.pages.append(dict(zip(columns, row, strict=True)))
    finally:
        engine.dispose()
    assert any(p["etag"] for p in batch.pages), "the fixture site sends no validators"

    left = f"sqlite:///{tmp_path / 'left.db'}"
    engine = make_engine(left, immediate=True)
    try:
        upgrade(engine)
        write_batch(engine, batch, None, datetime.now(UTC))  # the page records alone
    finally:
        engine.dispose()
    again = run_scrapy(["crawl", "studies"], {"SITE_URL": site.url, "DATABASE_URL": left}, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert snapshot(left) == reference
