"""Thread parsers against saved pages: each input file sits next to its expected item.

``thread_reddit/<name>.reddit.json`` and ``thread_html/<name>.html`` are inputs;
``<name>.json`` is ``dataclasses.asdict`` of the expected ``ThreadItem`` (or of the expected
``Drop``). A page is fetched from the URL in its expected item (Reddit: with ``.json``
appended) unless ``FETCH_URLS`` names another, so adding a page means adding two files.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tressless_crawler.parsers.thread_html import parse_thread_html
from tressless_crawler.parsers.thread_reddit import parse_thread_reddit

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
REDDIT_DIR = PAGES / "thread_reddit"
HTML_DIR = PAGES / "thread_html"
REDDIT_SUFFIX = ".reddit.json"

# Pages fetched from somewhere other than their item's URL (drops have no item URL).
FETCH_URLS = {
    "subreddit_listing_not_a_thread": "https://www.reddit.com/r/tressless/hot.json",
    "not_found_page": "https://tressless.com/community/my-hair-journey-zz9x8c",
    # An old slug of the thread; the page's canonical link names the current one.
    "handwritten_variant": "https://tressless.com/community/hairline-lowered-with-tretinoin-r8k2pq",
}


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _reddit_cases() -> list[Any]:
    names = sorted(p.name[: -len(REDDIT_SUFFIX)] for p in REDDIT_DIR.glob(f"*{REDDIT_SUFFIX}"))
    return [pytest.param(name, id=name) for name in names]


def _html_cases() -> list[Any]:
    return [pytest.param(p.stem, id=p.stem) for p in sorted(HTML_DIR.glob("*.html"))]


def test_thread_fixtures_cover_both_forms() -> None:
    assert len(_reddit_cases()) + len(_html_cases()) >= 10
    assert _reddit_cases() and _html_cases()


@pytest.mark.parametrize("name", _reddit_cases())
def test_thread_reddit_fixture(name: str) -> None:
    expected = _expected(REDDIT_DIR / f"{name}.json")
    url = FETCH_URLS.get(name) or expected["url"] + "/.json"
    body = (REDDIT_DIR / f"{name}{REDDIT_SUFFIX}").read_bytes()
    assert dataclasses.asdict(parse_thread_reddit(body, url)) == expected


@pytest.mark.parametrize("name", _html_cases())
def test_thread_html_fixture(name: str) -> None:
    expected = _expected(HTML_DIR / f"{name}.json")
    url = FETCH_URLS.get(name) or expected["url"]
    html = (HTML_DIR / f"{name}.html").read_text(encoding="utf-8")
    assert dataclasses.asdict(parse_thread_html(html, url)) == expected


def test_thread_reddit_keeps_the_scheme_and_host_it_was_served_from() -> None:
    body = (REDDIT_DIR / f"study_link_post_no_comments{REDDIT_SUFFIX}").read_text("utf-8")
    item = parse_thread_reddit(body, "http://old.reddit.com/r/tressless/comments/qz81mf/x/.json")
    assert getattr(item, "url", None) == (
        "http://old.reddit.com/r/tressless/comments/qz81mf/"
        "topical_finasteride_minoxidil_combo_24week_rct"
    )


def test_thread_html_drops_pages_outside_community() -> None:
    html = (HTML_DIR / "cards_minoxidil_shedding.html").read_text(encoding="utf-8")
    html = html.replace('rel="canonical"', 'rel="alternate"')
    result = parse_thread_html(html, "https://tressless.com/research/some-study-AbC1")
    assert getattr(result, "reason", None) == "not_a_thread"


def test_every_parser_drops_a_page_it_fails_on_under_one_reason() -> None:
    """``parse/dropped/parse_error`` for studies and threads alike (docs/failures.md)."""
    from tressless_crawler.items import PARSE_ERROR
    from tressless_crawler.parsers import thread_html, thread_reddit

    assert thread_html.PARSER_ERROR == thread_reddit.PARSER_ERROR == PARSE_ERROR == "parse_error"
