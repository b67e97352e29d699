"""Post and comment bodies are Markdown: what is stored renders to the HTML the source renders to.

The body goes the whole way a crawled one goes: Reddit's JSON (escaped as Reddit escapes it),
the parser, the normalise pipeline, the store (SQLite and PostgreSQL), and back out of the
database. markdown-it-py (CommonMark) renders the source and the stored text; the HTML must be
the same, for hand-picked bodies (hard line breaks, code, blank lines) and generated ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from tressless_crawler.db import schema
from tressless_crawler.db import thread_writes as thread_store
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import Comment, Thread
from tressless_crawler.items import ThreadItem
from tressless_crawler.parsers.thread_reddit import parse_thread_reddit
from tressless_crawler.pipelines.normalize import NormalizePipeline

MD = MarkdownIt("commonmark")
URL = "https://www.reddit.com/r/tressless/comments/k3j9xz/title/.json"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

EXAMPLES = [
    "Finasteride since my 1st post. Still a Norwood 2 *wand*  \nAM I doing this right?",
    "line one  \nline two\\\nline three",
    "    indented code  \n    with trailing spaces  ",
    "```\nfenced   \n\n\n\ncode\n```",
    "```\nunclosed fence with trailing spaces  \n\n",
    "\n\n  \n# a heading after blank lines\n\ntext",
    "> quote  \n> next\n\n* item  \n  continued\n* item 2",
    "a & b <c> &amp;lt; d",
    "windows\r\nline\r\nends  \r\nhard break",
    "trailing spaces at the end  ",
    "tab\tinside and\t\ttabs  \n\tindented",
]

# Pieces of Markdown whose spaces and line ends are syntax, joined at random.
PIECES = st.sampled_from(
    [
        "word",
        "*em*",
        "**strong**",
        "`code`",
        "  \n",
        "   \n",
        "\\\n",
        "\n",
        "\n\n",
        "\n\n\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "    ",
        "```\n",
        "~~~\n",
        "> ",
        "* ",
        "1. ",
        "# ",
        "&amp;",
        "<b>",
        "a < b > c & d",
        "é",
        "e\u0301",
        ">\u0338",
        "\u00a0",
        "\x00",
    ]
)
MARKDOWN = st.lists(PIECES, min_size=1, max_size=30).map("".join)


def reddit_json(post_body: str, comment_body: str) -> str:
    """Reddit's answer for a thread, escaped as Reddit escapes strings without raw_json=1."""

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    post = {"id": "k3j9xz", "title": "T", "is_self": True, "selftext": esc(post_body)}
    comment = {"id": "c1", "body": esc(comment_body), "replies": ""}
    listing = [
        {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": post}]}},
        {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": comment}]}},
    ]
    return json.dumps(listing)


def crawled(post_body: str, comment_body: str) -> ThreadItem:
    item = parse_thread_reddit(reddit_json(post_body, comment_body), URL)
    assert isinstance(item, ThreadItem)
    NormalizePipeline.from_crawler(get_crawler()).process_item(item)
    return item


def same_html(source: str, stored: str | None) -> None:
    assert MD.render(stored or "") == MD.render(source), (source, stored)


@pytest.mark.parametrize("body", EXAMPLES)
def test_parsed_and_normalised_bodies_render_as_the_source(body: str) -> None:
    item = crawled(body, body)
    same_html(body, item.body)
    same_html(body, item.comments[0].body)


def test_the_hard_line_break_is_kept() -> None:
    item = crawled(EXAMPLES[0], EXAMPLES[0])
    assert item.body == EXAMPLES[0] and item.comments[0].body == EXAMPLES[0]
    assert "<br />" in MD.render(item.body or "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWN, MARKDOWN)
def test_generated_markdown_renders_as_the_source(post_body: str, comment_body: str) -> None:
    item = crawled(post_body, comment_body)
    same_html(post_body, item.body)
    same_html(comment_body, item.comments[0].body)


def test_stored_bodies_render_as_the_source(db_url: str) -> None:
    engine = make_engine(db_url, immediate=True)
    try:
        schema.upgrade(engine)
        for number, body in enumerate(EXAMPLES):
            item = crawled(body, body)
            item.post_id = f"p{number}"
            item.comments[0].comment_id = f"c{number}"
            thread_store.write_threads(engine, [asdict(item)], None, NOW)
        with engine.connect() as conn:
            posts = dict(conn.execute(select(Thread.post_id, Thread.body)).all())
            comments = dict(conn.execute(select(Comment.comment_id, Comment.body)).all())
    finally:
        engine.dispose()
    for number, body in enumerate(EXAMPLES):
        same_html(body, posts[f"p{number}"])
        same_html(body, comments[f"c{number}"])
