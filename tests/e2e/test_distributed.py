"""End to end, distributed: ``scrapy seed`` once, then N ``scrapy crawl`` workers sharing one
Redis frontier (the real server at TEST_REDIS_URL) and one PostgreSQL database.

Each test compares what the workers stored with what one single-process crawl of
the fixture site stores, and reads what the site was asked from the fixture
server's own request log.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.conftest import SITE_DIR, run_scrapy, start_scrapy
from tests.e2e.test_crawl_studies import change_link_only
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import (
    Author,
    CrawlLock,
    CrawlRun,
    History,
    Journal,
    Page,
    ResearchLink,
    Study,
    StudyAuthor,
    StudyThread,
    Thread,
)
from tressless_crawler.db.snapshots import content_hash
from tressless_crawler.demo.server import SiteServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
TABLES = (Study, Journal, Author, StudyAuthor, ResearchLink, Thread, StudyThread, History, Page)
WORKER_TIMEOUT = 240


class TimedSiteServer(SiteServer):
    """The fixture site, also noting when each request arrived (for the rate limit)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.times: list[tuple[float, str]] = []
        self._times_lock = threading.Lock()

    def handle(self, handler: Any) -> None:
        with self._times_lock:
            self.times.append((time.monotonic(), handler.path))
        super().handle(handler)


@pytest.fixture
def site() -> Iterator[TimedSiteServer]:
    server = TimedSiteServer(SITE_DIR)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def database_view(url: str, site_url: str) -> dict[str, Any]:
    """What a crawl stored, without ids, times and the fixture server's port.

    Row counts per table, each study's content (as the store hashes it, so card
    ages relative to today do not count), the pages and thread keys.
    """
    netloc = urlsplit(site_url).netloc

    def portless(value: Any) -> Any:
        return json.loads(json.dumps(value).replace(netloc, "SITE"))

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            counts = {
                m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
                for m in TABLES
            }
            studies = {
                study_id: content_hash(portless(snapshot))
                for study_id, snapshot in conn.execute(select(Study.study_id, Study.snapshot))
            }
            pages = set(portless(list(conn.execute(select(Page.url)).scalars())))
            threads = set(portless(list(conn.execute(select(Thread.thread_key)).scalars())))
    finally:
        engine.dispose()
    return {"counts": counts, "studies": studies, "pages": pages, "threads": threads}


def assert_same_rows(view: dict[str, Any], reference: dict[str, Any]) -> None:
    """The view equals the reference; says what differs when not."""
    missing = sorted(set(reference["studies"]) - set(view["studies"]))
    changed = sorted(
        k for k in view["studies"] if view["studies"][k] != reference["studies"].get(k)
    )
    assert view["counts"] == reference["counts"], (missing, changed)
    assert not missing and not changed, (missing, changed)
    assert view == reference


def crawl_runs(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One single-process crawl of the fixture site: what the workers together must store."""
    tmp = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{tmp / 'reference.db'}"
    with SiteServer(SITE_DIR) as server:
        settings = {"SITE_URL": server.url, "DATABASE_URL": url}
        result = run_scrapy(["crawl", "studies"], settings, cwd=tmp)
        assert result.returncode == 0, result.stderr[-3000:]
        view = database_view(url, server.url)
    assert set(view["studies"]) == set(MANIFEST["expected_study_ids"])
    assert view["counts"]["history"] == 0
    return view


class Cluster:
    """Seeds a crawl and runs workers as separate ``scrapy`` processes; kills what is left."""

    def __init__(self, tmp_path: Path, settings: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}
        self.redis = redis.Redis.from_url(settings["REDIS_URL"])
        self.base = f"{settings['REDIS_KEY_PREFIX']}:default:studies"

    def seed(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_scrapy(["seed", "studies", *extra], self.settings, cwd=self.tmp_path)

    def start(self, count: int) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            log = self.tmp_path / f"worker-{len(self.procs) + 1}.log"
            proc = start_scrapy(["crawl", "studies"], self.settings, cwd=self.tmp_path, log=log)
            self.procs.append(proc)
            self.logs[proc.pid] = log
            started.append(proc)
        return started

    def output(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text(encoding="utf-8", errors="replace")

    def wait(self, procs: list[subprocess.Popen[bytes]]) -> None:
        deadline = time.monotonic() + WORKER_TIMEOUT
        for proc in procs:
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"worker {proc.pid} did not exit:\n{self.output(proc)[-3000:]}")

    def assert_clean_exit(self, procs: list[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            out = self.output(proc)
            assert proc.returncode == 0, out[-3000:]
            assert "Traceback" not in out, out[-3000:]
            assert "Closing spider (finished)" in out, out[-3000:]

    def in_flight(self) -> dict[int, int]:
        """pid -> requests in that worker's in-flight ledger."""
        counts: dict[int, int] = {}
        for key in self.redis.scan_iter(match=f"{self.base}:inflight:*"):
            worker = key.decode().rsplit(":inflight:", 1)[1]
            counts[int(worker.split(":")[1])] = int(self.redis.hlen(key))
        return counts

    def frontier_leftovers(self) -> list[str]:
        """Keys left but the crawl's memory (fingerprints, touched studies, the sweep's claim)."""
        keys = [k.decode() for k in self.redis.scan_iter(match=f"{self.base}:*")]
        memory = (":dupefilter", ":tickets", ":touched", ":sweep")
        return sorted(k for k in keys if not k.endswith(memory))

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        self.redis.close()


@pytest.fixture
def cluster_settings(
    site: TimedSiteServer, postgres_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    return {
        "SITE_URL": site.url,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "REDIS_IDLE_TIMEOUT": "1",
        "FRONTIER_WORKER_TTL": "3",
        "SHARED_RATE_LIMIT": "10",
        # A worker takes as many requests as it may download at once, and idle workers look for
        # work every 5 s: few per worker, so that the fixture site's ~60 pages are shared.
        "CONCURRENT_REQUESTS": "4",
    }


@pytest.fixture
def cluster(tmp_path: Path, cluster_settings: dict[str, str]) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, cluster_settings)
    try:
        yield cluster
    finally:
        cluster.close()


def seeded(cluster: Cluster, *extra: str) -> None:
    result = cluster.seed(*extra)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def get_paths(site: TimedSiteServer) -> list[str]:
    return [record.path for record in site.requests if record.method == "GET"]


def test_three_workers_store_what_one_process_stores_and_fetch_each_page_once(
    site: TimedSiteServer, cluster: Cluster, postgres_url: str, reference: dict[str, Any]
) -> None:
    seeded(cluster)
    assert get_paths(site) == []  # seeding pushes the start requests, it fetches nothing
    workers = cluster.start(3)
    cluster.wait(workers)
    cluster.assert_clean_exit(workers)

    view = database_view(postgres_url, site.url)
    assert set(view["studies"]) == set(MANIFEST["expected_study_ids"])
    assert_same_rows(view, reference)  # same rows, same contents, no duplicates, no history

    paths = get_paths(site)
    repeated = {path: n for path, n in Counter(paths).items() if n > 1 and path != "/robots.txt"}
    assert repeated == {}, "pages fetched more than once"
    runs = crawl_runs(postgres_url)
    assert len(runs) == 3 and {run.status for run in runs} == {"finished"}
    assert sum(run.pages_fetched for run in runs) == len(site.requests)
    assert sum(1 for run in runs if run.pages_fetched > 0) >= 2, "the work was not shared"
    # Requests left the ledgers as their batches committed, not only when the workers closed.
    assert sum(run.stats.get("frontier/confirmed", 0) for run in runs) > 0
    assert cluster.frontier_leftovers() == []
    assert lock_frontiers(postgres_url) == []

    # A second distributed crawl of the same database is incremental, as a single-process one.
    site.reset_requests()
    seeded(cluster)
    workers = cluster.start(2)
    cluster.wait(workers)
    cluster.assert_clean_exit(workers)
    assert_same_rows(database_view(postgres_url, site.url), reference)
    second = crawl_runs(postgres_url)[3:]
    assert len(second) == 2
    assert sum(run.items_new + run.items_updated for run in second) == 0
    assert sum(run.stats.get("incremental/skipped_lastmod", 0) for run in second) > 0
    assert len(site.requests) < len(paths) / 2


def test_a_distributed_incremental_crawl_sweeps_the_studies_only_links_reach(
    tmp_path: Path, cluster_settings: dict[str, str], postgres_url: str
) -> None:
    site_dir = tmp_path / "site"
    shutil.copytree(SITE_DIR, site_dir, symlinks=True)
    link_only = MANIFEST["link_only"]
    linker = MANIFEST["expected_study_paths"][link_only["linked_from"][0]]
    with TimedSiteServer(site_dir) as server:
        cluster = Cluster(tmp_path, {**cluster_settings, "SITE_URL": server.url})
        try:
            seeded(cluster)
            cluster.wait(cluster.start(2))
            new_tldr = change_link_only(site_dir)
            server.reset_requests()
            seeded(cluster)
            workers = cluster.start(2)
            cluster.wait(workers)
            cluster.assert_clean_exit(workers)
        finally:
            cluster.close()
        paths = get_paths(server)

    # The page linking to it was skipped as unchanged: only the sweep could reach the study.
    assert linker not in paths
    assert paths.count(link_only["path"]) == 1
    assert [p for p, n in Counter(paths).items() if n > 1 and p != "/robots.txt"] == []
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            tldr = conn.execute(
                select(Study.tldr).where(Study.study_id == link_only["study_id"])
            ).scalar_one()
    finally:
        engine.dispose()
    assert tldr == new_tldr
    second = crawl_runs(postgres_url)[2:]
    assert len(second) == 2 and {run.status for run in second} == {"finished"}
    assert sum(run.items_updated for run in second) == 1
    # One worker swept, for the whole crawl: with every worker's touched studies.
    sweepers = [run for run in second if "incremental/swept" in run.stats]
    assert len(sweepers) == 1, [run.stats for run in second]
    assert sweepers[0].stats["incremental/swept"] >= 1


def test_shared_rate_limit_holds_for_the_site_as_a_whole(
    site: TimedSiteServer, cluster: Cluster, postgres_url: str
) -> None:
    rate = 6.0
    cluster.settings["SHARED_RATE_LIMIT"] = str(rate)
    seeded(cluster)
    workers = cluster.start(3)
    # While the workers crawl, they hold the spider's crawl lock together: a single-process
    # crawl of the same spider on the same database is refused.
    assert wait_for_lock(postgres_url) == f"{cluster.settings['REDIS_KEY_PREFIX']}:default"
    alone = {k: v for k, v in cluster.settings.items() if k != "REDIS_URL"}
    refused = run_scrapy(["crawl", "studies"], alone, cwd=cluster.tmp_path)
    assert refused.returncode != 0
    assert "Crawl refused" in refused.stderr and "distributed crawl" in refused.stderr
    cluster.wait(workers)
    cluster.assert_clean_exit(workers)
    assert lock_frontiers(postgres_url) == []  # the last worker to leave released it

    times = sorted(t for t, _ in site.times)
    assert len(times) > 30
    # In every one-second window, at most `rate` requests (plus one for timing jitter), even though
    # three processes, each allowed 4 concurrent requests, were fetching.
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= rate + 1, busiest
    assert times[-1] - times[0] >= (len(times) - 1) / rate * 0.9
    runs = crawl_runs(postgres_url)
    assert sum(1 for run in runs if run.pages_fetched > 0) >= 2, "one worker did everything"
    assert sum(run.stats.get("ratelimit/delayed", 0) for run in runs) > 0


def lock_frontiers(url: str) -> list[str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(CrawlLock.frontier)).scalars())
    finally:
        engine.dispose()


def wait_for_lock(url: str) -> str | None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            held = lock_frontiers(url)
        except Exception:  # the schema is not there yet
            held = []
        if held:
            return held[0]
        time.sleep(0.1)
    pytest.fail("no worker took the crawl lock")


def kill_busiest_worker(
    cluster: Cluster, site: TimedSiteServer, after: int
) -> tuple[subprocess.Popen[bytes], int]:
    """SIGKILL, once the site has answered ``after`` requests, the worker holding most requests.

    Returns the process and how many requests its ledger held when it died.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        live = {proc.pid: proc for proc in cluster.procs if proc.poll() is None}
        in_flight = {pid: n for pid, n in cluster.in_flight().items() if pid in live and n > 0}
        if len(site.requests) >= after and in_flight:
            pid = max(in_flight, key=in_flight.__getitem__)
            live[pid].send_signal(signal.SIGKILL)
            live[pid].wait(timeout=30)
            # Read again: it may have finished or taken requests since. The others requeue the
            # ledger only once its heartbeat key expires (FRONTIER_WORKER_TTL, 3 s).
            return live[pid], cluster.in_flight().get(pid, 0)
        time.sleep(0.05)
    pytest.fail("no worker had requests in flight to kill")


def test_a_killed_worker_loses_nothing_the_others_finish_its_requests(
    site: TimedSiteServer, cluster: Cluster, postgres_url: str, reference: dict[str, Any]
) -> None:
    seeded(cluster)
    workers = cluster.start(3)
    victim, held = kill_busiest_worker(cluster, site, after=20)
    survivors = [proc for proc in workers if proc is not victim]
    cluster.wait(survivors)
    cluster.assert_clean_exit(survivors)
    assert victim.returncode == -signal.SIGKILL

    assert_same_rows(database_view(postgres_url, site.url), reference)  # nothing lost or doubled
    runs = crawl_runs(postgres_url)
    assert sorted(run.status for run in runs) == ["finished", "finished", "interrupted"]
    (lost,) = [run for run in runs if run.status == "interrupted"]
    assert lost.pid == victim.pid and lost.finish_reason == "worker_lost"
    assert lost.finished_at is not None
    assert len({run.worker for run in runs}) == 3
    finished = [run for run in runs if run.status == "finished"]
    requeued = sum(run.stats.get("frontier/requeued", 0) for run in finished)
    assert requeued >= held >= 1, (requeued, held)
    assert cluster.frontier_leftovers() == []
    assert lock_frontiers(postgres_url) == []


def test_when_every_worker_died_a_new_worker_resumes_the_crawl(
    site: TimedSiteServer, cluster: Cluster, postgres_url: str, reference: dict[str, Any]
) -> None:
    seeded(cluster)
    cluster.start(1)
    victim, held = kill_busiest_worker(cluster, site, after=15)
    assert victim.returncode == -signal.SIGKILL
    # Nothing runs now; the frontier and the dead worker's ledger wait in Redis.
    assert cluster.redis.zcard(f"{cluster.base}:requests") + held > 0

    # Resuming needs no seed (it would refuse: the crawl is not finished): start a worker.
    refused = cluster.seed()
    assert refused.returncode == 2 and "not finished" in refused.stderr
    (worker,) = cluster.start(1)
    cluster.wait([worker])
    cluster.assert_clean_exit([worker])
    assert_same_rows(database_view(postgres_url, site.url), reference)
    assert "requests are back in the queue" in cluster.output(worker)
    assert cluster.frontier_leftovers() == []
    assert lock_frontiers(postgres_url) == []  # joined the dead worker's lock, released it
    # The new worker found the dead one's run row and closed it.
    statuses = {run.pid: (run.status, run.finish_reason) for run in crawl_runs(postgres_url)}
    assert statuses == {
        victim.pid: ("interrupted", "worker_lost"),
        worker.pid: ("finished", "finished"),
    }


def test_seed_starts_a_new_crawl_and_idle_workers_exit_on_their_own(
    site: TimedSiteServer, cluster: Cluster
) -> None:
    # Workers without a seed find an empty frontier and exit after REDIS_IDLE_TIMEOUT.
    (worker,) = cluster.start(1)
    cluster.wait([worker])
    cluster.assert_clean_exit([worker])
    assert "Shared frontier idle" in cluster.output(worker)
    assert site.requests == []

    queue = f"{cluster.base}:requests"
    seeded(cluster)
    assert cluster.redis.zcard(queue) == 1  # robots.txt: its callback finds the sitemaps
    refused = cluster.seed()
    assert refused.returncode == 2 and "--reset" in refused.stderr
    seeded(cluster, "--add")
    assert cluster.redis.zcard(queue) == 1
    seeded(cluster, "--reset")
    assert cluster.redis.zcard(queue) == 1
    assert site.requests == []


def test_a_worker_takes_no_request_before_it_knows_what_the_database_holds(
    site: TimedSiteServer, cluster: Cluster, postgres_url: str
) -> None:
    """A re-crawl of an unchanged site: the worker's load of what the database knows is held
    up (another session locks the studies table); meanwhile it fetches nothing, and once it
    knows, no study page is fetched in full."""
    seeded(cluster)
    cluster.wait(cluster.start(1))
    site.reset_requests()
    seeded(cluster)
    plain = make_url(postgres_url).set(drivername="postgresql")
    holder = psycopg.connect(plain.render_as_string(hide_password=False))
    try:
        holder.execute("LOCK TABLE studies IN ACCESS EXCLUSIVE MODE")
        (worker,) = cluster.start(1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(crawl_runs(postgres_url)) < 2:
            assert worker.poll() is None, cluster.output(worker)[-3000:]
            time.sleep(0.1)
        time.sleep(4)  # the engine asks its scheduler for requests at least every 5 s
        assert worker.poll() is None, cluster.output(worker)[-3000:]
        assert get_paths(site) == [], "requests were taken before the database was read"
    finally:
        holder.rollback()
        holder.close()
    cluster.wait([worker])
    cluster.assert_clean_exit([worker])
    full = [
        r.path
        for r in site.requests
        if r.status == 200 and r.path in MANIFEST["expected_study_paths"].values()
    ]
    assert full == [], "unchanged studies were fetched in full"
    (second,) = crawl_runs(postgres_url)[1:]
    assert second.status == "finished"
    assert second.stats.get("incremental/skipped_lastmod", 0) > 0
