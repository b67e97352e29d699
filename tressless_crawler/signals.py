"""Signals of the crawler's own.

``page_fetched`` carries what a fetch of a study or thread URL answered
(status and HTTP validators) to the store, outside the item stream, so that
``scrapy crawl ... -O items.jsonl`` keeps exporting only real items.
Handlers receive: url, kind ("study" | "thread"), key (its id), status,
etag, last_modified, warc_record_id (the archived response's record, with ARCHIVE on), and
item: the item the page was read into, or None (a 304, a gone page). The store writes the
record of a page read into an item in the same transaction as that item, never before it:
validators that reached the database without their item would answer 304 to the next crawl,
and the item would never be stored.

``worker_lost`` is sent by a distributed worker that found another worker of
the same crawl dead (its heartbeat expired without a clean exit) and requeued
its requests. Handlers receive: worker (the dead one's id, as in
``crawl_runs.worker``) and requeued (how many of its requests went back).

``requests_settling`` is sent by a distributed worker before finished requests
leave its in-flight ledger: what their callbacks noted for the whole crawl
(the studies they touched) must be in Redis before the frontier can look idle.
Handlers receive no arguments.

``batch_taken`` is sent by the store pipeline when it takes a batch to write (every
item of a request that finished before then is in it, or in an earlier batch), and
``batch_stored`` once that batch is in the database or the spool (``stored``
True) or was lost (False). Both carry ``seq``, the batch's number in the crawl; a
distributed worker drops a request from its in-flight ledger only when the batch
holding its items was stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

page_fetched = object()
worker_lost = object()
requests_settling = object()
batch_taken = object()
batch_stored = object()


def send_page_fetched(
    crawler: Crawler,
    response: Response,
    kind: str,
    key: str | None,
    url: str,
    warc_record_id: str | None = None,
    item: Any = None,
) -> None:
    """Tell the store what ``url`` answered: status and the validators for the next crawl.

    ``warc_record_id``: the archived response's record when ``response`` is not the one
    downloaded (a thread is recorded after its expansion requests); else read from it.
    ``item``: what the page was read into; sent before the item itself is yielded."""
    crawler.signals.send_catch_log(
        signal=page_fetched,
        url=url,
        kind=kind,
        key=key,
        status=response.status,
        etag=_header(response, b"ETag"),
        last_modified=_header(response, b"Last-Modified"),
        warc_record_id=warc_record_id or record_id(response),
        item=item,
    )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def record_id(response: Response) -> str | None:
    """The archived response's WARC record (tressless_crawler.archive), if the crawl archives."""
    request = response.request
    return request.meta.get("warc_record_id") if request is not None else None
