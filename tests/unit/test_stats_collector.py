"""The crawl's stats collector keeps Scrapy's in-memory collector's behaviour."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from tressless_crawler import settings
from tressless_crawler.runs.stats_collector import CrawlStatsCollector
from tressless_crawler.spiders.studies import StudiesSpider


def test_the_project_uses_it() -> None:
    crawler = get_crawler(StudiesSpider, {"STATS_CLASS": settings.STATS_CLASS})
    assert type(crawler.stats) is CrawlStatsCollector


def test_every_operation_gives_what_scrapys_collector_gives() -> None:
    crawler = get_crawler(StudiesSpider)
    ours, scrapys = CrawlStatsCollector(crawler), MemoryStatsCollector(crawler)
    for stats in (ours, scrapys):
        stats.open_spider()
        stats.inc_value("a")
        stats.inc_value("a", 4)
        stats.inc_value("b", 2, start=10)
        stats.set_value("c", "x")
        stats.max_value("m", 3)
        stats.max_value("m", 1)
        stats.min_value("n", 3)
        stats.min_value("n", 1)
        stats.set_stats({**stats.get_stats(), "d": 1})
    assert ours.get_stats() == scrapys.get_stats() == {
        "a": 5, "b": 12, "c": "x", "m": 3, "n": 1, "d": 1
    }  # fmt: skip
    assert ours.get_value("missing", 7) == 7
    ours.clear_stats()
    assert ours.get_stats() == {}
