"""The fixture site and its server, over real HTTP on 127.0.0.1.

Crawl tests rely on both: the server must behave like a real origin (404s, validators,
304s, robots.txt and sitemaps with absolute URLs, injectable faults) and the committed site
must be exactly what ``build_site`` produces from ``site_data``, with a manifest that
matches the pages.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from protego import Protego

from tests.support.sitegen.build_site import build_site
from tests.support.sitegen.families import FAMILIES
from tressless_crawler.demo.server import Fault, FaultRequest, SiteServer, http_date

ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = ROOT / "tests" / "fixtures" / "site"
MANIFEST: dict[str, Any] = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
LASTMOD: dict[str, str] = json.loads((SITE_DIR / "lastmod.json").read_text(encoding="utf-8"))
ALL_STUDY_PATHS = sorted(
    (path, study_id) for study_id, study in MANIFEST["studies"].items() for path in study["paths"]
)


class Reply:
    """What the client saw: status, headers (case-insensitive lookups) and body."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = 10
) -> Reply:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


@pytest.fixture
def server() -> Iterator[SiteServer]:
    with SiteServer(SITE_DIR) as running:
        yield running


# --- Serving ---------------------------------------------------------------------------------
def test_home_listing_and_study_pages_are_served(server: SiteServer) -> None:
    home = fetch(server.url + "/")
    assert home.status == 200
    assert home.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'href="/search/research/androgenetic-alopecia/1"' in home.text

    path = MANIFEST["expected_study_paths"]["ZpoR"]
    page = fetch(server.url + path)
    assert page.status == 200
    assert "Case of Alopecia Induced by Sorafenib" in page.text
    assert fetch(server.url + path + "/").body == page.body  # trailing slash: same page


def test_unknown_paths_get_a_real_404(server: SiteServer) -> None:
    for path in (
        "/nope",
        MANIFEST["dead_link"]["path"],
        "/manifest.json",
        "/lastmod.json",
        "/../pyproject.toml",
        "/community/nothing-zz9zz9",
    ):
        reply = fetch(server.url + path)
        assert reply.status == 404, path
        assert reply.headers["Content-Type"].startswith("text/html")
        assert b"404" in reply.body
        assert "ETag" not in reply.headers


def test_content_types_by_extension(server: SiteServer) -> None:
    thread = next(t for t in MANIFEST["threads"].values() if t["format"] == "reddit_json")
    assert fetch(server.url + thread["fetch_path"]).headers["Content-Type"] == (
        "application/json; charset=utf-8"
    )
    assert fetch(server.url + "/robots.txt").headers["Content-Type"] == "text/plain; charset=utf-8"
    assert fetch(server.url + "/sitemap.xml").headers["Content-Type"].startswith("application/xml")


def test_placeholder_is_replaced_in_robots_and_sitemaps(server: SiteServer) -> None:
    robots = fetch(server.url + "/robots.txt").text
    assert "{{SITE_URL}}" not in robots
    assert f"Sitemap: {server.url}/sitemap.xml" in robots
    index = fetch(server.url + "/sitemap.xml").text
    urlsets = re.findall(r"<loc>([^<]+)</loc>", index)
    assert urlsets == [server.url + path for path in MANIFEST["sitemaps"]["urlsets"]]
    locs = [loc for url in urlsets for loc in re.findall(r"<loc>([^<]+)</loc>", fetch(url).text)]
    assert locs and all(loc.startswith(server.url + "/research/") for loc in locs)
    # Pages themselves keep their root-relative links.
    page = fetch(server.url + MANIFEST["expected_study_paths"]["Mx7b"]).text
    assert "{{SITE_URL}}" not in page and server.url not in page


def test_validators_and_conditional_requests(server: SiteServer) -> None:
    path = MANIFEST["expected_study_paths"]["Bx4k"]
    first = fetch(server.url + path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag == '"' + hashlib.sha256(first.body).hexdigest()[:32] + '"'
    assert last_modified == http_date(LASTMOD[path]) == "Mon, 02 Jun 2025 00:00:00 GMT"

    assert fetch(server.url + path, headers={"If-None-Match": etag}).status == 304
    assert fetch(server.url + path, headers={"If-None-Match": f'W/{etag}, "x"'}).status == 304
    assert fetch(server.url + path, headers={"If-None-Match": '"other"'}).status == 200
    assert fetch(server.url + path, headers={"If-Modified-Since": last_modified}).status == 304
    older = "Sun, 01 Jun 2025 00:00:00 GMT"
    assert fetch(server.url + path, headers={"If-Modified-Since": older}).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    both = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert fetch(server.url + path, headers=both).status == 200
    not_modified = fetch(server.url + path, headers={"If-None-Match": etag})
    assert not_modified.body == b"" and not_modified.headers["ETag"] == etag


def test_pages_without_sitemap_date_get_the_fixed_last_modified(server: SiteServer) -> None:
    link_only = MANIFEST["link_only"]["path"]
    assert link_only not in LASTMOD
    assert fetch(server.url + link_only).headers["Last-Modified"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_etag_is_computed_after_substitution(server: SiteServer) -> None:
    reply = fetch(server.url + "/robots.txt")
    assert reply.headers["ETag"] == '"' + hashlib.sha256(reply.body).hexdigest()[:32] + '"'
    with SiteServer(SITE_DIR) as other:
        assert fetch(other.url + "/robots.txt").headers["ETag"] != reply.headers["ETag"]


def test_head_sends_headers_only(server: SiteServer) -> None:
    get = fetch(server.url + "/")
    head = fetch(server.url + "/", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == str(len(get.body))
    assert head.headers["ETag"] == get.headers["ETag"]
    assert fetch(server.url + "/nope", method="HEAD").status == 404
    assert fetch(server.url + "/", method="POST").status == 405


def test_request_log_counts_fetches(server: SiteServer) -> None:
    fetch(server.url + "/robots.txt")
    server.reset_requests()
    fetch(server.url + "/", headers={"User-Agent": "tests/1.0"})
    fetch(server.url + "/nope")
    fetch(server.url + "/", method="HEAD")
    log = [(r.method, r.path, r.status) for r in server.requests]
    assert log == [("GET", "/", 200), ("GET", "/nope", 404), ("HEAD", "/", 200)]
    assert server.requests[0].user_agent == "tests/1.0"
    assert server.count("/") == 2 and server.count("/", method="GET") == 1


# --- Faults ----------------------------------------------------------------------------------
def test_fault_status_with_retry_after_then_recovery(server: SiteServer) -> None:
    path = MANIFEST["expected_study_paths"]["Mx7b"]
    server.faults[path] = Fault(status=503, headers={"Retry-After": "7"}, times=2)
    replies = [fetch(server.url + path) for _ in range(3)]
    assert [r.status for r in replies] == [503, 503, 200]
    assert replies[0].headers["Retry-After"] == "7"
    assert [r.status for r in server.requests] == [503, 503, 200]


def test_fault_truncated_body(server: SiteServer) -> None:
    path = MANIFEST["expected_study_paths"]["Mx7b"]
    full = fetch(server.url + path).body
    server.faults[path] = Fault(truncate=100)
    with pytest.raises(http.client.IncompleteRead) as info:
        fetch(server.url + path)
    assert info.value.partial == full[:100]


def test_fault_headers_and_body_override(server: SiteServer) -> None:
    server.faults["/"] = Fault(headers={"content-type": "text/html; charset=iso-8859-1"})
    reply = fetch(server.url + "/")
    assert reply.status == 200 and reply.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert reply.headers.get_all("Content-Type") == ["text/html; charset=iso-8859-1"]
    server.faults["/custom"] = Fault(status=429, body="slow down", headers={"Retry-After": "1"})
    reply = fetch(server.url + "/custom")
    assert (reply.status, reply.body) == (429, b"slow down")


def test_fault_delay_trips_client_timeout(server: SiteServer) -> None:
    server.faults["/slow"] = Fault(delay=5)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(server.url + "/slow", timeout=0.3)


def test_fault_reset_connection(server: SiteServer) -> None:
    server.faults["/reset"] = Fault(reset=True)
    with pytest.raises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
        fetch(server.url + "/reset")


def test_fault_callable_sees_hits_and_builds_redirect_loop(server: SiteServer) -> None:
    seen: list[int] = []

    def loop(request: FaultRequest) -> Fault:
        seen.append(request.hit)
        return Fault(status=302, headers={"Location": "/loop"})

    server.faults["/loop"] = loop
    reply = fetch(server.url + "/loop")
    assert reply.status == 302  # urllib gives up on the loop
    assert seen[:3] == [1, 2, 3]


# --- The committed site ----------------------------------------------------------------------
def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_committed_site_matches_its_builder(tmp_path: Path) -> None:
    manifest = build_site(tmp_path / "site")
    built, committed = _tree(tmp_path / "site"), _tree(SITE_DIR)
    assert sorted(built) == sorted(committed), (
        "run: python -m tests.support.sitegen.build_site " + ("tests/fixtures/site")
    )
    changed = [name for name in built if built[name] != committed[name]]
    assert not changed, f"stale committed files (rebuild the site): {changed[:5]}"
    assert manifest == MANIFEST


def test_demo_symlink_points_at_the_committed_site() -> None:
    link = ROOT / "tressless_crawler" / "demo" / "site"
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()
    assert link.resolve() == SITE_DIR.resolve()


def test_site_has_the_promised_shape() -> None:
    studies = MANIFEST["studies"]
    assert len(MANIFEST["expected_study_ids"]) >= 36
    assert len(MANIFEST["threads"]) >= 12
    formats = [thread["format"] for thread in MANIFEST["threads"].values()]
    assert formats.count("html") >= 6 and formats.count("reddit_json") >= 6
    assert {study["template"] for study in studies.values()} == set(FAMILIES)
    assert all(len(pages) >= 2 for pages in MANIFEST["listings"].values())
    assert len(MANIFEST["listings"]) >= 3
    assert max(thread["max_depth"] for thread in MANIFEST["threads"].values()) >= 4
    for key in ("deleted", "removed", "more_stubs"):
        assert sum(thread[key] for thread in MANIFEST["threads"].values()) >= 1, key
    low, high = MANIFEST["case_pair"]
    assert low != high and low.lower() == high.lower()


def test_traps_are_served_as_the_manifest_says(server: SiteServer) -> None:
    urlsets = [fetch(server.url + path).text for path in MANIFEST["sitemaps"]["urlsets"]]
    in_sitemap = {
        loc.removeprefix(server.url)
        for text in urlsets
        for loc in re.findall(r"<loc>([^<]+)</loc>", text)
    }
    listed = {
        href
        for pages in MANIFEST["listings"].values()
        for page in pages
        for href in re.findall(r'href="(/research/[^"]+)"', fetch(server.url + page).text)
    }

    duplicate = MANIFEST["duplicate_slug"]
    for path in (duplicate["canonical_path"], *duplicate["alternate_paths"]):
        assert path in in_sitemap
        canonical = f'<link rel="canonical" href="{duplicate["canonical_path"]}">'
        assert canonical in fetch(server.url + path).text

    disallowed = MANIFEST["disallowed"]
    assert disallowed["path"] in in_sitemap
    robots = Protego.parse(fetch(server.url + "/robots.txt").text)
    assert not robots.can_fetch(server.url + disallowed["path"], "tressless-crawler")
    assert robots.can_fetch(server.url + MANIFEST["expected_study_paths"]["Mx7b"], "x")
    assert disallowed["study_id"] not in MANIFEST["expected_study_ids"]

    link_only = MANIFEST["link_only"]
    assert link_only["path"] not in in_sitemap | listed and link_only["linked_from"]
    referrer = MANIFEST["expected_study_paths"][link_only["linked_from"][0]]
    assert f'href="{link_only["path"]}"' in fetch(server.url + referrer).text

    dead = MANIFEST["dead_link"]
    assert fetch(server.url + dead["path"]).status == 404
    referrer = MANIFEST["expected_study_paths"][dead["linked_from"][0]]
    assert f'href="{dead["path"]}"' in fetch(server.url + referrer).text

    for study_id, path in MANIFEST["expected_study_paths"].items():
        assert fetch(server.url + path, method="HEAD").status == 200, study_id
    for thread in MANIFEST["threads"].values():
        assert fetch(server.url + thread["fetch_path"], method="HEAD").status == 200


def test_listings_paginate_with_next_links(server: SiteServer) -> None:
    for topic, pages in MANIFEST["listings"].items():
        for number, path in enumerate(pages, start=1):
            assert path == f"/search/research/{topic}/{number}"
            text = fetch(server.url + path).text
            next_link = f'<a rel="next" href="/search/research/{topic}/{number + 1}">Next</a>'
            assert (next_link in text) == (number < len(pages))
            assert 1 <= text.count('<li><a href="/research/') <= 10


def _parser(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        pytest.skip(f"{module}.{name} does not exist yet")


@pytest.mark.parametrize(("path", "study_id"), ALL_STUDY_PATHS)
def test_every_study_page_parses_to_its_manifest_id(path: str, study_id: str) -> None:
    from tressless_crawler.items import StudyItem

    parse_study = _parser("tressless_crawler.parsers.study", "parse_study")
    from scrapy.http import HtmlResponse

    from tressless_crawler.spiders.studies import page_source

    url = "https://tressless.com" + path
    body = (SITE_DIR / path.strip("/") / "index.html").read_bytes()
    item = parse_study(page_source(HtmlResponse(url, body=body)), url)
    assert isinstance(item, StudyItem), item
    expected = MANIFEST["studies"][study_id]
    assert item.study_id == study_id
    assert item.title == expected["title"]
    assert item.published == expected["published"]


@pytest.mark.parametrize("post_id", sorted(MANIFEST["threads"]))
def test_every_thread_parses_to_its_manifest_counts(post_id: str) -> None:
    from tressless_crawler.items import ThreadItem

    thread = MANIFEST["threads"][post_id]
    if thread["format"] == "html":
        parse = _parser("tressless_crawler.parsers.thread_html", "parse_thread_html")
    else:
        parse = _parser("tressless_crawler.parsers.thread_reddit", "parse_thread_reddit")
    file = SITE_DIR / thread["fetch_path"].strip("/")
    body = (file / "index.html" if thread["format"] == "html" else file).read_text("utf-8")
    item = parse(body, "https://tressless.com" + thread["fetch_path"])
    assert isinstance(item, ThreadItem), item
    assert item.post_id == post_id
    assert item.comment_count == thread["comment_count"]
    assert len(item.comments) == thread["items"]
    assert sum(1 for c in item.comments if c.kind == "more") == thread["more_stubs"]
