"""End to end: a crawl makes one database engine and checks the schema once; its stats keys
are declared.

The run recorder, the store, the crawl report and the spiders' reads of what earlier crawls
stored all share the crawl's database (``tressless_crawler.db.crawl_database``). Counted from
the DEBUG lines of ``tressless_crawler.db.engine.make_engine`` and of the schema check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, Study, Thread
from tressless_crawler.stats import is_declared

pytestmark = pytest.mark.e2e

ENGINE_LINE = "[tressless_crawler.db.engine] DEBUG: Database engine for "
SCHEMA_LINE = "[tressless_crawler.db.schema] DEBUG: Schema check on "
# Scrapy's own stats (its core, downloader, scheduler, extensions and middlewares).
SCRAPY_KEYS = (
    "downloader/",
    "dupefilter/",
    "elapsed_time_seconds",
    "finish_",
    "httpcompression/",
    "item_",
    "items_per_minute",
    "log_count/",
    "memusage/",
    "response_received_count",
    "responses_per_minute",
    "retry/",
    "robotstxt/",
    "scheduler/",
    "start_time",
)


def crawl(spider: str, site_server, db_url: str, tmp_path: Path) -> str:
    result = run_scrapy(
        ["crawl", spider],
        {
            "SITE_URL": site_server.url,
            "DATABASE_URL": db_url,
            "COMMUNITY_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "DEBUG",
        },
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def test_a_crawl_makes_one_engine_and_checks_the_schema_once(
    site_server, db_url: str, tmp_path: Path
) -> None:
    # The first crawl creates the schema, the second finds it; the community crawl reads
    # threads and stored comments, and every crawl reads the previous run for its report.
    for spider in ("studies", "studies", "community"):
        log = crawl(spider, site_server, db_url, tmp_path)
        assert log.count(ENGINE_LINE) == 1, (spider, log.count(ENGINE_LINE))
        assert log.count(SCHEMA_LINE) == 1, (spider, log.count(SCHEMA_LINE))
    engine = make_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(select(CrawlRun.id, CrawlRun.status).order_by(CrawlRun.id)).all()
        keys = {key for (stats,) in conn.execute(select(CrawlRun.stats)) for key in stats}
        studies = set(conn.execute(select(Study.first_run_id, Study.last_run_id)).all())
        threads = set(conn.execute(select(Thread.last_run_id).where(Thread.source == "thread")))
    engine.dispose()
    # The runs closed, and the store wrote with the id of the run the recorder opened.
    assert [status for _, status in runs] == ["finished"] * 3
    first, second, community = (run_id for run_id, _ in runs)
    assert {first_run for first_run, _ in studies} == {first}
    assert {last_run for _, last_run in studies} <= {first, second} and (first, second) in studies
    assert threads == {(community,)}
    # Every stats key the runs kept is Scrapy's or declared in tressless_crawler/stats.py.
    assert "store/new" in keys
    assert sorted(k for k in keys if not (is_declared(k) or k.startswith(SCRAPY_KEYS))) == []
