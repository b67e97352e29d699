"""A reader/print view: one column, every field a plain paragraph, labels in ``<strong>``."""

from __future__ import annotations

from typing import Any

from tests.support.sitegen.families.view import (
    StudyView,
    a,
    card_meta_text,
    e,
    entry_meta_text,
)


def render(study: dict[str, Any], url: str) -> bytes:
    v = StudyView(study, url, old_labels=True)
    out = [
        "<!DOCTYPE html><html><head><meta charset=utf-8>",
        f"<title>{e(v.page_title)}</title></head>",
        '<body><div id="readability-page-1" class="page">',
        "<p>tressless.com &middot; Reader view &middot; Research</p>",
    ]
    if v["title"]:
        out.append(f"<p><strong>Title:</strong> {e(v['title'])}</p>")
    if v.date:
        journal = f" in “{e(v['journal'])}”" if v["journal"] else ""
        out.append(f"<p><strong>Published:</strong> {e(v.date)}{journal}</p>")
    elif v["journal"]:
        out.append(f"<p><strong>Journal:</strong> {e(v['journal'])}</p>")
    if v.authors:
        out.append(f"<p><strong>Authors:</strong> {e(v.authors)}</p>")
    if v["image_url"]:
        out.append(f'<p><img src="{a(v["image_url"])}" alt="Image of study"></p>')
    if v["tldr"] is not None:
        out.append(f"<p><strong>TLDR:</strong> {e(v['tldr'])}</p>")
    if v["summary"] is not None:
        out.append(f"<p><strong>Summary:</strong> {e(v['summary'])}</p>")
    source = v.source()
    if source:
        out.append(f'<p><a href="{a(source[0])}">{e(source[1])}</a></p>')
    for section in v.sections():
        head = f"<strong>{e(section.label)}</strong>"
        if section.counter:
            head += f" {e(section.counter)}"
        out.append(f"<p>{head}</p>")
        for entry in section.entries:
            lines = []
            if section.kind == "community":
                lines.append("<strong>community</strong>")
                meta, tail = card_meta_text(entry), entry["summary"]
            else:
                meta, tail = entry_meta_text(entry), entry["tldr"]
            if entry["title"] is not None:
                title = e(entry["title"])
                if entry["url"]:
                    title = f'<a href="{a(entry["url"])}">{title}</a>'
                lines.append(title)
            if meta:
                lines.append(meta)
            if tail is not None:
                lines.append(e(tail))
            out.append(f"<p>{'<br>'.join(lines)}</p>")
    out += [
        "</div>",
        "<p>Printed from tressless.com. Related Research and Community content.</p>",
        "</body></html>",
    ]
    return "\n".join(out).encode("utf-8")
