"""Typed items the parsers produce and the pipelines consume.

Items are plain dataclasses (read through ``ItemAdapter`` in pipelines) and are
kept separate from the database tables in ``tressless_crawler.db.models``. Field names are
a public interface: exports and outside checks rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ResearchRef:
    """One entry of a study's "cited" or "related" research list."""

    study_id: str | None = None
    url: str | None = None
    title: str | None = None
    citations: int | None = None
    published: str | None = None  # "YYYY-MM"
    journal: str | None = None
    tldr: str | None = None


@dataclass
class CommunityCard:
    """A "Related Community Posts" card on a study page."""

    post_id: str | None = None
    url: str | None = None
    title: str | None = None
    category: str | None = None
    upvotes: int | None = None
    age: str | None = None  # as shown, e.g. "4 years ago"
    summary: str | None = None
    # Filled by the normalise pipeline from ``age`` and the crawl time.
    posted_approx: str | None = None  # ISO 8601 date
    posted_precision: str | None = None  # "day" | "month" | "year"


@dataclass
class StudyItem:
    """A research summary page: ``/research/<slug>-<id>``."""

    study_id: str | None = None
    url: str | None = None
    slug: str | None = None
    title: str | None = None
    published: str | None = None  # "YYYY-MM"
    journal: str | None = None
    authors: list[str] = field(default_factory=list)
    tldr: str | None = None
    summary: str | None = None
    image_url: str | None = None
    source_url: str | None = None
    cited: list[ResearchRef] = field(default_factory=list)
    cited_total: int | None = None
    cited_total_is_lower_bound: bool = False
    related: list[ResearchRef] = field(default_factory=list)
    related_total: int | None = None
    related_total_is_lower_bound: bool = False
    community_posts: list[CommunityCard] = field(default_factory=list)
    community_total: int | None = None
    community_total_is_lower_bound: bool = False


@dataclass
class CommentItem:
    """One comment of a thread (or a "more" stub of comments not expanded)."""

    comment_id: str | None = None
    parent_id: str | None = None  # None for a top-level comment
    author: str | None = None  # None when deleted
    body: str | None = None
    upvotes: int | None = None
    posted_at: str | None = None  # UTC, ISO 8601
    depth: int = 0
    # "comment" | "deleted" | "removed" | "more" (a stub) | "kept": a comment an earlier crawl
    # stored from an expanded stub, not asked for again (only its place in the tree is new)
    kind: str = "comment"
    more_count: int | None = None  # for kind == "more": comments not expanded
    edited: bool = False
    stickied: bool = False
    distinguished: str | None = None  # e.g. "moderator"
    # kind == "more": the ids the stub hides, as Reddit lists them (not stored; the spider
    # asks Reddit for them). A "continue this thread" stub has id "_" and none.
    children: list[str] = field(default_factory=list)


@dataclass
class ThreadItem:
    """A community thread with its comment tree flattened in document order."""

    post_id: str | None = None
    url: str | None = None
    title: str | None = None
    category: str | None = None
    author: str | None = None
    posted_at: str | None = None  # UTC, ISO 8601
    upvotes: int | None = None
    body: str | None = None
    summary: str | None = None
    comment_count: int | None = None
    comments: list[CommentItem] = field(default_factory=list)
    link_url: str | None = None  # a link post's target
    edited: bool = False
    source_format: str | None = None  # "html" | "reddit_json"


# The drop reason of a page a parser failed on (a bug in it): every parser uses it, so the
# stat is ``parse/dropped/parse_error`` (thread parsers said ``parser_error`` before).
PARSE_ERROR = "parse_error"


@dataclass(frozen=True)
class Drop:
    """What a parser returns instead of an item when a page is not usable."""

    reason: str  # short, stat-safe: "not_a_study_page", "no_title", ...
    detail: str = ""


def as_dict(item: object) -> dict[str, object]:
    """An item as a plain dict, nested items (in lists) too: what ``ItemAdapter(item).asdict()``
    gives for these dataclasses, at a tenth of its cost (it asks every value whether it is an
    item of each kind it knows, and the store converts every item)."""
    return {name: _plain(value) for name, value in vars(item).items()}


def _plain(value: object) -> object:
    if type(value) is list:
        return [as_dict(v) if hasattr(v, "__dataclass_fields__") else _plain(v) for v in value]
    return value
