"""The pieces of distributed mode on a real Redis: the add-on, the in-flight ledger,
the shared rate limit and the serialisation of our requests through scrapy-redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from scrapy_redis.queue import PriorityQueue

from tressless_crawler import settings as project_settings
from tressless_crawler.distributed.inflight import InFlightLedger, frontier_state
from tressless_crawler.distributed.mode import DistributedCrawl, FrontierKeys
from tressless_crawler.distributed.ratelimit import RESERVE, SharedRateLimitMiddleware
from tressless_crawler.distributed.scheduler import SharedScheduler
from tressless_crawler.distributed.touched import CHECK_CHUNK, SWEEP_CLAIM_TTL, Touched
from tressless_crawler.items import ResearchRef, StudyItem
from tressless_crawler.spiders.studies import StudiesSpider


def project(**cmdline: Any) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.setdict(cmdline, priority="cmdline")
    return settings


def test_without_redis_url_the_addon_changes_nothing() -> None:
    settings = project()
    before = settings.copy_to_dict()
    DistributedCrawl().update_settings(settings)
    assert settings.copy_to_dict() == before
    assert settings["SCHEDULER"] == "tressless_crawler.runs.jobdir.ResumableScheduler"


def test_with_redis_url_the_addon_moves_the_frontier_to_redis() -> None:
    settings = project(REDIS_URL="redis://example:6379/0", CRAWL_ID="run%1", DOWNLOAD_DELAY=2.5)
    DistributedCrawl().update_settings(settings)
    assert settings["SCHEDULER"] == "tressless_crawler.distributed.scheduler.SharedScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings.getbool("SCHEDULER_PERSIST") is True
    spider, prefix = {"spider": "studies"}, "tressless-crawler:run%1:studies"
    assert settings["SCHEDULER_QUEUE_KEY"] % spider == "tressless-crawler:run%1:studies:requests"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] % spider == f"{prefix}:dupefilter"
    # Project defaults that are wrong for several processes give way, -s values never do.
    # Batches stay the project's size: a worker confirms its requests when their batch commits.
    assert settings.getint("STORE_BATCH_SIZE") == 500
    assert settings.getbool("CRAWL_LOCK_ENABLED") is True  # held by the workers together
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
    assert settings.getfloat("DOWNLOAD_DELAY") == 2.5
    assert SharedRateLimitMiddleware in settings.getdict("DOWNLOADER_MIDDLEWARES")


def test_a_component_turned_off_with_none_stays_off() -> None:
    path = "tressless_crawler.distributed.ratelimit.SharedRateLimitMiddleware"
    settings = project(REDIS_URL="redis://example:6379/0", DOWNLOADER_MIDDLEWARES={path: None})
    DistributedCrawl().update_settings(settings)
    assert settings.getdict("DOWNLOADER_MIDDLEWARES") == {path: None}


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_ledger_pop_finish_and_requeue_of_a_dead_worker(
    server: redis.Redis, redis_prefix: str
) -> None:
    keys = FrontierKeys(f"{redis_prefix}:default:studies")
    alive = InFlightLedger(server, keys, keys.queue, "host:1:a", ttl=30)
    dying = InFlightLedger(server, keys, keys.queue, "host:2:b", ttl=0.2)
    alive.register()
    dying.register()
    for member, score in ((b"low", 0), (b"high", -5), (b"mid", -1)):
        server.execute_command("ZADD", keys.queue, score, member)

    first = dying.pop()
    second = dying.pop()
    assert first is not None and first[1] == b"high"  # priority order, as scrapy-redis pops
    assert second is not None and second[1] == b"mid"
    assert server.zcard(keys.queue) == 1 and server.hlen(keys.inflight("host:2:b")) == 2
    assert alive.in_flight_elsewhere() == 2
    dying.finished([first[0]], durable=False)  # items buffered: kept as processed
    assert server.hlen(keys.processed("host:2:b")) == 1
    assert alive.reclaim_dead() == {}  # still alive: nothing is taken from it

    time.sleep(0.3)
    assert alive.reclaim_dead() == {"host:2:b": 2}
    queued = server.zrange(keys.queue, 0, -1, withscores=True)
    assert queued == [(b"high", -5.0), (b"mid", -1.0), (b"low", 0.0)]
    assert alive.workers() == ["host:1:a"]
    assert alive.in_flight_elsewhere() == 0

    field, _ = alive.pop() or ("", b"")
    alive.finished([field], durable=True)
    assert frontier_state(server, keys, keys.queue) == {
        "queued": 2,
        "seen": 0,
        "in_flight": 0,
        "processed": 0,
        "alive_workers": 1,
        "workers": 1,
    }
    alive.unregister()
    assert alive.workers() == []


def test_touched_studies_are_shared_by_the_workers_and_one_of_them_sweeps(
    server: redis.Redis, redis_prefix: str
) -> None:
    keys = FrontierKeys(f"{redis_prefix}:default:studies")
    one, two = Touched(server, keys), Touched(server, keys)
    for study_id in ("aaa1", "bbb2", "aaa1"):
        one.add(study_id)
    two.add("ccc3")
    assert "aaa1" in one and "ccc3" not in one and len(one) == 2
    assert server.scard(keys.touched) == 0  # batched: nothing sent before a flush
    one.flush()
    assert sorted(server.smembers(keys.touched)) == [b"aaa1", b"bbb2"]
    # untouched() sends this worker's own ids first, then asks the shared set.
    assert one.untouched(["ccc3", "aaa1", "ddd4"]) == ["ccc3", "ddd4"]
    assert two.untouched(["ccc3", "aaa1", "ddd4", "bbb2"]) == ["ddd4"]
    assert server.scard(keys.touched) == 3
    many = [f"x{i:05d}" for i in range(CHECK_CHUNK + 10)]  # more than one SMISMEMBER
    server.sadd(keys.touched, *many[::2])
    assert one.untouched(many) == many[1::2]
    # One worker at a time claims the sweep; the claim expires unless renewed (a sweeper that
    # dies leaves the sweep to another), and stays for good once the sweep is queued.
    assert two.claim_sweep("host:2:b") is True
    assert one.claim_sweep("host:1:a") is False
    assert server.get(keys.sweep) == b"host:2:b" and 0 < server.ttl(keys.sweep) <= SWEEP_CLAIM_TTL
    assert not one.sweep_done()
    server.expire(keys.sweep, 1)
    two.renew_sweep()
    assert server.ttl(keys.sweep) > 1
    server.pexpire(keys.sweep, 1)  # the sweeper died: its claim runs out
    time.sleep(0.05)
    assert one.claim_sweep("host:1:a") is True
    one.finish_sweep()
    assert one.sweep_done() and two.sweep_done()
    assert two.claim_sweep("host:2:b") is False
    # In one process (no Redis) it is a plain set, and that process sweeps.
    alone = Touched()
    alone.add("aaa1")
    alone.flush()
    assert alone.untouched(["aaa1", "eee5"]) == ["eee5"] and alone.claim_sweep("w")
    alone.renew_sweep()
    alone.finish_sweep()
    assert not alone.sweep_done()  # nothing shared to be done with


def test_touched_ids_stay_pending_when_redis_refuses_them(redis_prefix: str) -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    touched = Touched(unreachable, FrontierKeys(f"{redis_prefix}:default:studies"))
    touched.add("aaa1")
    with pytest.raises(redis.ConnectionError):
        touched.flush()
    assert touched.pending == ["aaa1"]  # sent with the next flush


def test_rate_limit_reservations_are_spaced_whoever_asks(
    server: redis.Redis, redis_prefix: str
) -> None:
    """Three clients (as three processes would) reserving turns of one host: one every interval."""
    clients = [redis.Redis(connection_pool=server.connection_pool) for _ in range(3)]
    scripts = [client.register_script(RESERVE) for client in clients]
    for script in scripts:
        # Load the script first: the first call is slower.
        script(keys=[f"{redis_prefix}:ratelimit:warm-up"], args=[1])
    sends = []
    for turn in range(12):
        asked = time.monotonic()
        wait_ms = int(scripts[turn % 3](keys=[f"{redis_prefix}:ratelimit:host"], args=[100]))
        sends.append(asked + wait_ms / 1000)
    gaps = [b - a for a, b in zip(sends, sends[1:], strict=False)]
    assert all(0.092 <= gap <= 0.108 for gap in gaps), gaps


def test_our_requests_survive_the_trip_through_redis(
    server: redis.Redis, redis_url: str, redis_prefix: str
) -> None:
    """Callbacks, cb_kwargs, meta and headers come back as they went, via scrapy-redis' pickling."""
    settings = {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "SITE_URL": "http://127.0.0.1:1",
    }
    crawler = get_crawler(StudiesSpider, settings)
    spider = StudiesSpider.from_crawler(crawler)
    keys = FrontierKeys.for_spider(crawler.settings, spider.name)
    queue = PriorityQueue(server, spider, keys.queue)
    request = spider.study_request("http://127.0.0.1:1/research/a-study-Ab1c")
    request.headers["If-None-Match"] = '"etag"'
    queue.push(request)
    ledger = InFlightLedger(server, keys, keys.queue, "w", ttl=5)
    _, data = ledger.pop() or ("", b"")
    back = SharedScheduler.decode(queue, data, spider)
    assert back.url == request.url
    assert back.callback == request.callback  # parse_study, or its worker form (PARSE_WORKERS)
    assert back.callback in (spider.parse_study, spider.parse_study_in_worker)
    assert back.cb_kwargs == {"follow": True}
    assert back.meta == request.meta
    assert back.headers.get("If-None-Match") == b'"etag"'


def test_the_scheduler_opens_on_a_queue_left_by_an_earlier_crawl(
    server: redis.Redis, redis_url: str, redis_prefix: str
) -> None:
    """scrapy-redis' own open() (its note of a resumed queue goes through the deprecated
    Spider.log(): warnings are errors here), with our check of the queue class."""
    project_settings = project(REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    DistributedCrawl().update_settings(project_settings)
    names = ["REDIS_URL", "REDIS_KEY_PREFIX", "SCHEDULER_PERSIST", "DUPEFILTER_CLASS"]
    names += [name for name in project_settings if name.startswith("SCHEDULER_")]
    settings = {name: project_settings[name] for name in names}
    settings |= {"SITE_URL": "http://127.0.0.1:1", "FRONTIER_SEEDING": True}
    crawler = get_crawler(StudiesSpider, settings)
    spider = StudiesSpider.from_crawler(crawler)
    keys = FrontierKeys.for_spider(crawler.settings, spider.name)
    PriorityQueue(server, spider, keys.queue).push(
        spider.study_request("http://127.0.0.1:1/research/a-study-Ab1c")
    )
    scheduler = SharedScheduler.from_crawler(crawler)
    scheduler.open(spider)
    assert scheduler.queue.key == keys.queue
    assert len(scheduler) == 1

    settings["SCHEDULER_QUEUE_CLASS"] = "scrapy_redis.queue.FifoQueue"
    crawler = get_crawler(StudiesSpider, settings)
    with pytest.raises(ValueError, match="SCHEDULER_QUEUE_CLASS"):
        SharedScheduler.from_crawler(crawler).open(StudiesSpider.from_crawler(crawler))


def test_links_to_studies_another_worker_skipped_are_not_followed(
    server: redis.Redis, redis_url: str, redis_prefix: str
) -> None:
    """A study another worker skipped as unchanged was never requested, so the shared
    duplicate filter does not know it: the worker following a link to it asks the shared
    touched set, as one process asks its own."""
    site = "http://127.0.0.1:1"
    settings = {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": redis_prefix, "SITE_URL": site}
    one, two = (StudiesSpider.from_crawler(get_crawler(StudiesSpider, settings)) for _ in "12")
    two.touched.add("Sk1p")  # two skipped it (sitemap lastmod) ...
    two.touched.flush()  # ... and said so before its requests settled

    def ref(study_id: str) -> ResearchRef:
        return ResearchRef(study_id=study_id, url=f"{site}/research/s-{study_id}")

    item = StudyItem(
        study_id="Lnk1",
        cited=[ref("Sk1p"), ref("New1")],
        related=[ref("New1"), ref("Lnk1")],
    )
    one.touched.add("Lnk1")  # its own page
    response = HtmlResponse(f"{site}/research/s-Lnk1", body=b"")
    followed = [r.url for r in one.follow_research(response, item)]
    assert followed == [f"{site}/research/s-New1"]

    alone = StudiesSpider.from_crawler(get_crawler(StudiesSpider, {"SITE_URL": site}))
    alone.touched.add("Lnk1")
    assert [r.url for r in alone.follow_research(response, item)] == [
        f"{site}/research/s-Sk1p",
        f"{site}/research/s-New1",
    ]
