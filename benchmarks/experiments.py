"""A/B measurements behind the recommended changes to tressless_crawler/ (nothing here changes
tressless_crawler/).

``python benchmarks/experiments.py parse SITE_DIR`` times ``parse_study`` as it is and with
candidate fixes patched in at run time, and checks that every page still gives the same item:

* ``clean_text``: ``" ".join(text.split())`` instead of ``\\s+`` substitution plus ``strip()``
  (the same Unicode whitespace set in CPython), the invisible-character regex only when such a
  character is present, and NFC only for non-ASCII text;
* ``lru_cache`` on ``study_id_from_url`` / ``thread_id_from_url`` (pure functions of a string,
  called several times per line of every page);

``python benchmarks/experiments.py store SITE_DIR`` times ``write_studies`` on SQLite with
batches of 100 and 500 and with ``PRAGMA synchronous=NORMAL`` (WAL mode), against the raw
baseline at the same batch size.

``python benchmarks/experiments.py crawl SITE_DIR -s NAME=VALUE ...`` runs the real crawl
alternately with the project's settings and with the given ones (``--rounds`` times each) and
prints pages/s and CPU ms per page of each.
"""

from __future__ import annotations

import argparse
import functools
import re
import statistics
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import common  # noqa: E402
import micro  # noqa: E402

_INVISIBLE = ("\u200b", "\u2060", "\ufeff")
_INVISIBLE_RE = re.compile("[\u200b\u2060\ufeff]")


def clean_text_fast(value: str | None) -> str:
    if not value:
        return ""
    if any(ch in value for ch in _INVISIBLE):
        value = _INVISIBLE_RE.sub("", value)
    text = " ".join(value.split())
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def patch_parser() -> None:
    from tressless_crawler import urls
    from tressless_crawler.parsers import links, text

    text.clean_text = clean_text_fast
    for name in ("study_id_from_url", "thread_id_from_url"):
        cached = functools.lru_cache(maxsize=65536)(getattr(urls, name))
        for module in (urls, links):
            if hasattr(module, name):
                setattr(module, name, cached)


def _as_dicts(items: list[Any]) -> list[Any]:
    from itemadapter import ItemAdapter

    return [ItemAdapter(i).asdict() for i in items]


def parse_experiment(site: Path, limit: int | None) -> None:
    pages = micro.study_pages(site, limit)
    base = micro.parse_benchmark(pages)
    reference = _as_dicts(base.items)
    patch_parser()
    patched = micro.parse_benchmark(pages)
    same = _as_dicts(patched.items) == reference
    print(f"{len(pages)} pages")
    print(
        f"  as is:    parse_study {base.parse_cpu_ms:.3f} CPU ms/page, "
        f"lxml {base.lxml_cpu_ms:.3f}, ratio {base.cpu_ratio:.1f}x"
    )
    print(
        f"  patched:  parse_study {patched.parse_cpu_ms:.3f} CPU ms/page, "
        f"lxml {patched.lxml_cpu_ms:.3f}, "
        f"ratio {patched.cpu_ratio:.1f}x; same items: {same}"
    )
    # Where the remaining time goes, stage by stage (CPU time), as run.py prints it.
    anatomy = micro.parse_anatomy(pages)
    print("  patched parse_study by stage (CPU ms/page):")
    for name, ms in anatomy.stages_ms.items():
        print(f"    {ms:6.3f}  {name}")
    for name, ms in anatomy.floors_ms.items():
        print(f"    {ms:6.3f}  floor: {name}")


def store_experiment(site: Path, limit: int | None) -> None:
    from tressless_crawler.db import engine as engine_module

    pages = micro.study_pages(site, limit)
    studies = micro.normalised_dicts(micro.parse_benchmark(pages).items)
    original = engine_module._sqlite_on_connect

    def normal_sync(dbapi_connection: Any, record: Any) -> None:
        original(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    for batch, synchronous in ((100, "FULL"), (500, "FULL"), (100, "NORMAL"), (500, "NORMAL")):
        micro.BATCH_SIZE = batch
        engine_module._sqlite_on_connect = normal_sync if synchronous == "NORMAL" else original
        with tempfile.TemporaryDirectory() as tmp:
            store_s = micro.time_write_studies(f"sqlite:///{tmp}/store.db", studies)
            raw_s, _ = micro.time_raw_sqlite(Path(tmp) / "raw.db", studies)
        print(
            f"batch {batch:4d}, synchronous={synchronous:6s}: "
            f"write_studies {len(studies) / store_s:7.0f} items/s, "
            f"raw {len(studies) / raw_s:7.0f} items/s, ratio {raw_s / store_s:.2f}"
        )
    engine_module._sqlite_on_connect = original


def crawl_experiment(site: Path, settings: dict[str, str], rounds: int) -> None:
    results: dict[str, list[common.CrawlResult]] = {
        "as is": [],
        "with " + " ".join(f"{k}={v}" for k, v in settings.items()): [],
    }
    with common.serve(site) as server, tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for label, extra in zip(results, ({}, settings), strict=True):
                db = Path(tmp) / f"{n}-{len(results[label])}-{'b' if extra else 'a'}.db"
                result = common.scrapy_crawl(
                    server.url, f"sqlite:///{db}", label=label, workdir=Path(tmp), settings=extra
                )
                if not result.ok:
                    print(result.log_tail)
                results[label].append(result)
                print(
                    f"  {label}: {result.pages_per_s:.0f} pages/s, "
                    f"{result.cpu_ms_per_page:.2f} CPU ms/page, "
                    f"load {common.load_average():.2f}",
                    flush=True,
                )
    for label, runs in results.items():
        rates = [r.pages_per_s for r in runs]
        cpu = [r.cpu_ms_per_page for r in runs]
        print(
            f"{label}: median {statistics.median(rates):.0f} pages/s, "
            f"{statistics.median(cpu):.2f} CPU ms/page"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A/B measurements for recommended changes.")
    parser.add_argument("what", choices=("parse", "store", "crawl"))
    parser.add_argument("site", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if args.what == "parse":
        parse_experiment(args.site, args.limit)
    elif args.what == "store":
        store_experiment(args.site, args.limit)
    else:
        crawl_experiment(args.site, dict(s.split("=", 1) for s in args.settings), args.rounds)


if __name__ == "__main__":
    main()
