"""Reading WARC files back with warcio: an index of their responses, then one record at a time.

A crawl killed while writing leaves at most one torn record at the end of a file: the
index stops there, logs it and counts it (``torn``); every record before it reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tressless_crawler.archive.writer import SUFFIX

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """Where one archived response is, and what the index needs to choose it."""

    path: str
    offset: int
    url: str
    record_id: str
    fetched_at: datetime
    status: int


@dataclass
class FileIndex:
    entries: list[Entry]
    records: int  # every record read, warcinfo and requests included
    torn: bool  # the file ends in a record cut short (a crawl killed while writing)


def archive_files(directory: Path) -> list[Path]:
    """The WARC files of an archive directory (and its subdirectories), by name."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob(f"*{SUFFIX}") if p.is_file())


def parse_warc_date(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def index_file(path: Path) -> FileIndex:
    """The response records of one file; a damaged tail ends the index there."""
    entries: list[Entry] = []
    records = 0
    torn = False
    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream, check_digests=False)
        try:
            for record in iterator:
                records += 1
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                headers = record.rec_headers
                try:
                    status = int(record.http_headers.get_statuscode())
                except (TypeError, ValueError):
                    continue
                entries.append(
                    Entry(
                        path=str(path),
                        offset=iterator.get_record_offset(),
                        url=headers.get_header("WARC-Target-URI") or "",
                        record_id=headers.get_header("WARC-Record-ID") or "",
                        fetched_at=parse_warc_date(headers.get_header("WARC-Date") or ""),
                        status=status,
                    )
                )
        except Exception as exc:  # warcio raises several kinds on a truncated member
            torn = True
            logger.warning(
                "%s ends in a damaged record after %d good ones (%s): the rest of the file is "
                "skipped",
                path,
                records,
                exc,
            )
    if entries and not read_records(str(path), [entries[-1].offset])[0].complete:
        torn = True  # only a file's last record can be cut short
        logger.warning("%s ends in a record cut short: %s skipped", path, entries[-1].url)
        entries.pop()
    return FileIndex(entries, records, torn)


@dataclass
class Archived:
    """One archived response, as the crawl received it."""

    url: str
    record_id: str
    fetched_at: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # still content-encoded, as it came over the wire
    complete: bool = True  # False: the file ends inside this record's body


def read_records(path: str, offsets: Iterable[int]) -> list[Archived]:
    """The responses at these offsets of one file."""
    out: list[Archived] = []
    with open(path, "rb") as stream:
        for offset in offsets:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream, check_digests=False)))
            http = record.http_headers
            body = record.raw_stream.read()
            out.append(
                Archived(
                    url=record.rec_headers.get_header("WARC-Target-URI") or "",
                    record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
                    fetched_at=parse_warc_date(record.rec_headers.get_header("WARC-Date") or ""),
                    status=int(http.get_statuscode()),
                    headers=list(http.headers),
                    body=body,
                    complete=getattr(record.raw_stream, "limit", 0) <= 0,
                )
            )
    return out
