"""The studies a crawl has requested or skipped as unchanged: what the end-of-crawl sweep skips.

In one process this is a set. On a shared frontier the crawl is spread over
several workers, so each worker also adds its ids to one Redis set of the
crawl (``<crawl>:studies:touched``); the worker that sweeps at the end asks
that set which known studies nobody touched. Ids are sent in batches: a worker
sends what it holds before any of its requests leaves its in-flight ledger
(``tressless_crawler.signals.requests_settling``), so once the frontier is idle every
worker's ids are in Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from tressless_crawler.distributed.mode import FrontierKeys

logger = logging.getLogger(__name__)

CHECK_CHUNK = 5000  # ids asked about per SMISMEMBER
SWEEP_CLAIM_TTL = 30  # seconds a sweep's claim lives unless its worker renews it
RENEW_EVERY = 500  # requests queued by the sweep between renewals of its claim


class Touched:
    """Study ids touched by this crawl: this process's, and with ``server`` every worker's."""

    def __init__(self, server: Any | None = None, keys: FrontierKeys | None = None) -> None:
        self.local: set[str] = set()
        self.pending: list[str] = []
        self.server = server
        self.key = keys.touched if keys else ""
        self.claim_key = keys.sweep if keys else ""

    @property
    def shared(self) -> bool:
        return self.server is not None

    def add(self, study_id: str) -> None:
        if study_id not in self.local:
            self.local.add(study_id)
            if self.server is not None:
                self.pending.append(study_id)

    def __contains__(self, study_id: object) -> bool:
        """Touched by this process (other workers' requests are the duplicate filter's)."""
        return study_id in self.local

    def __len__(self) -> int:
        return len(self.local)

    def flush(self) -> None:
        """Send the ids not yet in the shared set."""
        if self.server is None or not self.pending:
            return
        batch = self.pending
        self.pending = []
        try:
            self.server.sadd(self.key, *batch)
        except Exception:
            self.pending = batch + self.pending  # kept for the next try
            raise

    def untouched(self, study_ids: Iterable[str]) -> list[str]:
        """Those of ``study_ids`` that no process of this crawl has touched, in order."""
        candidates = [sid for sid in study_ids if sid not in self.local]
        if self.server is None or not candidates:
            return candidates
        self.flush()
        left: list[str] = []
        for start in range(0, len(candidates), CHECK_CHUNK):
            chunk = candidates[start : start + CHECK_CHUNK]
            seen = self.server.smismember(self.key, chunk)
            left.extend(sid for sid, hit in zip(chunk, seen, strict=True) if not hit)
        return left

    def untouched_if_known(self, study_ids: list[str]) -> list[str]:
        """:meth:`untouched`, or all of ``study_ids`` when Redis cannot be asked: at worst a
        page fetched twice, never one left out."""
        from redis.exceptions import RedisError  # only on a shared frontier: redis is loaded

        try:
            return self.untouched(study_ids)
        except RedisError as exc:
            logger.debug("Could not ask which studies other workers touched: %s", exc)
            return list(study_ids)

    # The sweep's claim expires unless renewed, so that a worker dying in the middle of a
    # sweep leaves it to the next one (requests it had queued are in the duplicate filter).
    def claim_sweep(self, worker: str) -> bool:
        """True for one worker of the crawl at a time: the one that sweeps now."""
        if self.server is None:
            return True
        return bool(self.server.set(self.claim_key, worker, nx=True, ex=SWEEP_CLAIM_TTL))

    def renew_sweep(self) -> None:
        if self.server is not None:
            self.server.expire(self.claim_key, SWEEP_CLAIM_TTL)

    def finish_sweep(self) -> None:
        """The sweep is queued: the claim stays for the rest of the crawl."""
        if self.server is not None:
            self.server.persist(self.claim_key)

    def sweep_done(self) -> bool:
        """True once a worker has queued the whole sweep (its claim no longer expires)."""
        return self.server is not None and self.server.ttl(self.claim_key) == -1
