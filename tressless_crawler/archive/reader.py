"""Reading WARC files back: an index of their responses, then the chosen records by offset.

The crawl writes every record as a gzip member of its own, so a file is inflated directly
(ISA-L, see ``deflate``): the index inflates each member once (in C) and keeps its offset
and compressed length, and a record is later read with one ``read`` and one inflate. Record
and HTTP headers are parsed by warcio's own parsers, so they read as warcio reads them.
A file whose members do not hold one record each (written by another tool) is read with
warcio's ``ArchiveIterator`` instead.

A crawl killed while writing leaves at most one torn record at the end of a file: the
index stops there, logs it and counts it (``torn``); every record before it reads.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader

from tressless_crawler.archive import deflate
from tressless_crawler.archive.writer import INDEX_VERSION, SUFFIX, index_path

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
    length: int = 0  # the record's gzip member, compressed; 0: read it with warcio


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


CHUNK = 1 << 16  # compressed bytes read and fed to the inflater at a time
HEAD = 1 << 14  # decompressed bytes kept of each member for its headers
# as ArchiveIterator's (no HTTP verification, no ARC conversion)
LOADER = ArcWarcRecordLoader(verify_http=False, arc2warc=False)


class NotOnePerMember(Exception):
    """A gzip member that does not hold exactly one record: read the file with warcio."""


def gzip_members(path: Path) -> Iterator[tuple[int, int, bytes, int, bool]]:
    """(offset, compressed length, first ``HEAD`` bytes, decompressed size, complete) of
    each gzip member of a file, in order.

    A deflate stream carries no length, so every member is inflated (in C) to find its end,
    and only the head of each member is kept. A member cut short by the
    end of the file comes last, ``complete`` False. ``deflate.ERRORS``: bytes that are not gzip.
    """
    with open(path, "rb") as stream:
        pending = stream.read(CHUNK)
        offset = 0
        while pending:
            inflater = deflate.inflater()
            head = b""
            size = 0
            fed = 0
            while True:
                out = inflater.decompress(pending)
                size += len(out)
                if len(head) < HEAD:
                    head += out[: HEAD - len(head)]
                if inflater.eof:
                    fed += len(pending) - len(inflater.unused_data)
                    pending = inflater.unused_data or stream.read(CHUNK)
                    break
                fed += len(pending)
                pending = stream.read(CHUNK)
                if not pending:
                    yield offset, fed, head, size, False
                    return
            yield offset, fed, head, size, True
            offset += fed


def index_file(path: Path) -> FileIndex:
    """The response records of one file: from the index the crawl wrote beside it when it
    closed the file, else by reading the file (a damaged tail ends the index there)."""
    written = read_index(path)
    if written is not None:
        return written
    return scan_file(path)


def read_index(path: Path) -> FileIndex | None:
    """The index written beside a closed file, None when there is none or it does not
    describe the file as it is (another size: the file was changed since)."""
    try:
        with open(index_path(path), encoding="utf-8") as lines:
            head = json.loads(next(lines))
            if (
                head.get("version") != INDEX_VERSION
                or head.get("size") != path.stat().st_size
                or head.get("file") != path.name
            ):
                return None
            entries = [
                Entry(
                    path=str(path),
                    offset=offset,
                    url=url,
                    record_id=record_id,
                    fetched_at=parse_warc_date(date),
                    status=status,
                    length=length,
                )
                for offset, length, url, record_id, date, status in map(json.loads, lines)
            ]
            return FileIndex(entries, int(head.get("records") or 0), torn=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, StopIteration) as exc:
        logger.warning("Ignoring the index of %s (%s): reading the file", path, exc)
        return None


def scan_file(path: Path) -> FileIndex:
    """``index_file`` by reading the file: every gzip member inflated once."""
    entries: list[Entry] = []
    records = 0
    torn = False
    try:
        for offset, length, head, size, complete in gzip_members(path):
            if not complete:
                torn = True  # only a file's last record can be cut short
                logger.warning("%s ends in a record cut short: skipped", path)
                break
            records += 1
            entry = _entry(path, offset, length, head, size)
            if entry is not None:
                entries.append(entry)
    except NotOnePerMember:
        return index_file_warcio(path)
    except Exception as exc:  # inflate or header errors: damaged bytes
        torn = True
        logger.warning(
            "%s ends in a damaged record after %d good ones (%s): the rest of the file is skipped",
            path,
            records,
            exc,
        )
    return FileIndex(entries, records, torn)


def _entry(path: Path, offset: int, length: int, head: bytes, size: int) -> Entry | None:
    """The index entry of one member's record, None when it is not an HTTP response."""
    stream = io.BytesIO(head)
    headers = LOADER.warc_parser.parse(stream)
    block = int(headers.get_header("Content-Length") or -1)
    if size != headers.total_len + block + 4:  # the block, then CRLF CRLF
        raise NotOnePerMember(path)
    if headers.get_header("WARC-Type") != "response":
        return None
    url = headers.get_header("WARC-Target-URI") or ""
    if not url.startswith(("http:", "https:")) or block <= 0:
        return None  # warcio parses HTTP headers of http(s) records with content only
    try:
        status = int(LOADER.http_parser.parse(stream).get_statuscode())
    except (TypeError, ValueError, EOFError):
        return None
    return Entry(
        path=str(path),
        offset=offset,
        url=url,
        record_id=headers.get_header("WARC-Record-ID") or "",
        fetched_at=parse_warc_date(headers.get_header("WARC-Date") or ""),
        status=status,
        length=length,
    )


def index_file_warcio(path: Path) -> FileIndex:
    """``index_file`` by warcio's ArchiveIterator, for files of any layout (their entries
    have no length: ``read_entries`` finds them by reading the file through)."""
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
                record.raw_stream.read()
                if getattr(record.raw_stream, "limit", 0) > 0:
                    torn = True  # only a file's last record can be cut short
                    logger.warning("%s ends in a record cut short: skipped", path)
                    break
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
    damage: str = ""  # why the record no longer reads (bytes changed since it was indexed)


def read_records(path: str, offsets: Iterable[int]) -> list[Archived]:
    """The responses at these offsets of one file, by warcio (for files of any layout
    whose records start at these offsets)."""
    out: list[Archived] = []
    with open(path, "rb") as stream:
        for offset in offsets:
            stream.seek(offset)
            out.append(_archived(next(iter(ArchiveIterator(stream, check_digests=False)))))
    return out


def read_entries(path: str, entries: Iterable[Entry]) -> list[Archived]:
    """The responses of these index entries of one file: one read and one inflate each (a
    file not written one record per gzip member is read through by warcio instead). A
    record that no longer reads comes back with its ``damage`` said, and the others read."""
    entries = list(entries)
    if any(entry.length <= 0 for entry in entries):
        return _read_through(path, entries)
    out: list[Archived] = []
    with open(path, "rb") as stream:
        for entry in entries:
            stream.seek(entry.offset)
            try:
                data = deflate.inflate(stream.read(entry.length))
                record = LOADER.parse_record_stream(io.BytesIO(data), known_format="warc")
                if record.rec_headers.get_header("WARC-Record-ID") != entry.record_id:
                    raise ValueError(f"no record {entry.record_id} at offset {entry.offset}")
                out.append(_archived(record))
            except Exception as exc:  # bytes changed since the index was written: this record
                out.append(_damaged(entry, exc))
    return out


def _damaged(entry: Entry, exc: Exception) -> Archived:
    """The stand-in for a record that no longer reads: its entry, and why."""
    return Archived(
        url=entry.url,
        record_id=entry.record_id,
        fetched_at=entry.fetched_at,
        status=entry.status,
        headers=[],
        body=b"",
        complete=False,
        damage=f"{type(exc).__name__}: {exc}"[:300],
    )


def _archived(record: ArcWarcRecord) -> Archived:
    http = record.http_headers
    headers = record.rec_headers
    return Archived(
        url=headers.get_header("WARC-Target-URI") or "",
        record_id=headers.get_header("WARC-Record-ID") or "",
        fetched_at=parse_warc_date(headers.get_header("WARC-Date") or ""),
        status=int(http.get_statuscode()),
        headers=list(http.headers),
        body=record.raw_stream.read(),
        complete=getattr(record.raw_stream, "limit", 0) <= 0,
    )


def _read_through(path: str, entries: list[Entry]) -> list[Archived]:
    """The entries' records, found by their ids in one pass of warcio over the file."""
    wanted = {entry.record_id for entry in entries}
    found: dict[str, Archived] = {}
    with open(path, "rb") as stream:
        try:
            for record in ArchiveIterator(stream, check_digests=False):
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                if record_id in wanted and record.http_headers is not None:
                    found[record_id] = _archived(record)
                    if len(found) == len(wanted):
                        break
        except Exception as exc:  # a damaged tail: what was read before it stands
            logger.warning("%s: %s", path, exc)
    return [found[entry.record_id] for entry in entries if entry.record_id in found]
