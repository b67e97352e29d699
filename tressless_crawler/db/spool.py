"""The store's spool: batches the database would not take, kept on local disk.

When a batch cannot be written even after its retries (the database is down,
locked, unreachable), the store pipeline appends it here and the crawl goes on;
``scrapy db replay`` loads the spool later (see :mod:`tressless_crawler.db.replay`).

Settings: ``SPOOL_DIR``, or its former name ``JOURNAL_DIR`` (see :func:`spool_dir`).
One file per crawl run, ``<SPOOL_DIR>/<spider>-run<id>.jsonl``, one JSON
object per line and per batch. Each line is flushed and fsync'ed before the
crawl moves on, so what was spooled survives a crash of the crawler or the
machine; a line cut short by a crash is skipped (and reported) by the reader.
While a crawl holds its file it keeps an exclusive ``flock`` on it, so a replay
running at the same time leaves that file alone. A file that was loaded is
renamed to ``*.jsonl.replayed``, never deleted.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.exceptions import SpoolBusy

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

FORMAT = 1
SUFFIX = ".jsonl"
REPLAYED_SUFFIX = ".replayed"
# The directory keeps the name it had when the spool was called the journal, so that files
# spooled by an older version are still found and replayed.
DEFAULT_DIR = DEFAULTS["SPOOL_DIR"]
LEGACY_SETTING = "JOURNAL_DIR"  # the setting's former name, still honoured


def spool_dir(settings: BaseSettings) -> str:
    """``SPOOL_DIR``, or ``JOURNAL_DIR`` where that was set instead.

    The one given at the higher priority wins (``-s`` over settings.py over the default); at
    equal priority ``JOURNAL_DIR`` wins over the default value of ``SPOOL_DIR``, so a
    settings.py or a script that sets only the old name keeps its directory.
    """
    spool = settings.get("SPOOL_DIR") or ""
    legacy = settings.get(LEGACY_SETTING) or ""
    if not legacy:
        return spool or DEFAULT_DIR
    if not spool:
        return legacy
    spool_priority = settings.getpriority("SPOOL_DIR") or 0
    legacy_priority = settings.getpriority(LEGACY_SETTING) or 0
    if legacy_priority != spool_priority:
        return legacy if legacy_priority > spool_priority else spool
    return legacy if spool == DEFAULT_DIR else spool


def spool_name(spider: str, run_id: int | None) -> str:
    if run_id is not None:
        return f"{spider}-run{run_id}{SUFFIX}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{spider}-{stamp}-{os.getpid()}{SUFFIX}"


class SpoolWriter:
    """Appends batch records to one file, opened (and locked) at the first record."""

    def __init__(self, directory: Path | str, name: str) -> None:
        self.path = Path(directory) / name
        self.file: IO[str] | None = None
        self.records = 0

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably (flushed and fsync'ed)."""
        line = json.dumps(
            {"format": FORMAT, **record}, ensure_ascii=False, separators=(",", ":"), default=str
        )
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("a", encoding="utf-8")
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.file.write(line + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        self.records += 1

    def close(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def spool_files(directory: Path | str) -> list[Path]:
    """The spool files waiting to be replayed, oldest first."""
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.glob(f"*{SUFFIX}") if p.is_file()),
        key=lambda p: (p.stat().st_mtime, p.name),
    )


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the file's lock while replaying it; SpoolBusy if a crawl is still writing it."""
    with path.open("r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpoolBusy(f"{path} is being written by a running crawl") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each readable line; unreadable lines are logged and skipped."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                logger.warning(
                    "%s line %d is not a complete record (cut short by a crash?): skipped",
                    path,
                    number,
                )
                continue
            if not isinstance(record, dict) or record.get("format") != FORMAT:
                logger.warning(
                    "%s line %d is not a spool record of format %d: skipped", path, number, FORMAT
                )
                continue
            yield number, record


def mark_replayed(path: Path) -> Path:
    """Rename a loaded file so that it is not loaded again (kept for the record)."""
    target = path.with_name(path.name + REPLAYED_SUFFIX)
    if target.exists():
        target = path.with_name(
            f"{path.name}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}{REPLAYED_SUFFIX}"
        )
    path.rename(target)
    return target
