"""Metamorphic tests: a study reads the same in every family of markup.

For every study of the fixture pages (their expected JSON) and of the fixture site
(``tests.support.sitegen.site_data``, read from the page of its own template), each family of
``tests.support.sitegen.families`` renders the item, and ``parse_study`` must give the same item
back, through the spider's own hand-over (``page_source``: the charset a page declares is
honoured). Hypothesis then varies the markup as a new build of the site would: wrapped
elements, comments between text nodes, renamed and shuffled classes, whitespace, more chrome.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from tests.support.sitegen import site_data as sd
from tests.support.sitegen.build_site import study_page
from tests.support.sitegen.families import FAMILIES, render_family
from tressless_crawler.items import Drop, StudyItem
from tressless_crawler.parsers.study import parse_study, read_study
from tressless_crawler.spiders.studies import page_source

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"
SITE = "https://tressless.com"
PROPERTY = settings(
    max_examples=int(os.environ.get("PARSER_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def parse_served(body: bytes, url: str) -> StudyItem | Drop:
    """What the spider makes of the page: decoded as its headers or meta say, then parsed."""
    return parse_study(page_source(HtmlResponse(url, body=body)), url)


def _fixture_items() -> dict[str, dict[str, Any]]:
    items = {}
    for path in sorted(PAGES.glob("*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        if "drop" not in expected:
            items[f"page:{path.stem}"] = expected
    return items


def _site_items() -> dict[str, dict[str, Any]]:
    studies = {study.id: study for study in sd.STUDIES}
    threads = {thread.post_id: thread for thread in sd.THREADS}
    items = {}
    for study in sd.STUDIES:
        url = SITE + study.path
        page = study_page(study, studies, threads)
        body = page if isinstance(page, bytes) else page.encode("utf-8")
        item = parse_served(body, url)
        if isinstance(item, StudyItem):
            items[f"site:{study.id}"] = dataclasses.asdict(item)
    return items


LINK_SHAPES: dict[str, Any] = {
    "study_id": "Lk3",
    "url": f"{SITE}/research/every-link-shape-Lk3",
    "slug": "every-link-shape",
    "title": "Every Link Shape of a Community Card",
    "published": "2021-02",
    "journal": None,
    "authors": ["Ana Ruiz"],
    "tldr": "Cards link threads in many ways.",
    "summary": None,
    "image_url": None,
    "source_url": None,
    "cited": [
        {
            "study_id": "Ab1",
            "url": f"{SITE}/research/three-character-id-Ab1",
            "title": "A Study With a Three-Character Id",
            "citations": 1,
            "published": None,
            "journal": None,
            "tldr": None,
        },
        {
            "study_id": "Ab12",
            "url": f"{SITE}/research/four-character-id-Ab12",
            "title": "A Study With a Four-Character Id",
            "citations": None,
            "published": "1985-01",
            "journal": "Curēus",
            "tldr": "Ids have three or four characters.",
        },
    ],
    "cited_total": 2,
    "cited_total_is_lower_bound": False,
    "related": [],
    "related_total": None,
    "related_total_is_lower_bound": False,
    "community_posts": [
        {
            "post_id": post_id,
            "url": url,
            "title": title,
            "category": category,
            "upvotes": upvotes,
            "age": age,
            "summary": summary,
            "posted_approx": None,
            "posted_precision": None,
        }
        for post_id, url, title, category, upvotes, age, summary in [
            (
                "k3x9bq",
                f"{SITE}/r/tressless/comments/k3x9bq/my_daughter_has_aa",
                "MY DAUGHTER HAS AA",
                "Female",
                934,
                "1 month ago",
                "A parent asks about alopecia areata.",
            ),
            (
                "p0q4",
                f"{SITE}/community/finally-shaved-it-p0q4",
                "Finally shaved it!!!",
                None,
                8,
                "8 years ago",
                None,
            ),
            (
                "w2e",
                f"{SITE}/community/post/fuck-this-22-and-nw3-w2e",
                "fuck this, 22 and NW3",
                "Chat",
                None,
                "3 months ago",
                "A young user vents.",
            ),
            (
                "t5v7wa",
                "http://tressless.com/community/dutasteride-mesotherapy-t5v7wa",
                "Dutasteride mesotherapy?",
                "Research/Science",
                1,
                "2 days ago",
                "Users compare.",
            ),
            (
                "r9w1ys",
                "https://www.reddit.com/r/tressless/comments/r9w1ys/new_jak_data",
                "New JAK data",
                "Shaved/buzzed",
                1200,
                "1 year ago",
                None,
            ),
        ]
    ],
    "community_total": 1000,
    "community_total_is_lower_bound": True,
}

ITEMS = {**_fixture_items(), **_site_items(), "link-shapes": LINK_SHAPES}


def test_every_item_source_is_there() -> None:
    assert sum(name.startswith("page:") for name in ITEMS) >= 14
    assert sum(name.startswith("site:") for name in ITEMS) == len(sd.STUDIES)
    assert len(FAMILIES) >= 7


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", sorted(ITEMS))
def test_every_family_reads_the_same_item(name: str, family: str) -> None:
    expected = ITEMS[name]
    result = parse_served(render_family(expected, expected["url"], family), expected["url"])
    assert isinstance(result, StudyItem), result
    assert dataclasses.asdict(result) == expected


def test_families_differ_and_hold_their_traps() -> None:
    item = ITEMS["page:sorafenib_cards_full"]
    pages = {family: render_family(item, item["url"], family) for family in FAMILIES}
    assert len(set(pages.values())) == len(pages)
    assert b"<!-- -->" in pages["react"] and b'class="sr-only"' in pages["react"]
    assert b"__NEXT_DATA__" in pages["react"] and b"<svg" in pages["react"]
    assert b"<h1" not in pages["legacy"] and b"charset=windows-1252" in pages["legacy"]
    assert b"<h" not in pages["legacy"].lower().replace(b"<head", b"").replace(b"<html", b"")
    assert b"<time datetime=" in pages["semantic"] and b"aria-labelledby" in pages["semantic"]
    assert b"<td>TLDR</td>" in pages["table"]
    assert b"<strong>TLDR:</strong>" in pages["reader"]


def test_the_legacy_page_is_windows_1252() -> None:
    item = ITEMS["page:consensus_flat_39_authors"]
    body = render_family(item, item["url"], "legacy")
    assert "Trüeb".encode("cp1252") in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_scripts_are_never_a_source() -> None:
    item = {**ITEMS["page:sorafenib_cards_full"], "tldr": None, "authors": []}
    result = parse_served(render_family(item, item["url"], "react"), item["url"])
    assert isinstance(result, StudyItem)
    assert (result.tldr, result.authors) == (None, [])


def test_a_title_only_in_the_page_title_is_read_and_disagreement_noted() -> None:
    item = ITEMS["page:sorafenib_cards_full"]
    page = render_family(item, item["url"], "legacy").decode("cp1252")
    visible = page.replace(f"<b>{item['title']}</b>", "<b>An Older Title</b>")
    result, notes = read_study(visible, item["url"])
    assert isinstance(result, StudyItem) and result.title == "An Older Title"
    assert "title_disagrees" in notes
    bold_gone = page.replace(f'<font size="4"><b>{item["title"]}</b></font><br>', "")
    result, notes = read_study(bold_gone, item["url"])
    assert isinstance(result, StudyItem) and result.title == item["title"]
    assert notes == ()


# -- variations a new build of the site brings ---------------------------------------------------

BLOCK_OPEN_RE = re.compile(r"<(div|p|li|ul|section|tr|td|table|dl|dd|dt|article)\b")
CLASS_RE = re.compile(r'class="([^"]*)"')
# A paragraph, list item or cell holding text and at most links: wrapping it changes nothing.
WRAPPABLE_RE = re.compile(r"(<(p|li|td|dd)\b[^>]*>)((?:[^<]|<a\b[^>]*>|</a>|<br>)*)(</\2>)")
TEXT_SPACE_RE = re.compile(r"(?<=[A-Za-z0-9]) (?=[A-Za-z0-9])")
CHROME_TOP = (
    '<div><a href="/">Tressless</a> <a href="/research">Research</a> '
    '<a href="/community">Community</a></div><div><b>TLDR Weekly</b></div>'
)
CHROME_BOTTOM = (
    "<div><p>Related Research</p><p>TLDR: we summarise Research for the Community.</p>"
    '<p><a href="/about">About us</a></p></div>'
    "<div>We use cookies. <a href='#'>Accept</a></div>"
)


def _body_parts(page: str) -> tuple[str, str, str]:
    start = page.find(">", page.find("<body")) + 1
    end = page.rfind("</body>")
    if start <= 0 or end < start:
        return page, "", ""
    return page[:start], page[start:end], page[end:]


def vary(page: str, rng: random.Random, changes: list[str]) -> str:
    """The page with the changes applied to its body (scripts and styles left alone).

    Classes are renamed as a new build renames them: in the markup and in the page's
    style sheets alike, so what they hide stays hidden.
    """
    if "classes" in changes:
        page = _rename_classes(page, rng)
    head, body, tail = _body_parts(page)
    pieces = re.split(r"(<script.*?</script>|<style.*?</style>)", body, flags=re.S)
    out = []
    for piece in pieces:
        if piece.startswith(("<script", "<style")):
            out.append(piece)
            continue
        if "whitespace" in changes:
            piece = BLOCK_OPEN_RE.sub(lambda m: "\n  " * rng.randint(0, 2) + m.group(0), piece)
        if "comments" in changes:
            piece = _comment_between_text_nodes(piece, rng)
        if "wrap" in changes:
            piece = WRAPPABLE_RE.sub(lambda m: _wrapped(m, rng), piece)
        out.append(piece)
    body = "".join(out)
    if "wrap" in changes:
        body = f'<div class="w{rng.randint(0, 99)}"><div>{body}</div></div>'
    if "chrome" in changes:
        body = CHROME_TOP + body + CHROME_BOTTOM
    return head + body + tail


def _wrapped(match: re.Match[str], rng: random.Random) -> str:
    if rng.random() < 0.5:
        return match.group(0)
    inner = rng.choice(["span", "div", "font", "em"])
    return f"{match.group(1)}<{inner}>{match.group(3)}</{inner}>{match.group(4)}"


def _rename_classes(page: str, rng: random.Random) -> str:
    tokens = sorted({name for m in CLASS_RE.finditer(page) for name in m.group(1).split()})
    new = {name: f"c{i}{rng.randint(0, 10**6):x}" for i, name in enumerate(tokens)}

    def attribute(match: re.Match[str]) -> str:
        names = [new[name] for name in match.group(1).split()] + ["flex", "text-sm"]
        rng.shuffle(names)
        return f'class="{" ".join(names)}"'

    def style(match: re.Match[str]) -> str:
        return re.sub(
            r"\.((?:[\w-]|\\.)+)",
            lambda m: "." + new.get(m.group(1).replace("\\", ""), m.group(1)),
            match.group(0),
        )

    page = CLASS_RE.sub(attribute, page)
    return re.sub(r"<style.*?</style>", style, page, flags=re.S)


def _comment_between_text_nodes(piece: str, rng: random.Random) -> str:
    """React splits adjacent text expressions with ``<!-- -->``: between words of a text."""
    parts = re.split(r"(<[^>]*>)", piece)
    for i, part in enumerate(parts):
        if part and not part.startswith("<") and rng.random() < 0.5:
            parts[i] = TEXT_SPACE_RE.sub(lambda _: " <!-- -->" if rng.random() < 0.3 else " ", part)
    return "".join(parts)


CHANGES = ["classes", "whitespace", "comments", "wrap", "chrome"]


@PROPERTY
@given(
    st.sampled_from(sorted(ITEMS)),
    st.sampled_from(sorted(FAMILIES)),
    st.lists(st.sampled_from(CHANGES), min_size=1, unique=True),
    st.integers(0, 2**32 - 1),
)
def test_new_builds_of_a_family_read_the_same(
    name: str, family: str, changes: list[str], seed: int
) -> None:
    expected = ITEMS[name]
    body = render_family(expected, expected["url"], family)
    encoding = "cp1252" if family == "legacy" else "utf-8"
    page = vary(body.decode(encoding), random.Random(seed), changes)
    result = parse_served(page.encode(encoding, errors="xmlcharrefreplace"), expected["url"])
    assert isinstance(result, StudyItem), result
    assert dataclasses.asdict(result) == expected
