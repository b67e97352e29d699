"""Ids of author and (academic) journal names, inserted once, remembered by the writing process.

A name's id never changes once stored (names are never deleted or renamed), so a writer can
keep the ids it has seen and skip the database for them; several processes writing one
database stay correct because a name is only ever inserted with ON CONFLICT DO NOTHING.
Ids learnt inside a transaction become known only when it commits (:meth:`NameIds.commit`):
a rolled-back batch must not leave ids of rows that were never stored.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, select

from tressless_crawler.db.models import Author, Journal
from tressless_crawler.db.sql import chunks, dialect_insert

NameModel = type[Journal] | type[Author]

# Per model; a bounded cache so that a long crawl's memory does not grow with its authors.
CACHE_SIZE = 20_000


class NameIds:
    """The name -> id cache of one engine, with the ids of the open transaction on the side."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.known: dict[NameModel, OrderedDict[str, int]] = {}
        self.pending: dict[NameModel, dict[str, int]] = {}

    def ids(self, conn: Connection, model: NameModel, names: Iterable[str]) -> dict[str, int]:
        """Ids of distinct names, inserting only the ones not stored yet.

        New names come back from the insert itself (RETURNING); a name that another process
        inserted in the meantime (a conflict, so not returned) costs one more select.
        """
        known = self.known.setdefault(model, OrderedDict())
        ids: dict[str, int] = {}
        unknown: list[str] = []
        for name in sorted(set(names)):
            id_ = known.get(name)
            if id_ is None:
                unknown.append(name)
            else:
                ids[name] = id_
        if unknown:
            found = _select_ids(conn, model, unknown)
            missing = [name for name in unknown if name not in found]
            if missing:
                stmt = (
                    dialect_insert(conn, model)
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(model.name, model.id)
                )
                found.update(conn.execute(stmt, [{"name": name} for name in missing]).all())
                raced = [name for name in missing if name not in found]
                if raced:
                    found.update(_select_ids(conn, model, raced))
            ids.update(found)
            self.pending.setdefault(model, {}).update(found)
        return ids

    def commit(self) -> None:
        """The transaction committed: its ids are now safe to reuse."""
        for model, found in self.pending.items():
            known = self.known.setdefault(model, OrderedDict())
            known.update(found)
            while len(known) > self.size:
                known.popitem(last=False)
        self.pending.clear()

    def rollback(self) -> None:
        self.pending.clear()


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, NameIds] = weakref.WeakKeyDictionary()


def name_ids_for(engine: Engine) -> NameIds:
    """The cache of ``engine`` (one per engine, dropped with it)."""
    cache = _BY_ENGINE.get(engine)
    if cache is None:
        cache = _BY_ENGINE[engine] = NameIds()
    return cache


def _select_ids(conn: Connection, model: NameModel, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in chunks(names):
        ids.update(conn.execute(select(model.name, model.id).where(model.name.in_(chunk))).all())
    return ids
