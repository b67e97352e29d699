"""A small corpus for the analysis tests, written through the crawler's own store.

Studies on dutasteride and alopecia areata in two journals, titles in Cyrillic and Kazakh,
accented author names, studies citing each other, threads linked from several studies with
their comments; one study changed once (a version in history).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.components.test_store import study
from tests.components.test_thread_store import thread
from tressless_crawler.db import schema
from tressless_crawler.db import study_writes as store
from tressless_crawler.db import thread_writes as thread_store
from tressless_crawler.db.engine import make_engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=40)
JAD = "Journal of the American Academy of Dermatology"
JDT = "Journal of Dermatological Treatment"


def card(post_id: str, title: str, category: str = "Treatment") -> dict[str, Any]:
    return {
        "post_id": post_id,
        "url": f"https://www.reddit.com/r/tressless/comments/{post_id}/t/",
        "title": title,
        "category": category,
        "upvotes": 3,
        "age": "1 year ago",
        "summary": None,
        "posted_approx": None,
        "posted_precision": None,
    }


def ref(study_id: str, citations: int) -> dict[str, Any]:
    return {
        "study_id": study_id,
        "url": f"https://tressless.com/research/x-{study_id}",
        "title": f"Entry {study_id}",
        "citations": citations,
        "published": None,
        "journal": None,
        "tldr": None,
    }


def studies() -> list[dict[str, Any]]:
    return [
        study(
            "D1",
            title="Dutasteride improves frontal hair density",
            journal=JAD,
            published="2019-05",
            authors=["Vañó‐Galván S", "Jaén P"],
            tldr="Dutasteride 0.5 mg daily raised frontal hair counts.",
            summary="A randomised trial of dutasteride against finasteride in men.",
            cited=[ref("A1", 40), ref("A2", 12)],
            cited_total=2,
            related=[],
            community_posts=[card("p1", "Dut results"), card("p2", "Dut sides", "Side effects")],
        ),
        study(
            "D2",
            title="Mesotherapy with dutasteride for the vertex",
            journal=JDT,
            published="2021-02",
            authors=["Jaén P", "Saceda‐Corralo D"],
            tldr="Injected dutasteride helped vertex thinning.",
            summary="Dutasteride mesotherapy in 50 patients.",
            cited=[ref("A1", 40)],
            cited_total=1,
            related=[],
            community_posts=[card("p1", "Dut results")],
        ),
        study(
            "A1",
            title="JAK inhibitors in alopecia areata",
            journal=JAD,
            published="2022-06",
            authors=["King B"],
            tldr="Baricitinib regrew hair in alopecia areata.",
            summary="Two phase 3 trials.",
            cited=[],
            cited_total=0,
            related=[],
            community_posts=[],
        ),
        study(
            "A2",
            title="Alopecia areata and thyroid disease",
            journal=JAD,
            published="2018-01",
            authors=["King B", "Ørsted L"],
            tldr="Thyroid disease is common in alopecia areata.",
            summary="A cohort study.",
            cited=[],
            cited_total=0,
            related=[],
            community_posts=[],
        ),
        study(
            "A3",
            title="Alopecia areata in children",
            journal=JDT,
            published="2020-09",
            authors=["Müller K"],
            tldr="Paediatric alopecia areata responds to topical steroids.",
            summary="A review.",
            cited=[ref("A2", 12)],
            cited_total=1,
            related=[],
            community_posts=[card("p3", "Kid with AA", "Alopecia areata")],
        ),
        study(
            "R1",
            title="Выпадение волос у мужчин",
            journal="Вестник дерматологии",
            published="2016-03",
            authors=["Иванов И"],
            tldr="Андрогенная алопеция у мужчин Москвы.",
            summary="Обзор.",
            cited=[],
            cited_total=0,
            related=[],
            community_posts=[],
        ),
        study(
            "K1",
            title="Шаш түсу және Қазақстандағы емдеу",
            journal=None,
            published="2023-11",
            authors=["Әлиев Ғ"],
            tldr="Қазақстан дәрігерлерінің шолуы.",
            summary="Шолу.",
            cited=[],
            cited_total=0,
            related=[],
            community_posts=[],
        ),
    ]


def threads() -> list[dict[str, Any]]:
    first = thread(
        post_id="p1",
        url="https://www.reddit.com/r/tressless/comments/p1/t/",
        title="Dut results after one year",
        body="Switched from finasteride to dutasteride, frontal hairline back.",
    )
    second = thread(
        post_id="p2",
        url="https://www.reddit.com/r/tressless/comments/p2/t/",
        title="Dutasteride side effects?",
        body="Anyone had sides on dutasteride?",
        comments=[
            {
                "comment_id": "q1",
                "parent_id": None,
                "author": "x",
                "body": "No sides at all on dutasteride, café every morning.",
                "upvotes": 4,
                "posted_at": "2021-05-01T00:00:00Z",
                "depth": 0,
                "kind": "comment",
                "more_count": None,
                "edited": False,
                "stickied": False,
                "distinguished": None,
            }
        ],
    )
    return [first, second]


def fill(db_url: str) -> None:
    """The corpus, written as crawls would write it: studies, a change, then threads."""
    engine = make_engine(db_url, immediate=True)
    try:
        schema.upgrade(engine)
        items = studies()
        store.write_studies(engine, items, None, T0)
        changed = dict(items[0], tldr="Dutasteride 0.5 mg daily raised frontal hair counts more.")
        store.write_studies(engine, [changed], None, T1)
        thread_store.write_threads(engine, threads(), None, T1)
    finally:
        engine.dispose()
