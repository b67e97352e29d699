"""Today's parsers over archived responses: pure functions, run in worker processes.

A response is rebuilt as the crawl's callbacks saw it: its content encoding undone
as Scrapy's HttpCompressionMiddleware does, its response class chosen by Scrapy's
``responsetypes``, its charset repaired as ``tressless_crawler.middlewares.charset`` does;
then the study or thread parser reads it as the spiders' callbacks do.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes

from tressless_crawler.archive.reader import Archived, Entry, read_entries
from tressless_crawler.http_status import GONE_STATUSES
from tressless_crawler.items import Drop, StudyItem, ThreadItem
from tressless_crawler.middlewares.charset import (
    FALLBACK,
    better_encoding,
    declared_encoding,
    fits_plainly,
)
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.parsers.text import approx_date_from_age
from tressless_crawler.parsers.thread_html import parse_thread_html
from tressless_crawler.parsers.thread_reddit import parse_more_children, parse_thread_reddit
from tressless_crawler.pipelines.normalize import clean_line
from tressless_crawler.scrapy_internals import decode_content
from tressless_crawler.spiders.expansion import Expansion
from tressless_crawler.spiders.studies import page_source
from tressless_crawler.stats import (
    CHARSET_REPAIRED,
    COMMUNITY_GONE,
    REPARSE_DAMAGED_RECORDS,
    REPARSE_EXPANDED_STUBS,
    STUDIES_GONE,
)
from tressless_crawler.urls import (
    canonical_url,
    is_study_url,
    study_id_from_url,
    thread_id_from_url,
)

CONTENT_STATUSES = (200, *GONE_STATUSES)
MAX_BODY = 64 * 1024 * 1024
CONTINUE_RE = re.compile(r"/comments/([A-Za-z0-9]+)/_/[A-Za-z0-9]+\.json$")
# A thread's archived expansion responses, by their request URL
Expansions = dict[str, Entry]


def expansion_post(url: str) -> str | None:
    """The post id of an archived ``more`` expansion response (morechildren, or a "continue
    this thread" permalink), else None: such responses are parts of a thread, not pages."""
    if ".json" not in url:  # both kinds end their path with it
        return None
    parts = urlsplit(url)
    if parts.path.endswith("/api/morechildren.json"):
        link = parse_qs(parts.query).get("link_id", [""])[0]
        return link.removeprefix("t3_") or None
    match = CONTINUE_RE.search(parts.path)
    return match.group(1) if match else None


def page_of(url: str) -> tuple[str, str, str] | None:
    """(kind, key, canonical URL) of an archived URL the parsers read, else None."""
    if expansion_post(url) is not None:
        return None
    if is_study_url(url):
        return "study", study_id_from_url(url) or "", canonical_url(url)
    thread_url = thread_url_of(url)
    key = thread_id_from_url(thread_url)
    if key:
        return "thread", key, canonical_url(url, https=False)  # as the spider records it
    return None


def thread_url_of(url: str) -> str:
    """The thread's own URL: a Reddit thread is fetched as JSON at its URL + ``.json``."""
    if "/comments/" in url and url.endswith(".json"):
        return url[: -len(".json")]
    return url


@dataclass
class Reparsed:
    """One archived page read again: what the spider's callback would have produced."""

    kind: str
    key: str
    url: str  # canonical, as in the pages table
    status: int
    record_id: str
    etag: str | None = None
    last_modified: str | None = None
    item: StudyItem | ThreadItem | None = None
    drop: tuple[str, str] | None = None  # (reason, detail)
    damaged: str = ""  # why its record no longer reads: the page is skipped, its rows kept
    # stats to add (a plain dict: a Counter is rebuilt in Python when unpickled)
    stats: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


def rebuild_response(archived: Archived, fallback: str = FALLBACK) -> tuple[Response, bool]:
    """The response as the spider's callback received it; True when its charset was repaired."""
    headers = Headers(archived.headers)
    body = archived.body
    encodings = headers.getlist("Content-Encoding")
    if encodings:
        body, to_keep = decode_content(body, encodings, MAX_BODY)
        if to_keep:
            headers["Content-Encoding"] = to_keep
        else:
            del headers["Content-Encoding"]
    cls = responsetypes.from_args(headers=headers, url=archived.url, body=body)
    response = cls(url=archived.url, status=archived.status, headers=headers, body=body)
    repaired = False
    if (
        isinstance(response, TextResponse)
        and response.body
        and not fits_plainly(response.body, response.encoding)
    ):
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        declared = declared_encoding(response.body, content_type) is not None
        better = better_encoding(response.body, response.encoding, declared, fallback)
        if better is not None:
            response = response.replace(encoding=better)
            repaired = True
    return response, repaired


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def reparse_one(archived: Archived, fallback: str = FALLBACK) -> Reparsed | None:
    page = page_of(archived.url)
    if page is None:
        return None
    kind, key, url = page
    out = Reparsed(kind, key, url, archived.status, archived.record_id)
    if archived.status in GONE_STATUSES:
        out.count((STUDIES_GONE if kind == "study" else COMMUNITY_GONE).key(archived.status))
        return out
    try:
        response, repaired = rebuild_response(archived, fallback)
    except Exception as exc:  # a body that no longer decompresses: counted, never fatal
        out.drop = ("undecodable", f"{type(exc).__name__}: {exc}")
        return out
    if repaired:
        out.count(CHARSET_REPAIRED)
    out.etag = _header(response, b"ETag")
    out.last_modified = _header(response, b"Last-Modified")
    result: Any
    if kind == "study":
        if not isinstance(response, TextResponse):
            out.drop = ("not_html", str(response.headers.get("Content-Type")))
            return out
        result = parse_study(page_source(response), response.url)
    elif response.url.endswith(".json"):
        result = parse_thread_reddit(response.body, thread_url_of(response.url))
    else:
        if not isinstance(response, TextResponse):
            out.drop = ("not_html", str(response.headers.get("Content-Type")))
            return out
        result = parse_thread_html(response.text, response.url)
    if isinstance(result, Drop):
        out.drop = (result.reason, result.detail or "")
        return out
    if isinstance(result, StudyItem):
        date_cards(result, archived)
    out.item = result
    return out


def date_cards(item: StudyItem, archived: Archived) -> None:
    """Card ages ("4 years ago") count from when the page was fetched, not from today."""
    for card in item.community_posts:
        age = clean_line(card.age)
        if age and not card.posted_approx:
            approx = approx_date_from_age(age, archived.fetched_at)
            if approx:
                card.posted_approx, card.posted_precision = approx


def expand_archived(item: ThreadItem, url: str, found: Expansions, fallback: str = FALLBACK) -> int:
    """The thread's ``more`` stubs expanded from the crawl's archived expansion responses,
    as the community spider expanded them; a stub with no archived answer stays a stub.
    Returns how many stubs were answered from the archive."""
    state = Expansion(item, url, cap=len(found) + 1)
    answered = 0
    while (more := state.next_request()) is not None:
        entry = found.get(more.url)
        archived = read_entries(entry.path, [entry])[0] if entry is not None else None
        if archived is None or not archived.complete or archived.status != 200:
            state.given_up.add(more.token)
            continue
        response, _ = rebuild_response(archived, fallback)
        result: Any
        if more.parent_id:
            result = parse_thread_reddit(response.body, response.url)
            if not isinstance(result, Drop):  # the parent heads its own page: in the tree already
                result = [c for c in result.comments if c.comment_id != more.parent_id]
        else:
            result = parse_more_children(response.body, response.url)
        if isinstance(result, Drop) or not state.tree.expand(more.token, result, more.asked):
            state.given_up.add(more.token)
            continue
        answered += 1
    state.finish()
    return answered


def reparse_entries(
    path: str,
    entries: list[Entry],
    fallback: str = FALLBACK,
    expansions: dict[str, Expansions] | None = None,
) -> list[Reparsed]:
    """Worker task: the pages at these entries of one file, parsed (threads expanded from
    ``expansions``, by post id)."""
    out = []
    for archived in read_entries(path, entries):
        if archived.damage:
            damaged = _damaged(archived)
            if damaged is not None:
                out.append(damaged)
            continue
        if not archived.complete:
            continue
        page = reparse_one(archived, fallback)
        if page is None:
            continue
        item = page.item
        found = (expansions or {}).get(page.key)
        if isinstance(item, ThreadItem) and found:
            answered = expand_archived(item, archived.url, found, fallback)
            page.count(REPARSE_EXPANDED_STUBS, answered)
        out.append(page)
    return out


def _damaged(archived: Archived) -> Reparsed | None:
    page = page_of(archived.url)
    if page is None:
        return None
    kind, key, url = page
    out = Reparsed(kind, key, url, archived.status, archived.record_id, damaged=archived.damage)
    out.count(REPARSE_DAMAGED_RECORDS)
    return out


def reparse_task(
    path: str,
    entries: list[Entry],
    fallback: str = FALLBACK,
    expansions: dict[str, Expansions] | None = None,
) -> tuple[int, float, list[Reparsed]]:
    """``reparse_entries`` in a worker, with the worker's pid and CPU seconds so far (the
    pool's processes are not the command's children, so nothing else counts their CPU)."""
    pages = reparse_entries(path, entries, fallback, expansions)
    return os.getpid(), time.process_time(), pages
