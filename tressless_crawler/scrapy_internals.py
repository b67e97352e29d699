"""Every private part of Scrapy and scrapy-redis the crawler relies on, and nowhere else.

Scrapy has no public API yet for what follows; each accessor here names the internal,
says why the crawler needs it, and fails loudly when an upgrade moved it: it raises
:class:`ScrapyInternalsError` (naming the internal and the installed versions), or, for an
optional feature that works without it, logs one warning and counts
``scrapy_internals/unavailable/<internal>`` in the crawl's stats. No other module of the
package touches a private name of Scrapy, scrapy-redis or Twisted
(tests/unit/test_scrapy_internals.py checks both: the internals against the installed
versions, and the rule against the package's source).

Of scrapy-redis the crawler uses no private name (the shared frontier's scheduler subclasses
its Scheduler and calls its own ``open()``), but relies on that class's attributes and
behaviour, hence its pin too.

Checked against Scrapy 2.19.0 and scrapy-redis 0.9.1 (pinned to those minors in
pyproject.toml; docs/upgrading.md says what to check on an upgrade).

``ExecutionEngine._slot.inprogress`` (:func:`engine_in_progress`)
    The requests the engine took from the scheduler and has not finished: downloading, in
    their callbacks, or their output in the item pipelines. No signal says "this request
    and everything it produced were processed"; the shared frontier
    (``tressless_crawler.distributed.scheduler``) takes a request out of its worker's
    in-flight ledger once it left this set. Required there: the scheduler checks it when it
    opens. The progress bar counts it too (optional).
``ExecutionEngine._slot.nextcall`` (:func:`wake_engine`)
    Has the engine ask the scheduler for requests now, not at its next heartbeat (5 s),
    when the studies spider hands over requests it held back. Optional: without it the
    heartbeat picks them up.
``Scraper._check_if_closing`` (:func:`let_scraper_close`)
    A closing scraper finishes once nothing is in it, but checks that only when it starts
    closing and after each response. ``scrapy reparse`` sends items and no responses: when
    Ctrl-C stops it with items in the pipelines, it asks again once they are through, or the
    command would wait for ever. Optional: without it such a shutdown needs a second Ctrl-C.
``Downloader._latercall`` (:func:`hold_downloader_slot`)
    The downloader sends nothing from a slot while ``Slot.latercall`` is pending (that is
    how it spaces requests by DOWNLOAD_DELAY), and ``_latercall(slot)`` is what it calls to
    release the slot. A Retry-After holds the requests already queued for the host this way
    (``tressless_crawler.middlewares.backoff``). Optional: requests on their way to the
    downloader are still held by the middleware.
``scrapy.utils._compression._DecompressionMaxSizeExceeded`` (:data:`DecompressionMaxSizeExceeded`)
    What the public ``scrapy.utils.gz.gunzip(max_size=...)`` raises for a body that unpacks
    to more than the limit; a ValueError like the errors of a broken body, so only its class
    tells the studies spider's "sitemap too big" from "sitemap invalid". Required, and
    imported with this module: a Scrapy that moved it fails every crawl at its start.
``HttpCompressionMiddleware._split_encodings`` / ``._decode`` (:func:`decode_content`)
    How the middleware undoes a Content-Encoding, used to rebuild archived responses as the
    spiders received them (``tressless_crawler.archive.extract``). The public
    ``process_response`` needs a running crawler and turns a too-big body into
    IgnoreRequest. Required.
``BaseRunSpiderCommand._create_crawler`` (:func:`create_crawler`)
    ``scrapy crawl`` and ``scrapy seed`` create their crawler as Scrapy's ``crawl`` command
    does, with its warning when FEEDS is set but the feed exporter disabled. Required.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.asyncio import call_later

if TYPE_CHECKING:
    from scrapy.commands import BaseRunSpiderCommand
    from scrapy.core.downloader import Downloader
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

CHECKED_AGAINST = {"scrapy": "2.19.0", "scrapy-redis": "0.9.1"}
UNAVAILABLE_STAT = "scrapy_internals/unavailable/{}"


def installed_versions() -> str:
    """``scrapy 2.19.0, scrapy-redis 0.9.1``: what is installed, for error messages."""
    found = []
    for name in CHECKED_AGAINST:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


class ScrapyInternalsError(RuntimeError):
    """A private part of Scrapy or scrapy-redis the crawler relies on is not where it was."""

    def __init__(self, internal: str, problem: str) -> None:
        self.internal = internal
        checked = ", ".join(f"{name} {ver}" for name, ver in CHECKED_AGAINST.items())
        super().__init__(
            f"{internal}: {problem} (installed: {installed_versions()}; "
            f"tressless_crawler.scrapy_internals was checked against {checked}; "
            "see docs/upgrading.md)"
        )


_warned: set[str] = set()


def unavailable(crawler: Crawler | None, error: ScrapyInternalsError, without: str) -> None:
    """An optional feature goes without ``error.internal``: one warning per process, a stat."""
    if error.internal not in _warned:
        _warned.add(error.internal)
        logger.warning("%s; %s", error, without)
    stats = crawler.stats if crawler is not None else None
    if stats is not None:
        stats.inc_value(UNAVAILABLE_STAT.format(error.internal))


# --- the engine ----------------------------------------------------------------------------
def _engine_slot(crawler: Crawler, internal: str) -> Any:
    """``crawler.engine._slot``: None before the spider opened and after it closed."""
    try:
        return crawler.engine._slot
    except AttributeError:
        raise ScrapyInternalsError(internal, "the engine has no _slot") from None


def engine_in_progress(crawler: Crawler) -> Collection[Request] | None:
    """The requests the engine has not finished (``ExecutionEngine._slot.inprogress``).

    None while no spider is open; raises ScrapyInternalsError when this Scrapy keeps no
    such set.
    """
    internal = "ExecutionEngine._slot.inprogress"
    slot = _engine_slot(crawler, internal)
    if slot is None:
        return None
    inprogress = getattr(slot, "inprogress", None)
    if not isinstance(inprogress, Collection):
        raise ScrapyInternalsError(
            internal, f"the engine's slot has no set of requests in progress ({inprogress!r})"
        )
    return inprogress


def wake_engine(crawler: Crawler) -> None:
    """Have the engine ask the scheduler for requests now (``ExecutionEngine._slot.nextcall``).

    Optional: when this Scrapy has no such call, the engine's heartbeat asks within 5 s.
    """
    internal = "ExecutionEngine._slot.nextcall"
    try:
        slot = _engine_slot(crawler, internal)
        if slot is None:
            return
        schedule = getattr(getattr(slot, "nextcall", None), "schedule", None)
        if not callable(schedule):
            raise ScrapyInternalsError(internal, "the engine's slot has no nextcall.schedule()")
    except ScrapyInternalsError as error:
        unavailable(crawler, error, "queued requests wait for the engine's heartbeat")
        return
    schedule()


# --- the scraper ---------------------------------------------------------------------------
def let_scraper_close(crawler: Crawler) -> None:
    """Have a closing scraper check again whether it is done (``Scraper._check_if_closing``).

    Optional: when this Scrapy has no such check, it waits for its next response.
    """
    internal = "Scraper._check_if_closing"
    scraper = crawler.engine.scraper if crawler.engine is not None else None
    slot = getattr(scraper, "slot", None)
    closing = getattr(slot, "closing", None)
    if closing is None or closing.called:
        return
    check = getattr(scraper, "_check_if_closing", None)
    if not callable(check):
        error = ScrapyInternalsError(internal, "the scraper has no _check_if_closing()")
        unavailable(crawler, error, "a shutdown with items in the pipelines needs a second Ctrl-C")
        return
    check()


# --- the downloader ------------------------------------------------------------------------
def slot_release(downloader: Downloader) -> Callable[[Any], None]:
    """``Downloader._latercall``: frees a slot held by its ``latercall`` and sends its queue."""
    release = getattr(downloader, "_latercall", None)
    if not callable(release):
        raise ScrapyInternalsError(
            "Downloader._latercall", "the downloader has no method that releases a held slot"
        )
    return release


def hold_downloader_slot(crawler: Crawler, request: Request, seconds: float) -> bool:
    """Keep the downloader from sending what it queued for ``request``'s slot for ``seconds``.

    The downloader sends nothing from a slot while the slot's ``latercall`` is pending;
    this sets one that releases the slot (``Downloader._latercall``) when the time is up,
    replacing a shorter wait for DOWNLOAD_DELAY. False when the downloader has no slot for
    the request's host yet (nothing queued to hold) or, with one warning and a stat, when
    this Scrapy has no such release.
    """
    downloader = crawler.engine.downloader
    slot = downloader.slots.get(downloader.get_slot_key(request))
    if slot is None:
        return False
    try:
        release = slot_release(downloader)
        if not hasattr(slot, "latercall"):
            raise ScrapyInternalsError(
                "Downloader._latercall", "the downloader's slots have no latercall"
            )
    except ScrapyInternalsError as error:
        unavailable(crawler, error, "a Retry-After holds only the requests not yet queued")
        return False
    if slot.latercall is not None:
        slot.latercall.cancel()  # a shorter wait for DOWNLOAD_DELAY: ours replaces it
    slot.latercall = call_later(seconds, release, slot)
    return True


# --- decompression -------------------------------------------------------------------------
#: What gunzip(max_size=...) raises past the limit. Imported with this module: a Scrapy that
#: moved it fails every crawl at its start, with an ImportError naming it.
DecompressionMaxSizeExceeded: type[ValueError] = _DecompressionMaxSizeExceeded


def decode_content(body: bytes, encodings: list[bytes], max_size: int) -> tuple[bytes, list[bytes]]:
    """``body`` with its Content-Encoding undone as HttpCompressionMiddleware does.

    Returns the decoded body and the encodings left (from the first one Scrapy cannot
    decode); raises DecompressionMaxSizeExceeded past ``max_size`` (0: no limit).
    """
    split = getattr(HttpCompressionMiddleware, "_split_encodings", None)
    decode = getattr(HttpCompressionMiddleware, "_decode", None)
    if not callable(split) or not callable(decode):
        raise ScrapyInternalsError(
            "HttpCompressionMiddleware._split_encodings/_decode",
            "the middleware no longer has these static methods",
        )
    to_decode, to_keep = split(encodings)
    for encoding in to_decode:
        body = decode(body, encoding, max_size)
    return body, to_keep


# --- commands ------------------------------------------------------------------------------
def create_crawler(command: BaseRunSpiderCommand, spider: str) -> Crawler:
    """The crawler of a crawl command, as Scrapy's ``crawl`` makes it (``_create_crawler``)."""
    make = getattr(command, "_create_crawler", None)
    if not callable(make):
        raise ScrapyInternalsError(
            "BaseRunSpiderCommand._create_crawler",
            "Scrapy's crawl commands no longer create their crawler this way",
        )
    crawler: Crawler = make(spider)
    return crawler
