"""Re-reading the archive against fetching: ``scrapy reparse`` beside the crawl that archived.

Builds the benchmark site of N study pages (``benchmarks/sitegen.py``), serves it from memory
in its own process (``benchmarks/server.py``), then in R interleaved rounds:

* crawl it into a fresh SQLite database, archive off (the crawl users run by default);
* the same with ``PARSE_WORKERS=0``: the crawl in one process, on one core, as it was when
  the target of 3x was set (the default now parses in a worker on the second core too);
* crawl it into a fresh SQLite database with ``-s ARCHIVE=warc`` (what the archive costs);
* ``scrapy reparse`` that round's archive into a fresh SQLite database, the site stopped
  for the reparse of the last round (no request can succeed).

Prints pages/s, CPU ms/page (all processes of the command, start-up included: the reparse's
forked workers are its children, a fork server's are counted from its
``reparse/worker_cpu_seconds`` stat) and peak RSS of the main process of each; for each reparse
the CPU per page while it ran (main process and workers, start-up excluded) and how many cores
that kept busy on average; and the ratios that matter: reparse / crawl (target >= 3) and archived
crawl / plain crawl. Only ratios within one run mean anything on a shared machine.

Run ``python benchmarks/reparse.py [--pages 3000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import sitegen


def reparse(database_url: str, archive: Path, workdir: Path, label: str) -> common.CrawlResult:
    cmd = [common.PYTHON, "-m", "scrapy", "reparse", "--no-progress"]
    for name, value in {
        "DATABASE_URL": database_url,
        "ARCHIVE_DIR": str(archive),
        "LOG_LEVEL": "INFO",
        "LOG_DUMPS": "1",  # the stats dump at INFO, where the figures are read
    }.items():
        cmd += ["-s", f"{name}={value}"]
    workdir.mkdir(parents=True, exist_ok=True)
    return common.run_command(cmd, label=label, cwd=workdir, env=common.crawl_env())


def pages(result: common.CrawlResult) -> int:
    return int(result.stats.get("reparse/pages") or result.responses)


def figures(result: common.CrawlResult) -> tuple[float, float, float]:
    count = pages(result)
    cpu = result.cpu_s
    if result.stats.get("reparse/start_method") != "fork":
        # workers from a fork server are not the command's children: their CPU is a stat
        cpu += float(result.stats.get("reparse/worker_cpu_seconds") or 0.0)
    return (
        count / result.elapsed if result.elapsed else 0.0,
        cpu / count * 1000 if count else 0.0,
        result.maxrss_kb / 1024,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--pages", type=int, default=3000, help="study pages (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir, removed")
    args = parser.parse_args(argv)
    site = sitegen.build(sitegen.Params(args.pages, sitegen.default_threads(args.pages)))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-reparse-"))
    results: dict[str, list[common.CrawlResult]] = {
        "crawl": [],
        "crawl, 1 process": [],
        "crawl+archive": [],
        "reparse": [],
    }
    try:
        archives = []
        with common.serve(site) as server:
            for n in range(args.rounds):
                for label, extra in (
                    ("crawl", {"LOG_DUMPS": "1"}),
                    # the crawl as it was before the parse worker: one core, as the target
                    # of 3x was first measured against
                    ("crawl, 1 process", {"LOG_DUMPS": "1", "PARSE_WORKERS": "0"}),
                    ("crawl+archive", {"LOG_DUMPS": "1", "ARCHIVE": "warc"}),
                ):
                    round_dir = workdir / f"{label.replace(', ', '-').replace(' ', '-')}-{n}"
                    if "ARCHIVE" in extra:
                        extra = {**extra, "ARCHIVE_DIR": str(round_dir / "archive")}
                        archives.append(round_dir / "archive")
                    result = common.scrapy_crawl(
                        server.url,
                        f"sqlite:///{round_dir / 'crawler.db'}",
                        label=label,
                        workdir=round_dir,
                        settings=extra,
                    )
                    if not result.ok:
                        print(result.log_tail, file=sys.stderr)
                        return 1
                    results[label].append(result)
                if n < args.rounds - 1:
                    results["reparse"].append(reparse_round(workdir, archives[n], n))
                    if results["reparse"][-1] is None:
                        return 1
        # the server is stopped: the last reparse could not fetch anything if it tried
        last = reparse_round(workdir, archives[-1], args.rounds - 1)
        if last is None:
            return 1
        results["reparse"].append(last)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{args.pages} study pages, {args.rounds} interleaved rounds, SQLite")
    print(f"{'':16}{'pages/s':>10}{'CPU ms/page':>13}{'peak RSS MB':>13}{'pages':>8}")
    medians = {}
    for label, runs in results.items():
        rows = [figures(r) for r in runs]
        medians[label] = [statistics.median(col) for col in zip(*rows, strict=True)]
        rate, cpu, rss = medians[label]
        print(f"{label:16}{rate:>10.0f}{cpu:>13.2f}{rss:>13.0f}{pages(runs[0]):>8}")
    per_round = [
        figures(rp)[0] / figures(cr)[0]
        for rp, cr in zip(results["reparse"], results["crawl"], strict=True)
    ]
    per_one_process = [
        figures(rp)[0] / figures(cr)[0]
        for rp, cr in zip(results["reparse"], results["crawl, 1 process"], strict=True)
    ]
    per_archived = [
        figures(rp)[0] / figures(cr)[0]
        for rp, cr in zip(results["reparse"], results["crawl+archive"], strict=True)
    ]
    archive_cost = [
        figures(a)[0] / figures(c)[0]
        for a, c in zip(results["crawl+archive"], results["crawl"], strict=True)
    ]
    busy = []
    for r in results["reparse"]:
        main_cpu = float(r.stats.get("reparse/main_cpu_seconds") or 0.0)
        workers = float(r.stats.get("reparse/worker_cpu_seconds") or 0.0)
        if main_cpu and r.elapsed:
            n = pages(r)
            busy.append(
                f"{(main_cpu + workers) / n * 1000:.2f} ({main_cpu / n * 1000:.2f} main + "
                f"{workers / n * 1000:.2f} workers) on {(main_cpu + workers) / r.elapsed:.2f} cores"
            )
    if busy:
        print("reparse while running, CPU ms/page on cores busy: " + "; ".join(busy))
    print(
        "reparse / crawl pages/s: "
        + ", ".join(f"{r:.2f}x" for r in per_round)
        + f" (target >= 3.0x; median {statistics.median(per_round):.2f}x)"
    )
    print(
        "reparse / crawl in 1 process pages/s: "
        + ", ".join(f"{r:.2f}x" for r in per_one_process)
        + f" (median {statistics.median(per_one_process):.2f}x)"
    )
    print(
        "reparse / archived crawl pages/s: "
        + ", ".join(f"{r:.2f}x" for r in per_archived)
        + f" (median {statistics.median(per_archived):.2f}x)"
    )
    print(
        "archived crawl / crawl pages/s: "
        + ", ".join(f"{r:.2f}x" for r in archive_cost)
        + f" (median {statistics.median(archive_cost):.2f}x)"
    )
    return 0


def reparse_round(workdir: Path, archive: Path, n: int) -> common.CrawlResult | None:
    round_dir = workdir / f"reparse-{n}"
    result = reparse(f"sqlite:///{round_dir / 'crawler.db'}", archive, round_dir, "reparse")
    if not result.ok or result.requests:
        print(result.log_tail, file=sys.stderr)
        return None
    return result


if __name__ == "__main__":
    sys.exit(main())
