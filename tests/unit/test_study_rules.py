"""The study parser's rule table, rule by rule: each rule's words read into its field on a
small study page, and words that are not the rule's are not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tressless_crawler.items import StudyItem
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.parsers.study_rules import RULES

URL = "https://tressless.com/research/finasteride-and-hair-counts-Fx12"
# Something only a study page has, for pages whose example is not evidence of its own.
EVIDENCE = (
    "<section><h2>Related research</h2><p>1 / 1 results</p>"
    '<a href="/research/another-study-Zz99">Another study of hair</a></section>'
)
CITED_AFTER_RELATED = (
    '<h2>Related research</h2><a href="/research/related-study-Cd34">A related study</a>'
    '<h2>{label}</h2><a href="/research/cited-study-Ab12">A cited study</a>'
)
THREAD = '<a href="/community/post/my-finasteride-results-abc123">My finasteride results</a>'


@dataclass(frozen=True)
class Case:
    """A rule's example: what a page shows, and what the parser reads off it."""

    positive: str  # markup the rule reads
    negative: str  # markup that looks alike, and that the rule does not read
    observe: str  # a field of the item, or "kept": the page is stored at all
    expected: Any  # what the positive example gives there (the negative gives something else)
    heading: bool = True  # the page has an <h1> title
    evidence: bool = True  # EVIDENCE is added


CASES = {
    "title": Case(
        "<p><b>Title:</b> Minoxidil and sleep quality</p>",
        "<p><b>Titles:</b> Minoxidil and sleep quality</p>",
        "title",
        "Minoxidil and sleep quality",
        heading=False,
    ),
    "published": Case(
        "<p><b>Published:</b> May 2014</p>",
        "<p><b>Publisher:</b> May 2014</p>",
        "published",
        "2014-05",
    ),
    "journal": Case(
        "<table><tr><td>Journal</td><td>Dermatology Reports</td></tr></table>",
        "<table><tr><td>Journals</td><td>Dermatology Reports</td></tr></table>",
        "journal",
        "Dermatology Reports",
    ),
    "authors": Case(
        "<dl><dt>Authors</dt><dd>Jane Doe, John Roe</dd></dl>",
        "<p><b>Editors:</b> Jane Doe, John Roe</p>",
        "authors",
        ["Jane Doe", "John Roe"],
    ),
    "summary": Case(
        "<p><b>Summary:</b> The study followed 40 men.</p>",
        "<p><b>Summaries:</b> The study followed 40 men.</p>",
        "summary",
        "The study followed 40 men.",
    ),
    "source": Case(  # read and left out: not the summary
        "<p><b>Source:</b> PubMed</p>",
        "<p><b>Sources:</b> PubMed</p>",
        "summary",
        None,
    ),
    "tldr": Case(
        "<p>TLDR: Finasteride kept hair counts up.</p>",
        "<p>TLDRs: Finasteride kept hair counts up.</p>",
        "tldr",
        "Finasteride kept hair counts up.",
    ),
    "source link": Case(
        '<a href="https://pubmed.ncbi.nlm.nih.gov/1/">View this study on pubmed →</a>',
        '<a href="https://pubmed.ncbi.nlm.nih.gov/1/">Read this study on pubmed →</a>',
        "source_url",
        "https://pubmed.ncbi.nlm.nih.gov/1/",
    ),
    "discuss": Case(
        '<a href="/community">Discuss this study in the Community</a>',
        '<a href="/community">Discuss this in the forum</a>',
        "kept",
        True,
        evidence=False,
    ),
    "study image": Case(  # after the TLDR only the image labelled as the study's is taken
        '<p>TLDR: Finasteride kept hair counts up.</p><img src="/i/s.png" alt="Image of study">',
        '<p>TLDR: Finasteride kept hair counts up.</p><img src="/i/s.png" alt="Our logo">',
        "image_url",
        "https://tressless.com/i/s.png",
    ),
    "cited": Case(
        CITED_AFTER_RELATED.format(label="Research cited in this study"),
        CITED_AFTER_RELATED.format(label="Research we liked"),
        "cited",
        ["Ab12"],
        evidence=False,
    ),
    "related": Case(
        '<h2>Related research</h2><p>1 / 1 results</p><a href="/research/x-Cd34">A study</a>',
        '<h2>Further research</h2><p>1 / 1 results</p><a href="/research/x-Cd34">A study</a>',
        "related",
        ["Cd34"],
        evidence=False,
    ),
    "community": Case(  # cards are read by their links; the label is the evidence
        f"<h2>Related Community Posts</h2>{THREAD}",
        f"<h2>Forum posts</h2>{THREAD}",
        "community_posts",
        ["abc123"],
        evidence=False,
    ),
}


def _page(markup: str, case: Case) -> str:
    heading = "<h1>Finasteride and hair counts</h1>" if case.heading else ""
    evidence = EVIDENCE if case.evidence else ""
    return f"<html><body><main><article>{heading}{markup}{evidence}</article></main></body></html>"


def _observe(markup: str, case: Case) -> Any:
    result = parse_study(_page(markup, case), URL)
    if case.observe == "kept":
        return isinstance(result, StudyItem)
    if not isinstance(result, StudyItem):
        return None
    value = getattr(result, case.observe)
    if case.observe in ("cited", "related"):
        return [entry.study_id for entry in value]
    if case.observe == "community_posts":
        return [card.post_id for card in value]
    return value


def test_every_rule_has_its_examples() -> None:
    assert sorted(CASES) == sorted(rule.name for rule in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_a_rule_reads_its_words(rule: Any) -> None:
    case = CASES[rule.name]
    assert _observe(case.positive, case) == case.expected


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_a_rule_leaves_other_words_alone(rule: Any) -> None:
    case = CASES[rule.name]
    assert _observe(case.negative, case) != case.expected
