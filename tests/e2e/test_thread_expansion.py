"""End to end: a busy thread's ``more`` stubs are expanded, and every comment is stored once.

The fixture server cuts the busy thread down as Reddit does (``more`` stubs at several
levels, one hiding more than 100 ids, "continue this thread" past the page's depth) and
answers /api/morechildren and comment permalinks from the whole tree in the site's file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tests.conftest import SITE_DIR, run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import Comment, CrawlRun, Page, Thread
from tressless_crawler.demo.reddit_api import thread_page
from tressless_crawler.demo.server import Fault

pytestmark = pytest.mark.e2e
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
POST_ID = "z9d33p"
SPEC = MANIFEST["threads"][POST_ID]


def whole_tree() -> dict[str, tuple[str | None, int, int]]:
    """comment id -> (parent id, depth, position) of the thread's whole tree, from the file."""
    document = json.loads((SITE_DIR / SPEC["fetch_path"].strip("/")).read_text("utf-8"))
    out: dict[str, tuple[str | None, int, int]] = {}
    stack: list[tuple[dict[str, Any], str | None, int]] = [
        (thing, None, 0) for thing in reversed(document[1]["data"]["children"])
    ]
    while stack:
        thing, parent, depth = stack.pop()
        data = thing["data"]
        out[data["id"]] = (parent, depth, len(out))
        replies = data["replies"]["data"]["children"] if data["replies"] else []
        stack.extend((reply, data["id"], depth + 1) for reply in reversed(replies))
    return out


def stub_children() -> list[str]:
    """The ids the ``more`` stubs of the thread's page hide (not their replies)."""
    document = json.loads((SITE_DIR / SPEC["fetch_path"].strip("/")).read_text("utf-8"))
    out = []
    stack = list(thread_page(document)[1]["data"]["children"])
    while stack:
        thing = stack.pop()
        if thing["kind"] == "more":
            out.extend(thing["data"]["children"])
        elif thing["data"]["replies"]:
            stack.extend(thing["data"]["replies"]["data"]["children"])
    return sorted(out)


def crawl(site_server, db_url: str, tmp_path: Path, errors: bool = False, **settings: str) -> str:
    result = run_scrapy(
        ["crawl", "community", "-a", f"url={site_server.url}{SPEC['path']}"],
        {
            "SITE_URL": site_server.url,
            "DATABASE_URL": db_url,
            "COMMUNITY_HOSTS": "127.0.0.1",
            **settings,
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert errors or "ERROR" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def stored(db_url: str) -> list[Comment]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        rows = list(
            session.execute(
                select(Comment)
                .join(Thread, Thread.id == Comment.thread_id)
                .where(Thread.post_id == POST_ID)
                .order_by(Comment.position)
            ).scalars()
        )
        session.expunge_all()
    engine.dispose()
    return rows


def last_stats(db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        run = session.execute(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).scalar_one()
        stats = dict(run.stats)
    engine.dispose()
    return stats


def more_requests(site_server) -> list[list[str]]:
    """The children asked for by each /api/morechildren request."""
    out = []
    for record in site_server.requests:
        parts = urlsplit(record.path)
        if parts.path.startswith("/api/morechildren"):
            query = parse_qs(parts.query)
            assert query["api_type"] == ["json"] and query["link_id"] == [f"t3_{POST_ID}"]
            out.append(query["children"][0].split(","))
    return out


def continue_requests(site_server) -> list[str]:
    return [r.path for r in site_server.requests if f"/comments/{POST_ID}/_/" in r.path]


def test_every_comment_of_a_busy_thread_once_with_parent_depth_and_order(
    site_server, db_url: str, tmp_path: Path
) -> None:
    expected = whole_tree()
    assert len(expected) == SPEC["comments"] and len(expected) > 300
    crawl(site_server, db_url, tmp_path)

    rows = stored(db_url)
    assert [r.kind for r in rows if r.kind == "more"] == []  # every stub expanded
    assert len(rows) == len({r.comment_id for r in rows}) == len(expected)
    got = {r.comment_id: (r.parent_id, r.depth) for r in rows}
    assert got == {cid: (parent, depth) for cid, (parent, depth, _) in expected.items()}
    # document order: every comment after its parent, siblings in the thread's order
    assert [r.comment_id for r in rows] == sorted(expected, key=lambda c: expected[c][2])
    assert all(r.parent_link == r.parent_id for r in rows)
    assert max(r.depth for r in rows) + 1 == SPEC["max_depth"] > 10

    asked = more_requests(site_server)
    assert asked and all(len(ids) <= 100 for ids in asked)
    assert any(len(ids) == 100 for ids in asked)  # the top-level stub hides more than 100
    flat = [cid for ids in asked for cid in ids]
    assert len(flat) == len(set(flat))  # no comment asked for twice
    assert continue_requests(site_server)  # "continue this thread" stubs, through permalinks
    stats = last_stats(db_url)
    assert stats["community/more/requests"] == len(asked) + len(continue_requests(site_server))
    assert "community/more/failed" not in stats and "community/more/capped" not in stats

    out = run_scrapy(["export", "comments", "--format", "csv"], {"DATABASE_URL": db_url}, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    exported = [r for r in csv.DictReader(io.StringIO(out.stdout)) if r["post_id"] == POST_ID]
    assert len(exported) == len(expected)
    assert {r["comment_id"]: (r["parent_id"] or None, int(r["depth"])) for r in exported} == {
        cid: (parent, depth) for cid, (parent, depth, _) in expected.items()
    }


def test_a_recrawl_fetches_the_thread_once_conditionally_and_expands_only_what_is_new(
    site_server, db_url: str, tmp_path: Path
) -> None:
    crawl(site_server, db_url, tmp_path)
    before = {r.comment_id for r in stored(db_url)}

    site_server.reset_requests()
    crawl(site_server, db_url, tmp_path)
    thread_fetches = [r for r in site_server.requests if f"/comments/{POST_ID}.json" in r.path]
    assert [r.status for r in thread_fetches] == [304]  # once, and conditionally
    assert more_requests(site_server) == [] and continue_requests(site_server) == []
    rows = stored(db_url)
    assert {r.comment_id for r in rows} == before and all(r.gone_at is None for r in rows)

    # The thread changed (validators lost) and some comments were never stored: only those
    # are asked for; the comments stored before are kept, none marked gone.
    engine = make_engine(db_url)
    parents = {r.parent_id for r in rows}
    hidden_leaves = [cid for cid in stub_children() if cid not in parents][:5]
    assert len(hidden_leaves) == 5
    with engine.begin() as conn:
        conn.execute(delete(Page))
        conn.execute(update(Comment).values(parent_link=None))
        conn.execute(delete(Comment).where(Comment.comment_id.in_(hidden_leaves)))
    engine.dispose()
    site_server.reset_requests()
    crawl(site_server, db_url, tmp_path)
    flat = [cid for ids in more_requests(site_server) for cid in ids]
    assert flat and set(flat) <= set(hidden_leaves)
    assert continue_requests(site_server) == []
    rows = stored(db_url)
    assert {r.comment_id for r in rows} == before
    assert all(r.gone_at is None and r.kind != "more" for r in rows)
    assert last_stats(db_url)["community/more/kept"] > 0
    # the kept comments are in their place: the thread's order, parents and depths as before
    expected = whole_tree()
    assert [r.comment_id for r in rows] == sorted(expected, key=lambda c: expected[c][2])
    assert {r.comment_id: (r.parent_id, r.depth) for r in rows} == {
        cid: (parent, depth) for cid, (parent, depth, _) in expected.items()
    }
    assert all(r.parent_link == r.parent_id for r in rows)


@pytest.mark.parametrize("cap", [0, 2])
def test_the_cap_leaves_stubs_stored_as_stubs(
    site_server, db_url: str, tmp_path: Path, cap: int
) -> None:
    crawl(site_server, db_url, tmp_path, COMMUNITY_MAX_MORE_REQUESTS=str(cap))
    assert len(more_requests(site_server)) + len(continue_requests(site_server)) == cap
    rows = stored(db_url)
    stubs = [r for r in rows if r.kind == "more"]
    assert stubs and all(r.more_count is not None for r in stubs)
    assert len(rows) < SPEC["comments"] + len(stubs)
    stats = last_stats(db_url)
    assert stats.get("community/more/requests", 0) == cap
    assert stats.get("community/more/capped", 0) == (1 if cap else 0)


def test_a_stub_that_cannot_be_expanded_stays_a_stub(
    site_server, db_url: str, tmp_path: Path
) -> None:
    site_server.faults["/api/morechildren.json"] = Fault(status=500)
    log = crawl(site_server, db_url, tmp_path, errors=True, RETRY_TIMES="0")
    assert "Failed http" in log and "/api/morechildren.json" in log  # one line per failure
    rows = stored(db_url)
    stubs = [r for r in rows if r.kind == "more" and r.comment_id.split(":")[-1] != "_"]
    assert stubs and all(r.more_count for r in stubs)
    assert continue_requests(site_server)  # the other kind of stub still expanded
    stats = last_stats(db_url)
    assert stats["community/more/failed"] == len(more_requests(site_server))
