"""Full-text search on both databases: ranking, Unicode, the query language, and an index that
follows every write in the writer's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.components.analysis_corpus import T1, fill, studies, threads
from tressless_crawler.analysis.search import fts5_expression, parse, search
from tressless_crawler.db import study_writes as store
from tressless_crawler.db import thread_writes as thread_store
from tressless_crawler.db.engine import make_engine
from tressless_crawler.exceptions import QuerySyntaxError


@pytest.fixture
def engine(db_url: str):
    fill(db_url)
    engine = make_engine(db_url, immediate=True)
    yield engine
    engine.dispose()


def ids(engine, query: str, kind: str = "studies") -> list[str]:
    return [hit["id"] for hit in search(engine, query, kind)]


def test_hits_are_ranked_with_a_highlighted_snippet(engine) -> None:
    hits = list(search(engine, "dutasteride frontal"))
    assert [h["id"] for h in hits] == ["D1"]
    assert "[frontal]" in hits[0]["snippet"].lower()
    # D2 has the word in its title and summary, D1 in its summary only
    hits = list(search(engine, "randomised OR mesotherapy"))
    assert [h["id"] for h in hits] == ["D2", "D1"]
    assert hits[0]["score"] > hits[1]["score"] and [h["rank"] for h in hits] == [1, 2]
    assert [h["id"] for h in search(engine, "randomised OR mesotherapy", limit=1)] == ["D2"]


def test_authors_and_journal_are_searchable(engine) -> None:
    assert ids(engine, "King") == ["A1", "A2"] or ids(engine, "King") == ["A2", "A1"]
    assert sorted(ids(engine, '"Dermatological Treatment"')) == ["A3", "D2"]


def test_unicode_case_and_accents(engine) -> None:
    assert ids(engine, "ВОЛОС") == ["R1"]  # Cyrillic, any case
    assert ids(engine, "москвы") == ["R1"]
    assert ids(engine, "қазақстан") == ["K1"]  # Kazakh letters
    assert ids(engine, "Әлиев") == ["K1"]
    assert ids(engine, "Vañó") == ["D1"]  # accents as written
    assert ids(engine, "vano") == ["D1"]  # and without them
    assert ids(engine, "muller") == ["A3"]
    assert ids(engine, "café", "comments") == ["q1"]
    assert ids(engine, "cafe", "comments") == ["q1"]


def test_query_language(engine) -> None:
    assert sorted(ids(engine, "thyroid OR children")) == ["A2", "A3"]
    assert ids(engine, "alopecia -thyroid -children") == ["A1"]
    assert ids(engine, "mesothera*") == ["D2"]
    assert ids(engine, '"frontal hair density"') == ["D1"]
    assert ids(engine, '"hair frontal density"') == []
    assert ids(engine, "side effects", "threads") == ["p2"]
    assert sorted(ids(engine, "dutasteride", "threads")) == ["p1", "p2"]
    assert ids(engine, "nothing-like-this") == []


def test_the_index_follows_changes_of_a_study_its_authors_and_journal(engine) -> None:
    item = dict(studies()[2], title="Ritlecitinib for patchy hair loss", authors=["Newman Q"])
    store.write_studies(engine, [item], None, T1)
    assert ids(engine, "ritlecitinib") == ["A1"]
    assert ids(engine, "JAK inhibitors") == []
    assert ids(engine, "Newman") == ["A1"]
    assert ids(engine, "King") == ["A2"]  # A1 no longer has King B
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE journals SET name = 'Acta Capillorum' WHERE name LIKE 'Journal of the%'")
        )
        conn.execute(text("UPDATE authors SET name = 'Queen B' WHERE name = 'King B'"))
    assert sorted(ids(engine, "Capillorum")) == ["A1", "A2", "D1"]
    assert ids(engine, "Queen") == ["A2"]


def test_links_changed_by_hand_change_what_finds_a_study(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM study_authors WHERE study_id = 'A3'"))
        conn.execute(text("UPDATE studies SET journal_id = NULL WHERE study_id = 'D2'"))
        conn.execute(
            text(
                "INSERT INTO study_authors (study_id, position, author_id) "
                "SELECT 'R1', 1, id FROM authors WHERE name = 'King B'"
            )
        )
    assert ids(engine, "muller") == []
    assert ids(engine, '"Dermatological Treatment"') == ["A3"]
    assert sorted(ids(engine, "King")) == ["A1", "A2", "R1"]


def test_the_index_follows_threads_and_comments(engine) -> None:
    first, second = threads()
    second = dict(second, title="Dutasteride and mood", body="Felt low for a week.")
    second["comments"] = [dict(second["comments"][0], body="Tea instead now.")]
    thread_store.write_threads(engine, [first, second], None, T1)
    assert ids(engine, "mood", "threads") == ["p2"]
    assert ids(engine, "sides", "threads") == []
    assert ids(engine, "tea", "comments") == ["q1"]
    assert ids(engine, "café", "comments") == []


def test_a_rolled_back_write_leaves_the_index_as_it_was(engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("UPDATE studies SET title = 'Zzyzx' WHERE study_id = 'A1'"))
        conn.execute(text("DELETE FROM study_authors WHERE study_id = 'A2'"))
        raise RuntimeError("abandoned")
    assert ids(engine, "zzyzx") == []
    assert ids(engine, "JAK") == ["A1"]
    assert sorted(ids(engine, "King")) == ["A1", "A2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"dutasteride frontal', "unclosed quote"),
        ("OR dutasteride", "OR must stand between"),
        ("dutasteride OR", "OR must stand between"),
        ("a OR OR b", "OR must stand between"),
        ("-dutasteride", "only excludes"),
        ("", "empty query"),
        ("***", "may only end a word"),
        ("du*tasteride", "may only end a word"),
        ("&&", "no letter or digit"),
    ],
)
def test_queries_that_cannot_be_read_say_why(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        parse(query)


def test_user_text_never_becomes_fts5_syntax() -> None:
    expression = fts5_expression(parse('NEAR(a b) x"y "p  q" c*'))
    assert expression == '"NEAR(a" AND "b)" AND "x""y" AND "p q" AND "c"*'
