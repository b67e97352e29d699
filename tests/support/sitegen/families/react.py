"""React/Next.js server rendering: ``<!-- -->`` between adjacent text expressions, utility
classes, ``<svg>`` icons between a number and its word, screen-reader copies of visible text
(``sr-only``), a ``hidden`` duplicate, line-clamped texts and ``__NEXT_DATA__``/flight data
that hold another page's study (never a source of fields)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.sitegen.families.view import (
    COOKIES,
    NAV,
    NEWSLETTER,
    StudyView,
    a,
    card_category,
    e,
    entry_meta,
)

ICON = '<svg aria-hidden="true" viewBox="0 0 20 20" class="h-4 w-4"><path d="M5 10l5-5"/></svg>'
X = "<!-- -->"  # what React prints between adjacent text expressions


def _split(text: str) -> str:
    """A text as React prints it when built from expressions: words separated by X."""
    words = e(text).split(" ")
    if len(words) < 2:
        return e(text)
    return f"{words[0]}{X} {X}" + " ".join(words[1:])


def render(study: dict[str, Any], url: str) -> bytes:
    v = StudyView(study, url)
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>',
        '<meta name="viewport" content="width=device-width"/>',
        f"<title>{e(v.page_title)}</title>",
    ]
    if v["title"]:
        out.append(f'<meta property="og:title" content="{a(v["title"])}"/>')
    out += [
        "<style>.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;"
        "clip:rect(0,0,0,0)}</style></head>",
        '<body class="antialiased"><div id="__next">',
        '<div class="min-h-screen flex flex-col bg-white text-slate-900">',
        '<header class="sticky top-0 z-10 border-b bg-white/80 backdrop-blur">',
        '<div class="mx-auto flex max-w-5xl items-center gap-6 px-4 py-3">',
        '<a class="text-lg font-extrabold tracking-tight" href="/">Tressless</a>',
        '<nav class="hidden md:flex gap-4 text-sm">',
        "".join(f'<a class="hover:underline" href="{h}">{t}</a>' for h, t in NAV),
        "</nav></div></header>",
        '<main class="mx-auto w-full max-w-3xl flex-1 px-4 py-8">',
        '<div class="flex flex-col gap-3">',
    ]
    if v["title"]:
        out.append(f'<h1 class="text-3xl font-bold leading-tight">{e(v["title"])}</h1>')
    meta = []
    if v.date:
        month, year = v.date.split(" ")
        meta.append(f"<span>{month}{X} {X}{year}</span>")
    if v["journal"]:
        meta.append(f"in “{X}{e(v['journal'])}")
    if meta:
        out.append(f'<div class="text-sm text-slate-500">{f" {X}".join(meta)}</div>')
    if v["authors"]:
        names = f"{X}, {X}".join(
            f'<span class="whitespace-nowrap">{e(n)}</span>' for n in v["authors"]
        )
        out.append(f'<div class="text-sm font-medium text-slate-700">{names}</div>')
    if v["image_url"]:
        out.append(
            '<div class="relative aspect-video overflow-hidden rounded-xl">'
            f'<img alt="Image of study" loading="lazy" decoding="async" class="object-cover"'
            f' src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="{a(v["image_url"])}"/>'
            "</div>"
        )
    if v["tldr"] is not None:
        out.append(
            '<div class="rounded-lg bg-sky-50 p-4 text-sky-900">'
            '<span class="sr-only">Too long; didn&#x27;t read: </span>'
            '<span aria-hidden="true" class="mr-2 rounded bg-sky-600 px-1.5 text-xs font-bold'
            f' uppercase text-white">TLDR</span>{e(v["tldr"])}</div>'
            f"<div hidden>{e(v['tldr'])}</div>"
        )
    if v["summary"] is not None:
        out.append(f'<p class="line-clamp-6 text-base leading-7">{e(v["summary"])}</p>')
    source = v.source()
    out.append('<div class="flex flex-wrap gap-3">')
    if source:
        href, text = source
        host = text.removeprefix("View this study on ").removesuffix(" →")
        out.append(
            f'<a class="inline-flex items-center rounded-full bg-slate-900 px-4 py-2 text-white"'
            f' href="{a(href)}" target="_blank" rel="noreferrer">View this study on {X}'
            f"{e(host)}{X} →</a>"
        )
    out.append(
        '<a class="inline-flex items-center rounded-full border px-4 py-2" href="/community">'
        f"Discuss this study in the Community{X} →</a></div></div>"
    )
    for section in v.sections():
        out.append('<section class="mt-10">')
        out.append('<div class="mb-3 flex items-center justify-between gap-2">')
        out.append(f'<h2 class="text-xl font-semibold">{e(section.label)}</h2>')
        if section.kind == "community":
            out.append('<a class="text-sm text-sky-700" href="/community">Join</a>')
        if section.counter:
            shown, _, rest = section.counter.partition(" / ")
            total = rest.removesuffix(" results")
            out.append(
                f'<span aria-hidden="true" class="text-sm text-slate-500">{shown}{X} / {X}'
                f"{total}{X} results</span>"
                f'<span class="sr-only">Showing {shown} of {total} results</span>'
            )
        out.append('</div><ul class="grid gap-3 sm:grid-cols-2">')
        for entry in section.entries:
            out.append(_card(v, entry) if section.kind == "community" else _entry(v, entry))
        out.append("</ul></section>")
    out += [
        "</main>",
        '<aside class="mx-auto max-w-3xl rounded-xl bg-slate-100 p-6">',
        f'<p class="font-semibold">{e(NEWSLETTER)}</p>',
        '<form><input type="email" placeholder="you@example.com"/>',
        '<button class="rounded bg-sky-600 text-white">Subscribe</button></form></aside>',
        '<footer class="border-t py-8 text-sm text-slate-500"><div class="mx-auto max-w-5xl">',
        "<p>Related Research and Community summaries are not medical advice.</p>",
        '<a href="/about">About</a> <a href="/privacy">Privacy</a></div></footer>',
        '<div role="dialog" aria-label="Cookies" class="fixed bottom-0 inset-x-0 bg-white p-4">',
        f"<p>{e(COOKIES)}</p><button>Accept</button></div>",
        "</div></div>",
        _next_data(v),
        "</body></html>",
    ]
    return "".join(out).encode("utf-8")


def _entry(v: StudyView, entry: dict[str, Any]) -> str:
    tag, href = ("a", f' href="{a(v.href(entry["url"], True))}"') if entry["url"] else ("div", "")
    out = [f'<li><{tag} class="block h-full rounded-xl border p-4 hover:shadow"{href}>']
    if entry["title"] is not None:
        out.append(f'<div class="line-clamp-2 font-medium">{e(entry["title"])}</div>')
    cited, rest = entry_meta(entry)
    meta = [f"<span>{n}{X} citations</span>" for n in cited]
    for kind, text in rest:
        if kind == "date":
            month, year = text.split(" ")
            meta.append(f"<span>{month}{X} {X}{year}</span>")
        else:
            meta.append(f"<span>in “{X}{e(text)}{X}”</span>")
    if meta:
        head = meta[0] + ("," if cited and rest else "")
        body = " ".join([head, *meta[1:]])
        out.append(f'<div class="mt-1 text-xs text-slate-500">{body}</div>')
    if entry["tldr"] is not None:
        out.append(f'<p class="mt-2 line-clamp-3 text-sm">{e(entry["tldr"])}</p>')
    out.append(f"</{tag}></li>")
    return "".join(out)


def _card(v: StudyView, card: dict[str, Any]) -> str:
    tag, href = ("a", f' href="{a(v.href(card["url"], True))}"') if card["url"] else ("div", "")
    out = [
        f'<li><{tag} class="flex h-full flex-col gap-1 rounded-xl border p-4"{href}>',
        f'<div class="flex items-center gap-1 text-xs uppercase text-orange-600">{ICON}'
        "<span>community</span></div>",
    ]
    if card["title"] is not None:
        out.append(f'<h3 class="line-clamp-2 font-semibold">{e(card["title"])}</h3>')
    meta = []
    if card_category(card):
        meta.append(f"<span>in {X}{e(card['category'])}</span>")
    if card["upvotes"] is not None:
        meta.append(
            f'<span class="inline-flex items-center gap-1">{e(card["upvotes"])}{ICON}'
            f'{X} upvotes<span class="sr-only">, {e(card["upvotes"])} people liked this</span>'
            "</span>"
        )
    if card["age"]:
        meta.append(f"<time>{_split(card['age'])}</time>")
    if meta:
        out.append(f'<div class="flex gap-2 text-xs text-slate-500">{"".join(meta)}</div>')
    if card["summary"] is not None:
        out.append(f'<p class="line-clamp-3 text-sm">{e(card["summary"])}</p>')
    out.append(f"</{tag}></li>")
    return "".join(out)


def _next_data(v: StudyView) -> str:
    """A state blob and flight data holding another study: a parser must never read them."""
    blob = {
        "props": {
            "pageProps": {
                "study": {
                    "title": "Decoy Study Title From Another Page",
                    "tldr": "TLDR Decoy.",
                    "authors": ["Decoy Author"],
                    "publishedAt": "January 1999",
                }
            }
        },
        "page": "/research/[slug]",
    }
    text = json.dumps(blob).replace("</", "<\\/")
    flight = json.dumps([1, "Related Research 3 / 3 results community in Chat 1 upvotes"])
    return (
        f'<script id="__NEXT_DATA__" type="application/json">{text}</script>'
        f"<script>(self.__next_f=self.__next_f||[]).push({flight})</script>"
    )
