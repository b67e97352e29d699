"""The fixture-page renderer: both templates parse back to the data they were built from."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.support.sitegen.render import TEMPLATES, month_year_text, render_study
from tressless_crawler.items import StudyItem
from tressless_crawler.parsers.study import parse_study

SITE = "https://tressless.com"
URL = f"{SITE}/research/alopecia-induced-by-sorafenib-mechanism-similar-to-aa-ZpoR"

STUDY: dict[str, Any] = {
    "title": "Case of Alopecia Induced by Sorafenib, Possible Mechanism Similar to Alopecia Areata",
    "published": "2017-11",
    "journal": "The Journal of Dermatology",
    "authors": ["Yasuyuki Tanaka", "Koji Sugawara", "Ralph M. Trüeb", "Sergio Vañó\u2010Galván"],
    "tldr": "Sorafenib may cause hair loss in a way similar to alopecia areata.",
    "summary": "In 2017, a case was reported of a 21-year-old woman who lost hair on sorafenib.",
    "image_url": f"{SITE}/images/research/ZpoR.webp",
    "source_url": "https://doi.org/10.1111/1346-8138.13935",
    "show_discuss": True,
    "cited": [
        {
            "study_id": "Qk8s",
            "url": f"{SITE}/research/7-phloroeckol-promotes-hair-growth-Qk8s",
            "title": "7-Phloroeckol Promotes Hair Growth",
            "citations": 17,
            "published": "2014-05",
            "journal": "Naunyn-Schmiedeberg's Archives of Pharmacology",
            "tldr": "7-Phloroeckol from brown algae may help hair grow.",
        },
        {
            "study_id": "Tr4",
            "url": f"{SITE}/research/dermatologic-adverse-events-of-sorafenib-Tr4",
            "title": "Dermatologic Adverse Events of Sorafenib",
            "citations": 1,
            "published": None,
            "journal": None,
            "tldr": None,
        },
    ],
    "cited_total": 3,
    "cited_total_is_lower_bound": False,
    "related": [
        {
            "study_id": "Sf7",
            "url": f"{SITE}/research/sorafenib-induced-alopecia-Sf7",
            "title": "Sorafenib-Induced Alopecia",
            "citations": None,
            "published": "2019-08",
            "journal": "JAAD Case Reports",
            "tldr": "Several patients lost hair on sorafenib.",
        },
    ],
    "related_total": 1000,
    "related_total_is_lower_bound": True,
    "community_posts": [
        {
            "post_id": "x7k2pq",
            "url": f"{SITE}/community/alopecia-areata-question-x7k2pq",
            "title": "Alopecia Areata Question",
            "category": "Treatment",
            "upvotes": 2,
            "age": "4 years ago",
            "summary": "A user with alopecia totalis seeks advice.",
            "posted_approx": None,
            "posted_precision": None,
        },
        {
            "post_id": "k3x9bq",
            "url": f"{SITE}/r/tressless/comments/k3x9bq/my_daughter_has_aa",
            "title": "MY DAUGHTER HAS AA",
            "category": None,
            "upvotes": 934,
            "age": "1 month ago",
            "summary": None,
            "posted_approx": None,
            "posted_precision": None,
        },
        {
            "post_id": None,
            "url": None,
            "title": "Shaved it all off.",
            "category": "Chat",
            "upvotes": None,
            "age": "3 months ago",
            "summary": "A user shares a photo after shaving.",
            "posted_approx": None,
            "posted_precision": None,
        },
    ],
    "community_total": 404,
    "community_total_is_lower_bound": False,
}

ITEM_FIELDS = {f.name for f in dataclasses.fields(StudyItem)}


def _expected(data: dict[str, Any]) -> dict[str, Any]:
    expected = {key: value for key, value in data.items() if key in ITEM_FIELDS}
    return {
        **dataclasses.asdict(StudyItem()),
        **expected,
        "study_id": "ZpoR",
        "url": URL,
        "slug": "alopecia-induced-by-sorafenib-mechanism-similar-to-aa",
    }


@pytest.mark.parametrize("template", TEMPLATES)
def test_round_trip(template: str) -> None:
    item = parse_study(render_study(STUDY, template), URL)
    assert isinstance(item, StudyItem)
    assert dataclasses.asdict(item) == _expected(STUDY)


@pytest.mark.parametrize("template", TEMPLATES)
def test_round_trip_of_a_bare_page(template: str) -> None:
    data = {"title": "A Study With Nothing Else", "published": "1999-01", "tldr": "Short."}
    item = parse_study(render_study(data, template), URL)
    assert isinstance(item, StudyItem)
    assert dataclasses.asdict(item) == _expected(data)


@pytest.mark.parametrize(
    ("knobs", "field", "expected"),
    [
        ({"journal_raw": ""}, "journal", None),
        ({"journal_close": True, "journal_space": False}, "journal", "The Journal of Dermatology"),
        ({"cited_total": "NoResults"}, "cited_total", None),
        ({"cited_total": ""}, "cited_total", None),
        ({"cited_counter": "6 / 1000+"}, "cited_total", 1000),
        ({"cited_label": "Cited in this study"}, "cited_total", 3),
        ({"cited_label": ""}, "cited_total", 3),
        ({"related_label": "Similar Research"}, "related_total", 1000),
        ({"related_label": "Related"}, "related_total", 1000),
        ({"community_label": ""}, "community_total", 404),
        ({"source_host": ""}, "source_url", "https://doi.org/10.1111/1346-8138.13935"),
        ({"source_url": ""}, "source_url", None),
    ],
)
@pytest.mark.parametrize("template", TEMPLATES)
def test_rendering_knobs(template: str, knobs: dict[str, Any], field: str, expected: Any) -> None:
    item = parse_study(render_study({**STUDY, **knobs}, template), URL)
    assert isinstance(item, StudyItem)
    assert getattr(item, field) == expected


@pytest.mark.parametrize("template", TEMPLATES)
def test_debris_and_doubled_titles_do_not_reach_the_item(template: str) -> None:
    cards = [{**STUDY["community_posts"][0], "title_twice": True}, "[object Object]"]
    cited = ["[object Object]", {**STUDY["cited"][0], "debris_before": True}, STUDY["cited"][0]]
    page = render_study({**STUDY, "community_posts": cards, "cited": cited}, template)
    item = parse_study(page, URL)
    assert isinstance(item, StudyItem)
    assert [c.title for c in item.community_posts] == ["Alopecia Areata Question"]
    assert [dataclasses.asdict(r) for r in item.cited] == [STUDY["cited"][0]] * 2


def test_rendering_is_deterministic_and_templates_differ() -> None:
    cards, flat = (render_study(STUDY, template) for template in TEMPLATES)
    assert cards == render_study(dict(STUDY), "cards")
    assert flat == render_study(dict(STUDY), "flat")
    assert cards != flat
    assert 'class="css-' in cards
    assert 'class="sc-' in flat
    assert '<link rel="canonical"' not in cards
    assert '<link rel="canonical" href="x">' in render_study({"canonical_url": "x"})


def test_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown template"):
        render_study(STUDY, "brutalist")


def test_month_year_text() -> None:
    assert month_year_text("2017-11") == "November 2017"
    assert month_year_text("2017-13") is None
    assert month_year_text(None) is None
