"""``as_dict``: the store's conversion of items, the same dicts as ItemAdapter's, nested too."""

from __future__ import annotations

from pathlib import Path

from itemadapter import ItemAdapter

from tressless_crawler.items import (
    CommentItem,
    CommunityCard,
    ResearchRef,
    StudyItem,
    ThreadItem,
    as_dict,
)
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.parsers.thread_html import parse_thread_html

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"


def test_as_dict_equals_itemadapter_on_every_fixture_page() -> None:
    items: list[object] = []
    for page in sorted((SITE / "research").glob("*/index.html")):
        items.append(
            parse_study(page.read_bytes(), f"https://tressless.com/research/{page.parent.name}")
        )
    for page in sorted((SITE / "community").glob("*/index.html")):
        url = f"https://tressless.com/community/{page.parent.name}"
        items.append(parse_thread_html(page.read_text(encoding="utf-8"), url))
    parsed = [i for i in items if isinstance(i, StudyItem | ThreadItem)]
    assert len(parsed) > 40
    assert any(isinstance(i, StudyItem) and i.cited and i.community_posts for i in parsed)
    assert any(isinstance(i, ThreadItem) and i.comments for i in parsed)
    for item in parsed:
        assert as_dict(item) == ItemAdapter(item).asdict()


def test_as_dict_converts_nested_items_and_copies_lists() -> None:
    study = StudyItem(
        study_id="Ab1c",
        authors=["A. Author"],
        cited=[ResearchRef(study_id="Xy2z", citations=3)],
        community_posts=[CommunityCard(post_id="p1", upvotes=2)],
    )
    thread = ThreadItem(post_id="t1", comments=[CommentItem(comment_id="c1", depth=1)])
    for item in (study, thread):
        assert as_dict(item) == ItemAdapter(item).asdict()
    converted = as_dict(study)
    assert converted["cited"] == [ItemAdapter(study.cited[0]).asdict()]
    assert converted["authors"] is not study.authors  # the buffer never aliases the item
