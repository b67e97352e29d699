"""The study parser against saved pages: ``<name>.html`` next to the expected ``<name>.json``.

Adding a page means adding those two files. The page's URL is read from the browser's
``<!-- saved from url=... -->`` comment at the top of the HTML. A JSON of ``{"drop": reason}``
means the parser must return a ``Drop`` with that reason.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from crawler.items import Drop, StudyItem
from crawler.parsers.study import parse_study

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"
SAVED_FROM_RE = re.compile(r"<!--\s*saved from url=(?:\(\d+\))?(\S+)\s*-->")
DEFAULT_URL = "https://tressless.com/research/{name}-Fx1"


def _cases() -> list[Path]:
    return sorted(PAGES.glob("*.html"))


def _url_of(html: str, name: str) -> str:
    match = SAVED_FROM_RE.search(html[:1000])
    return match.group(1) if match else DEFAULT_URL.format(name=name)


def test_fixture_folder_is_populated() -> None:
    pages = _cases()
    assert len([p for p in pages if not p.stem.startswith("drop_")]) >= 14
    for page in pages:
        assert page.with_suffix(".json").exists(), f"{page.name} has no expected .json"


@pytest.mark.parametrize("page", _cases(), ids=lambda p: p.stem)
def test_study_page(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    result = parse_study(html, _url_of(html, page.stem))
    if "drop" in expected:
        assert isinstance(result, Drop), f"expected a drop, got {result!r}"
        assert result.reason == expected["drop"]
        return
    assert isinstance(result, StudyItem), f"expected an item, got {result!r}"
    assert dataclasses.asdict(result) == expected


SORAFENIB = PAGES / "sorafenib_cards_full.html"


@pytest.mark.parametrize(
    "url",
    [
        "https://tressless.com/learn/alopecia-areata",
        "https://tressless.com/search/research/childbirth/1",
        "https://tressless.com/research/",
        "http://[/research/x-ZpoR",
        "",
    ],
)
def test_urls_that_are_not_study_urls_are_dropped(url: str) -> None:
    result = parse_study(SORAFENIB.read_text(encoding="utf-8"), url)
    assert result == Drop("not_a_study_url", detail=url)


@pytest.mark.parametrize("html", ["", "   \n\t", "\x00\x00"])
def test_empty_pages_are_dropped(html: str) -> None:
    result = parse_study(html, "https://tressless.com/research/x-ZpoR")
    assert isinstance(result, Drop)
    assert result.reason == "empty_page"


def test_a_malformed_link_costs_the_link_not_the_page() -> None:
    html = SORAFENIB.read_text(encoding="utf-8").replace(
        'href="/research/dermatologic-adverse-events-of-sorafenib-Tr4"', 'href="http://[::1"'
    )
    result = parse_study(html, _url_of(html, SORAFENIB.stem))
    assert isinstance(result, StudyItem)
    assert [ref.study_id for ref in result.cited] == ["Qk8s", None, "aA2x"]
    broken = result.cited[1]
    assert broken.url is None
    assert (broken.title, broken.citations) == (
        "Dermatologic Adverse Events Associated With Sorafenib",
        1,
    )
