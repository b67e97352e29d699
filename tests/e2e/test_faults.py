"""Failing servers and bad pages: the real ``scrapy crawl`` against a fault-injecting fixture site.

Each test crawls the whole fixture site with a few study pages served through faults of
``tressless_crawler.demo.server`` — one fault per page: 5xx with Retry-After, 429, timeouts, resets,
truncation, wrong charsets, PDFs and images, a 20 MB page, redirect loops and escapes, soft
404s, empty bodies, another site's article. Every crawl must finish (exit 0, crawl run
"finished"), retry what is retryable with the waits the server asked for (or a growing
backoff), record what failed in the stats kept with the crawl run, and store exactly the
manifest's studies minus the pages that stayed broken — each stored study as the manifest
describes it, nothing partial, nothing for a page that was not a study page.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES, SITE_DIR, run_scrapy
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, History, Page, Study
from tressless_crawler.demo.server import Fault, FaultHook, FaultRequest, SiteServer
from tressless_crawler.parsers.study import parse_study

pytestmark = pytest.mark.e2e

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
PATHS: dict[str, str] = MANIFEST["expected_study_paths"]
DROPS = FIXTURES / "pages" / "study"
# Studies reached through the sitemap, one path each, not the robots.txt, dead-link or
# link-only sources (breaking one of them changes nothing else in the crawl), with a TLDR.
_SPECIAL = {
    MANIFEST["duplicate_slug"]["study_id"],
    *MANIFEST["case_pair"],
    MANIFEST["link_only"]["study_id"],
    *MANIFEST["link_only"]["linked_from"],
    *MANIFEST["disallowed"]["linked_from"],
    *MANIFEST["dead_link"]["linked_from"],
}


def _tldr(study_id: str) -> str | None:
    """The study's TLDR as its page's HTML spells it, if it has one."""
    path = PATHS[study_id]
    page = (SITE_DIR / path.lstrip("/") / "index.html").read_text(encoding="utf-8")
    tldr = getattr(parse_study(page, "https://tressless.com" + path), "tldr", None)
    return tldr if tldr and tldr in page else None


PLAIN = [
    sid
    for sid, spec in sorted(MANIFEST["studies"].items())
    if sid in PATHS
    and sid not in _SPECIAL
    and spec.get("in_sitemap")
    and len(spec["paths"]) == 1
    and spec.get("template") in ("cards", "flat")  # UTF-8 pages with a <meta charset>
    and _tldr(sid)
]
# Small waits so that the crawls stay fast; the waits themselves are asserted.
FAST_RETRIES = {
    "RETRY_TIMES": "3",
    "RETRY_BACKOFF_BASE": "0.2",
    "RETRY_BACKOFF_MAX": "1",
    "RETRY_AFTER_MAX": "5",
}
# Short enough for a fast test, long enough that a loaded CI machine serves every other page.
TIMEOUT = {"DOWNLOAD_TIMEOUT": "2"}
SLOW_ANSWER = 5.0
# A TLDR with what charset bugs break first.
SMART_TLDR = "It’s a “smart” café finding – naïve, déjà vu"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 20
PNG = b"\x89PNG\r\n\x1a\n" + bytes(4000)


class Hits:
    """A fault hook that remembers when each request for its path arrived."""

    def __init__(self, fault: Fault | Callable[[FaultRequest], Fault | None]) -> None:
        self.fault = fault
        self.times: list[float] = []
        self.resent: list[bool] = []  # the arrival is the client's re-send of the one before
        self.resend_due = False  # the last arrival was reset before any byte, and not a re-send
        self.lock = threading.Lock()

    def __call__(self, request: FaultRequest) -> Fault | None:
        fault = self.fault(request) if callable(self.fault) else self.fault
        with self.lock:
            resent = self.resend_due
            self.resent.append(resent)
            self.times.append(time.monotonic())
            applies = fault is not None and (fault.times is None or request.hit <= fault.times)
            self.resend_due = bool(
                applies and fault.reset and fault.truncate is None and not resent
            )
        return fault

    def attempts(self) -> list[float]:
        """Arrival times of the crawler's attempts. The HTTP client (aiohttp) sends a GET once
        more, at once, when the connection is reset before any answer, and not a third time:
        such a pair is one attempt, however long the re-send took on a loaded machine."""
        attempts: list[float] = []
        for at, resent in zip(self.times, self.resent, strict=True):
            if not attempts or not resent:
                attempts.append(at)
        return attempts

    def gaps(self) -> list[float]:
        attempts = self.attempts()
        return [b - a for a, b in zip(attempts, attempts[1:], strict=False)]


@dataclass
class Outcome:
    stderr: str
    run: CrawlRun
    studies: dict[str, dict[str, Any]]
    pages: set[str]
    history: int
    requests: list[str] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return dict(self.run.stats or {})

    def fetches(self, study_id: str) -> int:
        return sum(1 for path in self.requests if path.split("?")[0] == PATHS[study_id])


def crawl_site(
    faults: Mapping[str, FaultHook], tmp_path: Path, db_url: str, **settings: str
) -> Outcome:
    """Crawl the fixture site with ``faults`` on the pages of some studies (by id)."""
    hooks = {PATHS[sid]: hook for sid, hook in faults.items()}
    with SiteServer(SITE_DIR, faults=hooks) as server:
        result = run_scrapy(
            ["crawl", "studies"],
            {"SITE_URL": server.url, "DATABASE_URL": db_url, **FAST_RETRIES, **settings},
            cwd=tmp_path,
        )
        requests = [r.path for r in server.requests]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            run = session.execute(select(CrawlRun)).scalar_one()
            studies = {s.study_id: s.snapshot for s in session.execute(select(Study)).scalars()}
            pages = {key for key in session.execute(select(Page.key)).scalars() if key}
            history = session.execute(select(func.count()).select_from(History)).scalar_one()
    finally:
        engine.dispose()
    assert run.status == "finished" and run.finish_reason == "finished"
    return Outcome(result.stderr, run, studies, pages, history, requests)


def assert_stored_exactly(
    outcome: Outcome, broken: set[str], tldrs: Mapping[str, str] | None = None
) -> None:
    """The manifest's studies but ``broken``, each as the site says; nothing of the broken."""
    assert set(outcome.studies) == set(MANIFEST["expected_study_ids"]) - broken
    for study_id, snapshot in outcome.studies.items():
        spec = MANIFEST["studies"][study_id]
        for name in ("title", "published", "journal"):
            assert snapshot[name] == spec.get(name), (study_id, name)
        assert len(snapshot["authors"]) == spec["authors"], study_id
        for kind in ("cited", "related"):
            assert [ref["study_id"] for ref in snapshot[kind] if ref["study_id"]] == spec[kind], (
                study_id,
                kind,
            )
    for study_id, tldr in (tldrs or {}).items():
        assert outcome.studies[study_id]["tldr"] == tldr, study_id
    # Not even the validators of a page that was not the study are kept.
    assert not broken & outcome.pages
    assert outcome.history == 0


def page_with_tldr(study_id: str, tldr: str, *, meta_charset: bool = True) -> str:
    """The study's page with another TLDR (and without its <meta charset> if asked)."""
    path = PATHS[study_id]
    page = (SITE_DIR / path.lstrip("/") / "index.html").read_text(encoding="utf-8")
    old = _tldr(study_id)
    assert old
    page = page.replace(old, tldr)
    return page if meta_charset else page.replace('<meta charset="utf-8">', "")


# -- retryable faults: retried with the right waits, then stored -----------------------------------


def test_retry_after_is_honoured_in_seconds_and_as_an_http_date(
    tmp_path: Path, sqlite_url: str
) -> None:
    first, second = PLAIN[0], PLAIN[1]

    def http_date(request: FaultRequest) -> Fault | None:
        when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: a 1-2 s wait
        return Fault(status=429, headers={"Retry-After": when}) if request.hit == 1 else None

    seconds = Hits(
        lambda r: Fault(status=503, headers={"Retry-After": "1"}) if r.hit <= 2 else None
    )
    date = Hits(http_date)
    outcome = crawl_site({first: seconds, second: date}, tmp_path, sqlite_url)
    assert_stored_exactly(outcome, broken=set())
    stats = outcome.stats
    assert stats["retry/retry_after/count"] == 3
    assert stats["retry/reason_count/503 Service Unavailable"] == 2
    assert stats["retry/reason_count/429 Unknown Status"] == 1
    assert len(seconds.attempts()) == 3 and all(gap >= 0.95 for gap in seconds.gaps()), (
        seconds.gaps()
    )
    assert len(date.attempts()) == 2 and date.gaps()[0] >= 0.95, date.gaps()
    assert {k for k in stats if k.startswith("failures/")} == {
        "failures/count",
        "failures/robots_forbidden",
    }


class Arrivals:
    """Fault hooks for many pages that note when each request arrived; the ``nth`` one to
    arrive gets ``fault`` (once)."""

    def __init__(self, nth: int, fault: Fault, others: Fault | None = None) -> None:
        self.nth, self.fault, self.others = nth, fault, others
        self.times: list[tuple[float, str]] = []
        self.faulted: tuple[float, str] | None = None
        self.lock = threading.Lock()

    def hook(self, path: str) -> Callable[[FaultRequest], Fault | None]:
        def on_request(request: FaultRequest) -> Fault | None:
            with self.lock:
                self.times.append((time.monotonic(), path))
                if self.faulted is None and len(self.times) == self.nth:
                    self.faulted = self.times[-1]
                    return self.fault
            return self.others

        return on_request


def test_retry_after_pauses_the_whole_host(tmp_path: Path, sqlite_url: str) -> None:
    """After a 429 with Retry-After: 2, no other page of the site is asked for 2 s either.

    The pause holds requests on their way to the downloader and those already waiting in its
    queue for a connection to the host: here every other page takes 0.6 s to answer, so
    requests wait in that queue when the 429 comes, and without the hold the first of them
    would go out about 0.6 s later."""
    arrivals = Arrivals(5, Fault(status=429, headers={"Retry-After": "2"}), Fault(delay=0.6))
    hooks = {sid: arrivals.hook(path) for sid, path in PATHS.items()}
    outcome = crawl_site(
        hooks, tmp_path, sqlite_url, CONCURRENT_REQUESTS="8", CONCURRENT_REQUESTS_PER_DOMAIN="2"
    )
    assert_stored_exactly(outcome, broken=set())
    assert arrivals.faulted is not None
    at, path = arrivals.faulted
    # Requests sent along with the 429 (before anything could know of it) arrive at once, or
    # a little late on a loaded machine; after that, nothing until the pause ends.
    during = [p for t, p in arrivals.times if at + 0.45 < t < at + 1.9]
    after = [p for t, p in arrivals.times if t >= at + 1.9]
    assert during == [], [round(t - at, 2) for t, _ in arrivals.times if t > at]
    assert path in after and len(after) > 10, (path, len(after))
    assert outcome.stats["retry/host_paused/count"] >= 1
    assert outcome.stats["retry/host_paused/slot_held"] == 1


def test_transient_faults_are_retried_with_backoff_and_stored_on_both_databases(
    tmp_path: Path, db_url: str
) -> None:
    faults = {
        PLAIN[2]: Fault(status=500, times=1),
        PLAIN[3]: Fault(status=502, times=2),
        PLAIN[4]: Fault(delay=SLOW_ANSWER, times=1),  # longer than DOWNLOAD_TIMEOUT
        PLAIN[5]: Fault(truncate=3000, reset=True, times=2),  # connection reset mid-body
        PLAIN[6]: Fault(truncate=3000, times=1),  # Content-Length says more than was sent
        PLAIN[7]: Fault(reset=True, times=1),  # reset before any byte
    }
    hits = {sid: Hits(fault) for sid, fault in faults.items()}
    outcome = crawl_site(hits, tmp_path, db_url, **TIMEOUT)
    assert_stored_exactly(outcome, broken=set())
    stats = outcome.stats
    assert stats["retry/reason_count/500 Internal Server Error"] == 1
    assert stats["retry/reason_count/502 Bad Gateway"] == 2
    assert stats["retry/reason_count/scrapy.exceptions.DownloadTimeoutError"] >= 1
    assert stats["retry/reason_count/scrapy.exceptions.ResponseDataLossError"] >= 1
    assert stats["retry/backoff/count"] == stats["retry/count"] >= 6
    for sid in (PLAIN[2], PLAIN[3], PLAIN[4], PLAIN[6]):
        assert len(hits[sid].attempts()) == faults[sid].times + 1, sid
        # Exponential backoff with jitter: each wait is at least half its ceiling (0.2 s, 0.4 s).
        for attempt, gap in enumerate(hits[sid].gaps(), start=1):
            assert gap >= 0.5 * 0.2 * 2 ** (attempt - 1) - 0.02, (sid, hits[sid].gaps())
    assert {k for k in stats if k.startswith("failures/")} == {
        "failures/count",
        "failures/robots_forbidden",
    }


# -- faults that last: given up after the retries, recorded, nothing stored ------------------------


def test_lasting_faults_are_given_up_recorded_and_store_nothing(
    tmp_path: Path, sqlite_url: str
) -> None:
    reasons = {
        PLAIN[8]: "http_503",
        PLAIN[9]: "timeout",
        PLAIN[10]: "connection_lost",
        PLAIN[11]: "truncated",
    }
    faults = {
        PLAIN[8]: Fault(status=503),
        PLAIN[9]: Fault(delay=SLOW_ANSWER),
        PLAIN[10]: Fault(reset=True),
        PLAIN[11]: Fault(truncate=3000),
    }
    hits = {sid: Hits(fault) for sid, fault in faults.items()}
    outcome = crawl_site(hits, tmp_path, sqlite_url, RETRY_TIMES="2", **TIMEOUT)
    assert_stored_exactly(outcome, broken=set(faults))
    stats = outcome.stats
    assert stats["retry/max_reached"] == len(faults)
    for sid, reason in reasons.items():
        assert stats[f"failures/{reason}"] == 1, reason
        assert len(hits[sid].attempts()) == 3, sid  # the first try and RETRY_TIMES retries
        for attempt, gap in enumerate(hits[sid].gaps(), start=1):
            assert gap >= 0.5 * 0.2 * 2 ** (attempt - 1) - 0.02, (sid, hits[sid].gaps())
        line = next(
            line for line in outcome.stderr.splitlines() if PATHS[sid] in line and "Failed" in line
        )
        assert "ERROR" in line and reason in line and "after 2 retries" in line
    assert stats["failures/count"] == len(faults) + 1  # and the robots.txt-forbidden study
    assert outcome.run.errors == len(faults)  # one ERROR line per failed page, no more


# -- wrong charsets: correct text ------------------------------------------------------------------


def test_a_wrong_or_missing_charset_still_gives_the_right_text(
    tmp_path: Path, sqlite_url: str
) -> None:
    def cp1252(sid: str, meta: bool) -> bytes:
        return page_with_tldr(sid, SMART_TLDR, meta_charset=meta).encode(
            "cp1252", "xmlcharrefreplace"
        )

    cases = {
        PLAIN[12]: ("text/html", cp1252(PLAIN[12], False)),  # no charset anywhere
        PLAIN[13]: ("text/html; charset=utf-8", cp1252(PLAIN[13], False)),  # a header that lies
        PLAIN[14]: ("text/html", cp1252(PLAIN[14], True)),  # a <meta charset="utf-8"> that lies
        PLAIN[15]: (
            "text/html; charset=iso-8859-1",
            page_with_tldr(PLAIN[15], SMART_TLDR).encode(),
        ),  # UTF-8 sent as Latin-1
    }
    faults = {
        sid: Fault(headers={"Content-Type": ctype}, body=body)
        for sid, (ctype, body) in cases.items()
    }
    outcome = crawl_site(faults, tmp_path, sqlite_url)
    assert_stored_exactly(outcome, broken=set(), tldrs={sid: SMART_TLDR for sid in cases})
    assert outcome.stats["charset/repaired"] >= 3  # the first may have been guessed right already
    assert outcome.stats["charset/repaired/utf-8"] == 1


# -- pages that are not the study: dropped with a reason, nothing stored ---------------------------


def test_pages_that_are_not_the_study_are_dropped_with_a_reason(
    tmp_path: Path, sqlite_url: str
) -> None:
    faults = {
        PLAIN[16]: Fault(headers={"Content-Type": "application/pdf"}, body=PDF),
        PLAIN[17]: Fault(headers={"Content-Type": "image/png"}, body=PNG),
        PLAIN[18]: Fault(body=(DROPS / "drop_pdf_as_text.html").read_bytes()),  # a PDF sent as HTML
        PLAIN[19]: Fault(body=(DROPS / "drop_soft_404.html").read_bytes()),  # 200 with "not found"
        PLAIN[20]: Fault(
            body=(DROPS / "drop_unrelated_article.html").read_bytes()
        ),  # another site's article
        PLAIN[21]: Fault(body=b""),
        PLAIN[22]: Fault(
            body=(DROPS / "drop_empty_body.html").read_bytes()
        ),  # a page with nothing in it
    }
    outcome = crawl_site(faults, tmp_path, sqlite_url)
    assert_stored_exactly(outcome, broken=set(faults))
    assert outcome.run.items_dropped == {
        "parse/dropped/not_html": 2,
        "parse/dropped/not_a_study_page": 4,
        "parse/dropped/empty_page": 1,
        "dedupe/dropped/duplicate_study": 1,  # the study served under two slugs, as in every crawl
    }
    for sid in faults:
        assert outcome.fetches(sid) == 1, sid  # a page is not an error: not retried
    assert "retry/count" not in outcome.stats


# -- refused downloads: recorded as failures, nothing stored ---------------------------------------


def test_huge_pages_redirect_loops_and_escapes_are_refused_and_recorded(
    tmp_path: Path, sqlite_url: str
) -> None:
    huge_page = page_with_tldr(PLAIN[23], "hair " * (4 * 1024 * 1024)).encode()
    assert len(huge_page) > 20 * 1024 * 1024  # DOWNLOAD_MAXSIZE stays 8 MB
    loop, chain, escape = PLAIN[24], PLAIN[25], PLAIN[26]
    with SiteServer(SITE_DIR, host="127.0.0.2") as other:
        faults: dict[str, FaultHook] = {
            PLAIN[23]: Fault(body=huge_page),
            loop: Fault(status=302, headers={"Location": PATHS[loop]}),
            chain: lambda r: Fault(status=302, headers={"Location": f"{PATHS[chain]}?hop={r.hit}"}),
            escape: Fault(status=301, headers={"Location": other.url + PATHS[escape]}),
        }
        outcome = crawl_site(faults, tmp_path, sqlite_url)
        assert other.requests == []
    assert_stored_exactly(outcome, broken=set(faults))
    stats = outcome.stats
    assert stats["failures/too_big"] == 1
    assert stats["failures/redirect_loop"] == 1
    assert stats["failures/too_many_redirects"] == 1
    assert stats["failures/offsite_redirect"] == 1
    assert outcome.fetches(PLAIN[23]) == 1  # the same page would be as big again: not retried
    assert outcome.fetches(loop) == 1
    assert outcome.fetches(chain) == 1 + 5  # REDIRECT_MAX_TIMES
    assert "retry/count" not in stats
