"""Where the memory of a crawl goes: peak RSS with the pending requests and live objects over time.

``python benchmarks/memory.py --pages N [--no-store] [--trim] [--gc-every K] [--tracemalloc F]
[--set SETTING=VALUE]``
builds (or reuses) a site of N study pages, serves it and runs ``scrapy crawl studies`` into a
fresh SQLite database with ``benchmarks/memprobe.py`` enabled (``benchmarks/memsettings.py``);
it prints the peak RSS of the crawl process and, every probe, its RSS, the requests waiting in
the scheduler, the dupefilter's fingerprints, the live Requests, the live pymalloc blocks and
what SQLite's allocator holds. Growing RSS with flat blocks points at native memory.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import sitegen  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Memory of a crawl over time.")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument(
        "--trim", action="store_true", help="malloc_trim(0) before each probe: is it glibc?"
    )
    parser.add_argument(
        "--gc-every", type=int, default=0, help="count live objects by type every N probes"
    )
    parser.add_argument(
        "--no-store",
        action="store_true",
        help="without the store pipeline (items are dropped after dedupe): is it the database?",
    )
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="FRAMES",
        help="trace allocations (slow) and print the largest sites left at the end",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="a setting of the crawl (repeat for more), e.g. PARSE_WORKERS=0",
    )
    args = parser.parse_args(argv)
    site = sitegen.build(sitegen.Params(args.pages, sitegen.default_threads(args.pages)))
    env = common.crawl_env()
    env["SCRAPY_SETTINGS_MODULE"] = "memsettings"
    env["PYTHONPATH"] = f"{HERE}:{common.ROOT}"
    settings = {
        **common.LOCAL_CRAWL_SETTINGS,
        "MEMPROBE_INTERVAL": str(args.interval),
        "MEMPROBE_GC_EVERY": str(args.gc_every),
        "MEMPROBE_TRIM": "1" if args.trim else "0",
        "MEMPROBE_TRACEMALLOC": str(args.tracemalloc),
    }
    for item in args.set:
        name, _, value = item.partition("=")
        settings[name.strip()] = value
    spider = "studies"
    if args.no_store:
        from tressless_crawler.settings import ITEM_PIPELINES

        pipelines = {k: v for k, v in ITEM_PIPELINES.items() if not k.endswith("StorePipeline")}
        settings["ITEM_PIPELINES"] = json.dumps(pipelines)
    with common.serve(site) as server, tempfile.TemporaryDirectory() as tmp:
        settings.update(SITE_URL=server.url, DATABASE_URL=f"sqlite:///{tmp}/crawl.db")
        cmd = [common.PYTHON, "-m", "scrapy", "crawl", spider]
        for name, value in settings.items():
            cmd += ["-s", f"{name}={value}"]
        result = common.run_command(cmd, label=spider, cwd=Path(tmp), env=env, keep_log=True)
    probes = [json.loads(m) for m in re.findall(r"MEMPROBE (\{.*\})", result.log)]
    print(
        f"{spider}: {result.responses} pages, {result.pages_per_s:.0f} pages/s, "
        f"exit {result.returncode}, "
        f"peak RSS {result.maxrss_kb / 1024:.0f} MB, "
        f"most requests waiting {max((p['scheduler'] or 0) for p in probes) if probes else 'n/a'}"
    )
    print(
        f"{'t (s)':>7} {'RSS MB':>7} {'pages':>7} {'waiting':>8} {'fingerprints':>12} "
        f"{'live Requests':>14} {'blocks':>9} {'SQLite MB':>9} {'traced MB':>9}"
    )
    for p in probes:
        print(
            f"{p['t']:7.0f} {p['rss_mb']:7.0f} {p['responses']:7d} {p['scheduler'] or 0:8d} "
            f"{p['fingerprints']:12d} {p['live'].get('Request', 0):14d} {p.get('blocks', 0):9d} "
            f"{p.get('sqlite_mb') or '':>9} "
            f"{p.get('traced_mb', ''):>9}"
        )
    counted = [p for p in probes if "gc_top" in p]
    if len(counted) >= 2:
        first, last = counted[0], counted[-1]
        print(
            f"\nobjects on the gc heap: {first['gc_objects']} at {first['t']:.0f} s, "
            f"{last['gc_objects']} at the end; most numerous at the end:"
        )
        for name, n in last["gc_top"].items():
            print(f"  {name:>20} {n:9d} (was {first['gc_top'].get(name, '-')})")
    top = re.search(r"MEMPROBE_TOP [^\n]*\n((?:\s+[\d.]+ MB.*\n?)+)", result.log)
    if top:
        print("\nlargest allocation sites still live at the end (tracemalloc):")
        print(top.group(1).rstrip())
    if result.returncode:
        print(result.log_tail)


if __name__ == "__main__":
    main()
