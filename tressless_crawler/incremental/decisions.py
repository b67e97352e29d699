"""Decisions of an incremental crawl: what may have changed since the database last saw it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tressless_crawler.incremental.known import Validators


def parse_lastmod(value: str | None) -> datetime | None:
    """A sitemap <lastmod> (W3C datetime: a date, or a date and time) as an aware UTC datetime."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unchanged_since_seen(
    lastmod: str | None, last_seen: datetime | None, now: datetime, max_age: timedelta
) -> bool:
    """True when the sitemap says the page did not change after we last stored it.

    A page not seen for longer than ``max_age`` is fetched anyway (conditionally),
    so that a site whose lastmod is wrong cannot hide changes for ever.
    """
    modified = parse_lastmod(lastmod)
    if modified is None or last_seen is None:
        return False
    if now - last_seen > max_age:
        return False
    return modified <= last_seen


def conditional_headers(validators: Validators | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last 200 answer of a URL."""
    if validators is None or validators.status != 200:
        return {}
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers
