"""This crawler beside its peers: same site, same parser, same store, interleaved rounds.

Builds (or reuses) the benchmark site of N study pages (``benchmarks/sitegen.py``), serves it from
memory in its own process (``benchmarks/server.py``) and runs, R times in turn (A B C D A B C D
...), each contender as its own process into a fresh SQLite database:

* ``scrapy bench``: Scrapy's own link-following spider on its own local server (tiny pages);
* ``crawler``: the real ``scrapy crawl studies`` of this project, robots.txt, the guard,
  incremental checks, the item pipelines and the store all on (``--variant NAME:SETTING=VALUE``
  adds a contender: this crawler with other settings; ``--baseline REV`` adds this crawler at
  another git revision, for an A/B of a code change);
* ``crawlee``: Crawlee for Python's ParselCrawler (its default HTTP client, in-memory storage,
  robots.txt respected), this project's ``parse_study`` on the body, batches of
  ``STORE_BATCH_SIZE`` items written by this project's ``write_studies`` off the event loop;
* ``aiohttp``: bare asyncio + aiohttp, robots.txt checked, the same parser and store.

Every contender discovers the studies the same way: robots.txt -> sitemap index -> sitemaps ->
study pages, and the studies they cite or relate that it has not seen yet; all use 32 concurrent
requests. Printed for each: pages/s (responses / wall time of the crawl), CPU ms per page (user +
system of the process), peak RSS, and the ratios to this crawler. Only the ratios within one run
mean anything on a shared machine; rounds are interleaved so that a change of load hits every
contender alike.

Crawlee and aiohttp come from the ``bench`` extra (``pip install -e ".[bench]"``), never from the
main install. Run ``python benchmarks/peers.py [--pages 3000] [--rounds 3] [--only A,B]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import sitegen

CONCURRENCY = 32
BATCH = 500
CONTENDERS = ("scrapy bench", "crawler", "crawlee", "aiohttp")


# --- What every peer does with a page: the project's parser and store -----------------------
class Sink:
    """Parsed studies in batches to this project's store, written in a thread as the crawler
    does."""

    def __init__(self, database_url: str) -> None:
        from tressless_crawler.db.engine import make_engine
        from tressless_crawler.db.schema import ensure_schema

        self.engine = make_engine(database_url, immediate=True)
        ensure_schema(self.engine)
        self.batch: list[dict[str, Any]] = []
        self.responses = 0  # every response, robots.txt and sitemaps too, as Scrapy counts them
        self.pages = 0
        self.studies = 0
        self.writing: asyncio.Task[None] | None = None

    def parse(self, body: bytes, url: str) -> Any:
        from tressless_crawler.items import StudyItem, as_dict
        from tressless_crawler.parsers.study import parse_study

        self.pages += 1
        item = parse_study(body, url)
        if not isinstance(item, StudyItem):
            return None
        self.studies += 1
        self.batch.append(as_dict(item))
        return item

    async def maybe_flush(self, force: bool = False) -> None:
        if len(self.batch) < BATCH and not (force and self.batch):
            return
        from tressless_crawler.db.runs import utcnow
        from tressless_crawler.db.study_writes import write_studies

        batch, self.batch = self.batch, []
        if self.writing is not None:  # one batch at a time, like the store pipeline
            await self.writing
        self.writing = asyncio.ensure_future(
            asyncio.to_thread(write_studies, self.engine, batch, None, utcnow())
        )
        if force:
            await self.writing

    def summary(self, started: float) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "pages": self.responses,
            "parsed": self.pages,
            "studies": self.studies,
            "seconds": time.perf_counter() - started,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }


def sitemap_urls(body: bytes, base: str) -> tuple[list[str], list[str]]:
    """(sitemaps, pages) of a sitemap or sitemap index, read with Scrapy's Sitemap (lxml)."""
    from scrapy.utils.sitemap import Sitemap

    sitemap = Sitemap(body)
    locs = [entry["loc"].replace("{{SITE_URL}}", base) for entry in sitemap if entry.get("loc")]
    return (locs, []) if sitemap.type == "sitemapindex" else ([], locs)


def robots_sitemaps(text: str) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.lower().startswith("sitemap:")
    ]


def linked_studies(item: Any, site: str) -> list[str]:
    """The cited and related studies' URLs on this site (refs are canonical https URLs)."""
    from tressless_crawler.urls import is_study_url, rebase_on_site

    return [
        rebase_on_site(ref.url, site)
        for ref in [*item.cited, *item.related]
        if ref.url and is_study_url(ref.url)
    ]


# --- Crawlee -------------------------------------------------------------------------------------
async def run_crawlee(site: str, database_url: str, http: bool = False) -> dict[str, Any]:
    import logging

    from crawlee import ConcurrencySettings, Request
    from crawlee.crawlers import HttpCrawler, ParselCrawler
    from crawlee.storage_clients import MemoryStorageClient

    from tressless_crawler.urls import is_study_url

    logging.getLogger("crawlee").setLevel(logging.WARNING)
    sink = Sink(database_url)
    seen: set[str] = set()
    cls = HttpCrawler if http else ParselCrawler
    crawler = cls(
        concurrency_settings=ConcurrencySettings(
            min_concurrency=CONCURRENCY,
            max_concurrency=CONCURRENCY,
            desired_concurrency=CONCURRENCY,
        ),
        storage_client=MemoryStorageClient(),
        respect_robots_txt_file=True,
        max_request_retries=3,
        configure_logging=False,
        ignore_http_error_status_codes=[404],
    )

    def new(urls: list[str], label: str) -> list[Request]:
        fresh = [u for u in urls if u not in seen]
        seen.update(fresh)
        return [Request.from_url(u, label=label) for u in fresh]

    @crawler.router.default_handler
    async def handle(context: Any) -> None:
        request = context.request
        response = context.http_response
        body = await response.read()
        sink.responses += 1
        if request.label == "ROBOTS":
            await context.add_requests(new(robots_sitemaps(body.decode()), "SITEMAP"))
        elif request.label == "SITEMAP":
            maps, pages = sitemap_urls(body, site)
            await context.add_requests(new(maps, "SITEMAP") + new(pages, "STUDY"))
        elif response.status_code == 200 and is_study_url(request.url):
            item = sink.parse(body, request.url)
            if item is not None:
                await context.add_requests(new(linked_studies(item, site), "STUDY"))
            await sink.maybe_flush()

    started = time.perf_counter()
    await crawler.run([Request.from_url(f"{site}/robots.txt", label="ROBOTS")])
    await sink.maybe_flush(force=True)
    return sink.summary(started)


# --- bare asyncio + aiohttp ----------------------------------------------------------------------
async def run_aiohttp(site: str, database_url: str) -> dict[str, Any]:
    import urllib.robotparser

    import aiohttp

    from tressless_crawler.urls import is_study_url

    sink = Sink(database_url)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    seen: set[str] = set()
    robots = urllib.robotparser.RobotFileParser()
    agent = "tressless-crawler"

    def add(urls: list[str], label: str) -> None:
        for url in urls:
            if url not in seen:
                seen.add(url)
                queue.put_nowait((url, label))

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            url, label = await queue.get()
            try:
                if label != "ROBOTS" and not robots.can_fetch(agent, url):
                    continue
                for attempt in range(4):
                    try:
                        async with session.get(url) as response:
                            status, body = response.status, await response.read()
                        sink.responses += 1
                        break
                    except aiohttp.ClientError:
                        if attempt == 3:
                            raise
                if label == "ROBOTS":
                    robots.parse(body.decode().splitlines())
                    add(robots_sitemaps(body.decode()), "SITEMAP")
                elif label == "SITEMAP":
                    maps, pages = sitemap_urls(body, site)
                    add(maps, "SITEMAP")
                    add(pages, "STUDY")
                elif status == 200 and is_study_url(url):
                    item = sink.parse(body, url)
                    if item is not None:
                        add(linked_studies(item, site), "STUDY")
                    await sink.maybe_flush()
            finally:
                queue.task_done()

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        add([f"{site}/robots.txt"], "ROBOTS")
        robots_done = asyncio.ensure_future(worker(session))
        await queue.join()  # robots.txt first: the rules apply to everything after it
        robots_done.cancel()
        workers = [asyncio.ensure_future(worker(session)) for _ in range(CONCURRENCY)]
        await queue.join()
        for task in workers:
            task.cancel()
    await sink.maybe_flush(force=True)
    return sink.summary(started)


PEERS: dict[str, Callable[[str, str], Any]] = {
    "crawlee": run_crawlee,
    "crawlee-http": lambda site, db: run_crawlee(site, db, http=True),
    "aiohttp": run_aiohttp,
}


# --- The comparison ------------------------------------------------------------------------------
def run_peer(name: str, site_url: str, workdir: Path) -> common.CrawlResult:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        common.PYTHON,
        str(Path(__file__).resolve()),
        "--as-peer",
        name,
        "--site-url",
        site_url,
        "--database-url",
        f"sqlite:///{workdir / 'peer.db'}",
    ]
    result = common.run_command(cmd, label=name, cwd=workdir, env=common.crawl_env(), keep_log=True)
    figures = {}
    for line in result.log.splitlines():
        if line.startswith("PEER "):
            figures = json.loads(line[5:])
    result.stats = figures
    return result


def measured(result: common.CrawlResult) -> dict[str, float] | None:
    """pages/s, CPU ms/page, peak RSS MB of one run; None if it failed."""
    if result.returncode != 0:
        return None
    if "pages" in result.stats:  # a peer: its own count and crawl time
        pages, seconds = result.stats["pages"], result.stats["seconds"]
    else:  # scrapy: responses over the crawl's elapsed time
        pages, seconds = result.responses, result.elapsed
    if not pages:
        return None
    return {
        "pages": pages,
        "pages_s": pages / seconds,
        "cpu_ms": result.cpu_s / pages * 1000,
        "rss_mb": result.maxrss_kb / 1024,
    }


def baseline_tree(rev: str, workdir: Path) -> Path:
    """The crawler's code at git revision ``rev``, unpacked (for an A/B of two revisions)."""
    import subprocess

    target = workdir / f"baseline-{rev.replace('/', '_')}"
    target.mkdir(parents=True, exist_ok=True)
    for package in ("tressless_crawler", "crawler"):  # the package's name before and after 0.2
        archive = subprocess.run(
            ["git", "-C", str(common.ROOT), "archive", rev, package], capture_output=True
        )
        if archive.returncode == 0:
            break
    else:
        raise SystemExit(f"--baseline {rev}: no crawler package at that revision")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def crawl_baseline(tree: Path, site_url: str, where: Path) -> common.CrawlResult:
    """``scrapy crawl studies`` with the code of ``tree`` (same settings as the crawler's)."""
    cmd = [common.PYTHON, "-m", "scrapy", "crawl", "studies"]
    for name, value in {
        **common.LOCAL_CRAWL_SETTINGS,
        "SITE_URL": site_url,
        "DATABASE_URL": f"sqlite:///{where / 'crawler.db'}",
    }.items():
        cmd += ["-s", f"{name}={value}"]
    where.mkdir(parents=True, exist_ok=True)
    package = "tressless_crawler" if (tree / "tressless_crawler").is_dir() else "crawler"
    env = common.bytecode_env({**common.crawl_env(), "PYTHONPATH": str(tree)}, tree / package)
    env["SCRAPY_SETTINGS_MODULE"] = f"{package}.settings"
    return common.run_command(cmd, label="baseline", cwd=where, env=env)


def parse_variants(values: list[str]) -> dict[str, dict[str, str]]:
    """``NAME:SETTING=VALUE`` (repeat for more settings) -> {NAME: {SETTING: VALUE}}."""
    variants: dict[str, dict[str, str]] = {}
    for value in values:
        name, _, setting = value.partition(":")
        key, _, val = setting.partition("=")
        if not name or not key:
            raise SystemExit(f"--variant {value!r}: use NAME:SETTING=VALUE")
        variants.setdefault(name, {})[key] = val
    return variants


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--pages", type=int, default=3000, help="study pages (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--only", default=",".join(CONTENDERS), help="contenders, comma-separated (default: all)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:SETTING=VALUE",
        help="also this crawler with this setting, as contender NAME (repeat for more settings)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also this crawler at git revision REV (e.g. main), as contender 'baseline'",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir, removed")
    parser.add_argument("--as-peer", help=argparse.SUPPRESS)
    parser.add_argument("--site-url", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.as_peer:  # one peer's crawl, in this process (run by run_peer)
        figures = asyncio.run(PEERS[args.as_peer](args.site_url, args.database_url))
        sys.stderr.write("PEER " + json.dumps(figures) + "\n")
        return 0

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    variants = parse_variants(args.variant)
    names += list(variants)
    if args.baseline:
        names.append("baseline")
    unknown = [n for n in names if n not in (*CONTENDERS, *PEERS, *variants, "baseline")]
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(unknown)}")
    site = sitegen.build(sitegen.Params(args.pages, sitegen.default_threads(args.pages)))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-peers-"))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    try:
        tree = baseline_tree(args.baseline, workdir) if args.baseline else None
        with common.serve(site) as server:
            for n in range(args.rounds):
                for name in names:
                    where = workdir / f"{name.replace(' ', '-')}-{n}"
                    if name == "scrapy bench":
                        result = common.scrapy_bench(
                            where, {"CONCURRENT_REQUESTS": str(CONCURRENCY), "LOG_LEVEL": "INFO"}
                        )
                    elif name == "baseline" and tree is not None:
                        result = crawl_baseline(tree, server.url, where)
                    elif name == "crawler" or name in variants:
                        result = common.scrapy_crawl(
                            server.url,
                            f"sqlite:///{where / 'crawler.db'}",
                            label=name,
                            workdir=where,
                            settings=variants.get(name),
                        )
                    else:
                        result = run_peer(name, server.url, where)
                    figures = measured(result)
                    if figures is None:
                        print(f"{name} failed (round {n + 1}):\n{result.log_tail}", file=sys.stderr)
                        return 1
                    runs[name].append(figures)
                    print(
                        f"round {n + 1} {name:14} {figures['pages_s']:7.0f} pages/s "
                        f"{figures['cpu_ms']:6.2f} CPU ms/page {figures['rss_mb']:5.0f} MB",
                        file=sys.stderr,
                    )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report(args, names, runs)
    if args.json:
        args.json.write_text(json.dumps({"pages": args.pages, "runs": runs}, indent=2) + "\n")
    return 0


def report(args: argparse.Namespace, names: list[str], runs: dict[str, list[dict]]) -> None:
    machine = common.machine_info()
    print(
        f"{args.pages} study pages, {args.rounds} interleaved rounds, {CONCURRENCY} concurrent, "
        f"SQLite; {machine.get('cpu', '')}"
    )
    print(
        f"{'contender':16}{'pages':>7}{'pages/s':>9}{'CPU ms/page':>13}{'peak RSS MB':>13}"
        f"{'x crawler (each round)':>32}"
    )
    base = runs.get("crawler")
    for name in names:
        rows = runs[name]
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        ratios = ""
        if base and name != "crawler":
            each = [r["pages_s"] / b["pages_s"] for r, b in zip(rows, base, strict=True)]
            ratios = ", ".join(f"{x:.2f}" for x in each)
        print(
            f"{name:16}{med['pages']:>7.0f}{med['pages_s']:>9.0f}{med['cpu_ms']:>13.2f}"
            f"{med['rss_mb']:>13.0f}{ratios:>32}"
        )
    if base:
        for peer in ("crawlee", "crawlee-http", "aiohttp"):
            if peer in runs:
                each = [b["pages_s"] / p["pages_s"] for b, p in zip(base, runs[peer], strict=True)]
                cpu = [b["cpu_ms"] / p["cpu_ms"] for b, p in zip(base, runs[peer], strict=True)]
                print(
                    f"crawler / {peer}: pages/s "
                    + ", ".join(f"{x:.2f}x" for x in each)
                    + f" (median {statistics.median(each):.2f}x); CPU/page "
                    + ", ".join(f"{x:.2f}x" for x in cpu)
                )


if __name__ == "__main__":
    sys.exit(main())
