"""In-process benchmarks: parse cost per page, and store throughput against raw DB-API inserts.

* :func:`parse_benchmark` times ``tressless_crawler.parsers.study.parse_study`` on each page's body
(as
  the spider hands over a UTF-8 page: checked, not decoded) against a bare
  ``lxml.html.fromstring`` of the same bytes, page by page, interleaved so that both see the
  same cache state.
* :func:`store_benchmark_sqlite` / :func:`store_benchmark_postgres` time
  ``tressless_crawler.db.study_writes.write_studies`` over batches of ``STORE_BATCH_SIZE``
  normalised item dicts
  (parsed from the benchmark site) into a fresh database, against raw DB-API ``executemany`` of
  the same rows (studies, journals, authors, study_authors, research_links, threads,
  study_threads, prepared before the clock starts, snapshots and hashes included), one
  transaction per batch, into the crawler's own tables made by its migrations (the same keys,
  indexes and foreign keys, the same connection settings): what the store layer costs on top of
  the driver for the same schema. For information, the same raw inserts into plain tables with
  no keys or indexes give the floor of what storing those rows can cost at all.

Run ``python benchmarks/micro.py SITE_DIR [--limit N] [--postgres-url URL]`` on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402
from itemadapter import ItemAdapter  # noqa: E402

from tressless_crawler import settings as crawler_settings  # noqa: E402
from tressless_crawler.db.study_writes import LINK_COLUMNS, thread_key  # noqa: E402
from tressless_crawler.items import Drop  # noqa: E402
from tressless_crawler.parsers.study import parse_study  # noqa: E402

BATCH_SIZE = crawler_settings.STORE_BATCH_SIZE  # as the crawl writes them


def study_pages(site: Path, limit: int | None = None) -> list[tuple[str, bytes]]:
    """(url, body) of the study pages of a generated site, in a stable order."""
    files = sorted((site / "research").glob("*/index.html"))
    if limit:
        step = max(1, len(files) // limit)
        files = files[::step][:limit]
    base = "http://127.0.0.1:8000"
    return [(f"{base}/{f.parent.relative_to(site).as_posix()}", f.read_bytes()) for f in files]


@dataclass
class ParseResult:
    pages: int
    parse_ms: float  # mean wall time per page
    lxml_ms: float
    parse_cpu_ms: float  # mean CPU time per page: what other processes on the machine cannot skew
    lxml_cpu_ms: float
    drops: int
    items: list[Any]

    @property
    def ratio(self) -> float:
        return self.parse_ms / self.lxml_ms if self.lxml_ms else float("inf")

    @property
    def cpu_ratio(self) -> float:
        return self.parse_cpu_ms / self.lxml_cpu_ms if self.lxml_cpu_ms else float("inf")


def parse_benchmark(pages: Sequence[tuple[str, bytes]]) -> ParseResult:
    fromstring = lxml.html.fromstring
    clock = time.perf_counter
    cpu = time.process_time
    t_lxml = t_parse = c_lxml = c_parse = 0.0
    items = []
    drops = 0
    for url, body in pages[:20]:  # warm-up: imports, regex compilation, caches
        fromstring(body)
        parse_study(body, url)
    for url, body in pages:
        c0, t0 = cpu(), clock()
        fromstring(body)
        c1, t1 = cpu(), clock()
        result = parse_study(body, url)  # the body, as the spider hands over a UTF-8 page
        c2, t2 = cpu(), clock()
        t_lxml += t1 - t0
        t_parse += t2 - t1
        c_lxml += c1 - c0
        c_parse += c2 - c1
        if isinstance(result, Drop):
            drops += 1
        else:
            items.append(result)
    n = max(1, len(pages))
    return ParseResult(
        len(pages),
        t_parse / n * 1000,
        t_lxml / n * 1000,
        c_parse / n * 1000,
        c_lxml / n * 1000,
        drops,
        items,
    )


# What the parse figure is made of, and what any reader of the same tree costs at the least.
STAGES = ("bytes", "tree", "lines", "fields")
FLOORS = (
    "lxml",
    "lxml + Python visit of every element",
    "lxml + visible text nodes by XPath",
    "lxml + visible text, hidden elements stripped in C",
)
VISIBLE_TEXT = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
# The elements lxml.etree.strip_elements removes for the last floor: those that show no text.
HIDDEN_TAGS = ("head", "script", "style", "noscript", "template", "svg")


@dataclass
class ParseAnatomy:
    pages: int
    stages_ms: dict[str, float]  # parse_study's own stages, mean CPU ms per page
    floors_ms: dict[str, float]  # FLOORS, mean CPU ms per page


def parse_anatomy(pages: Sequence[tuple[str, bytes]]) -> ParseAnatomy:
    """``parse_study`` stage by stage, beside the least any reader of the same tree costs.

    The stages are the ones ``tressless_crawler.parsers.study._parse`` runs on a page's body (the
    bytes lxml reads: checked, not decoded; the tree; the walk into lines; reading the
    fields off the lines);
    "fields" is the whole of ``parse_study`` minus the other stages of the same page. The
    floors are lxml's parse alone, the parse plus a Python loop that visits every element
    and does nothing, and the two cheapest ways found of getting the page's visible text as
    Python strings: one XPath query returning the text nodes outside ``script``, ``style``
    and ``noscript`` (plain strings, not lxml's "smart" ones that remember their parent), and
    ``strip_elements`` of the elements that show no text followed by ``itertext``, both in C.
    They are what a reader pays before it reads a single field.
    """
    from lxml import etree

    from tressless_crawler.parsers.lines import document_bytes, linearise, parse_root

    visible = etree.XPath(VISIBLE_TEXT, smart_strings=False)
    strip = etree.strip_elements
    iterwalk = etree.iterwalk
    fromstring = lxml.html.fromstring
    cpu = time.process_time

    def measure(url: str, body: bytes, stages: dict[str, float], floors: dict[str, float]) -> None:
        c1 = cpu()
        data = document_bytes(body)
        c2 = cpu()
        root = parse_root(data)
        c3 = cpu()
        linearise(root)
        c4 = cpu()
        parse_study(body, url)
        c5 = cpu()
        fromstring(body)
        c6 = cpu()
        for _ in iterwalk(fromstring(body), events=("start", "end")):
            pass
        c7 = cpu()
        visible(fromstring(body))
        c8 = cpu()
        stripped = fromstring(body)
        strip(stripped, *HIDDEN_TAGS, with_tail=False)
        list(stripped.itertext())
        c9 = cpu()
        stages["bytes"] += c2 - c1
        stages["tree"] += c3 - c2
        stages["lines"] += c4 - c3
        stages["fields"] += (c5 - c4) - (c4 - c1)
        floors[FLOORS[0]] += c6 - c5
        floors[FLOORS[1]] += c7 - c6
        floors[FLOORS[2]] += c8 - c7
        floors[FLOORS[3]] += c9 - c8

    for url, body in pages[:20]:  # warm-up: imports, regex compilation, caches
        measure(url, body, dict.fromkeys(STAGES, 0.0), dict.fromkeys(FLOORS, 0.0))
    stages = dict.fromkeys(STAGES, 0.0)
    floors = dict.fromkeys(FLOORS, 0.0)
    for url, body in pages:
        measure(url, body, stages, floors)
    n = max(1, len(pages))
    return ParseAnatomy(
        len(pages),
        {k: v / n * 1000 for k, v in stages.items()},
        {k: v / n * 1000 for k, v in floors.items()},
    )


def normalised_dicts(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Items as the store pipeline receives them: normalised, then ``ItemAdapter.asdict()``."""
    from tressless_crawler.pipelines.normalize import NormalizePipeline

    normalizer = NormalizePipeline(SimpleNamespace(stats=None))  # type: ignore[arg-type]
    out = []
    for item in items:
        normalizer.process_item(item)
        out.append(ItemAdapter(item).asdict())
    return out


def _batches(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


# --- write_studies ------------------------------------------------------------------------------
def time_write_studies(database_url: str, studies: Sequence[dict[str, Any]]) -> float:
    """Seconds for write_studies over all batches into a fresh database (schema made first)."""
    from tressless_crawler.db.engine import make_engine
    from tressless_crawler.db.runs import utcnow
    from tressless_crawler.db.schema import ensure_schema
    from tressless_crawler.db.study_writes import write_studies

    engine = make_engine(database_url, immediate=True)
    try:
        ensure_schema(engine)
        now = utcnow()
        started = time.perf_counter()
        for batch in _batches(studies, BATCH_SIZE):
            write_studies(engine, batch, None, now)
        return time.perf_counter() - started
    finally:
        engine.dispose()


# --- raw baseline -------------------------------------------------------------------------------
RAW_TABLES: dict[str, tuple[str, ...]] = {
    "journals": ("id", "name"),
    "authors": ("id", "name"),
    "studies": (
        "study_id",
        "url",
        "slug",
        "title",
        "published",
        "journal_id",
        "tldr",
        "summary",
        "image_url",
        "source_url",
        "cited_total",
        "cited_total_is_lower_bound",
        "related_total",
        "related_total_is_lower_bound",
        "community_total",
        "community_total_is_lower_bound",
        "snapshot",
        "content_hash",
        "first_seen",
        "last_seen",
        "changed_at",
        "first_run_id",
        "last_run_id",
    ),
    "study_authors": ("study_id", "position", "author_id"),
    "research_links": LINK_COLUMNS,
    "threads": (
        "id",
        "thread_key",
        "post_id",
        "url",
        "title",
        "category",
        "upvotes",
        "age_text",
        "posted_approx",
        "posted_precision",
        "summary",
        "source",
        "card_seen_at",
        "first_seen",
        "last_seen",
        "changed_at",
        "last_run_id",
        "edited",
        "snapshot",
    ),
    "study_threads": ("study_id", "position", "thread_id", "age_text"),
}


def raw_batches(
    studies: Sequence[dict[str, Any]], now: Any
) -> list[dict[str, list[tuple[Any, ...]]]]:
    """Per batch, table -> rows: every row write_studies writes for these items, ids assigned."""
    journals: dict[str, int] = {}
    authors: dict[str, int] = {}
    threads: dict[str, int] = {}
    out = []
    for batch in _batches(studies, BATCH_SIZE):
        rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in RAW_TABLES}
        for s in batch:
            journal_id = None
            if s.get("journal"):
                if s["journal"] not in journals:
                    journals[s["journal"]] = len(journals) + 1
                    rows["journals"].append((journals[s["journal"]], s["journal"]))
                journal_id = journals[s["journal"]]
            snapshot = json.dumps(s, ensure_ascii=False)
            digest = hashlib.sha256(snapshot.encode()).hexdigest()
            rows["studies"].append(
                (
                    s["study_id"],
                    s["url"],
                    s.get("slug"),
                    s["title"],
                    s.get("published"),
                    journal_id,
                    s.get("tldr"),
                    s.get("summary"),
                    s.get("image_url"),
                    s.get("source_url"),
                    s.get("cited_total"),
                    s.get("cited_total_is_lower_bound", False),
                    s.get("related_total"),
                    s.get("related_total_is_lower_bound", False),
                    s.get("community_total"),
                    s.get("community_total_is_lower_bound", False),
                    snapshot,
                    digest,
                    now,
                    now,
                    now,
                    None,
                    None,
                )
            )
            for pos, name in enumerate(s.get("authors") or []):
                if name not in authors:
                    authors[name] = len(authors) + 1
                    rows["authors"].append((authors[name], name))
                rows["study_authors"].append((s["study_id"], pos, authors[name]))
            for kind in ("cited", "related"):
                for pos, ref in enumerate(s.get(kind) or []):
                    rows["research_links"].append(
                        (
                            s["study_id"],
                            kind,
                            pos,
                            ref.get("study_id"),
                            ref.get("url"),
                            ref.get("title"),
                            ref.get("citations"),
                            ref.get("published"),
                            ref.get("journal"),
                            ref.get("tldr"),
                        )
                    )
            for pos, card in enumerate(s.get("community_posts") or []):
                key = thread_key(card.get("post_id"), card.get("url"), card.get("title"))
                if key is None:
                    continue
                if key not in threads:
                    threads[key] = len(threads) + 1
                    rows["threads"].append(
                        (
                            threads[key],
                            key,
                            card.get("post_id"),
                            card.get("url"),
                            card.get("title"),
                            card.get("category"),
                            card.get("upvotes"),
                            card.get("age"),
                            card.get("posted_approx"),
                            card.get("posted_precision"),
                            card.get("summary"),
                            "card",
                            now,
                            now,
                            now,
                            now,
                            None,
                            False,
                            "{}",
                        )
                    )
                rows["study_threads"].append((s["study_id"], pos, threads[key], card.get("age")))
        out.append(rows)
    return out


def _row_count(batches: Iterable[dict[str, list[tuple[Any, ...]]]]) -> int:
    return sum(len(rows) for batch in batches for rows in batch.values())


def time_raw_sqlite(
    path: Path, studies: Sequence[dict[str, Any]], *, schema: str = "crawler"
) -> tuple[float, int]:
    """Seconds for raw ``executemany`` of the rows, one transaction per batch.

    ``schema="crawler"`` inserts into the crawler's own tables (made by its migrations: the same
    keys, indexes and foreign keys, the same pragmas as its engine); ``"plain"`` into tables with
    the same columns and no keys or indexes at all.
    """
    import sqlite3

    from tressless_crawler.db.runs import utcnow

    batches = raw_batches(studies, utcnow().isoformat())
    prefix = ""
    if schema == "crawler":
        _make_crawler_schema(f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # as the crawler's engine does
        if schema == "crawler":
            conn.execute("PRAGMA foreign_keys=ON")
        else:
            prefix = "raw_"
            for table, columns in RAW_TABLES.items():
                conn.execute(f"CREATE TABLE raw_{table} ({', '.join(columns)})")
        inserts = {
            t: f"INSERT INTO {prefix}{t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
            for t, c in RAW_TABLES.items()
        }
        started = time.perf_counter()
        for batch in batches:
            conn.execute("BEGIN IMMEDIATE")
            for table, rows in batch.items():
                if rows:
                    conn.executemany(inserts[table], rows)
            conn.execute("COMMIT")
        return time.perf_counter() - started, _row_count(batches)
    finally:
        conn.close()


def _make_crawler_schema(database_url: str) -> None:
    from tressless_crawler.db.engine import make_engine
    from tressless_crawler.db.schema import ensure_schema

    engine = make_engine(database_url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()


def time_raw_postgres(
    database_url: str, studies: Sequence[dict[str, Any]], *, schema: str = "crawler"
) -> tuple[float, int]:
    """As :func:`time_raw_sqlite`, with psycopg into a fresh PostgreSQL database."""
    import psycopg
    from sqlalchemy.engine import make_url

    from tressless_crawler.db.runs import utcnow

    url = make_url(database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    types = {
        "id": "integer",
        "position": "integer",
        "journal_id": "integer",
        "author_id": "integer",
        "thread_id": "integer",
        "citations": "integer",
        "upvotes": "integer",
        "cited_total": "integer",
        "related_total": "integer",
        "community_total": "integer",
        "first_run_id": "integer",
        "last_run_id": "integer",
        "snapshot": "jsonb",
        "first_seen": "timestamp",
        "last_seen": "timestamp",
        "changed_at": "timestamp",
        "card_seen_at": "timestamp",
        "cited_total_is_lower_bound": "boolean",
        "related_total_is_lower_bound": "boolean",
        "community_total_is_lower_bound": "boolean",
    }
    batches = raw_batches(studies, utcnow())
    prefix = "raw_" if schema == "plain" else ""
    if schema == "crawler":
        _make_crawler_schema(database_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if schema == "plain":
            for table, columns in RAW_TABLES.items():
                cols = ", ".join(f"{c} {types.get(c, 'text')}" for c in columns)
                conn.execute(f"CREATE TABLE raw_{table} ({cols})")
        inserts = {
            t: f"INSERT INTO {prefix}{t} ({', '.join(c)}) VALUES ({', '.join(['%s'] * len(c))})"
            for t, c in RAW_TABLES.items()
        }
        started = time.perf_counter()
        for batch in batches:
            with conn.transaction(), conn.cursor() as cur:
                for table, rows in batch.items():
                    if rows:
                        cur.executemany(inserts[table], rows)
        return time.perf_counter() - started, _row_count(batches)


@dataclass
class StoreResult:
    backend: str
    items: int
    store_s: float
    raw_s: float
    raw_rows: int
    plain_s: float = 0.0  # raw executemany into plain tables: no keys, indexes or constraints

    @property
    def store_rate(self) -> float:
        return self.items / self.store_s if self.store_s else 0.0

    @property
    def raw_rate(self) -> float:
        return self.items / self.raw_s if self.raw_s else 0.0

    @property
    def ratio(self) -> float:
        return self.store_rate / self.raw_rate if self.raw_rate else 0.0

    @property
    def plain_rate(self) -> float:
        return self.items / self.plain_s if self.plain_s else 0.0

    @property
    def plain_ratio(self) -> float:
        return self.store_rate / self.plain_rate if self.plain_rate else 0.0


def store_benchmark_sqlite(workdir: Path, studies: Sequence[dict[str, Any]]) -> StoreResult:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("store.db", "raw.db", "plain.db"):
        for suffix in ("", "-wal", "-shm"):
            (workdir / f"{name}{suffix}").unlink(missing_ok=True)
    store_s = time_write_studies(f"sqlite:///{workdir / 'store.db'}", studies)
    raw_s, rows = time_raw_sqlite(workdir / "raw.db", studies)
    plain_s, _ = time_raw_sqlite(workdir / "plain.db", studies, schema="plain")
    return StoreResult("SQLite", len(studies), store_s, raw_s, rows, plain_s)


def store_benchmark_postgres(
    admin_url: str, studies: Sequence[dict[str, Any]], tag: str
) -> StoreResult:
    from common import postgres_database

    with postgres_database(admin_url, f"bench_store_{tag}") as url:
        store_s = time_write_studies(url, studies)
    with postgres_database(admin_url, f"bench_raw_{tag}") as url:
        raw_s, rows = time_raw_postgres(url, studies)
    with postgres_database(admin_url, f"bench_plain_{tag}") as url:
        plain_s, _ = time_raw_postgres(url, studies, schema="plain")
    return StoreResult("PostgreSQL", len(studies), store_s, raw_s, rows, plain_s)


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(description="Parse and store micro-benchmarks.")
    parser.add_argument("site", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="at most N pages")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-micro"))
    args = parser.parse_args(argv)
    pages = study_pages(args.site, args.limit)
    result = parse_benchmark(pages)
    print(
        f"parse: {result.pages} pages, parse_study {result.parse_ms:.3f} ms/page, "
        f"lxml.html.fromstring {result.lxml_ms:.3f} ms/page, ratio {result.ratio:.2f}x, "
        f"drops {result.drops}"
    )
    studies = normalised_dicts(result.items)
    sq = store_benchmark_sqlite(args.workdir, studies)
    print(
        f"store SQLite: write_studies {sq.store_rate:.0f} items/s, raw {sq.raw_rate:.0f} items/s "
        f"({sq.raw_rows} rows), ratio {sq.ratio:.2f}; raw into plain tables "
        f"{sq.plain_rate:.0f} items/s, ratio {sq.plain_ratio:.2f}"
    )
    if args.postgres_url:
        pg = store_benchmark_postgres(args.postgres_url, studies, "micro")
        print(
            f"store PostgreSQL: write_studies {pg.store_rate:.0f} items/s, "
            f"raw {pg.raw_rate:.0f} items/s ({pg.raw_rows} rows), ratio {pg.ratio:.2f}; "
            f"raw into plain tables {pg.plain_rate:.0f} items/s, ratio {pg.plain_ratio:.2f}"
        )


if __name__ == "__main__":
    main()
