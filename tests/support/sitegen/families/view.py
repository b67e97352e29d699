"""What every family prints of a study, as text: the families differ only in markup."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

from tests.support.sitegen.render import month_year_text

SECTION_ORDER = ("cited", "community", "related")
LABELS = {
    "cited": "Research cited in this study",
    "related": "Related Research",
    "community": "Related Community Posts",
}
OLD_LABELS = {"cited": "Cited in this study", "related": "Similar Research"}
NAV = (("/", "Home"), ("/research", "Research"), ("/learn", "Learn"), ("/community", "Community"))
NEWSLETTER = "Get the TLDR of new Research every week."
COOKIES = "We use cookies to remember your Research and Community settings."


def e(text: Any) -> str:
    return escape(str(text), quote=False)


def a(text: Any) -> str:
    return escape(str(text), quote=True)


@dataclass
class Section:
    kind: str
    label: str
    counter: str | None
    entries: list[dict[str, Any]]


class StudyView:
    """The study's texts and links as the site prints them."""

    def __init__(self, study: dict[str, Any], url: str, *, old_labels: bool = False) -> None:
        self.study = study
        self.url = url
        self.old_labels = old_labels

    def __getitem__(self, key: str) -> Any:
        return self.study.get(key)

    @property
    def page_title(self) -> str:
        return f"{self['title']} | Tressless" if self["title"] else "Tressless"

    @property
    def date(self) -> str | None:
        return month_year_text(self["published"])

    @property
    def authors(self) -> str | None:
        return ", ".join(self["authors"]) if self["authors"] else None

    def source(self) -> tuple[str, str] | None:
        """(href, "View this study on <host> →") when the study has a source."""
        url = self["source_url"]
        if not url:
            return None
        host = urlsplit(url).hostname or ""
        return url, f"View this study on {host} →"

    def href(self, url: str, relative: bool) -> str:
        """``url``, as a path when ``relative`` and on the page's own origin."""
        page, target = urlsplit(self.url), urlsplit(url)
        if relative and (page.scheme, page.netloc) == (target.scheme, target.netloc):
            return target.path + (f"?{target.query}" if target.query else "")
        return url

    def sections(self) -> list[Section]:
        out = []
        for kind in SECTION_ORDER:
            entries = list(self["community_posts" if kind == "community" else kind] or [])
            total = self[f"{kind}_total"]
            if not entries and total is None:
                continue
            label = (OLD_LABELS if self.old_labels else LABELS).get(kind, LABELS[kind])
            counter = None
            if total is not None:
                plus = "+" if self[f"{kind}_total_is_lower_bound"] else ""
                counter = f"{len(entries)} / {total}{plus} results"
            out.append(Section(kind, label, counter, entries))
        return out


def entry_meta(entry: dict[str, Any]) -> tuple[list[int], list[tuple[str, str]]]:
    """([citations] or [], [("date", "May 2014"), ("journal", name)]) of a research entry."""
    cited = [] if entry.get("citations") is None else [int(entry["citations"])]
    rest = []
    date = month_year_text(entry.get("published"))
    if date:
        rest.append(("date", date))
    if entry.get("journal") is not None:
        rest.append(("journal", str(entry["journal"])))
    return cited, rest


def entry_meta_text(entry: dict[str, Any]) -> str | None:
    """ "17 citations, May 2014 in “Journal”" (each part optional), escaped; None if none."""
    cited, rest = entry_meta(entry)
    parts = [e(text) if kind == "date" else f"in “{e(text)}”" for kind, text in rest]
    head = [f"{cited[0]} citations" + ("," if parts else "")] if cited else []
    return " ".join(head + parts) or None


def card_meta_text(card: dict[str, Any]) -> str | None:
    """ "in Treatment 2 upvotes 4 years ago" (each part optional), escaped; None if none."""
    parts = [card_category(card), card_upvotes(card), card.get("age")]
    return " ".join(e(p) for p in parts if p) or None


def card_category(card: dict[str, Any]) -> str | None:
    return f"in {card['category']}" if card.get("category") else None


def card_upvotes(card: dict[str, Any]) -> str | None:
    return None if card.get("upvotes") is None else f"{card['upvotes']} upvotes"
