"""Pages that are not studies, served at a study URL, are never stored.

``tests/fixtures/pages/not_study`` holds pages written for the purpose (login walls, a
challenge page, soft 404s, block pages, a recipe, a forum, a news story about a study, the
site's own non-study pages, an empty React shell whose study is only in its scripts) and,
under ``readability/``, real-world pages from Mozilla Readability's test corpus (Apache 2.0,
see the README there). Each must come out of the parser and the validate pipeline as a
counted drop.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from tressless_crawler.items import Drop, StudyItem
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.pipelines.normalize import NormalizePipeline
from tressless_crawler.pipelines.validate import ValidatePipeline
from tressless_crawler.spiders.studies import page_source

PAGES = sorted(
    (Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "not_study").rglob("*.html")
)
URL = "https://tressless.com/research/a-study-that-was-here-Xy12"


def stored(body: bytes) -> bool:
    """Whether the page would reach the database: parsed, normalised and validated."""
    result = parse_study(page_source(HtmlResponse(URL, body=body)), URL)
    if isinstance(result, Drop):
        return False
    assert isinstance(result, StudyItem)
    crawler = get_crawler()
    crawler.stats.open_spider()
    item = NormalizePipeline.from_crawler(crawler).process_item(result)
    try:
        ValidatePipeline.from_crawler(crawler).process_item(item)
    except DropItem:
        return False
    return True


def test_there_are_enough_varied_pages() -> None:
    assert len(PAGES) >= 30
    assert len({p.parent.name for p in PAGES}) == 2  # written here and taken from a corpus


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_that_is_no_study_is_not_stored(page: Path) -> None:
    assert not stored(page.read_bytes())


def test_the_same_check_stores_a_study() -> None:
    study = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"
    assert stored((study / "sorafenib_cards_full.html").read_bytes())
