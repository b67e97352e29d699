"""A page's record (status and validators) is stored with the item read from that page, in the
same transaction, never before it: validators without their item would answer 304 to the next
crawl and keep the item out of the database for good. On SQLite and PostgreSQL.

The read side holds too: validators of a page whose item is not stored (left by an older
crawler) never make a request conditional.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from tests.conftest import FIXTURES
from tressless_crawler import signals as crawler_signals
from tressless_crawler.db.batch import Batch, write_batch
from tressless_crawler.db.crawl_database import CrawlDatabase
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import Page, Study
from tressless_crawler.db.schema import upgrade
from tressless_crawler.exceptions import DuplicateItem
from tressless_crawler.incremental.known import load_known_site
from tressless_crawler.items import StudyItem, ThreadItem
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.pipelines.store import StorePipeline
from tressless_crawler.spiders.community import CommunitySpider
from tressless_crawler.spiders.studies import StudiesSpider

PAGE = FIXTURES / "pages" / "study" / "sorafenib_cards_full.html"
URL = "https://tressless.com/research/alopecia-induced-by-sorafenib-mechanism-similar-to-aa-ZpoR"
SITE = "http://127.0.0.1:9"


def item(study_id: str) -> StudyItem:
    base = parse_study(PAGE.read_text(encoding="utf-8"), URL)
    return dataclasses.replace(base, study_id=study_id, url=page_url(study_id))


def page_url(study_id: str) -> str:
    return f"{SITE}/research/some-study-{study_id}"


def stored(db_url: str) -> tuple[set[str], dict[str, str | None]]:
    """Stored study ids, and the ETag of each recorded page by its study id."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            studies = set(conn.execute(select(Study.study_id)).scalars())
            pages = {key: etag for key, etag in conn.execute(select(Page.key, Page.etag))}
    finally:
        engine.dispose()
    return studies, pages


class Store:
    """The store pipeline of a studies crawl, fed the way the crawl feeds it."""

    def __init__(self, db_url: str, batch_size: int) -> None:
        self.crawler = get_crawler(
            StudiesSpider,
            {"DATABASE_URL": db_url, "STORE_BATCH_SIZE": batch_size, "STORE_FLUSH_SECONDS": 0},
        )
        self.pipeline = StorePipeline.from_crawler(self.crawler)

    def fetched(self, study: StudyItem | None, study_id: str, status: int = 200) -> None:
        """What the spider does once a page is parsed, before it yields the item."""
        response = Response(page_url(study_id), status=status, headers={"ETag": f'"{study_id}"'})
        crawler_signals.send_page_fetched(
            self.crawler, response, "study", study_id, page_url(study_id), item=study
        )

    def dropped(self, study: StudyItem, exception: DropItem) -> None:
        self.crawler.signals.send_catch_log(
            signal=signals.item_dropped, item=study, response=None, exception=exception, spider=None
        )

    def close(self) -> None:
        """What the crawl's engine_stopped does: the crawl's connections closed."""
        database = CrawlDatabase.of(self.crawler)
        assert database is not None
        database.close()

    def failed(self, study: StudyItem) -> None:
        self.crawler.signals.send_catch_log(
            signal=signals.item_error, item=study, response=None, failure=None, spider=None
        )


def test_a_page_record_waits_for_its_item_and_goes_into_the_same_batch(db_url: str) -> None:
    store = Store(db_url, batch_size=2)
    first, second = item("Pr1"), item("Pr2")

    async def run() -> tuple[set[str], dict[str, str | None]]:
        await store.pipeline.open_spider()
        store.fetched(first, "Pr1")  # parsed; its item is still in the earlier pipelines
        store.fetched(second, "Pr2")
        await store.pipeline.process_item(second)  # item + record: a full batch, written
        between = stored(db_url)
        await store.pipeline.process_item(first)
        await store.pipeline.close_spider()
        store.close()
        return between

    studies, pages = asyncio.run(run())
    # Before: the second item and its record only. The first page's record, which the
    # store had received first, did not go without its item.
    assert (studies, pages) == ({"Pr2"}, {"Pr2": '"Pr2"'})
    assert stored(db_url) == ({"Pr1", "Pr2"}, {"Pr1": '"Pr1"', "Pr2": '"Pr2"'})


def test_records_without_an_item_are_stored_on_their_own(db_url: str) -> None:
    """A gone page (or a 304) has no item: its record is buffered at once."""
    store = Store(db_url, batch_size=1)
    first = item("Pr3")

    async def run() -> None:
        await store.pipeline.open_spider()
        store.fetched(first, "Pr3")
        await store.pipeline.process_item(first)
        store.fetched(None, "Pr3", status=410)  # the next visit: gone
        store.fetched(None, "Pr4", status=404)  # never stored: no pages row
        await store.pipeline.close_spider()
        store.close()

    asyncio.run(run())
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            gone = conn.execute(select(Study.gone_at).where(Study.study_id == "Pr3")).scalar_one()
            statuses = {key: status for key, status in conn.execute(select(Page.key, Page.status))}
    finally:
        engine.dispose()
    assert gone is not None
    assert statuses == {"Pr3": 410}


def test_a_dropped_item_takes_its_page_record_along_a_duplicate_keeps_it(db_url: str) -> None:
    store = Store(db_url, batch_size=1)
    kept, bad, duplicate, broken = item("Pr5"), item("Pr6"), item("Pr5"), item("Pr7")

    async def run() -> None:
        await store.pipeline.open_spider()
        store.fetched(kept, "Pr5")
        await store.pipeline.process_item(kept)
        store.fetched(bad, "Pr6")
        store.dropped(bad, DropItem("missing_title"))
        store.fetched(duplicate, "Pr5dup")  # the same study under another URL
        store.dropped(duplicate, DuplicateItem("duplicate study Pr5"))
        store.fetched(broken, "Pr7")
        store.failed(broken)  # a pipeline raised
        await store.pipeline.close_spider()
        store.close()

    asyncio.run(run())
    studies, pages = stored(db_url)
    assert studies == {"Pr5"}
    assert set(pages) == {"Pr5", "Pr5dup"}
    assert store.pipeline.awaiting == {}


def test_a_record_whose_item_never_reached_the_store_is_not_written_at_close(
    db_url: str,
) -> None:
    """A crawl that closes (or is stopped) with items still on their way: their pages are
    read in full next time."""
    store = Store(db_url, batch_size=50)

    async def run() -> None:
        await store.pipeline.open_spider()
        store.fetched(item("Pr8"), "Pr8")
        await store.pipeline.close_spider()
        store.close()

    asyncio.run(run())
    assert stored(db_url) == (set(), {})


def write_pages(db_url: str, batch: Batch) -> None:
    engine = make_engine(db_url, immediate=True)
    try:
        upgrade(engine)
        write_batch(engine, batch, None, datetime(2026, 1, 1, tzinfo=UTC))
    finally:
        engine.dispose()


def record(kind: str, key: str, url: str, status: int = 200) -> dict[str, Any]:
    return {
        "url": url,
        "kind": kind,
        "key": key,
        "status": status,
        "etag": f'"{key}"',
        "last_modified": None,
    }


def test_validators_of_a_page_whose_study_is_not_stored_are_not_used(db_url: str) -> None:
    """As an older crawler, killed between a page's record and its item, left them."""
    batch = Batch()
    batch.studies.append(dataclasses.asdict(item("Pr9")))
    batch.pages += [
        record("study", "Pr9", page_url("Pr9")),
        record("study", "Pr10", page_url("Pr10")),  # its study never stored
    ]
    write_pages(db_url, batch)
    engine = make_engine(db_url)
    try:
        known = load_known_site(engine)
    finally:
        engine.dispose()
    assert set(known.last_seen) == {"Pr9"}
    assert set(known.pages) == {page_url("Pr9")}


@pytest.mark.parametrize("spider", [StudiesSpider, CommunitySpider])
def test_validators_of_a_thread_never_stored_from_its_page_are_not_used(
    db_url: str, spider: type
) -> None:
    crawled = ThreadItem(
        post_id="pr1thr", url="https://www.reddit.com/r/tressless/comments/pr1thr/a/"
    )
    crawled.title = "A crawled thread"
    batch = Batch()
    batch.threads.append(dataclasses.asdict(crawled))
    fetched = "http://www.reddit.com/r/tressless/comments/pr1thr/a/"
    lost = "http://www.reddit.com/r/tressless/comments/pr2thr/b/"
    batch.pages += [record("thread", "pr1thr", fetched), record("thread", "pr2thr", lost)]
    write_pages(db_url, batch)
    engine = make_engine(db_url)
    try:
        if spider is StudiesSpider:  # follow_community reads them with the studies' pages
            pages = set(load_known_site(engine).pages)
        else:
            crawler = get_crawler(CommunitySpider, {"DATABASE_URL": db_url, "SITE_URL": SITE})
            try:
                pages = set(CommunitySpider.from_crawler(crawler).thread_pages())
            finally:
                database = CrawlDatabase.of(crawler)
                assert database is not None
                database.close()
    finally:
        engine.dispose()
    assert pages == {fetched}
