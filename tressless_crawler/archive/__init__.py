"""An archive of what the crawl fetched, in WARC (ISO 28500), and re-reading it.

``-s ARCHIVE=warc`` writes every response a crawl receives, and the request that
asked for it, to gzipped WARC files under ``ARCHIVE_DIR`` (``writer``, through the
downloader middleware in ``middleware``); the response record's id goes into the
``pages`` row. ``scrapy reparse`` reads the archive back (``reader``) and runs
today's parsers over it (``extract``) into the database through the item pipelines
(``spider``), without a request. See docs/archive.md.
"""

# What ``scrapy reparse --spider`` takes, and the kind of archived page each one re-reads.
KINDS = {"studies": "study", "community": "thread"}
