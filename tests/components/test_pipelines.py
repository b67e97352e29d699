"""Normalise, validate and deduplicate pipelines, built from a real crawler's settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from tressless_crawler.items import CommunityCard, ResearchRef, StudyItem, ThreadItem
from tressless_crawler.pipelines.dedupe import DedupePipeline
from tressless_crawler.pipelines.normalize import NormalizePipeline, clean_markdown
from tressless_crawler.pipelines.validate import ValidatePipeline


def crawler():
    c = get_crawler()
    c.stats.open_spider()
    return c


def stats(c) -> dict:
    return c.stats.get_stats()


def make_study(**kw) -> StudyItem:
    base = dict(study_id="ZpoR", url="https://tressless.com/research/x-ZpoR", title="A title")
    base.update(kw)
    return StudyItem(**base)


def test_normalize_text_unicode_quotes_dates_and_ages() -> None:
    c = crawler()
    pipe = NormalizePipeline.from_crawler(c)
    pipe.crawl_time = datetime(2026, 11, 25, tzinfo=UTC)
    item = make_study(
        title="  Case of\n Alopecia\t Induced  ",
        journal="“ The Journal of Dermatology ”",
        published="November 2017",
        authors=["  Bi\u0301ro\u0301 T ", "", "Vañó‐Galván S"],
        cited=[ResearchRef(title=" X ", journal="“Curēus”", published="May 2014")],
        community_posts=[CommunityCard(title="HELP", age="4 years ago")],
    )
    pipe.process_item(item)
    assert item.title == "Case of Alopecia Induced"
    assert item.journal == "The Journal of Dermatology"
    assert item.published == "2017-11"
    assert item.authors == ["Bíró T", "Vañó‐Galván S"]  # NFC composed, empty dropped, U+2010 kept
    assert item.cited[0].journal == "Curēus" and item.cited[0].published == "2014-05"
    card = item.community_posts[0]
    assert card.posted_precision == "year" and card.posted_approx.startswith("2022")


def test_normalize_counts_unparsed_dates() -> None:
    c = crawler()
    pipe = NormalizePipeline.from_crawler(c)
    item = make_study(published="sometime")
    pipe.process_item(item)
    assert item.published is None
    assert stats(c)["normalize/published_unparsed"] == 1


def test_thread_bodies_keep_line_breaks() -> None:
    # Markdown as written: the hard break ("  " before a line end) and blank lines stay
    assert clean_markdown("\n \na  \r\n\r\n\r\n\r\nb\n") == "a  \n\n\n\nb\n"
    assert clean_markdown(" \n\t\n") is None
    c = crawler()
    thread = ThreadItem(post_id="abc", url="https://x", title=" T ", body="line 1\nline 2")
    NormalizePipeline.from_crawler(c).process_item(thread)
    assert thread.title == "T" and thread.body == "line 1\nline 2"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"study_id": None}, "missing_study_id"),
        ({"study_id": "toolong1"}, "bad_study_id"),
        ({"title": None}, "missing_title"),
        ({"url": "ftp://x/research/a-ZpoR"}, "bad_url"),
        ({"published": "2017"}, "bad_published"),
    ],
)
def test_validate_drops_with_counted_reason(overrides: dict, reason: str) -> None:
    c = crawler()
    pipe = ValidatePipeline.from_crawler(c)
    with pytest.raises(DropItem, match=reason):
        pipe.process_item(make_study(**overrides))
    assert stats(c)[f"validate/dropped/{reason}"] == 1


def test_validate_passes_good_items() -> None:
    c = crawler()
    item = make_study()
    assert ValidatePipeline.from_crawler(c).process_item(item) is item
    assert stats(c)["validate/passed"] == 1


def test_dedupe_one_study_per_id() -> None:
    c = crawler()
    pipe = DedupePipeline.from_crawler(c)
    pipe.process_item(
        make_study(url="https://tressless.com/research/a-frontal-variant-VW69", study_id="VW69")
    )
    with pytest.raises(DropItem):
        pipe.process_item(
            make_study(url="https://tressless.com/research/a-variant-VW69", study_id="VW69")
        )
    pipe.process_item(make_study(study_id="Othr"))
    assert stats(c)["dedupe/dropped/duplicate_study"] == 1
