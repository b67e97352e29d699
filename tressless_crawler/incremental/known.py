"""What the database already knows about the site, for incremental and resumed crawls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from tressless_crawler.db.models import CrawlRun, Page, ResearchLink, Study, Thread
from tressless_crawler.db.schema import current_revision
from tressless_crawler.http_status import GONE_STATUSES
from tressless_crawler.stats import CHARSET_REPAIRED_AS


@dataclass
class Validators:
    etag: str | None
    last_modified: str | None
    status: int


@dataclass
class KnownSite:
    """Last sight of every study, validators of every page, links never followed."""

    last_seen: dict[str, datetime] = field(default_factory=dict)  # study_id -> when
    study_urls: dict[str, str] = field(default_factory=dict)  # study_id -> canonical url
    pages: dict[str, Validators] = field(default_factory=dict)  # canonical url -> validators
    unvisited_targets: dict[str, str] = field(default_factory=dict)  # study_id -> url
    misdecoded: set[str] = field(default_factory=set)  # study ids read by a faulty decoder
    # Threads known only from study cards, never crawled themselves (a crawl that followed
    # the cards died before it reached them): thread url list, oldest first.
    uncrawled_threads: list[str] = field(default_factory=list)


def stored_threads(conn: Connection) -> set[str]:
    """Post ids of the threads stored from their own page (not only known from a card)."""
    rows = conn.execute(
        select(Thread.post_id).where(Thread.source == "thread", Thread.gone_at.is_(None))
    )
    return {post_id for post_id in rows.scalars() if post_id}


def trusted(status: int, key: str | None, stored: set[str]) -> bool:
    """Whether a page's recorded validators may make the next request conditional.

    A 304 keeps what is stored, so validators count only when the item read from the page is
    stored: a database written by an older crawler (which could commit a page's record in an
    earlier batch than its item, and be killed in between) otherwise keeps a study out for
    good. A gone page's record stands on its own."""
    return status in GONE_STATUSES or not key or key in stored


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_known_site(engine: Engine) -> KnownSite:
    known = KnownSite()
    if current_revision(engine) is None:
        return known
    with engine.connect() as conn:
        for study_id, url, last_seen in conn.execute(
            select(Study.study_id, Study.url, Study.last_seen).where(Study.gone_at.is_(None))
        ):
            known.last_seen[study_id] = _utc(last_seen)
            known.study_urls[study_id] = url
        faulty = _runs_with_faulty_decoding(conn)
        stored = {"study": set(known.last_seen), "thread": stored_threads(conn)}
        for page_url, etag, last_modified, status, kind, key, run_id in conn.execute(
            select(
                Page.url,
                Page.etag,
                Page.last_modified,
                Page.status,
                Page.kind,
                Page.key,
                Page.run_id,
            )
        ):
            if not trusted(status, key, stored.get(kind, set())):
                continue
            known.pages[page_url] = Validators(etag, last_modified, status)
            if run_id in faulty and kind == "study" and key:
                known.misdecoded.add(key)
        for target, link_url in conn.execute(
            select(ResearchLink.target_study_id, ResearchLink.url)
            .where(ResearchLink.target_study_id.is_not(None), ResearchLink.url.is_not(None))
            .distinct()
        ):
            if target and link_url and target not in known.last_seen:
                known.unvisited_targets.setdefault(target, link_url)
        known.uncrawled_threads = [
            url
            for (url,) in conn.execute(
                select(Thread.url)
                .where(Thread.source == "card", Thread.url.is_not(None), Thread.gone_at.is_(None))
                .order_by(Thread.id)
            )
            if url
        ]
    return known


def _runs_with_faulty_decoding(conn: Connection) -> set[int]:
    """Runs whose pages may have been decoded wrongly: recorded by a crawler older than the
    current ``DECODER_VERSION`` (tressless_crawler.middlewares.charset) that re-decoded a page into
    a
    single-byte charset (a UTF-8 page with one invalid byte became Windows-1252 throughout),
    or that died before it recorded any figures (nothing says it did not)."""
    from tressless_crawler.middlewares.charset import DECODER_VERSION

    faulty = set()
    for run_id, settings, stats in conn.execute(
        select(CrawlRun.id, CrawlRun.settings, CrawlRun.stats).where(
            CrawlRun.id.in_(select(Page.run_id).where(Page.run_id.is_not(None)).distinct())
        )
    ):
        if int((settings or {}).get("DECODER_VERSION") or 1) >= DECODER_VERSION:
            continue
        repaired = [
            key
            for key in stats or {}
            if CHARSET_REPAIRED_AS.matches(key) and key != CHARSET_REPAIRED_AS.key("utf-8")
        ]
        if repaired or not stats:
            faulty.add(run_id)
    return faulty
