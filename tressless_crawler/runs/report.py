"""Crawl reports: what a run did, side by side with the run before it.

Built from the stats a run recorded (crawl_runs.stats), so the same table is
logged at the end of a crawl and printed later by ``scrapy report``. A field
whose fill rate fell sharply from the previous run is the usual sign that the
site changed its markup: that gets a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from tressless_crawler.items import StudyItem, ThreadItem
from tressless_crawler.stats import (
    DROP_MARKER,
    FAILURES,
    FAILURES_COUNT,
    FILL,
    FILL_ITEMS,
    PARSE_DROPPED,
    REPARSE_DAMAGED_RECORDS,
    REPARSE_TORN_FILES,
    SCRAPY_ELAPSED,
    SCRAPY_ERRORS,
    SCRAPY_FINISH_REASON,
    SCRAPY_RESPONSES,
    STORE_GONE,
    STORE_JOURNALED,
    STORE_JOURNALED_ITEMS,
    STORE_NEW,
    STORE_UNCHANGED,
    STORE_UPDATED,
    STUDY_PAGES,
    VALIDATE_DROPPED,
)

FILL_PREFIX = FILL.prefix.rstrip("/")  # the names of tressless_crawler.stats, kept for importers
ITEM_KINDS: dict[type, str] = {StudyItem: "studies", ThreadItem: "threads"}
ARCHIVE_LOSSES = (REPARSE_TORN_FILES, REPARSE_DAMAGED_RECORDS)  # what a reparse could not read
# Fields whose emptiness says nothing about the markup (flags, ids the URL gives).
NOT_TRACKED = {
    "study_id",
    "url",
    "slug",
    "post_id",
    "source_format",
    "edited",
    "cited_total_is_lower_bound",
    "related_total_is_lower_bound",
    "community_total_is_lower_bound",
}
MIN_ITEMS_FOR_WARNING = 20
SHARP_FALL = 0.5  # warn when a rate falls below half of what it was
# Study pages the spider fetched and handed to the parser (tressless_crawler.spiders.studies).
STUDY_PAGES_STAT = STUDY_PAGES
MAX_DROPPED_SHARE = 0.05  # more dropped study pages than this: a redesign or a block page


def tracked_fields(kind: type) -> list[str]:
    return [f.name for f in fields(kind) if f.name not in NOT_TRACKED]


_TRACKED: dict[type, tuple[str, ...]] = {}


def filled_fields(item: Any) -> list[str]:
    """Names of the item's tracked fields that hold a value."""
    kind = type(item)
    names = _TRACKED.get(kind)
    if names is None:
        names = _TRACKED[kind] = tuple(tracked_fields(kind))
    return [name for name in names if getattr(item, name) not in (None, "", [], {})]


_FILL_KEYS: dict[tuple[str, str], str] = {}


def fill_keys(kind: str, names: list[str]) -> list[str]:
    """The stats keys ``fill/<kind>/<name>`` of these fields (built once per field)."""
    keys = []
    for name in names:
        key = _FILL_KEYS.get((kind, name))
        if key is None:
            key = _FILL_KEYS[(kind, name)] = FILL.key(kind, name)
        keys.append(key)
    return keys


def fill_rates(stats: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """kind -> field -> share of the run's items that had it."""
    rates: dict[str, dict[str, float]] = {}
    for item_type, kind in ITEM_KINDS.items():
        total = stats.get(FILL.key(kind, FILL_ITEMS), 0)
        if not total:
            continue
        rates[kind] = {
            name: stats.get(FILL.key(kind, name), 0) / total for name in tracked_fields(item_type)
        }
    return rates


def fill_rate_warnings(stats: Mapping[str, Any], previous: Mapping[str, Any] | None) -> list[str]:
    if not previous:
        return []
    now, before = fill_rates(stats), fill_rates(previous)
    warnings = []
    for kind, rates in now.items():
        if stats.get(FILL.key(kind, FILL_ITEMS), 0) < MIN_ITEMS_FOR_WARNING:
            continue
        if previous.get(FILL.key(kind, FILL_ITEMS), 0) < MIN_ITEMS_FOR_WARNING:
            continue
        for name, rate in rates.items():
            old = before.get(kind, {}).get(name)
            if old is not None and old >= 0.2 and rate < old * SHARP_FALL:
                warnings.append(
                    f"{kind}.{name} was filled on {old:.0%} of items last run, {rate:.0%} now: "
                    "the site may have changed its markup"
                )
    return warnings


def dropped_share(stats: Mapping[str, Any]) -> float | None:
    """The share of the run's fetched study pages that were dropped (parser or validation).

    None for runs that fetched no study page (a community crawl).
    """
    fetched = stats.get(STUDY_PAGES, 0)
    if not isinstance(fetched, int) or fetched <= 0:
        return None
    dropped = sum(
        value
        for key, value in stats.items()
        if key.startswith((PARSE_DROPPED.prefix, VALIDATE_DROPPED.prefix))
        and isinstance(value, int)
    )
    return min(1.0, dropped / fetched)


def dropped_share_warnings(stats: Mapping[str, Any]) -> list[str]:
    share = dropped_share(stats)
    if share is None or share <= MAX_DROPPED_SHARE:
        return []
    return [
        f"{share:.0%} of the {stats[STUDY_PAGES]} study pages fetched were dropped "
        f"(more than {MAX_DROPPED_SHARE:.0%}): the site may have changed its markup or served "
        "block pages; see the dropped: rows for the reasons"
    ]


def _dropped(stats: Mapping[str, Any]) -> dict[str, int]:
    return {k: v for k, v in stats.items() if DROP_MARKER in k and isinstance(v, int)}


def _failed(stats: Mapping[str, Any]) -> dict[str, int]:
    """Requests that finally failed, by reason (tressless_crawler.middlewares.failures), spooled
    batches (counted under their first name, ``store/journaled``) and archived records a
    reparse could not read (torn files, damaged records)."""
    rows = {
        k: v
        for k, v in stats.items()
        if k.startswith(FAILURES.prefix) and k != FAILURES_COUNT and isinstance(v, int)
    }
    rows.update(
        {
            k: v
            for k, v in stats.items()
            if k in (STORE_JOURNALED, STORE_JOURNALED_ITEMS, *ARCHIVE_LOSSES) and isinstance(v, int)
        }
    )
    return rows


def _duration(stats: Mapping[str, Any]) -> str:
    seconds = stats.get(SCRAPY_ELAPSED)
    return f"{float(seconds):.1f} s" if isinstance(seconds, (int, float)) else "-"


def report_rows(stats: Mapping[str, Any]) -> dict[str, str]:
    rows = {
        "pages fetched": str(stats.get(SCRAPY_RESPONSES, 0)),
        "new": str(stats.get(STORE_NEW, 0)),
        "updated": str(stats.get(STORE_UPDATED, 0)),
        "unchanged": str(stats.get(STORE_UNCHANGED, 0)),
        "gone (404/410)": str(stats.get(STORE_GONE, 0)),
        "errors": str(stats.get(SCRAPY_ERRORS, 0)),
        "duration": _duration(stats),
        "finish reason": str(stats.get(SCRAPY_FINISH_REASON, "-")),
    }
    share = dropped_share(stats)
    if share is not None:
        rows["study pages dropped"] = f"{share:.0%}"
    for key, value in sorted(_dropped(stats).items()):
        rows[f"dropped: {key}"] = str(value)
    for key, value in sorted(_failed(stats).items()):
        rows[f"failed: {key}"] = str(value)
    for kind, rates in fill_rates(stats).items():
        for name, rate in rates.items():
            rows[f"fill {kind}.{name}"] = f"{rate:.0%}"
    return rows


def render_report(
    title: str,
    stats: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    previous_title: str = "previous run",
) -> str:
    """A plain-text table: one row per figure, this run beside the previous one."""
    current = report_rows(stats)
    before = report_rows(previous) if previous else {}
    labels = list(current) + [k for k in before if k not in current]
    width = max(len(label) for label in labels) if labels else 10
    lines = [f"{'':<{width}}  {title:>14}  {previous_title if previous else '':>14}"]
    for label in labels:
        lines.append(
            f"{label:<{width}}  {current.get(label, '-'):>14}  "
            f"{before.get(label, '') if previous else '':>14}"
        )
    return "\n".join(lines)
