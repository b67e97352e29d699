"""The in-flight ledger: requests a worker took from the shared frontier and has not finished.

scrapy-redis removes a request from Redis when a worker pops it. From then on
the request exists only in that process: if the process dies, the request is
gone, and since its fingerprint stays in the shared duplicate filter no other
worker will ever schedule it again. The ledger closes that gap:

* a pop moves the request from the queue into the worker's ``inflight`` hash in
  one Lua script, so there is no moment when it is in neither place;
* once the request is finished (its follow-up requests are in the queue, its
  items in the store's buffer) the worker moves the entry to its ``processed``
  hash, and deletes it when the batch holding those items has committed;
* every worker refreshes an ``alive`` key with a TTL; a worker whose key has
  expired is dead, and any other worker moves both of its hashes back into the
  queue, under the same fingerprints, so the requests are fetched again.

A field of a hash is ``<ticket>:<score>``: the ticket makes it unique, the score
is the request's place in the priority queue, restored on requeue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from tressless_crawler.distributed.mode import FrontierKeys

logger = logging.getLogger(__name__)

# KEYS: queue, inflight, tickets -> {field, data} or nil
POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
local field = redis.call('INCR', KEYS[3]) .. ':' .. top[2]
redis.call('HSET', KEYS[2], field, top[1])
return {field, top[1]}
"""

# KEYS: inflight, processed; ARGV: fields -> how many moved
MARK_PROCESSED = """
local moved = 0
for _, field in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[1], field)
  if data then
    redis.call('HSET', KEYS[2], field, data)
    redis.call('HDEL', KEYS[1], field)
    moved = moved + 1
  end
end
return moved
"""

# KEYS: queue, inflight, processed, alive, workers; ARGV: worker -> requeued, or -1 if alive
RECLAIM = """
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local requeued = 0
for k = 2, 3 do
  local entries = redis.call('HGETALL', KEYS[k])
  for i = 1, #entries, 2 do
    local score = string.match(entries[i], ':([^:]*)$')
    redis.call('ZADD', KEYS[1], score, entries[i + 1])
    requeued = requeued + 1
  end
  redis.call('DEL', KEYS[k])
end
redis.call('SREM', KEYS[5], ARGV[1])
return requeued
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class InFlightLedger:
    """One worker's view of the ledger of one crawl (see the module docstring)."""

    def __init__(
        self, server: Any, keys: FrontierKeys, queue_key: str, worker: str, ttl: float
    ) -> None:
        self.server = server
        self.keys = keys
        self.queue_key = queue_key
        self.worker = worker
        self.ttl_ms = max(1, int(ttl * 1000))
        self._pop = server.register_script(POP)
        self._mark_processed = server.register_script(MARK_PROCESSED)
        self._reclaim = server.register_script(RECLAIM)

    # --- this worker ----------------------------------------------------------
    def register(self) -> None:
        pipe = self.server.pipeline()
        pipe.set(self.keys.alive(self.worker), "1", px=self.ttl_ms)
        pipe.sadd(self.keys.workers, self.worker)
        pipe.execute()

    def heartbeat(self) -> bool:
        """Refresh this worker's TTL; False if it had expired (its work may have been requeued)."""
        pipe = self.server.pipeline()
        pipe.set(self.keys.alive(self.worker), "1", px=self.ttl_ms, get=True)
        pipe.sadd(self.keys.workers, self.worker)
        previous, _ = pipe.execute()
        return previous is not None

    def pop(self) -> tuple[str, bytes] | None:
        """Take the first request of the queue into this worker's in-flight hash."""
        inflight = self.keys.inflight(self.worker)
        result = self._pop(keys=[self.queue_key, inflight, self.keys.tickets])
        if not result:
            return None
        field, data = result
        return _text(field), data

    def finished(self, fields: Iterable[str], durable: bool) -> None:
        """Requests whose processing ended: dropped when durable, else kept as processed."""
        fields = list(fields)
        if not fields:
            return
        if durable:
            self.server.hdel(self.keys.inflight(self.worker), *fields)
        else:
            keys = [self.keys.inflight(self.worker), self.keys.processed(self.worker)]
            self._mark_processed(keys=keys, args=fields)

    def confirm(self, fields: Iterable[str]) -> None:
        """Processed requests whose items are stored: they leave the ledger."""
        fields = list(fields)
        if fields:
            self.server.hdel(self.keys.processed(self.worker), *fields)

    def unregister(self) -> None:
        """A clean exit: everything this worker took is finished and stored."""
        pipe = self.server.pipeline()
        keys, worker = self.keys, self.worker
        pipe.delete(keys.inflight(worker), keys.processed(worker), keys.alive(worker))
        pipe.srem(self.keys.workers, self.worker)
        pipe.execute()

    # --- the other workers ------------------------------------------------------
    def workers(self) -> list[str]:
        return sorted(_text(w) for w in self.server.smembers(self.keys.workers))

    def reclaim_dead(self) -> dict[str, int]:
        """Requeue the ledgers of workers whose TTL expired; returns worker -> requests requeued."""
        reclaimed: dict[str, int] = {}
        for worker in self.workers():
            if worker == self.worker:
                continue
            count = int(
                self._reclaim(
                    keys=[
                        self.queue_key,
                        self.keys.inflight(worker),
                        self.keys.processed(worker),
                        self.keys.alive(worker),
                        self.keys.workers,
                    ],
                    args=[worker],
                )
            )
            if count >= 0:
                reclaimed[worker] = count
        return reclaimed

    def in_flight_elsewhere(self) -> int:
        """Requests other workers are working on right now."""
        others = [w for w in self.workers() if w != self.worker]
        if not others:
            return 0
        pipe = self.server.pipeline()
        for worker in others:
            pipe.hlen(self.keys.inflight(worker))
        return sum(int(n) for n in pipe.execute())


def frontier_state(server: Any, keys: FrontierKeys, queue_key: str) -> dict[str, int]:
    """What a crawl's frontier holds: queued, in flight, processed, live workers, fingerprints."""
    workers = [_text(w) for w in server.smembers(keys.workers)]
    pipe = server.pipeline()
    pipe.zcard(queue_key)
    pipe.scard(keys.dupefilter)
    for worker in workers:
        pipe.hlen(keys.inflight(worker))
        pipe.hlen(keys.processed(worker))
        pipe.exists(keys.alive(worker))
    results = [int(n) for n in pipe.execute()]
    queued, seen, rest = results[0], results[1], results[2:]
    return {
        "queued": queued,
        "seen": seen,
        "in_flight": sum(rest[0::3]),
        "processed": sum(rest[1::3]),
        "alive_workers": sum(rest[2::3]),
        "workers": len(workers),
    }


def live_workers(server: Any, keys: FrontierKeys) -> int:
    """Workers of the crawl whose heartbeat has not expired."""
    workers = [_text(w) for w in server.smembers(keys.workers)]
    if not workers:
        return 0
    pipe = server.pipeline()
    for worker in workers:
        pipe.exists(keys.alive(worker))
    return sum(int(n) for n in pipe.execute())
