"""How big an export can be: ``scrapy export`` of a large database, rows/s and peak memory.

``python benchmarks/export.py [--studies N] [--threads M] [--postgres] [--database FILE]``
fills a fresh database with N studies and M threads (with their comments) through the
crawler's own store (``write_studies``/``write_threads`` in batches of ``STORE_BATCH_SIZE``),
cloned from the parsed and normalised pages of a generated site (``benchmarks/sitegen.py``),
so every row is a real parser output under a new id. It then runs the real
``scrapy export <what> --format F -o FILE`` for studies, threads, comments and authors in
each format (Parquet included: typed columns written a row group at a time), then, with the
``sqlite`` format, ``scrapy export all --format sqlite`` (the whole corpus copied into a SQLite
file with its views and search index), and prints, per export, the rows, wall time, rows per
second, the file's size and the peak RSS of the export process. Run it at two sizes: an
export that streams keeps the same peak RSS at ten times the rows.

Nothing here is a test: it prints figures. ``--json FILE`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import micro  # noqa: E402
import sitegen  # noqa: E402

WHATS = ("studies", "threads", "comments", "authors")
FORMATS = ("jsonl", "csv", "json", "parquet", "sqlite")
PER_TABLE = ("jsonl", "csv", "json", "parquet")  # sqlite copies everything at once
SOURCE_PAGES = 2000  # distinct parsed pages cloned into the database


def log(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def source_items(site: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Normalised study and thread dicts parsed from the generated site."""
    from tressless_crawler.items import Drop
    from tressless_crawler.parsers.thread_html import parse_thread_html

    studies = micro.normalised_dicts(micro.parse_benchmark(micro.study_pages(site)).items)
    threads = []
    for page in sorted((site / "community").glob("*/index.html")):
        url = f"http://127.0.0.1:8000/{page.parent.relative_to(site).as_posix()}"
        item = parse_thread_html(page.read_bytes(), url)
        if not isinstance(item, Drop):
            threads.append(item)
    return studies, micro.normalised_dicts(threads)


def _rounds(sources: list[dict[str, Any]], n: int) -> Iterator[tuple[dict[str, Any], str]]:
    """``n`` (source, id suffix) pairs: the sources again and again; no suffix the first time."""
    for i in range(n):
        copy = i // len(sources)
        yield sources[i % len(sources)], f"{copy:x}" if copy else ""


def study_clones(studies: list[dict[str, Any]], n: int) -> Iterator[dict[str, Any]]:
    """``n`` studies: the sources again and again, each time under new ids."""
    for source, suffix in _rounds(studies, n):
        if not suffix:
            yield source
            continue
        # Cards point at the same copy of their threads (thread_clones' ids), so that a thread
        # is linked from as many studies as in the source, not from every copy of them.
        cards = [
            card | {"post_id": f"{card['post_id']}{suffix}", "url": f"{card['url']}{suffix}"}
            if card.get("post_id") and card.get("url")
            else card
            for card in source.get("community_posts") or []
        ]
        yield source | {
            "study_id": f"{source['study_id']}{suffix}",
            "url": f"{source['url']}{suffix}",
            "community_posts": cards,
        }


def thread_clones(threads: list[dict[str, Any]], n: int) -> Iterator[dict[str, Any]]:
    """``n`` threads as study_clones makes studies (the same suffix for the same round)."""
    for source, suffix in _rounds(threads, n):
        if not suffix:
            yield source
            continue
        comments = [
            c
            | {
                "comment_id": f"{c['comment_id']}{suffix}" if c.get("comment_id") else None,
                "parent_id": f"{c['parent_id']}{suffix}" if c.get("parent_id") else None,
            }
            for c in source.get("comments") or []
        ]
        yield source | {
            "post_id": f"{source['post_id']}{suffix}",
            "url": f"{source['url']}{suffix}",
            "comments": comments,
        }


def fill(database_url: str, site: Path, n_studies: int, n_threads: int) -> dict[str, float]:
    """The database, filled through the store; returns seconds spent per kind."""
    from tressless_crawler.db.engine import make_engine
    from tressless_crawler.db.runs import utcnow
    from tressless_crawler.db.schema import ensure_schema
    from tressless_crawler.db.study_writes import write_studies
    from tressless_crawler.db.thread_writes import write_threads

    studies, threads = source_items(site)
    engine = make_engine(database_url, immediate=True)
    took: dict[str, float] = {}
    try:
        ensure_schema(engine)
        now = utcnow()
        for kind, clones, write in (
            ("studies", study_clones(studies, n_studies), write_studies),
            ("threads", thread_clones(threads, n_threads), write_threads),
        ):
            started = time.perf_counter()
            batch: list[dict[str, Any]] = []
            done = 0
            for item in clones:
                batch.append(item)
                if len(batch) == micro.BATCH_SIZE:
                    write(engine, batch, None, now)
                    done += len(batch)
                    batch = []
                    if done % 50_000 == 0:
                        log(f"  {done:,} {kind} stored")
            if batch:
                write(engine, batch, None, now)
            took[kind] = time.perf_counter() - started
    finally:
        engine.dispose()
    return took


def export(database_url: str, what: str, fmt: str, workdir: Path) -> dict[str, Any]:
    """The real ``scrapy export`` as a user runs it; its rows, time, file size and peak RSS."""
    out = workdir / f"{what}.{fmt}"
    cmd = [common.PYTHON, "-m", "scrapy", "export", what, "--format", fmt, "-o", str(out)]
    env = common.crawl_env() | {"DATABASE_URL": database_url}
    result = common.run_command(cmd, label=f"export {what} {fmt}", cwd=workdir, env=env)
    if result.returncode != 0:
        raise SystemExit(f"export {what} --format {fmt} failed:\n{result.log_tail}")
    rows = _rows(out, fmt)
    size = out.stat().st_size
    out.unlink()
    return {
        "what": what,
        "format": fmt,
        "rows": rows,
        "seconds": result.wall,
        "rows_per_s": rows / result.wall if result.wall else 0.0,
        "mb": size / 1e6,
        "peak_rss_mb": result.maxrss_kb / 1024,
    }


def _rows(path: Path, fmt: str) -> int:
    """Rows in an export file, counted without loading it."""
    if fmt == "jsonl":
        with path.open("rb") as f:
            return sum(1 for _ in f)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if fmt == "sqlite":  # the copy's studies
        import sqlite3

        with sqlite3.connect(path) as conn:
            return int(conn.execute("SELECT count(*) FROM studies").fetchone()[0])
    if fmt == "csv":
        import csv

        csv.field_size_limit(sys.maxsize)  # an author's study ids can be one long cell
        with path.open(encoding="utf-8", newline="") as f:
            return sum(1 for _ in csv.reader(f)) - 1  # the header
    with path.open("rb") as f:  # json: one record per line between "[" and "]"
        return sum(1 for line in f if line.startswith(b"{"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=None, help="default: studies / 4")
    parser.add_argument("--postgres", action="store_true", help="into PostgreSQL, not SQLite")
    parser.add_argument("--postgres-url", default=common.postgres_admin_url())
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="SQLite file to use: filled and kept if missing, used as it is if present",
    )
    args = parser.parse_args(argv)
    n_threads = args.studies // 4 if args.threads is None else args.threads
    formats = [f for f in args.formats.split(",") if f]

    params = sitegen.Params(SOURCE_PAGES, sitegen.default_threads(SOURCE_PAGES))
    log(f"site of {SOURCE_PAGES} pages to clone from ...")
    site = sitegen.build(params)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        existing = bool(args.database and args.database.exists())
        if args.postgres:
            database: Any = common.postgres_database(args.postgres_url, "bench_export")
        else:
            database = _sqlite(args.database or workdir / "export.db", keep=bool(args.database))
        with database as database_url:
            if existing:
                log(f"using {args.database} as it is")
                filled = {}
            else:
                log(f"storing {args.studies:,} studies and {n_threads:,} threads ...")
                filled = fill(database_url, site, args.studies, n_threads)
            figures: dict[str, Any] = {
                "machine": common.machine_info(database_url if args.postgres else None),
                "backend": "PostgreSQL" if args.postgres else "SQLite",
                "studies": args.studies,
                "threads": n_threads,
                "fill_seconds": filled,
                "exports": [],
            }
            for what in WHATS:
                for fmt in formats:
                    if fmt in PER_TABLE:
                        log(f"scrapy export {what} --format {fmt} ...")
                        figures["exports"].append(export(database_url, what, fmt, workdir))
            if "sqlite" in formats:
                log("scrapy export all --format sqlite ...")
                figures["exports"].append(export(database_url, "all", "sqlite", workdir))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


class _sqlite:
    """A SQLite database file for the benchmark, as a context like postgres_database."""

    def __init__(self, path: Path, keep: bool = False) -> None:
        self.path = path
        self.keep = keep

    def __enter__(self) -> str:
        if not self.keep:
            self.path.unlink(missing_ok=True)
        return f"sqlite:///{self.path}"

    def __exit__(self, *exc: object) -> None:
        if self.keep:
            log(f"database kept: {self.path}")
        else:
            self.path.unlink(missing_ok=True)


def report(figures: dict[str, Any]) -> None:
    machine = figures["machine"]
    lines = [
        "",
        f"scrapy export, {figures['backend']}: {figures['studies']:,} studies, "
        f"{figures['threads']:,} threads ("
        + (
            "stored in " + ", ".join(f"{k} {v:.0f} s" for k, v in figures["fill_seconds"].items())
            if figures["fill_seconds"]
            else "an existing database"
        )
        + ")",
        "; ".join(f"{k}: {v}" for k, v in machine.items()),
        "",
        f"{'export':<22} {'rows':>11} {'seconds':>9} {'rows/s':>9} {'MB':>9} {'peak RSS':>10}",
    ]
    for e in figures["exports"]:
        lines.append(
            f"{e['what'] + ' ' + e['format']:<22} {e['rows']:>11,} {e['seconds']:>9.1f} "
            f"{e['rows_per_s']:>9,.0f} {e['mb']:>9.1f} {e['peak_rss_mb']:>7.0f} MB"
        )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
