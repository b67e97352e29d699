"""A crawl lock kept in the database: one running crawl per spider and database.

The holder refreshes ``heartbeat_at`` while it runs. A lock whose holder
crashed is taken over when its heartbeat is older than ``stale_after``
seconds, or at once when the holder was a process on this host that no
longer exists.

A distributed crawl is one crawl made of several processes: its workers hold
the lock together, under the crawl's frontier namespace. The first takes it,
the others join it, any of them keeps it fresh, and the last one to leave
releases it. A single-process crawl is refused while they hold it, and they
are refused while it does.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from tressless_crawler.db.models import CrawlLock
from tressless_crawler.db.runs import mark_stale_runs
from tressless_crawler.db.study_writes import lock_for_write
from tressless_crawler.exceptions import CrawlLocked


@dataclass(frozen=True)
class Holder:
    host: str | None
    pid: int | None
    run_id: int | None
    acquired_at: datetime
    heartbeat_at: datetime
    frontier: str | None = None


def locked_message(name: str, holder: Holder) -> str:
    """What a user reads when another crawl holds the lock."""
    who = (
        f"a distributed crawl on the frontier {holder.frontier}, first worker pid "
        f"{holder.pid} on {holder.host}"
        if holder.frontier
        else f"pid {holder.pid} on {holder.host}"
    )
    return (
        f"another '{name}' crawl is running on this database ({who}, run {holder.run_id}, "
        f"started {holder.acquired_at:%Y-%m-%d %H:%M:%S}, "
        f"last heartbeat {holder.heartbeat_at:%H:%M:%S}); this one will not start. "
        "If that crawl died, its lock frees itself when its heartbeat is stale."
    )


@dataclass(frozen=True)
class Acquired:
    """How the lock was taken."""

    previous: Holder | None = None  # the dead crawl it was taken over from
    joined: bool = False  # held already by this process's distributed crawl
    interrupted: int = 0  # runs left "running" by dead crawls, marked interrupted


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


def acquire(
    engine: Engine, name: str, now: datetime, stale_after: float, frontier: str | None = None
) -> Acquired:
    """Take the lock (or, with ``frontier``, join the distributed crawl that holds it).

    Runs of this spider still marked running are marked interrupted in the same transaction
    when the lock is taken anew, never when a worker joins (they are its crawl's). Raises
    CrawlLocked when another live crawl holds it.
    """
    host, pid = socket.gethostname(), os.getpid()
    taken = {
        "host": host,
        "pid": pid,
        "frontier": frontier,
        "acquired_at": now,
        "heartbeat_at": now,
    }
    with engine.begin() as conn:
        lock_for_write(conn)
        row = conn.execute(
            select(
                CrawlLock.host,
                CrawlLock.pid,
                CrawlLock.run_id,
                CrawlLock.acquired_at,
                CrawlLock.heartbeat_at,
                CrawlLock.frontier,
            ).where(CrawlLock.name == name)
        ).first()
        if row is None:
            conn.execute(insert(CrawlLock).values(name=name, **taken))
            return Acquired(interrupted=mark_stale_runs(conn, name))
        holder = Holder(
            row.host,
            row.pid,
            row.run_id,
            _aware(row.acquired_at),
            _aware(row.heartbeat_at),
            row.frontier,
        )
        if frontier is not None and holder.frontier == frontier:
            conn.execute(update(CrawlLock).where(CrawlLock.name == name).values(heartbeat_at=now))
            return Acquired(joined=True)
        stale = holder.heartbeat_at < now - timedelta(seconds=stale_after)
        # A distributed crawl outlives its first worker: only its heartbeat tells.
        dead_here = (
            holder.frontier is None
            and holder.host == host
            and holder.pid is not None
            and not pid_alive(holder.pid)
        )
        itself = holder.frontier is None and holder.host == host and holder.pid == pid
        if not (stale or dead_here or itself):
            raise CrawlLocked(locked_message(name, holder), holder)
        conn.execute(update(CrawlLock).where(CrawlLock.name == name).values(run_id=None, **taken))
        return Acquired(previous=holder, interrupted=mark_stale_runs(conn, name))


def _held_by_me(name: str, frontier: str | None) -> list:  # type: ignore[type-arg]
    """The WHERE clause of this process's lock: its own, or its distributed crawl's."""
    if frontier is not None:
        return [CrawlLock.name == name, CrawlLock.frontier == frontier]
    return [
        CrawlLock.name == name,
        CrawlLock.frontier.is_(None),
        CrawlLock.pid == os.getpid(),
        CrawlLock.host == socket.gethostname(),
    ]


def attach_run(engine: Engine, name: str, run_id: int) -> None:
    """Name the run of the process that took the lock (not of the workers that joined it)."""
    with engine.begin() as conn:
        conn.execute(
            update(CrawlLock)
            .where(
                CrawlLock.name == name,
                CrawlLock.pid == os.getpid(),
                CrawlLock.host == socket.gethostname(),
                CrawlLock.run_id.is_(None),
            )
            .values(run_id=run_id)
        )


def heartbeat(engine: Engine, name: str, now: datetime, frontier: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(update(CrawlLock).where(*_held_by_me(name, frontier)).values(heartbeat_at=now))


def release(engine: Engine, name: str, frontier: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(delete(CrawlLock).where(*_held_by_me(name, frontier)))


def release_run(engine: Engine, run_id: int) -> int:
    """Release the lock a run held, whichever process that was (it has ended: its end is known).

    For ``scrapy db replay``, which closes runs whose end was spooled while the database was
    down; the lock would otherwise wait out ``CRAWL_LOCK_STALE_SECONDS``.
    """
    with engine.begin() as conn:
        return conn.execute(delete(CrawlLock).where(CrawlLock.run_id == run_id)).rowcount or 0
