"""Export queries over a real database: every row once, with its related ids, in any chunking."""

from __future__ import annotations

import pytest

from tests.components.test_store import T0, study
from tressless_crawler.db import schema
from tressless_crawler.db import study_writes as store
from tressless_crawler.db.engine import make_engine
from tressless_crawler.export import queries


def studies_with_shared_authors_and_cards(n: int) -> list[dict]:
    """``n`` studies; author k and card k appear on every k-th study, so lists differ in size."""
    out = []
    for i in range(n):
        item = study(f"S{i:03d}", title=f"Study {i}")
        item["authors"] = [f"Author {k}" for k in range(1, 6) if i % k == 0]
        item["community_posts"] = [
            {
                "post_id": f"p{k}",
                "url": f"https://www.reddit.com/r/tressless/comments/p{k}/t/",
                "title": f"Post {k}",
                "category": "Treatment",
                "upvotes": k,
                "age": "1 year ago",
            }
            for k in range(1, 4)
            if i % k == 0
        ]
        out.append(item)
    return out


@pytest.mark.parametrize("chunk", [2, 1000])
def test_authors_threads_and_studies_come_out_complete_in_any_chunking(
    db_url: str, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(queries, "CHUNK", chunk)
    items = studies_with_shared_authors_and_cards(7)
    writer = make_engine(db_url, immediate=True)
    schema.upgrade(writer)
    store.write_studies(writer, items, None, T0)
    writer.dispose()
    engine = make_engine(db_url)  # as `scrapy export` reads
    try:
        authors = list(queries.authors(engine))
        expected = {
            name: sorted(s["study_id"] for s in items if name in s["authors"])
            for name in {a for s in items for a in s["authors"]}
        }
        assert [a["name"] for a in authors] == sorted(expected)
        assert {a["name"]: a["study_ids"] for a in authors} == expected
        assert all(a["study_count"] == len(a["study_ids"]) for a in authors)

        threads = list(queries.threads(engine))
        by_post = {
            f"p{k}": sorted(s["study_id"] for s in items if k and int(s["study_id"][1:]) % k == 0)
            for k in range(1, 4)
        }
        assert {t["post_id"]: t["study_ids"] for t in threads} == by_post
        assert len(threads) == 3

        exported = list(queries.studies(engine))
        assert [s["study_id"] for s in exported] == sorted(s["study_id"] for s in items)
        assert exported[1]["authors"] == items[1]["authors"]
        assert exported[0]["first_seen"].startswith("2026-01-01T00:00:00")
    finally:
        engine.dispose()


def test_an_author_left_without_studies_is_exported_with_none(db_url: str) -> None:
    writer = make_engine(db_url, immediate=True)
    schema.upgrade(writer)
    store.write_studies(writer, [study("A001", authors=["Ann Old", "Bo New"])], None, T0)
    store.write_studies(writer, [study("A001", authors=["Bo New"])], None, T0)  # Ann dropped
    writer.dispose()
    engine = make_engine(db_url)
    try:
        rows = {a["name"]: (a["study_count"], a["study_ids"]) for a in queries.authors(engine)}
    finally:
        engine.dispose()
    assert rows == {"Ann Old": (0, []), "Bo New": (1, ["A001"])}
