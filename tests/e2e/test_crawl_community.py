"""End to end: studies then community (or both in one run) store every linked thread and comment."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import SITE_DIR, run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import Comment, History, StudyThread, Thread
from tressless_crawler.urls import thread_id_from_url

pytestmark = pytest.mark.e2e
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def settings(site_server, db_url: str) -> dict[str, str]:
    return {"SITE_URL": site_server.url, "DATABASE_URL": db_url, "COMMUNITY_HOSTS": "127.0.0.1"}


def crawl(args: list[str], site_server, db_url: str, tmp_path: Path) -> str:
    result = run_scrapy(["crawl", *args], settings(site_server, db_url), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def stored(db_url: str) -> tuple[dict[str, Thread], dict[str, list[Comment]], int]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        threads = {t.post_id: t for t in session.execute(select(Thread)).scalars()}
        comments: dict[str, list[Comment]] = {}
        by_id = {t.id: t.post_id for t in threads.values()}
        for c in session.execute(
            select(Comment).order_by(Comment.thread_id, Comment.position)
        ).scalars():
            comments.setdefault(by_id[c.thread_id], []).append(c)
        history = session.execute(select(func.count()).select_from(History)).scalar_one()
        session.expunge_all()
    engine.dispose()
    return threads, comments, history


def check_threads(db_url: str) -> None:
    threads, comments, _ = stored(db_url)
    assert set(MANIFEST["expected_thread_ids"]) <= set(threads)
    for post_id, spec in MANIFEST["threads"].items():
        thread = threads[post_id]
        assert thread.source == "thread", post_id
        assert thread.title == spec["title"], post_id
        assert thread.comment_count == spec["comment_count"], post_id
        rows = comments.get(post_id, [])
        assert len(rows) == spec["items"], post_id
        assert sum(c.kind == "more" for c in rows) == spec["more_stubs"], post_id
        assert sum(c.kind == "deleted" for c in rows) == spec["deleted"], post_id
        assert sum(c.kind == "removed" for c in rows) == spec["removed"], post_id
        # the manifest counts levels (a top-level comment is level 1); depth starts at 0
        assert max((c.depth + 1 for c in rows), default=0) == spec["max_depth"], post_id
        known = {c.comment_id for c in rows}
        assert all(c.parent_id is None or c.parent_id in known for c in rows), post_id


def test_studies_then_community(site_server, db_url: str, tmp_path: Path) -> None:
    crawl(["studies"], site_server, db_url, tmp_path)
    threads, _, _ = stored(db_url)
    assert {t.source for t in threads.values()} == {"card"}  # only the cards so far
    crawl(["community"], site_server, db_url, tmp_path)
    check_threads(db_url)
    before = stored(db_url)

    site_server.reset_requests()
    crawl(["community"], site_server, db_url, tmp_path)  # again: nothing duplicated or rewritten
    # One fetch per thread, whatever URL the cards, the listing and the stored rows give
    # (slug or none, trailing slash, .json), and a conditional one: every thread answers 304.
    fetches = [
        (thread_id_from_url(urlsplit(r.path).path), r.status)
        for r in site_server.requests
        if thread_id_from_url(urlsplit(r.path).path)
    ]
    assert sorted(post_id for post_id, _ in fetches) == sorted(MANIFEST["threads"])
    assert {status for _, status in fetches} == {304}
    after = stored(db_url)
    assert set(after[0]) == set(before[0])
    assert {k: len(v) for k, v in after[1].items()} == {k: len(v) for k, v in before[1].items()}
    assert after[2] == before[2] == 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        links = conn.execute(select(StudyThread.study_id, StudyThread.thread_id)).all()
    engine.dispose()
    linked = {post_id: spec["linked_from"] for post_id, spec in MANIFEST["threads"].items()}
    by_thread = {t.id: t.post_id for t in after[0].values()}
    for post_id, studies in linked.items():
        got = {study for study, thread in links if by_thread[thread] == post_id}
        assert got == set(studies), post_id


def test_one_run_with_follow_community(site_server, db_url: str, tmp_path: Path) -> None:
    crawl(["studies", "-a", "follow_community=1"], site_server, db_url, tmp_path)
    threads, _, _ = stored(db_url)
    linked = {p for p, spec in MANIFEST["threads"].items() if spec["linked_from"]}
    assert linked <= {p for p, t in threads.items() if t.source == "thread"}


def test_single_thread_url_and_exports(site_server, db_url: str, tmp_path: Path) -> None:
    post_id, spec = next(
        (p, s) for p, s in MANIFEST["threads"].items() if s["format"] == "reddit_json"
    )
    crawl(
        ["community", "-a", f"url={site_server.url}{spec['path']}"],
        site_server,
        db_url,
        tmp_path,
    )
    threads, comments, _ = stored(db_url)
    assert list(threads) == [post_id] and len(comments[post_id]) == spec["items"]

    out = run_scrapy(["export", "threads", "--format", "jsonl"], {"DATABASE_URL": db_url}, tmp_path)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["post_id"] for r in records] == [post_id]
    assert {
        "post_id",
        "url",
        "title",
        "category",
        "author",
        "posted_at",
        "upvotes",
        "body",
        "summary",
        "comment_count",
    } <= set(records[0])
    out = run_scrapy(["export", "comments", "--format", "csv"], {"DATABASE_URL": db_url}, tmp_path)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == spec["items"] and {r["post_id"] for r in rows} == {post_id}
    assert {"comment_id", "parent_id", "author", "body", "upvotes", "posted_at", "depth"} <= set(
        rows[0]
    )
