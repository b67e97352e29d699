"""Render study pages in the markup styles of the site, for fixtures and the demo site.

Pages follow the field order and labels of the site's study pages, marked up as a
server-rendered React (Next.js-like) app would emit them: generated class names, a navigation
header, a footer, JSON state blobs in ``<script>`` tags. Two templates are supported:

* ``"cards"`` - the newer, indented template: the study header and each section are cards,
  research entries are whole-card links, community cards are links or plain boxes.
* ``"flat"`` - the older template: minified markup, month / ``in “`` / journal / ``”`` on
  separate lines (optionally followed by a line of keywords), older section labels
  (``Cited in this study``, ``Related``), research entries as list items whose title is the link.

Output is deterministic: the same ``data`` and ``template`` give the same string.

Accepted keys of ``data`` (all optional; a key that is absent or ``None`` means "not shown"):

Study header
    ``title`` (str), ``published`` ("YYYY-MM"), ``journal`` (str), ``journal_raw`` (str, shown
    verbatim after ``in “`` instead of ``journal``; ``""`` renders ``in “`` followed by nothing),
    ``journal_close`` (bool, default False: print the closing ``”`` in the header; the flat
    template always prints it on its own line unless this is explicitly False),
    ``journal_space`` (bool, default True, cards template: a space after ``“``),
    ``keywords`` (str, flat template: a line after the journal), ``authors`` (list of str),
    ``image_url`` (str, alt text "Image of study"), ``tldr`` (str), ``summary`` (str).
Calls to action
    ``source_url`` (str, href of "View this study on <host> →"; ``""`` renders an empty href),
    ``source_host`` (str, the host printed; defaults to the host of ``source_url``, ``""`` prints
    ``View this study on →``), ``show_discuss`` (bool: "Discuss this study in the Community →").
Sections (``<kind>`` is ``cited``, ``related`` or ``community``)
    ``cited`` / ``related``: lists of entries. An entry is a dict with the fields of
    ``tressless_crawler.items.ResearchRef`` (``url`` is the href, rendered as given; no ``url``
    renders an
    unlinked title, which the site itself never shows and the parser only tells apart from the
    previous entry when that one ends with its TLDR; ``published`` is "YYYY-MM") plus knobs
    ``citations_text`` (str replacing the rendered "<N> citations"), ``journal_close`` (bool,
    default True) and ``debris_before`` (bool: a ``[object Object]`` line before the entry). The
    string ``"[object Object]"`` as an entry renders a debris line alone.
    ``community_posts``: list of dicts with the fields of ``tressless_crawler.items.CommunityCard``
    (``url``
    is the href as given, e.g. ``/community/<slug>-<post_id>`` or
    ``/r/tressless/comments/<post_id>/<slug>/``; no ``url`` renders an unlinked card;
    ``upvotes`` may be an int or a display string such as ``"1.2k"``) plus ``title_twice``
    (bool: the title printed a second time); ``"[object Object]"`` entries render debris.
    ``<kind>_total``: int (printed, with "+" when ``<kind>_total_is_lower_bound``) or a display
    string printed verbatim (``"1000+"``, ``"404"``, ``"NoResults"``, ``""``); absent or None: no
    counter. ``<kind>_shown`` (int, default: number of real entries), ``<kind>_counter_word``
    (bool, default True except after ``NoResults``: append "results"), ``<kind>_counter`` (str,
    the whole counter text, overrides the above; None hides it), ``<kind>_label`` (str, default
    per template; ``""``/None hides the label). A section is rendered when it has entries, a
    counter or an explicit label. ``section_order`` (list of kinds, default
    ``["cited", "community", "related"]``).
Page
    ``canonical_url`` (str: ``<link rel="canonical">``), ``page_title`` (str, the ``<title>``).
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from typing import Any
from urllib.parse import urlsplit

__all__ = ["TEMPLATES", "month_year_text", "render_study"]

TEMPLATES = ("cards", "flat")
DEBRIS = "[object Object]"
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
NAV_LINKS = (
    ("/", "Home"),
    ("/research", "Research"),
    ("/learn", "Learn"),
    ("/community", "Community"),
    ("/search", "Search"),
)
FOOTER_LINKS = (("/about", "About"), ("/privacy", "Privacy"), ("/terms", "Terms"))
DEFAULT_LABELS = {
    "cards": {
        "cited": "Research cited in this study",
        "related": "Related Research",
        "community": "Related Community Posts",
    },
    "flat": {
        "cited": "Cited in this study",
        "related": "Related",
        "community": "Related Community Posts",
    },
}
DEFAULT_ORDER = ("cited", "community", "related")


def render_study(data: dict[str, Any], template: str = "cards") -> str:
    """A whole study page built from ``data`` (keys in the module docstring)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; expected one of {TEMPLATES}")
    page = _CardsPage(data) if template == "cards" else _FlatPage(data)
    return page.render()


def month_year_text(published: str | None) -> str | None:
    """ "2017-11" -> "November 2017" (the site's date format); None when not a month."""
    if not published:
        return None
    year, _, month = published.partition("-")
    if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        return None
    return f"{MONTHS[int(month) - 1]} {year}"


def _css(template: str, role: str) -> str:
    """A stable generated class name; differs between templates like a CSS-in-JS build."""
    digest = hashlib.sha1(f"{template}:{role}".encode()).hexdigest()
    if template == "cards":
        return "css-" + _encode(int(digest[:12], 16), "0123456789abcdefghijklmnopqrstuvwxyz", 6)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "sc-" + _encode(int(digest[:12], 16), letters, 6)


def _encode(number: int, alphabet: str, width: int) -> str:
    out = ""
    for _ in range(width):
        number, rem = divmod(number, len(alphabet))
        out += alphabet[rem]
    return out


def _e(text: Any) -> str:
    return escape(str(text), quote=False)


def _a(text: Any) -> str:
    return escape(str(text), quote=True)


def _script_json(value: Any) -> str:
    """JSON safe to embed in a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


class _Page:
    """Shared rendering; subclasses decide the markup of each part."""

    template = ""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def c(self, role: str) -> str:
        return _css(self.template, role)

    # -- data helpers -------------------------------------------------------------------

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def journal_text(self) -> str | None:
        if "journal_raw" in self.data and self.data["journal_raw"] is not None:
            return str(self.data["journal_raw"])
        journal = self.get("journal")
        return None if journal is None else str(journal)

    def source_cta(self) -> tuple[str, str] | None:
        """(href, host) of "View this study on <host> →", or None when not shown."""
        url = self.get("source_url")
        host = self.data.get("source_host")
        if url is None and host is None:
            return None
        if host is None:
            host = urlsplit(url or "").hostname or ""
        return (url or "", host)

    def entries(self, kind: str) -> list[Any]:
        key = "community_posts" if kind == "community" else kind
        return list(self.get(key) or [])

    def real_entries(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.entries(kind) if isinstance(e, dict)]

    def counter(self, kind: str) -> str | None:
        if f"{kind}_counter" in self.data:
            value = self.data[f"{kind}_counter"]
            return None if value is None else str(value)
        total = self.get(f"{kind}_total")
        if total is None:
            return None
        shown = self.get(f"{kind}_shown")
        if shown is None:
            shown = len(self.real_entries(kind))
        if isinstance(total, int):
            total_text = f"{total}+" if self.get(f"{kind}_total_is_lower_bound") else str(total)
        else:
            total_text = str(total)
        word = self.data.get(f"{kind}_counter_word", total_text != "NoResults")
        text = f"{shown} / {total_text}".rstrip()
        return f"{text} results" if word else text

    def label(self, kind: str) -> str | None:
        if f"{kind}_label" in self.data:
            return self.data[f"{kind}_label"] or None
        return DEFAULT_LABELS[self.template][kind]

    def section_shown(self, kind: str) -> bool:
        return bool(
            self.entries(kind) or self.counter(kind) is not None or self.get(f"{kind}_label")
        )

    def state_blob(self) -> dict[str, Any]:
        """The JSON state a React app embeds; it repeats page text to tempt naive parsers."""
        return {
            "buildId": f"{self.template}-build",
            "page": "/research/[slug]",
            "props": {
                "pageProps": {
                    "labels": {"tldr": "TLDR", "cited": DEFAULT_LABELS["cards"]["cited"]},
                    "study": {
                        "title": self.get("title"),
                        "tldr": self.get("tldr"),
                        "authors": DEBRIS,
                        "counter": "6 / 1000+ results",
                    },
                }
            },
        }

    # -- page skeleton ------------------------------------------------------------------

    def render(self) -> str:
        return f'<!DOCTYPE html>\n<html lang="en">\n{self.head()}\n{self.body()}\n</html>\n'

    def head(self) -> str:
        title = self.get("page_title") or (
            f"{self.get('title')} | Tressless" if self.get("title") else "Tressless"
        )
        lines = [
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
        ]
        if self.get("tldr"):
            lines.append(f'<meta name="description" content="{_a(self.get("tldr"))}">')
        if self.get("title"):
            lines.append(f'<meta property="og:title" content="{_a(self.get("title"))}">')
        if self.get("image_url"):
            lines.append(f'<meta property="og:image" content="{_a(self.get("image_url"))}">')
        if self.get("canonical_url"):
            lines.append(f'<link rel="canonical" href="{_a(self.get("canonical_url"))}">')
        lines += [
            f'<link rel="stylesheet" href="/_next/static/css/{self.template}-8f3c1a.css">',
            f"<style>.{self.c('root')}{{display:flex}}.{self.c('h1')}{{font-size:2rem}}</style>",
            "</head>",
        ]
        return "\n".join(lines)

    def scripts(self) -> str:
        blob = _script_json(self.state_blob())
        push = _script_json([1, f"TLDR {DEBRIS} Related Research 3 / 3 results"])
        return "\n".join(
            [
                f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>',
                f"<script>(self.__next_f=self.__next_f||[]).push({push})</script>",
                '<script src="/_next/static/chunks/main-5e1b.js" async></script>',
            ]
        )

    def body(self) -> str:
        raise NotImplementedError


class _CardsPage(_Page):
    """The newer template: indented markup, header and sections as cards."""

    template = "cards"

    def body(self) -> str:
        parts = [
            "<body>",
            f'<div id="__next" class="{self.c("root")}">',
            self.header(),
            f'  <main class="{self.c("main")}">',
            self.study_card(),
        ]
        for kind in self.get("section_order") or DEFAULT_ORDER:
            if self.section_shown(kind):
                parts.append(self.section(kind))
        parts += [
            "  </main>",
            self.footer(),
            "</div>",
            "<noscript>TLDR: enable JavaScript. Image of study</noscript>",
            self.scripts(),
            "</body>",
        ]
        return "\n".join(parts)

    def header(self) -> str:
        links = "\n".join(
            f'        <li><a class="{self.c("navlink")}" href="{href}">{text}</a></li>'
            for href, text in NAV_LINKS
        )
        return "\n".join(
            [
                f'  <header class="{self.c("header")}">',
                f'    <a class="{self.c("logo")}" href="/">Tressless</a>',
                f'    <nav class="{self.c("nav")}">',
                f'      <ul class="{self.c("navlist")}">',
                links,
                "      </ul>",
                "    </nav>",
                "  </header>",
            ]
        )

    def footer(self) -> str:
        links = " ".join(f'<a href="{href}">{text}</a>' for href, text in FOOTER_LINKS)
        return "\n".join(
            [
                f'  <footer class="{self.c("footer")}">',
                f'    <div class="{self.c("footcol")}">',
                "      <h4>Related Research</h4>",
                (
                    '      <a href="/research/finasteride-and-dutasteride-overview-Fin1">'
                    "Finasteride and dutasteride overview</a>"
                ),
                "      <span>3 / 3 results</span>",
                "    </div>",
                f"    <div>{links}</div>",
                "    <p>© 2025 Tressless. Summaries are not medical advice.</p>",
                "  </footer>",
            ]
        )

    def date_line(self) -> str | None:
        date = month_year_text(self.get("published"))
        journal = self.journal_text()
        if date is None and journal is None:
            return None
        inner = []
        if date:
            inner.append(f"<span>{_e(date)}</span>")
        if journal is not None:
            close = "”" if self.get("journal_close") else ""
            space = " " if self.data.get("journal_space", True) else ""
            inner.append(f"in “{space}{_e(journal)}{close}" if journal else "in “")
        return f'      <div class="{self.c("meta")}">{" ".join(inner)}</div>'

    def study_card(self) -> str:
        d = self.data
        lines = [f'    <article class="{self.c("card")}">']
        if d.get("title") is not None:
            lines.append(f'      <h1 class="{self.c("h1")}">{_e(d["title"])}</h1>')
        date_line = self.date_line()
        if date_line:
            lines.append(date_line)
        if d.get("authors"):
            lines.append(
                f'      <div class="{self.c("authors")}">{_e(", ".join(d["authors"]))}</div>'
            )
        if d.get("image_url"):
            lines += [
                f'      <div class="{self.c("imgwrap")}">',
                (
                    f'        <img class="{self.c("img")}" alt="Image of study" loading="lazy"'
                    f' src="{_a(d["image_url"])}">'
                ),
                "      </div>",
            ]
        if d.get("tldr") is not None:
            lines += [
                f'      <div class="{self.c("tldr")}">',
                f'        <span class="{self.c("badge")}">TLDR</span>',
                f"        {_e(d['tldr'])}",
                "      </div>",
            ]
        if d.get("summary") is not None:
            lines.append(f'      <p class="{self.c("summary")}">{_e(d["summary"])}</p>')
        lines += self.ctas()
        lines.append("    </article>")
        return "\n".join(lines)

    def ctas(self) -> list[str]:
        cta = self.source_cta()
        if cta is None and not self.get("show_discuss"):
            return []
        lines = [f'      <div class="{self.c("ctas")}">']
        if cta is not None:
            href, host = cta
            text = f"View this study on {host} →" if host else "View this study on →"
            lines.append(
                f'        <a class="{self.c("btn")}" href="{_a(href)}" target="_blank"'
                f' rel="noopener">{_e(text)}</a>'
            )
        if self.get("show_discuss"):
            lines.append(
                f'        <a class="{self.c("btn2")}" href="/community">'
                "Discuss this study in the Community →</a>"
            )
        lines.append("      </div>")
        return lines

    def section(self, kind: str) -> str:
        lines = [
            f'    <section class="{self.c("section")}">',
            f'      <div class="{self.c("sechead")}">',
        ]
        label = self.label(kind)
        if label:
            lines.append(f'        <h2 class="{self.c("h2")}">{_e(label)}</h2>')
        if kind == "community":
            lines.append(f'        <a class="{self.c("join")}" href="/community">Join</a>')
        counter = self.counter(kind)
        if counter is not None:
            lines.append(f'        <span class="{self.c("counter")}">{_e(counter)}</span>')
        lines.append("      </div>")
        lines.append(f'      <div class="{self.c("grid")}">')
        for entry in self.entries(kind):
            if not isinstance(entry, dict):
                lines.append(f"        <div>{_e(entry)}</div>")
            elif kind == "community":
                lines.append(self.community_card(entry))
            else:
                lines.append(self.research_entry(entry))
        lines += ["      </div>", "    </section>"]
        return "\n".join(lines)

    def research_entry(self, entry: dict[str, Any]) -> str:
        lines = []
        if entry.get("debris_before"):
            lines.append(f"        <div>{DEBRIS}</div>")
        tag = "a" if entry.get("url") else "div"
        href = f' href="{_a(entry["url"])}"' if entry.get("url") else ""
        lines.append(f'        <{tag} class="{self.c("entry")}"{href}>')
        if entry.get("title") is not None:
            lines.append(f'          <div class="{self.c("etitle")}">{_e(entry["title"])}</div>')
        meta = _entry_meta(entry)
        if meta:
            lines.append(f'          <div class="{self.c("emeta")}">{meta}</div>')
        if entry.get("tldr") is not None:
            lines.append(f'          <p class="{self.c("etldr")}">{_e(entry["tldr"])}</p>')
        lines.append(f"        </{tag}>")
        return "\n".join(lines)

    def community_card(self, card: dict[str, Any]) -> str:
        tag = "a" if card.get("url") else "div"
        href = f' href="{_a(card["url"])}"' if card.get("url") else ""
        lines = [
            f'        <{tag} class="{self.c("ccard")}"{href}>',
            f'          <div class="{self.c("ctag")}"><span>community</span></div>',
        ]
        if card.get("title") is not None:
            lines.append(f'          <h3 class="{self.c("ctitle")}">{_e(card["title"])}</h3>')
            if card.get("title_twice"):
                twice = f'<div class="{self.c("ctitle2")}">{_e(card["title"])}</div>'
                lines.append(f"          {twice}")
        meta = _card_meta(card)
        if meta:
            lines.append(f'          <div class="{self.c("cmeta")}">{meta}</div>')
        if card.get("summary") is not None:
            lines.append(f'          <p class="{self.c("csum")}">{_e(card["summary"])}</p>')
        lines.append(f"        </{tag}>")
        return "\n".join(lines)


class _FlatPage(_Page):
    """The older template: minified markup, one element per line, older labels."""

    template = "flat"

    def body(self) -> str:
        parts = [
            f'<body><div id="root"><div class="{self.c("app")}">',
            self.header(),
            f'<div class="{self.c("content")}">',
            self.study_block(),
        ]
        for kind in self.get("section_order") or DEFAULT_ORDER:
            if self.section_shown(kind):
                parts.append(self.section(kind))
        parts += ["</div>", self.footer(), "</div></div>", self.scripts(), "</body>"]
        return "".join(parts)

    def header(self) -> str:
        links = "".join(f'<a href="{href}">{text}</a>' for href, text in NAV_LINKS)
        return (
            f'<header class="{self.c("header")}"><div class="{self.c("brand")}">TRESSLESS</div>'
            f'<nav class="{self.c("nav")}">{links}</nav></header>'
        )

    def footer(self) -> str:
        links = "".join(f'<a href="{href}">{text}</a>' for href, text in FOOTER_LINKS)
        return (
            f'<footer class="{self.c("footer")}"><div>Cited in this study</div>'
            f"<div>{links}</div><div>© 2025 Tressless</div></footer>"
        )

    def meta_block(self) -> str:
        date = month_year_text(self.get("published"))
        journal = self.journal_text()
        keywords = self.get("keywords")
        if date is None and journal is None and not keywords:
            return ""
        lines = []
        if date:
            lines.append(f"<span>{_e(date)}</span>")
        if journal is not None:
            lines.append("<span>in “</span>")
            if journal:
                lines.append(f"<span>{_e(journal)}</span>")
            if self.data.get("journal_close", True):
                lines.append("<span>”</span>")
        if keywords:
            lines.append(f'<span class="{self.c("kw")}">{_e(keywords)}</span>')
        return f'<div class="{self.c("meta")}">' + "<br>".join(lines) + "</div>"

    def study_block(self) -> str:
        d = self.data
        out = [f'<div class="{self.c("study")}">']
        if d.get("title") is not None:
            out.append(f'<h1 class="{self.c("h1")}">{_e(d["title"])}</h1>')
        out.append(self.meta_block())
        if d.get("authors"):
            names = ", ".join(f"<span>{_e(name)}</span>" for name in d["authors"])
            out.append(f'<div class="{self.c("authors")}">{names}</div>')
        if d.get("image_url"):
            out.append(f'<img alt="Image of study" src="{_a(d["image_url"])}">')
        if d.get("tldr") is not None:
            out.append(
                f'<div class="{self.c("tldr")}"><b>TLDR</b><br><span>{_e(d["tldr"])}</span></div>'
            )
        if d.get("summary") is not None:
            out.append(f'<p class="{self.c("summary")}">{_e(d["summary"])}</p>')
        cta = self.source_cta()
        if cta is not None:
            href, host = cta
            text = f"View this study on {host} →" if host else "View this study on →"
            out.append(f'<div><a href="{_a(href)}">{_e(text)}</a></div>')
        if d.get("show_discuss"):
            out.append('<div><a href="/community">Discuss this study in the Community →</a></div>')
        out.append("</div>")
        return "".join(out)

    def section(self, kind: str) -> str:
        out = [f'<div class="{self.c("section")}">']
        label = self.label(kind)
        if label:
            out.append(f'<h3 class="{self.c("h3")}">{_e(label)}</h3>')
        if kind == "community":
            out.append('<div><a href="/community">Join</a></div>')
        counter = self.counter(kind)
        if counter is not None:
            out.append(f'<div class="{self.c("counter")}">{_e(counter)}</div>')
        if kind == "community":
            for card in self.entries(kind):
                if isinstance(card, dict):
                    out.append(self.community_card(card))
                else:
                    out.append(f"<div>{_e(card)}</div>")
        else:
            out.append(f'<ul class="{self.c("list")}">')
            for entry in self.entries(kind):
                if isinstance(entry, dict):
                    out.append(self.research_entry(entry))
                else:
                    out.append(f"<li>{_e(entry)}</li>")
            out.append("</ul>")
        out.append("</div>")
        return "".join(out)

    def research_entry(self, entry: dict[str, Any]) -> str:
        out = []
        if entry.get("debris_before"):
            out.append(f"<li>{DEBRIS}</li>")
        out.append(f'<li class="{self.c("entry")}">')
        title = entry.get("title")
        if title is not None:
            if entry.get("url"):
                out.append(f'<a href="{_a(entry["url"])}">{_e(title)}</a>')
            else:
                out.append(f"<span>{_e(title)}</span>")
        line = " ".join(p for p in (_entry_meta(entry), _e(entry.get("tldr") or "")) if p)
        if line:
            out.append(f"<br>{line}")
        out.append("</li>")
        return "".join(out)

    def community_card(self, card: dict[str, Any]) -> str:
        out = [f'<div class="{self.c("ccard")}"><div>community</div>']
        title = card.get("title")
        if title is not None:
            if card.get("url"):
                out.append(f'<div><a href="{_a(card["url"])}">{_e(title)}</a></div>')
            else:
                out.append(f"<div>{_e(title)}</div>")
            if card.get("title_twice"):
                out.append(f"<div>{_e(title)}</div>")
        meta = _card_meta(card)
        if meta:
            out.append(f"<div>{meta}</div>")
        if card.get("summary") is not None:
            out.append(f"<div>{_e(card['summary'])}</div>")
        out.append("</div>")
        return "".join(out)


def _entry_meta(entry: dict[str, Any]) -> str:
    """ "17 citations, May 2014 in “Journal”" as HTML; each part optional."""
    parts = []
    if entry.get("citations_text") is not None:
        parts.append(_e(entry["citations_text"]))
    elif entry.get("citations") is not None:
        parts.append(f"{int(entry['citations'])} citations,")
    date = month_year_text(entry.get("published"))
    if date:
        parts.append(f"<span>{_e(date)}</span>")
    if entry.get("journal") is not None:
        close = "”" if entry.get("journal_close", True) else ""
        parts.append(f"in “{_e(entry['journal'])}{close}")
    text = " ".join(parts)
    return text.removesuffix(",")


def _card_meta(card: dict[str, Any]) -> str:
    """ "in Treatment  2 upvotes 4 years ago" as HTML; each part optional."""
    parts = []
    if card.get("category"):
        parts.append(f"<span>in {_e(card['category'])}</span>")
    if card.get("upvotes") is not None:
        parts.append(f"<span>{_e(card['upvotes'])} upvotes</span>")
    if card.get("age"):
        parts.append(f"<span>{_e(card['age'])}</span>")
    return " ".join(parts)
