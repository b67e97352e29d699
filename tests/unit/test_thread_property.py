"""Property tests of the thread parsers: they never raise, and they invert the renderers.

The crawl must survive whatever a server sends, so both parsers are fed random JSON values,
random markup and mutated fixtures, and must answer with a ``ThreadItem`` or a ``Drop`` (never
``Drop("parse_error")``, which would mean the safety net caught a bug). The round trip checks
that ``parse(render(thread))`` gives back the thread for both forms and both page templates.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sitegen.render_threads import (
    _more_thing,
    render_thread_html,
    render_thread_json,
    thread_reddit_permalink,
    thread_site_path,
)
from tressless_crawler.items import CommentItem, Drop, ThreadItem
from tressless_crawler.parsers.thread_html import parse_thread_html
from tressless_crawler.parsers.thread_reddit import parse_thread_reddit
from tressless_crawler.urls import canonical_url

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
REDDIT_FIXTURES = sorted((PAGES / "thread_reddit").glob("*.reddit.json"))
HTML_FIXTURES = sorted((PAGES / "thread_html").glob("*.html"))
SITE = "https://tressless.com"
REDDIT = "https://www.reddit.com"
REDDIT_URL = f"{REDDIT}/r/tressless/comments/k3j9xz/some_title/.json"
SITE_URL = f"{SITE}/community/some-title-k3j9xz"
FLAIRS = ["Treatment", "Research", "Research/Science", "Chat", "Female", "Shaved/buzzed"]

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_item_or_drop(result: object) -> None:
    assert isinstance(result, ThreadItem | Drop), type(result)
    if isinstance(result, Drop):
        assert result.reason != "parse_error", result.detail


# -- expected items -----------------------------------------------------------------------


def expected_thread(thread: dict[str, Any], source_format: str) -> dict[str, Any]:
    """What a parser should give back for a rendered ``thread`` (as ``asdict``)."""
    if source_format == "html":
        url = canonical_url(SITE + thread_site_path(thread), https=False)
    else:
        url = canonical_url(REDDIT + thread_reddit_permalink(thread), https=False)
    gone = bool(thread.get("link_url") or thread.get("body_status"))
    item = ThreadItem(
        post_id=thread["post_id"],
        url=url,
        title=thread.get("title"),
        category=thread.get("category"),
        author=thread.get("author"),
        posted_at=thread.get("posted_at"),
        upvotes=thread.get("upvotes"),
        body=None if gone else thread.get("body"),
        summary=thread.get("summary") if source_format == "html" else None,
        comment_count=thread["comment_count"],
        comments=list(
            _expected_comments(thread.get("comments") or [], None, 0, source_format == "html")
        ),
        link_url=thread.get("link_url"),
        edited=bool(thread.get("edited")),
        source_format=source_format,
    )
    return dataclasses.asdict(item)


def _expected_comments(
    nodes: list[dict[str, Any]], parent: str | None, depth: int, html: bool = False
) -> Iterator[CommentItem]:
    for node in nodes:
        kind = node.get("kind") or "comment"
        if kind == "more":
            # Reddit's stubs list the ids they hide; a page's "load more" link does not
            children = [] if html else _more_thing(node, "", depth)["data"]["children"]
            yield CommentItem(
                comment_id=node["comment_id"],
                parent_id=parent,
                depth=depth,
                kind="more",
                more_count=node["more_count"],
                children=children,
            )
            continue
        yield CommentItem(
            comment_id=node["comment_id"],
            parent_id=parent,
            author=node.get("author"),
            body=node.get("body") if kind == "comment" else None,
            upvotes=node.get("upvotes"),
            posted_at=node.get("posted_at"),
            depth=depth,
            kind=kind,
            edited=bool(node.get("edited")),
            stickied=bool(node.get("stickied")),
            distinguished=node.get("distinguished"),
        )
        yield from _expected_comments(
            node.get("replies") or [], node["comment_id"], depth + 1, html
        )


# -- thread strategies --------------------------------------------------------------------

WORD_CHARS = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789&<>\"'.,!?;:/()%-–—…éüñİı日本🎉💊🧴")
)
words = st.text(WORD_CHARS, min_size=1, max_size=8)
lines = st.lists(words, min_size=1, max_size=6).map(" ".join)
paragraphs = st.lists(lines, min_size=1, max_size=3).map("\n".join)
bodies = st.lists(paragraphs, min_size=1, max_size=3).map("\n\n".join)
ids = st.text(st.sampled_from("0123456789abcdefghijklmnopqrstuvwxyz"), min_size=5, max_size=7)
authors = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{2,19}", fullmatch=True)
moments = st.datetimes(datetime(2012, 1, 1), datetime(2026, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
)
scores = st.integers(-100, 150_000)


@st.composite
def comment_trees(draw: st.DrawFn, depth: int = 0) -> list[dict[str, Any]]:
    out = []
    width = 3 if depth == 0 else 2 if depth < 3 else 1 if depth < 8 else 0  # deep but small
    for _ in range(draw(st.integers(0, width))):
        kind = draw(st.sampled_from(["comment"] * 5 + ["deleted", "removed", "more"]))
        if kind == "more":
            out.append(
                {"kind": "more", "comment_id": draw(ids), "more_count": draw(st.integers(0, 400))}
            )
            continue
        out.append(
            {
                "comment_id": draw(ids),
                "kind": kind,
                "author": draw(st.none() | authors),
                "body": None if kind != "comment" else draw(st.none() | bodies),
                "upvotes": draw(st.none() | scores),
                "posted_at": draw(st.none() | moments),
                "edited": draw(st.booleans()),
                "stickied": draw(st.booleans()),
                "distinguished": draw(st.sampled_from([None, None, "moderator", "admin"])),
                "replies": draw(comment_trees(depth + 1)),
            }
        )
    return out


@st.composite
def threads(draw: st.DrawFn) -> dict[str, Any]:
    link = draw(
        st.none()
        | st.sampled_from(
            [
                "https://doi.org/10.1111/jdv.17201",
                "https://pubmed.ncbi.nlm.nih.gov/?term=finasteride&sort=date",
                "https://example.org/a<b>?q=\"x\"&y='z'",
            ]
        )
    )
    comments = draw(comment_trees())
    return {
        "post_id": draw(ids),
        "title": draw(lines),
        "category": draw(st.none() | st.sampled_from(FLAIRS)),
        "author": draw(st.none() | authors),
        "posted_at": draw(moments),
        "upvotes": draw(scores),
        "body": draw(st.none() | bodies),
        "body_status": draw(st.sampled_from([None, None, None, "deleted", "removed"])),
        "summary": draw(st.none() | lines),
        "comment_count": draw(st.integers(0, 5000)),
        "link_url": link,
        "edited": draw(st.booleans()),
        "template": draw(st.sampled_from(["cards", "flat"])),
        "comments": comments,
    }


# -- round trip ---------------------------------------------------------------------------


@SETTINGS
@given(threads())
def test_thread_round_trip_html(thread: dict[str, Any]) -> None:
    url = SITE + thread_site_path(thread)
    item = parse_thread_html(render_thread_html(thread), url)
    assert isinstance(item, ThreadItem), item
    assert dataclasses.asdict(item) == expected_thread(thread, "html")


@SETTINGS
@given(threads())
def test_thread_round_trip_reddit(thread: dict[str, Any]) -> None:
    url = REDDIT + thread_reddit_permalink(thread) + ".json"
    item = parse_thread_reddit(render_thread_json(thread), url)
    assert isinstance(item, ThreadItem), item
    assert dataclasses.asdict(item) == expected_thread(thread, "reddit_json")


def test_thread_round_trip_keeps_raw_json_text() -> None:
    """With ``raw_json=1`` Reddit does not escape, so ``&amp;`` is text to keep."""
    thread = {"post_id": "abc12", "title": "A &amp; B", "body": "x &lt;3", "comment_count": 0}
    raw = html.unescape(render_thread_json(thread))  # what raw_json=1 would have sent
    item = parse_thread_reddit(raw, f"{REDDIT}/r/tressless/comments/abc12/a/.json?raw_json=1")
    assert isinstance(item, ThreadItem)
    assert (item.title, item.body) == ("A &amp; B", "x &lt;3")


# -- Reddit JSON: random and mutated input ------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=40,
)
THING_KEYS = [
    "kind",
    "data",
    "children",
    "replies",
    "id",
    "name",
    "parent_id",
    "body",
    "author",
    "score",
    "created_utc",
    "edited",
    "count",
    "selftext",
    "is_self",
    "permalink",
]
thing_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(
        ["Listing", "t1", "t3", "more", "[deleted]", "[removed]", "t1_abc", "t3_abc", ""]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(THING_KEYS), inner, max_size=6)
    ),
    max_leaves=60,
)


@SETTINGS
@given(st.one_of(json_values, thing_like))
def test_reddit_parser_survives_random_json(value: Any) -> None:
    assert_item_or_drop(parse_thread_reddit(json.dumps(value), REDDIT_URL))


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_reddit_parser_survives_random_bytes(body: bytes | str) -> None:
    assert_item_or_drop(parse_thread_reddit(body, REDDIT_URL))


@SETTINGS
@given(st.data())
def test_reddit_parser_survives_mutated_fixtures(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(REDDIT_FIXTURES))
    wrapper = [json.loads(path.read_text(encoding="utf-8"))]
    for _ in range(data.draw(st.integers(1, 5))):
        _mutate_in_place(data, wrapper)
    text = json.dumps(wrapper[0])
    if data.draw(st.sampled_from(["keep", "keep", "keep", "cut"])) == "cut":  # mostly JSON
        text = text[: data.draw(st.integers(0, len(text)))]
    assert_item_or_drop(parse_thread_reddit(text, REDDIT_URL))


def _mutate_in_place(data: st.DataObject, wrapper: list[Any]) -> None:
    """Pick any node of the document, then delete it, swap its type or truncate it."""
    slots: list[tuple[Any, Any]] = []
    stack: list[tuple[Any, Any]] = [(wrapper, 0)]
    while stack:
        holder, key = stack.pop()
        slots.append((holder, key))
        node = holder[key]
        if isinstance(node, dict):
            stack.extend((node, k) for k in node)
        elif isinstance(node, list):
            stack.extend((node, i) for i in range(len(node)))
    holder, key = data.draw(st.sampled_from(slots))
    action = data.draw(st.sampled_from(["delete", "swap", "truncate"]))
    if action == "delete" and holder is not wrapper:
        del holder[key]
    elif action == "truncate" and isinstance(holder[key], str | list):
        holder[key] = holder[key][: data.draw(st.integers(0, len(holder[key])))]
    else:
        holder[key] = data.draw(json_values)


def _deep_thread(depth: int) -> str:
    """A thread whose comments form one chain ``depth`` replies deep."""
    listing = '""'
    for level in reversed(range(depth)):
        child = (
            f'{{"kind": "t1", "data": {{"id": "c{level}", "body": "x", "depth": {level},'
            f' "replies": {listing}}}}}'
        )
        listing = f'{{"kind": "Listing", "data": {{"children": [{child}]}}}}'
    post = '{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "abc12"}}]}}'
    return f"[{post}, {listing}]"


def test_reddit_parser_flattens_deep_trees() -> None:
    """Far deeper than Reddit nests (10): depth and parents still come from the nesting."""
    item = parse_thread_reddit(_deep_thread(120), REDDIT_URL)
    assert isinstance(item, ThreadItem)
    assert [c.depth for c in item.comments] == list(range(120))
    assert item.comments[-1].parent_id == "c118"


def test_reddit_parser_drops_json_nested_beyond_the_decoder() -> None:
    result = parse_thread_reddit(_deep_thread(2000), REDDIT_URL)
    assert result == Drop("not_a_thread", "not JSON: RecursionError")


# -- HTML: random and mutated markup ------------------------------------------------------

FRAGMENTS = [
    "<article>",
    "</article>",
    "<section>",
    "</section>",
    "<ul>",
    "</ul>",
    "<li>",
    "</li>",
    "<h1>",
    "</h1>",
    "<h2>",
    "</h2>",
    "<p>",
    "</p>",
    "<br>",
    "<header>",
    "</header>",
    "<a href='/user/x_y'>",
    "<a href='/community/a-b1c2/comment/d3e4'>",
    "</a>",
    "<a href='?more=zz9'>",
    "<button>",
    "</button>",
    "<time datetime='2021-02-03T04:05:06Z'>",
    "<time datetime='yesterday'>",
    "</time>",
    "<span>",
    "</span>",
    "<div>",
    "</div>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<strong>Summary</strong>",
    "Summary",
    "Link:",
    "12 upvotes",
    "-3 points",
    "1.2k upvotes",
    "99999999999999999999999 upvotes",
    "34 Comments",
    "Comments (3)",
    "load more comments (3 replies)",
    "continue this thread",
    "[deleted]",
    "[removed]",
    "MOD",
    "[M]",
    "Pinned",
    "(edited)",
    "in Treatment",
    "&amp;",
    "&lt;3",
    "&#0;",
    "\x00",
    "日本🎉",
    " ",
    "\n",
]
soup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60).map("".join)
# A post head, then soup around a comments heading: random structure reaches the comment walk.
THREAD_HEAD = "<article><h1>T</h1><a href='/user/op'>op</a><time datetime='2021-01-01'></time>"
threadish = st.tuples(soup, soup).map(
    lambda parts: f"{THREAD_HEAD}{parts[0]}<section><h2>3 Comments</h2>{parts[1]}"
)


@SETTINGS
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_html_parser_survives_random_text(markup: str | bytes) -> None:
    assert_item_or_drop(parse_thread_html(markup, SITE_URL))


@SETTINGS
@given(
    soup | threadish,
    st.sampled_from([SITE_URL, f"{SITE}/research/x-AbC1", "not a url", "http://[::1"]),
)
def test_html_parser_survives_tag_soup(markup: str, url: str) -> None:
    assert_item_or_drop(parse_thread_html(markup, url))


@SETTINGS
@given(st.data())
def test_html_parser_survives_mutated_fixtures(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(HTML_FIXTURES)).read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 6))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 400)))
        action = data.draw(st.sampled_from(["delete", "duplicate", "insert", "truncate"]))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "insert":
            text = text[:start] + data.draw(st.sampled_from(FRAGMENTS)) + text[start:]
        else:
            text = text[:start]
    assert_item_or_drop(parse_thread_html(text, SITE_URL))
