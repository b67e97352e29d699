"""WARC files written by warcio, one gzip member per record, rotated by size.

Records are built and compressed on a thread of their own (ISA-L, zlib and hashlib
release the GIL), so the crawl's event loop only hands the response over. Each record is
compressed on its own and written with one ``write`` and a flush: a crawl killed
at any instant leaves files whose every complete record reads back, and at worst
one torn record at the end, which ``tressless_crawler.archive.reader`` skips.

A file closed normally gets an index beside it (``<file>.index.jsonl``: the offset,
compressed length, URL, record id, date and status of each response record, and the
file's size), so that ``scrapy reparse`` need not inflate the whole file to find them.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tressless_crawler.archive.deflate import gzip_member
from tressless_crawler.defaults import DEFAULTS

logger = logging.getLogger(__name__)

SUFFIX = ".warc.gz"
INDEX_SUFFIX = ".index.jsonl"  # appended to a WARC file's name
INDEX_VERSION = 1
DEFAULT_MAX_SIZE = DEFAULTS["ARCHIVE_MAX_SIZE"]  # the WARC specification's customary 1 GB
# Level 1 (ISA-L's, see deflate.py) costs 0.15 ms per 55 KB page; zlib's 6 costs 1.4 ms for files
# 15 % smaller, warcio's own 9 1.7 ms for 0.5 % more: the crawl's CPU is scarcer than disk.
COMPRESS_LEVEL = DEFAULTS["ARCHIVE_COMPRESS_LEVEL"]


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(when: datetime) -> str:
    """WARC-Date with microseconds (WARC/1.1), always UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Exchange:
    """One fetch: what was asked and what came back, as sent over the wire (headers decoded
    as latin-1, the body exactly as received, still content-encoded)."""

    record_id: str
    url: str
    fetched_at: datetime
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    protocol: str
    response_headers: list[tuple[str, str]]
    body: bytes
    ip_address: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def index_path(warc: Path) -> Path:
    """The response index written beside a closed WARC file."""
    return warc.with_name(warc.name + INDEX_SUFFIX)


class WarcFiles:
    """Writes records into ``<dir>/<prefix>-<UTC time>-<serial>-<host>-<pid>.warc.gz``.

    A file is closed once it reaches ``max_size`` bytes and the next record opens a new
    one, which starts with a ``warcinfo`` record. Not thread-safe: ``ArchiveWriter`` calls
    it from its one thread.
    """

    def __init__(
        self,
        directory: Path,
        prefix: str = "crawl",
        max_size: int = DEFAULT_MAX_SIZE,
        level: int = COMPRESS_LEVEL,
        software: str = "tressless-crawler",
    ) -> None:
        self.directory = directory
        self.prefix = prefix
        self.max_size = max(1, max_size)
        self.level = level
        self.software = software
        self.serial = 0
        self.file: io.BufferedWriter | None = None
        self.path: Path | None = None
        self.size = 0
        self.records = 0
        self.files: list[Path] = []
        # the open file's response records: offset, length, URL, record id, WARC-Date, status
        self.index: list[tuple[int, int, str, str, str, int]] = []
        self.builder = WARCWriter(io.BytesIO(), gzip=False, warc_version="1.1")

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        host = socket.gethostname().replace("-", "_") or "host"
        name = f"{self.prefix}-{stamp}-{self.serial:05d}-{host}-{os.getpid()}{SUFFIX}"
        self.serial += 1
        self.path = self.directory / name
        self.file = open(self.path, "xb")  # noqa: SIM115 - kept open across records
        self.size = 0
        self.index = []
        self.file_records = 0
        self.files.append(self.path)
        info = self.builder.create_warcinfo_record(
            name, {"software": self.software, "format": "WARC File Format 1.1"}
        )
        self._write([info])

    def _serialize(self, record: object) -> bytes:
        buffer = io.BytesIO()
        self.builder.out = buffer
        self.builder.write_record(record)
        return buffer.getvalue()

    def _write(self, records: list[object]) -> list[int]:
        """Append the records, one gzip member each; returns the members' lengths."""
        assert self.file is not None
        members = [gzip_member(self._serialize(r), self.level) for r in records]
        data = b"".join(members)
        self.file.write(data)
        self.file.flush()
        self.size += len(data)
        self.records += len(records)
        self.file_records += len(records)
        return [len(m) for m in members]

    def write(self, exchange: Exchange) -> None:
        """The response record, then its request (WARC-Concurrent-To the response)."""
        if self.file is None:
            self._open()
        date = warc_date(exchange.fetched_at)
        status_line = f"{exchange.status} {exchange.reason}".strip()
        http_headers = StatusAndHeaders(
            status_line, exchange.response_headers, protocol=exchange.protocol
        )
        warc_headers = {"WARC-Record-ID": exchange.record_id, "WARC-Date": date}
        if exchange.ip_address:
            warc_headers["WARC-IP-Address"] = exchange.ip_address
        warc_headers.update(exchange.extra)
        response = self.builder.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        path = exchange.url.split("/", 3)[3] if exchange.url.count("/") >= 3 else ""
        request = self.builder.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            http_headers=StatusAndHeaders(
                f"{exchange.method} /{path} {exchange.protocol}",
                exchange.request_headers,
                is_http_request=True,
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": exchange.record_id,
            },
        )
        offset = self.size
        length, _ = self._write([response, request])
        self.index.append((offset, length, exchange.url, exchange.record_id, date, exchange.status))
        if self.size >= self.max_size:
            self.close()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
            self._write_index()

    def _write_index(self) -> None:
        """The closed file's response index, written whole then renamed into place."""
        assert self.path is not None
        target = index_path(self.path)
        partial = target.with_name(target.name + ".part")
        head = {
            "version": INDEX_VERSION,
            "file": self.path.name,
            "size": self.size,
            "records": self.file_records,
        }
        try:
            with open(partial, "w", encoding="utf-8") as out:
                out.write(json.dumps(head) + "\n")
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in self.index)
            os.replace(partial, target)
        except OSError as exc:  # the archive reads without it, only slower
            logger.warning("Cannot write the index of %s (%s)", self.path, exc)
        self.index = []


_STOP = object()


class ArchiveWriter:
    """Takes exchanges from the event loop and writes them on a thread of its own."""

    def __init__(self, files: WarcFiles, max_queue: int = 1000) -> None:
        self.files = files
        self.queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="warc-writer", daemon=True)
        self.thread.start()

    def put(self, exchange: Exchange) -> bool:
        """Queue one exchange (blocks only when the disk is this far behind the crawl);
        False once writing has failed (a full disk): the crawl goes on without the archive."""
        if self.error is not None:
            return False
        self.queue.put(exchange)
        return True

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _STOP:
                break
            try:
                self.files.write(item)  # type: ignore[arg-type]
            except Exception as exc:  # a full disk: counted by the middleware, crawl goes on
                if self.error is None:
                    logger.error(
                        "Cannot write the WARC archive in %s (%s): archiving stops",
                        self.files.directory,
                        exc,
                    )
                self.error = exc
        self.files.close()

    def close(self) -> None:
        """Write what is queued, then close the file."""
        self.queue.put(_STOP)
        self.thread.join()
