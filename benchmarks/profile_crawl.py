"""Profile the real ``scrapy crawl studies`` on a generated site and summarise where time goes.

``python benchmarks/profile_crawl.py [--pages 2000] [--tool py-spy|pyinstrument] [--out FILE]``
builds (or reuses) a site, serves it with ``benchmarks/server.py`` in another process and runs
the crawl into a fresh SQLite database under a sampling profiler:

* ``py-spy`` (default): ``py-spy record --threads`` samples every thread of the crawl process
  (the event loop and the store's worker threads); the summary gives the share of samples per
  area of the code (each sample counted once, in the first area that matches, in the order of
  ``AREAS``), the top functions by inclusive and by self time, and the hottest stacks;
* ``pyinstrument``: its own text report of the main thread (the store's threads are missing).

The summary is printed and written to ``--out`` (default
``benchmarks/results/profile-<tool>-<N>.txt``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import sitegen  # noqa: E402

# (area, pattern matched against the frames of a sample, leaf first); first match wins.
AREAS = (
    (
        "parse_study (tressless_crawler.parsers.study)",
        r"\bparse_study \(.*tressless_crawler/parsers/study\.py",
    ),
    (
        "store: write_studies / record_pages (worker thread)",
        r"tressless_crawler/db/(study|thread)_writes\.py"
        r"|tressless_crawler/pipelines/store\.py:\d+\)?$|\bwrite \(.*pipelines/store\.py",
    ),
    (
        "response.text decoding (w3lib/encoding)",
        r"w3lib/encoding\.py|scrapy/http/response/text\.py.*\b(text|_body_inferred_encoding|_declared_encoding)\b",
    ),
    ("sitemap parsing", r"\bparse_sitemap \(|scrapy/utils/sitemap\.py"),
    ("item pipelines (normalize, validate, dedupe)", r"tressless_crawler/pipelines/"),
    ("spider: requests, follow links, signals", r"tressless_crawler/spiders/"),
    ("request fingerprints / dupefilter", r"scrapy/utils/request\.py|dupefilters\.py"),
    (
        "HTTP download (twisted.web client, H11)",
        r"scrapy/core/downloader/handlers|twisted/web/|twisted/protocols/|h11",
    ),
    (
        "downloader middlewares",
        r"scrapy/downloadermiddlewares/|scrapy/core/downloader/middleware\.py",
    ),
    ("spider middlewares", r"scrapy/spidermiddlewares/|scrapy/core/spidermw\.py"),
    (
        "engine / scheduler / scraper",
        r"scrapy/core/(engine|scheduler|scraper)\.py|queuelib|scrapy/pqueues\.py|scrapy/squeues\.py",
    ),
    (
        "stats, logging, signals",
        r"scrapy/statscollectors\.py|logging/|scrapy/utils/signal\.py|pydispatch",
    ),
    ("twisted / asyncio reactor", r"twisted/|asyncio/"),
)

# Leaf frames of threads that wait (py-spy counts some of them as active): left out of the shares.
IDLE_LEAVES = re.compile(
    r"^(Condition\.wait|_worker|Queue\.get|EpollSelector\.select|select|wait"
    r"|_ChannelShutdownManager\._run_safe_shutdown_loop) "  # aiodns' thread, blocked on a queue
    r"\((threading|concurrent/futures/thread|queue|selectors|pycares/__init__)\.py"
)

FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def short(frame: str) -> str:
    match = FRAME_RE.match(frame)
    if not match:
        return frame
    file = match.group("file")
    file = re.sub(r"^.*?/site-packages/", "", file)
    file = re.sub(r"^.*?/lib/python3\.\d+/", "", file)
    file = file.replace("/work/main/", "")
    return f"{match.group('func')} ({file})"


def summarise_raw(raw: str, top: int = 25) -> str:
    """A text summary of py-spy's raw (collapsed stacks) output."""
    stacks: list[tuple[list[str], int]] = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        stacks.append((frames, int(count)))
    idle = sum(count for frames, count in stacks if frames and IDLE_LEAVES.match(short(frames[-1])))
    stacks = [
        (frames, count)
        for frames, count in stacks
        if not (frames and IDLE_LEAVES.match(short(frames[-1])))
    ]
    total = sum(count for _, count in stacks) or 1
    areas: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    by_stack: Counter[str] = Counter()
    compiled = [(name, re.compile(pattern)) for name, pattern in AREAS]
    for frames, count in stacks:
        area = "other"
        for name, pattern in compiled:
            if any(pattern.search(f) for f in frames):
                area = name
                break
        areas[area] += count
        for func in {short(f) for f in frames}:
            inclusive[func] += count
        if frames:
            self_time[short(frames[-1])] += count
            by_stack[" <- ".join(short(f) for f in reversed(frames[-4:]))] += count
    out = [
        f"{total} samples (all threads, on CPU; {idle} more in waiting threads left out)",
        "",
        "Share of samples per area (first match wins):",
    ]
    for name, count in areas.most_common():
        out.append(f"  {count / total:6.1%}  {name}")
    out += ["", f"Top {top} functions, inclusive:"]
    for func, count in inclusive.most_common(top):
        out.append(f"  {count / total:6.1%}  {func}")
    out += ["", f"Top {top} functions, self:"]
    for func, count in self_time.most_common(top):
        out.append(f"  {count / total:6.1%}  {func}")
    out += ["", "Hottest stack tails (leaf <- callers):"]
    for stack, count in by_stack.most_common(15):
        out.append(f"  {count / total:6.1%}  {stack}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Profile a crawl of a generated site.")
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--tool", choices=("py-spy", "pyinstrument"), default="py-spy")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--raw", type=Path, default=None, help="keep py-spy's raw stacks here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="a setting of the crawl (repeat for more)",
    )
    args = parser.parse_args(argv)
    extra = dict(value.split("=", 1) for value in args.set)
    params = sitegen.Params(args.pages, sitegen.default_threads(args.pages))
    site = sitegen.build(params)
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    out = args.out or HERE / "results" / f"profile-{args.tool}-{args.pages}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    raw_file = args.raw or workdir / "pyspy.txt"
    report_file = workdir / "pyinstrument.txt"
    if args.tool == "py-spy":
        tool = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        launcher = [
            tool,
            "record",
            "--threads",
            "--format",
            "raw",
            "--rate",
            str(args.rate),
            "--output",
            str(raw_file),
            "--",
            sys.executable,
            "-m",
        ]
    else:
        launcher = [
            sys.executable,
            "-m",
            "pyinstrument",
            "--show-all",
            "-r",
            "text",
            "-o",
            str(report_file),
            "-m",
        ]
    try:
        with common.serve(site) as server:
            started = time.perf_counter()
            result = common.scrapy_crawl(
                server.url,
                f"sqlite:///{workdir / 'crawl.db'}",
                label="profile",
                workdir=workdir,
                launcher=launcher,
                settings=extra,
            )
            wall = time.perf_counter() - started
        header = (
            f"Profile of `scrapy crawl studies` ({args.tool}), "
            f"{result.responses} pages of a generated "
            f"site ({sitegen.site_info(site)['mean_study_kb']} KB/page), SQLite, "
            f"{result.pages_per_s:.0f} pages/s under the profiler, wall {wall:.0f} s, "
            f"exit {result.returncode}\n"
            f"settings: "
            + ", ".join(f"{k}={v}" for k, v in {**common.LOCAL_CRAWL_SETTINGS, **extra}.items())
            + "\n\n"
        )
        if args.tool == "py-spy":
            body = summarise_raw(raw_file.read_text()) if raw_file.exists() else result.log_tail
        else:
            body = report_file.read_text() if report_file.exists() else result.log_tail
        out.write_text(header + body)
        print(header + body)
        print(f"written to {out}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
