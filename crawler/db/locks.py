"""A crawl lock kept in the database: one running crawl per spider and database.

The holder refreshes ``heartbeat_at`` while it runs. A lock whose holder
crashed is taken over when its heartbeat is older than ``stale_after``
seconds, or at once when the holder was a process on this host that no
longer exists.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from crawler.db.models import CrawlLock
from crawler.db.store import lock_for_write


@dataclass(frozen=True)
class Holder:
    host: str | None
    pid: int | None
    run_id: int | None
    acquired_at: datetime
    heartbeat_at: datetime


class CrawlLocked(RuntimeError):
    """Another crawl of the same spider holds the lock."""

    def __init__(self, name: str, holder: Holder) -> None:
        self.holder = holder
        super().__init__(
            f"another '{name}' crawl is running on this database (pid {holder.pid} on "
            f"{holder.host}, run {holder.run_id}, started {holder.acquired_at:%Y-%m-%d %H:%M:%S}, "
            f"last heartbeat {holder.heartbeat_at:%H:%M:%S}); this one will not start. "
            "If that crawl died, its lock frees itself when its heartbeat is stale."
        )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every time stored here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def acquire(engine: Engine, name: str, now: datetime, stale_after: float) -> Holder | None:
    """Take the lock; returns the previous holder when it was taken over from a dead crawl.

    Raises CrawlLocked when a live crawl holds it.
    """
    host, pid = socket.gethostname(), os.getpid()
    with engine.begin() as conn:
        lock_for_write(conn)
        row = conn.execute(
            select(
                CrawlLock.host,
                CrawlLock.pid,
                CrawlLock.run_id,
                CrawlLock.acquired_at,
                CrawlLock.heartbeat_at,
            ).where(CrawlLock.name == name)
        ).first()
        if row is None:
            conn.execute(
                insert(CrawlLock).values(
                    name=name, host=host, pid=pid, acquired_at=now, heartbeat_at=now
                )
            )
            return None
        holder = Holder(
            row.host, row.pid, row.run_id, _aware(row.acquired_at), _aware(row.heartbeat_at)
        )
        stale = holder.heartbeat_at < now - timedelta(seconds=stale_after)
        dead_here = holder.host == host and holder.pid is not None and not pid_alive(holder.pid)
        if not (stale or dead_here or (holder.host == host and holder.pid == pid)):
            raise CrawlLocked(name, holder)
        conn.execute(
            update(CrawlLock)
            .where(CrawlLock.name == name)
            .values(host=host, pid=pid, run_id=None, acquired_at=now, heartbeat_at=now)
        )
        return holder


def attach_run(engine: Engine, name: str, run_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(CrawlLock)
            .where(CrawlLock.name == name, CrawlLock.pid == os.getpid())
            .values(run_id=run_id)
        )


def heartbeat(engine: Engine, name: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(CrawlLock)
            .where(
                CrawlLock.name == name,
                CrawlLock.pid == os.getpid(),
                CrawlLock.host == socket.gethostname(),
            )
            .values(heartbeat_at=now)
        )


def release(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            delete(CrawlLock).where(
                CrawlLock.name == name,
                CrawlLock.pid == os.getpid(),
                CrawlLock.host == socket.gethostname(),
            )
        )


def release_run(engine: Engine, run_id: int) -> int:
    """Release the lock a run held, whichever process that was (it has ended: its end is known).

    For ``scrapy db replay``, which closes runs whose end was journaled while the database was
    down; the lock would otherwise wait out ``CRAWL_LOCK_STALE_SECONDS``.
    """
    with engine.begin() as conn:
        return conn.execute(delete(CrawlLock).where(CrawlLock.run_id == run_id)).rowcount or 0
