"""Build the static fixture site from :mod:`tests.support.sitegen.site_data`.

The site is committed under ``tests/fixtures/site`` (and linked as ``tressless_crawler/demo/site``)
so
tests and the demo serve it with :class:`tressless_crawler.demo.server.SiteServer`; a test rebuilds
it
into a temporary directory and compares bytes, so the committed copy cannot drift from this
builder. Output is deterministic: no clock, no randomness, sorted JSON.

Layout (URL paths; the server maps ``/x`` to ``x/index.html`` or the file ``x``)::

    robots.txt, sitemap.xml (index) -> sitemaps/research-1.xml, sitemaps/research-2.xml
    index.html                        home: links to the listings and the community
    search/research/<topic>/<n>/      listings, 10 studies per page, "Next" links
    research/<slug>-<id>/             study pages (tests.support.sitegen.render)
    community/index.html              links every site-hosted thread
    community/<slug>-<id>/            site-hosted threads (tests.support.sitegen.render_threads)
    r/tressless/comments/<id>/<slug>.json   Reddit-form threads, JSON only
    research, learn, search, about, privacy, terms   stubs for the navigation links
    lastmod.json, manifest.json       for the server and the tests; never served

Links inside pages are root-relative so the site works on any port; robots.txt and the
sitemaps hold a ``{{SITE_URL}}`` placeholder that the server fills in.

``manifest.json`` says what a correct crawl finds: ``expected_study_ids`` and
``expected_study_paths`` (id -> canonical path: what the database must hold),
``studies`` (every study page with its paths, template, title, date, journal, topics and
the ids it links), ``expected_thread_ids`` and ``threads`` (path, ``fetch_path``, format,
``comment_count`` as Reddit's num_comments, ``comments``, ``more_stubs``, ``items`` = comments
plus stubs, deleted/removed counts, ``max_depth``, the studies whose cards link it), the
traps ``duplicate_slug``, ``dead_link``, ``disallowed``, ``link_only``, ``case_pair``, and
``listings``, ``sitemaps`` and ``robots_disallow``.

Run ``python -m tests.support.sitegen.build_site OUT``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

from parsel import Selector

from tests.support.sitegen import site_data as sd
from tests.support.sitegen.families import render_family
from tests.support.sitegen.render import TEMPLATES, month_year_text, render_study
from tests.support.sitegen.render_threads import render_thread_html, render_thread_json
from tressless_crawler.demo.server import LASTMOD_FILE, PLACEHOLDER
from tressless_crawler.urls import is_listing_url, is_study_url, thread_id_from_url

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
SITEMAP_FILES = ("sitemaps/research-1.xml", "sitemaps/research-2.xml")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
STUB_PAGES = {
    "research": "Research",
    "learn": "Learn",
    "search": "Search",
    "about": "About",
    "privacy": "Privacy",
    "terms": "Terms",
}


class SiteBuildError(RuntimeError):
    """The data or the renderers produced a site with unexpected broken links."""


def build_site(out: Path) -> dict[str, Any]:
    """Write the whole site into ``out`` (replacing a previous build) and return the manifest."""
    out = Path(out)
    studies = {study.id: study for study in sd.STUDIES}
    threads = {thread.post_id: thread for thread in sd.THREADS}
    files: dict[str, str | bytes] = {"robots.txt": robots_txt()}
    for study in sd.STUDIES:
        html = study_page(study, studies, threads)
        for path in study.paths:
            files[_index_file(path)] = html
    for thread in sd.THREADS:
        if thread.hosted == "site":
            files[_index_file(thread.path)] = render_thread_html(thread_data(thread))
        else:
            assert thread.json_path is not None
            files[thread.json_path.lstrip("/")] = render_thread_json(thread_data(thread))
    listings = listing_pages()
    for path, html in listings.items():
        files[_index_file(path)] = html
    files["index.html"] = home_page()
    files["community/index.html"] = community_page()
    for slug, title in STUB_PAGES.items():
        files[f"{slug}/index.html"] = stub_page(title)
    files.update(sitemap_files())
    files[LASTMOD_FILE] = _json(lastmod_map())
    manifest = build_manifest(listings)
    files[MANIFEST_FILE] = _json(manifest)
    check_links(files)  # before touching ``out``: a failed build keeps the previous site
    _prepare(out)
    for name, text in sorted(files.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    logger.info("Built %d files into %s", len(files), out)
    return manifest


# --- Studies -------------------------------------------------------------------------------
def study_page(
    study: sd.Study, studies: dict[str, sd.Study], threads: dict[str, sd.Thread]
) -> str | bytes:
    """The page of a study: in the site's own template, or in another markup family (bytes,
    in the charset the family serves)."""
    data = study_page_data(study, studies, threads)
    if study.template in TEMPLATES:
        return render_study(data, study.template)
    return render_family(data, study.path, study.template)


def study_page_data(
    study: sd.Study, studies: dict[str, sd.Study], threads: dict[str, sd.Thread]
) -> dict[str, Any]:
    """The ``render_study`` input of a study page (see tests.support.sitegen.render)."""
    data: dict[str, Any] = {
        "title": study.title,
        "published": study.published,
        "journal": study.journal,
        "authors": list(study.authors),
        "image_url": f"/images/studies/{study.id}.jpg" if study.image else None,
        "tldr": study.tldr,
        "summary": study.summary,
        "source_url": study.source_url,
        "show_discuss": bool(study.community),
        "canonical_url": study.path,
        "cited": [research_ref(ref, studies) for ref in study.cited],
        "related": [research_ref(ref, studies) for ref in study.related],
        "community_posts": [
            community_card(threads[post_id], study.lastmod) for post_id in study.community
        ],
    }
    for kind, key in (("cited", "cited"), ("related", "related"), ("community", "community_posts")):
        if data[key]:
            data[f"{kind}_total"] = len(data[key])
    variant = dict(study.variant)
    if variant.pop("debris_cited", False):
        data["cited"].insert(0, "[object Object]")
    if variant.pop("title_twice", False):
        for card in data["community_posts"]:
            card["title_twice"] = True
    data.update(variant)
    return data


def research_ref(ref: str, studies: dict[str, sd.Study]) -> dict[str, Any]:
    """A cited/related entry pointing at another study (or at the dead link)."""
    study_id = ref.partition(sd.ALT)[0]
    if study_id == sd.DEAD_LINK_ID:
        fields = {key: value for key, value in sd.DEAD_LINK.items() if key not in ("id", "path")}
        return {"url": sd.DEAD_LINK["path"], **fields}
    target = studies[study_id]
    return {
        "url": target.paths[1] if ref.endswith(sd.ALT) else target.path,
        "title": target.title,
        "citations": target.citations,
        "published": target.published,
        "journal": target.journal or None,
        "tldr": target.tldr,
    }


def community_card(thread: sd.Thread, page_date: str) -> dict[str, Any]:
    """A "Related Community Posts" card as it looked when the page was rendered."""
    return {
        "url": thread.path,
        "title": thread.title,
        "category": thread.category,
        "upvotes": upvotes_text(thread.score),
        "age": age_text(thread.created, page_date),
        "summary": thread.summary,
    }


def upvotes_text(score: int) -> int | str:
    """Scores of a thousand and more print as ``1.2k``, like on the site."""
    return score if score < 1000 else f"{score / 1000:.1f}k"


def age_text(created: str, page_date: str) -> str:
    """``"4 years ago"`` for a post ``created`` (ISO) seen on a page rendered ``page_date``."""
    then = datetime.fromisoformat(created.replace("Z", "+00:00")).date()
    days = (date.fromisoformat(page_date) - then).days
    for unit, length in (("year", 365), ("month", 30), ("day", 1)):
        if days >= length:
            count = days // length
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "today"


# --- Threads -------------------------------------------------------------------------------
def thread_data(thread: sd.Thread) -> dict[str, Any]:
    """The input of tests.support.sitegen.render_threads for a thread."""
    return {
        "post_id": thread.post_id,
        "url": thread.path,
        "slug": thread.slug,
        "title": thread.title,
        "category": thread.category,
        "author": thread.author,
        "posted_at": thread.created,
        "upvotes": thread.score,
        "body": thread.body,
        "summary": thread.summary,
        "link_url": thread.link_url,
        "edited": thread.edited,
        "template": thread.template,
        "comments": [comment_data(node, thread.created) for node in thread.comments],
    }


def comment_data(node: sd.Comment | sd.More, thread_created: str) -> dict[str, Any]:
    if isinstance(node, sd.More):
        return {
            "kind": "more",
            "comment_id": node.id,
            "more_count": node.count,
            "children": list(node.children),
        }
    kind = {"[deleted]": "deleted", "[removed]": "removed"}.get(node.body, "comment")
    return {
        "comment_id": node.id,
        "kind": kind,
        "author": node.author,
        "body": node.body if kind == "comment" else None,
        "upvotes": node.score,
        "posted_at": _plus_minutes(thread_created, node.minutes),
        "edited": node.edited,
        "stickied": node.stickied,
        "distinguished": node.distinguished,
        "replies": [comment_data(reply, thread_created) for reply in node.replies],
    }


def _plus_minutes(iso: str, minutes: int) -> str:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    stamp = moment.timestamp() + minutes * 60
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def thread_counts(thread: sd.Thread) -> dict[str, int]:
    """Comment numbers a parser must reproduce (``comment_count`` is Reddit's num_comments)."""
    nodes = sd.walk_comments(thread.comments)
    comments = [node for node in nodes if isinstance(node, sd.Comment)]
    stubs = [node for node in nodes if isinstance(node, sd.More)]
    return {
        "comment_count": len(comments) + sum(stub.count for stub in stubs),
        "comments": len(comments),
        "more_stubs": len(stubs),
        "items": len(nodes),
        "deleted": sum(1 for c in comments if c.body == "[deleted]"),
        "removed": sum(1 for c in comments if c.body == "[removed]"),
        "max_depth": sd.comment_depth(thread.comments),
    }


# --- Listings and simple pages -------------------------------------------------------------
def listed_studies(topic: str) -> list[sd.Study]:
    return [study for study in sd.STUDIES if study.listed and topic in study.topics]


def listing_path(topic: str, page: int) -> str:
    return f"/search/research/{topic}/{page}"


def listing_pages() -> dict[str, str]:
    """``/search/research/<topic>/<n>`` pages with Previous/Next links."""
    pages: dict[str, str] = {}
    for topic, name in sd.TOPICS.items():
        studies = listed_studies(topic)
        size = sd.LISTING_PAGE_SIZE
        count = max(1, -(-len(studies) // size))
        for page in range(1, count + 1):
            chunk = studies[(page - 1) * size : page * size]
            items = "\n".join(_listing_item(study) for study in chunk)
            nav = []
            if page > 1:
                nav.append(f'<a rel="prev" href="{listing_path(topic, page - 1)}">Previous</a>')
            nav.append(f"<span>Page {page} of {count}</span>")
            if page < count:
                nav.append(f'<a rel="next" href="{listing_path(topic, page + 1)}">Next</a>')
            body = (
                f"<h1>{_e(name)}</h1>\n<p>{len(studies)} results</p>\n"
                f'<ul class="results">\n{items}\n</ul>\n'
                f'<nav aria-label="Pagination">{" ".join(nav)}</nav>'
            )
            title = f"{name} research, page {page}"
            pages[listing_path(topic, page)] = _page(title, body, listing_path(topic, page))
    return pages


def _listing_item(study: sd.Study) -> str:
    meta = []
    if study.citations is not None:
        meta.append(f"{study.citations} citations,")
    if study.published:
        meta.append(month_year_text(study.published) or "")
    if study.journal:
        meta.append(f"in “{_e(study.journal)}”")
    lines = [f'<li><a href="{study.path}">{_e(study.title or study.slug)}</a>']
    if meta:
        lines.append(f"<div>{' '.join(meta).rstrip(',')}</div>")
    if study.tldr:
        lines.append(f"<p>{_e(study.tldr)}</p>")
    return "".join(lines) + "</li>"


def home_page() -> str:
    topics = "\n".join(
        f'<li><a href="{listing_path(topic, 1)}">{_e(name)}</a></li>'
        for topic, name in sd.TOPICS.items()
    )
    body = (
        "<h1>Tressless</h1>\n<p>Research summaries and community discussion about hair loss.</p>"
        f"\n<h2>Research by topic</h2>\n<ul>\n{topics}\n</ul>\n"
        '<p><a href="/community">Community</a></p>'
    )
    return _page("Tressless", body, "/")


def community_page() -> str:
    items = "\n".join(
        f'<li><a href="{thread.path}">{_e(thread.title)}</a> <span>in {_e(thread.category)}'
        f"</span></li>"
        if thread.category
        else f'<li><a href="{thread.path}">{_e(thread.title)}</a></li>'
        for thread in sd.THREADS
        if thread.hosted == "site"
    )
    return _page("Community", f"<h1>Community</h1>\n<ul>\n{items}\n</ul>", "/community")


def stub_page(title: str) -> str:
    return _page(title, f"<h1>{_e(title)}</h1>\n<p>Nothing here yet.</p>", None)


def _page(title: str, body: str, canonical: str | None) -> str:
    nav = " ".join(
        f'<a href="{href}">{text}</a>'
        for href, text in (("/", "Home"), ("/research", "Research"), ("/community", "Community"))
    )
    link = f'<link rel="canonical" href="{canonical}">\n' if canonical else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)} | Tressless</title>\n{link}</head>\n<body>\n"
        f"<header><nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _e(text: str) -> str:
    return escape(text, quote=True)


# --- robots.txt, sitemaps, lastmod ---------------------------------------------------------
def robots_txt() -> str:
    return (
        f"User-agent: *\nDisallow: {sd.DISALLOWED_PREFIX}\n\nSitemap: {PLACEHOLDER}/sitemap.xml\n"
    )


def sitemap_urls() -> list[tuple[str, str]]:
    """(path, lastmod) of every URL in the sitemaps, every slug of a study included."""
    return [(path, s.lastmod) for s in sd.STUDIES if s.in_sitemap for path in s.paths]


def _split_sitemaps() -> list[list[tuple[str, str]]]:
    urls = sitemap_urls()
    half = (len(urls) + 1) // 2
    return [urls[:half], urls[half:]]


def sitemap_files() -> dict[str, str]:
    files: dict[str, str] = {}
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    entries = []
    for name, urls in zip(SITEMAP_FILES, _split_sitemaps(), strict=True):
        body = "".join(
            f"  <url>\n    <loc>{PLACEHOLDER}{path}</loc>\n    <lastmod>{lastmod}</lastmod>\n"
            "  </url>\n"
            for path, lastmod in urls
        )
        files[name] = f'{head}<urlset xmlns="{SITEMAP_NS}">\n{body}</urlset>\n'
        newest = max(lastmod for _, lastmod in urls)
        entries.append(
            f"  <sitemap>\n    <loc>{PLACEHOLDER}/{name}</loc>\n    <lastmod>{newest}</lastmod>\n"
            "  </sitemap>\n"
        )
    files["sitemap.xml"] = f'{head}<sitemapindex xmlns="{SITEMAP_NS}">\n{"".join(entries)}' + (
        "</sitemapindex>\n"
    )
    return files


def lastmod_map() -> dict[str, str]:
    """Path -> sitemap <lastmod>, read by the server for Last-Modified."""
    lastmod = dict(sitemap_urls())
    for name, urls in zip(SITEMAP_FILES, _split_sitemaps(), strict=True):
        lastmod["/" + name] = max(value for _, value in urls)
    lastmod["/sitemap.xml"] = max(lastmod.values())
    return dict(sorted(lastmod.items()))


# --- Manifest ------------------------------------------------------------------------------
def build_manifest(listings: dict[str, str]) -> dict[str, Any]:
    """What a correct crawl of the site must find (keys in the module docstring)."""
    studies = {study.id: study for study in sd.STUDIES}
    threads = {thread.post_id: thread for thread in sd.THREADS}
    linked_from: dict[str, list[str]] = {}
    for study in sd.STUDIES:
        for ref in (*study.cited, *study.related):
            target = ref.partition(sd.ALT)[0]
            if study.id not in linked_from.setdefault(target, []):
                linked_from[target].append(study.id)
    cards_from: dict[str, list[str]] = {}
    for study in sd.STUDIES:
        for post_id in study.community:
            cards_from.setdefault(post_id, []).append(study.id)
    expected = sorted(s.id for s in sd.STUDIES if s.id != sd.DISALLOWED_ID)
    duplicate = studies[sd.DUPLICATE_ID]
    return {
        "format": 1,
        "site_now": sd.SITE_NOW,
        "robots_disallow": [sd.DISALLOWED_PREFIX],
        "sitemaps": {"index": "/sitemap.xml", "urlsets": [f"/{name}" for name in SITEMAP_FILES]},
        "listings": {
            topic: [path for path in listings if path.startswith(f"/search/research/{topic}/")]
            for topic in sd.TOPICS
        },
        "expected_study_ids": expected,
        "expected_study_paths": {study_id: studies[study_id].path for study_id in expected},
        "studies": {study.id: _study_entry(study) for study in sd.STUDIES},
        "expected_thread_ids": sorted(threads),
        "threads": {
            thread.post_id: {
                "path": thread.path,
                "fetch_path": thread.json_path or thread.path,
                "format": "html" if thread.hosted == "site" else "reddit_json",
                "title": thread.title,
                "linked_from": cards_from.get(thread.post_id, []),
                **thread_counts(thread),
            }
            for thread in sd.THREADS
        },
        "duplicate_slug": {
            "study_id": duplicate.id,
            "canonical_path": duplicate.path,
            "alternate_paths": list(duplicate.paths[1:]),
        },
        "dead_link": {
            "path": sd.DEAD_LINK["path"],
            "linked_from": linked_from.get(sd.DEAD_LINK_ID, []),
        },
        "disallowed": {
            "study_id": sd.DISALLOWED_ID,
            "path": studies[sd.DISALLOWED_ID].path,
            "linked_from": linked_from.get(sd.DISALLOWED_ID, []),
        },
        "link_only": {
            "study_id": sd.LINK_ONLY_ID,
            "path": studies[sd.LINK_ONLY_ID].path,
            "linked_from": linked_from.get(sd.LINK_ONLY_ID, []),
        },
        "case_pair": list(sd.CASE_PAIR),
    }


def _study_entry(study: sd.Study) -> dict[str, Any]:
    return {
        "path": study.path,
        "paths": list(study.paths),
        "template": study.template,
        "title": study.title,
        "published": study.published,
        "journal": study.journal or None,
        "authors": len(study.authors),
        "in_sitemap": study.in_sitemap,
        "listed": study.listed,
        "topics": list(study.topics),
        "cited": [ref.partition(sd.ALT)[0] for ref in study.cited],
        "related": [ref.partition(sd.ALT)[0] for ref in study.related],
        "community": list(study.community),
    }


# --- Checks and files ----------------------------------------------------------------------
def check_links(files: dict[str, str | bytes]) -> None:
    """Every study, listing and thread link must resolve, except the one planted dead link.

    Guards against renderers or data linking pages that do not exist, which would add
    404s a crawl test does not expect.
    """
    broken: set[str] = set()
    for name, text in files.items():
        if not name.endswith(".html"):
            continue
        # Links are ASCII, whatever charset a page is in.
        selector = Selector(
            text=text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        )
        for href in selector.xpath("//a/@href | //link[@rel='canonical']/@href").getall():
            path = href.split("?", 1)[0].split("#", 1)[0]
            if not path.startswith("/") or path.startswith("//"):
                continue
            if not (is_study_url(path) or is_listing_url(path) or thread_id_from_url(path)):
                continue
            if "/comment/" in path:
                continue  # comment permalinks are not crawled
            if not _resolves(path, files) and path != sd.DEAD_LINK["path"]:
                broken.add(f"{path} (in {name})")
    if broken:
        raise SiteBuildError("broken links: " + ", ".join(sorted(broken)))


def _resolves(path: str, files: dict[str, str | bytes]) -> bool:
    relative = path.strip("/")
    if f"{relative}/index.html" in files or relative in files:
        return True
    # A Reddit-form thread URL resolves through its JSON form.
    return "/comments/" in path and f"{relative}.json" in files


def _index_file(path: str) -> str:
    return f"{path.strip('/')}/index.html"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _prepare(out: Path) -> None:
    """Empty ``out`` for a fresh build; refuse to wipe a directory that is not a built site."""
    if out.is_symlink():
        out = out.resolve()
    if out.exists():
        entries = [entry for entry in out.iterdir() if entry.name != ".gitkeep"]
        if entries and not (out / MANIFEST_FILE).is_file():
            raise SiteBuildError(f"{out} is not empty and holds no {MANIFEST_FILE}; not wiping it")
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out.mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the static fixture site.")
    parser.add_argument("out", type=Path, help="output directory, e.g. tests/fixtures/site")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    manifest = build_site(args.out)
    logger.info(
        "%d studies expected, %d threads",
        len(manifest["expected_study_ids"]),
        len(manifest["expected_thread_ids"]),
    )


if __name__ == "__main__":
    main()
