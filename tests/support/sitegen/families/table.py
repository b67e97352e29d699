"""A table layout: label cells and value cells (``<td>TLDR</td><td>…</td>``), sections and
their entries as table rows, the title in a bold cell and in ``<title>``."""

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
    entry_meta_text,
)


def render(study: dict[str, Any], url: str) -> bytes:
    v = StudyView(study, url, old_labels=True)
    out = [
        "<html><head>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
        f"<title>{e(v.page_title)}</title></head><body>",
        '<table border="0" width="100%"><tr>',
        "".join(f'<td><a href="{h}">{t}</a></td>' for h, t in NAV),
        "</tr></table>",
        '<table border="1" cellspacing="0" cellpadding="4" width="100%">',
    ]
    if v["title"]:
        out.append(f'<tr><td colspan="2"><b>{e(v["title"])}</b></td></tr>')
    rows = []
    if v.date or v["journal"]:
        rows.append(("Published", " ".join(p for p in (v.date, _in(v["journal"])) if p)))
    if v.authors:
        rows.append(("Authors", e(v.authors)))
    for label, value in rows:
        out.append(f"<tr><td>{label}</td><td>{value}</td></tr>")
    if v["image_url"]:
        out.append(
            f'<tr><td colspan="2"><img src="{a(v["image_url"])}" alt="Image of study"></td></tr>'
        )
    if v["tldr"] is not None:
        out.append(f"<tr><td>TLDR</td><td>{e(v['tldr'])}</td></tr>")
    if v["summary"] is not None:
        out.append(f"<tr><td>Summary</td><td>{e(v['summary'])}</td></tr>")
    source = v.source()
    links = []
    if source:
        links.append(f'<a href="{a(source[0])}">{e(source[1])}</a>')
    links.append('<a href="/community">Discuss this study in the Community →</a>')
    out.append(f'<tr><td colspan="2">{" ".join(links)}</td></tr>')
    out.append("</table>")
    for section in v.sections():
        out.append('<table border="1" cellspacing="0" cellpadding="4" width="100%">')
        head = f"<th>{e(section.label)}</th>"
        if section.kind == "community":
            head += '<td><a href="/community">Join</a></td>'
        if section.counter:
            head += f"<td>{e(section.counter)}</td>"
        out.append(f"<tr>{head}</tr>")
        for entry in section.entries:
            if section.kind == "community":
                out.append(_card(v, entry))
            else:
                out.append(_entry(v, entry))
        out.append("</table>")
    out += [
        f'<table width="100%"><tr><td>Newsletter</td><td>{e(NEWSLETTER)}</td></tr>',
        '<tr><td>TLDR</td><td><a href="/about">About</a></td></tr></table>',
        f"<table><tr><td>{e(COOKIES)}</td><td><a href='#'>Accept</a></td></tr></table>",
        "</body></html>",
    ]
    return "\n".join(out).encode("utf-8")


def _in(journal: str | None) -> str | None:
    return f"in “{e(journal)}" if journal else None


def _entry(v: StudyView, entry: dict[str, Any]) -> str:
    cells = []
    title = e(entry["title"]) if entry["title"] is not None else ""
    if entry["url"]:
        title = f'<a href="{a(v.href(entry["url"], False))}">{title}</a>'
    cells.append(title)
    cells.append(entry_meta_text(entry) or "")
    cells.append(e(entry["tldr"]) if entry["tldr"] is not None else "")
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _card(v: StudyView, card: dict[str, Any]) -> str:
    title = e(card["title"]) if card["title"] is not None else ""
    if card["url"] and title:
        title = f'<a href="{a(card["url"])}">{title}</a>'
    cells = ["community", title]
    cells += [e(p) for p in (card_category(card), card_upvotes(card), card.get("age")) if p]
    cells.append(e(card["summary"]) if card["summary"] is not None else "")
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
