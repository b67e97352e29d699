"""A legacy layout: no heading elements, a layout table, ``<br>``-separated lines, the title
only in ``<title>`` (with the site's name), ``og:title`` and a bold line, and the page in
windows-1252, declared only in a ``<meta http-equiv>`` (characters outside it as numeric
character references)."""

from __future__ import annotations

from typing import Any

from tests.support.sitegen.families.view import (
    COOKIES,
    NAV,
    NEWSLETTER,
    StudyView,
    a,
    card_meta_text,
    e,
    entry_meta_text,
)


def render(study: dict[str, Any], url: str) -> bytes:
    v = StudyView(study, url)
    title = f"{v['title']} - Tressless" if v["title"] else "Tressless"
    out = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">',
        "<html><head>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        f"<title>{e(title)}</title>",
    ]
    if v["title"]:
        out.append(f'<meta property="og:title" content="{a(v["title"])}">')
    out += [
        '</head><body bgcolor="#ffffff" topmargin="0">',
        '<table width="100%" cellpadding="4"><tr><td bgcolor="#003366">',
        '<font color="#ffffff" size="4"><b>TRESSLESS</b></font>&nbsp;&nbsp;',
        " | ".join(f'<a href="{h}"><font color="#ffffff">{t}</font></a>' for h, t in NAV),
        "</td></tr></table>",
        '<table width="780" cellpadding="6"><tr>',
        '<td valign="top" width="170" bgcolor="#eeeeee"><font size="2">',
        "<b>Browse</b><br>",
        "<br>".join(f'<a href="{h}">{t}</a>' for h, t in NAV),
        f"<br><br><b>Newsletter</b><br>{e(NEWSLETTER)}<br>",
        '<input type="text" name="email"></font></td>',
        '<td valign="top"><font face="Verdana, Arial" size="2">',
    ]
    if v["title"]:
        out.append(f'<font size="4"><b>{e(v["title"])}</b></font><br>')
    meta = " ".join(p for p in (v.date, f"in “{e(v['journal'])}" if v["journal"] else None) if p)
    if meta:
        out.append(f"{meta}<br>")
    if v.authors:
        out.append(f"<i>{e(v.authors)}</i><br>")
    if v["image_url"]:
        out.append(f'<img src="{a(v["image_url"])}" alt="Image of study" border="0"><br>')
    if v["tldr"] is not None:
        out.append(f"<b>TLDR</b> {e(v['tldr'])}<br>")
    out.append("<br>")
    if v["summary"] is not None:
        out.append(f"{e(v['summary'])}<br><br>")
    source = v.source()
    if source:
        out.append(f'<a href="{a(source[0])}">{e(source[1])}</a><br>')
    out.append('<a href="/community">Discuss this study in the Community &rarr;</a><br><br>')
    for section in v.sections():
        head = f"<b>{e(section.label)}</b>"
        if section.kind == "community":
            head += ' <a href="/community">Join</a>'
        if section.counter:
            head += f"&nbsp;&nbsp;{e(section.counter)}"
        out.append(f"{head}<br>")
        for entry in section.entries:
            if section.kind == "community":
                out.append("community<br>")
                if entry["title"] is not None:
                    title_text = e(entry["title"])
                    if entry["url"]:
                        title_text = f'<a href="{a(entry["url"])}">{title_text}</a>'
                    out.append(f"{title_text}<br>")
                meta_text = card_meta_text(entry)
                if meta_text:
                    out.append(f"<font color=gray>{meta_text}</font><br>")
                if entry["summary"] is not None:
                    out.append(f"{e(entry['summary'])}<br>")
            else:
                if entry["title"] is not None:
                    text = e(entry["title"])
                    if entry["url"]:
                        href = entry["url"].replace("https://", "http://", 1)
                        text = f'<a href="{a(href)}">{text}</a>'
                    out.append(f"{text}<br>")
                line = " ".join(p for p in (entry_meta_text(entry), e(entry["tldr"] or "")) if p)
                if line:
                    out.append(f"<font size=1>{line}</font><br>")
            out.append("<br>")
    out += [
        "</font></td></tr></table>",
        '<p align="center"><font size="1">&copy; 2009 Tressless &middot; Research &middot; ',
        'Community &middot; <a href="/about">About</a></font></p>',
        f'<div style="background:#ffc">{e(COOKIES)} <a href="#">OK</a></div>',
        "</body></html>",
    ]
    return "\n".join(out).encode("windows-1252", errors="xmlcharrefreplace")
