"""Signals of the crawler's own.

``page_fetched`` carries what a fetch of a study or thread URL answered
(status and HTTP validators) to the store, outside the item stream, so that
``scrapy crawl ... -O items.jsonl`` keeps exporting only real items.
Handlers receive: url, kind ("study" | "thread"), key (its id), status,
etag, last_modified.
"""

page_fetched = object()
