"""Semantic HTML5: ``<article>`` with its own ``<header>`` and ``<footer>``, ``<h1>``,
``<time datetime>``, sections labelled by ``aria-labelledby``, ``<ul>``/``<li>`` lists and a
``<dl>`` of label/value pairs; the site's banner, navigation, sidebar and footer as
landmarks."""

from __future__ import annotations

from typing import Any

from tests.support.sitegen.families.view import (
    COOKIES,
    NAV,
    NEWSLETTER,
    StudyView,
    a,
    card_category,
    card_upvotes,
    e,
    entry_meta,
)


def render(study: dict[str, Any], url: str) -> bytes:
    v = StudyView(study, url)
    out = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(v['title']) + ' – Tressless' if v['title'] else 'Tressless'}</title>",
        f'<link rel="canonical" href="{a(url)}">',
        "</head><body>",
        '<header><p><a href="/">Tressless</a></p><nav aria-label="Main"><ul>',
        "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in NAV),
        "</ul></nav></header>",
        '<main id="content"><article><header>',
    ]
    if v["title"]:
        out.append(f"<h1>{e(v['title'])}</h1>")
    parts = []
    if v.date:
        parts.append(f'<time datetime="{a(v["published"])}">{e(v.date)}</time>')
    if v["journal"]:
        parts.append(f"in “<cite>{e(v['journal'])}</cite>")
    if parts:
        out.append(f"<p>{' '.join(parts)}</p>")
    out.append("</header>")
    if v["image_url"]:
        out.append(
            f'<figure><img src="{a(v.href(v["image_url"], True))}" alt="Image of study"></figure>'
        )
    pairs = []
    if v.authors:
        pairs.append(("Authors", e(v.authors)))
    if v["tldr"] is not None:
        pairs.append(("TLDR", e(v["tldr"])))
    if pairs:
        out.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in pairs) + "</dl>")
    if v["summary"] is not None:
        out.append(f"<p>{e(v['summary'])}</p>")
    out.append("<footer><p>")
    source = v.source()
    if source:
        out.append(f'<a href="{a(source[0])}" rel="external">{e(source[1])}</a> ')
    out.append('<a href="/community">Discuss this study in the Community →</a></p></footer>')
    out.append("</article>")
    for section in v.sections():
        hid = f"{section.kind}-heading"
        out.append(f'<section aria-labelledby="{hid}"><h2 id="{hid}">{e(section.label)}</h2>')
        if section.kind == "community":
            out.append('<p><a href="/community">Join</a></p>')
        if section.counter:
            out.append(f"<p><small>{e(section.counter)}</small></p>")
        out.append("<ul>")
        for entry in section.entries:
            out.append(_card(v, entry) if section.kind == "community" else _entry(v, entry))
        out.append("</ul></section>")
    out += [
        "</main>",
        f"<aside><h2>Newsletter</h2><p>{e(NEWSLETTER)}</p></aside>",
        "<footer><p>Research summaries and Community posts: not medical advice.</p>",
        '<p><a href="/about">About</a> · <a href="/privacy">Privacy</a></p></footer>',
        f'<dialog open><p>{e(COOKIES)}</p><form method="dialog"><button>OK</button></form>'
        "</dialog>",
        "</body></html>",
    ]
    return "".join(out).encode("utf-8")


def _entry(v: StudyView, entry: dict[str, Any]) -> str:
    out = ["<li><article>"]
    if entry["title"] is not None:
        title = e(entry["title"])
        if entry["url"]:
            title = f'<a href="{a(v.href(entry["url"], True))}">{title}</a>'
        out.append(f"<h3>{title}</h3>")
    cited, rest = entry_meta(entry)
    parts = [f"{cited[0]} citations" + ("," if rest else "")] if cited else []
    for kind, text in rest:
        if kind == "date":
            parts.append(f"<time>{e(text)}</time>")
        else:
            parts.append(f"in “<cite>{e(text)}</cite>”")
    if parts:
        out.append(f"<p>{' '.join(parts)}</p>")
    if entry["tldr"] is not None:
        out.append(f"<p>{e(entry['tldr'])}</p>")
    out.append("</article></li>")
    return "".join(out)


def _card(v: StudyView, card: dict[str, Any]) -> str:
    out = ["<li><article><p>community</p>"]
    if card["title"] is not None:
        title = e(card["title"])
        if card["url"]:
            title = f'<a href="{a(v.href(card["url"], True))}">{title}</a>'
        out.append(f"<h3>{title}</h3>")
    meta = [p for p in (card_category(card), card_upvotes(card)) if p]
    parts = [e(p) for p in meta]
    if card["age"]:
        parts.append(f"<time>{e(card['age'])}</time>")
    if parts:
        out.append(f"<p>{' '.join(parts)}</p>")
    if card["summary"] is not None:
        out.append(f"<p>{e(card['summary'])}</p>")
    out.append("</article></li>")
    return "".join(out)
