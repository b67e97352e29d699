"""Study pages parsed in worker processes (PARSE_WORKERS): the same answers as in the crawl's
own process, also for pages given as text, dropped pages and after a worker dies; workers
forked from the crawl's process (as a crawl starts them) and started as fresh interpreters
(where it cannot fork) alike."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from tressless_crawler import settings as project_settings
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_USAGE
from tressless_crawler.items import Drop
from tressless_crawler.parsers.study import read_study
from tressless_crawler.spiders.parse_worker import ParsePool, usable_cores, workers_for
from tressless_crawler.spiders.studies import StudiesSpider

T = TypeVar("T")
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"
SAVED_FROM_RE = re.compile(rb"<!--\s*saved from url=(?:\(\d+\))?(\S+)\s*-->")


def saved_pages() -> list[tuple[bytes, str]]:
    pages = []
    for path in sorted(PAGES.glob("*.html")):
        body = path.read_bytes()
        match = SAVED_FROM_RE.search(body)
        url = match.group(1).decode() if match else f"https://tressless.com/research/x-{path.stem}"
        pages.append((body, url))
    return pages


def new_pool(size: int, forked: bool) -> ParsePool:
    pool = ParsePool(size)
    if forked:
        assert threading.active_count() == 1, threading.enumerate()  # else it may not fork
        assert pool.fork_workers() and len(pool.workers) == size
    return pool


def scenario(forked: bool, run: Callable[..., T], *args: object) -> T:
    """``run(forked, *args)`` here, or for forked workers in a fresh interpreter: a crawl forks
    its workers before it has a thread, and the test process has threads left by others."""
    if not forked:
        return run(forked, *args)
    with multiprocessing.get_context("spawn").Pool(1) as fresh:
        return fresh.apply(run, (forked, *args))


BOTH = pytest.mark.parametrize("forked", [True, False], ids=["forked", "started"])


def answers_of(forked: bool, requests: list[tuple[str | bytes, str]]) -> list[object]:
    async def run() -> list[object]:
        pool = new_pool(2, forked)
        try:
            return list(await asyncio.gather(*(pool.read_study(p, u) for p, u in requests)))
        finally:
            await pool.close()

    return asyncio.run(run())


@BOTH
def test_workers_answer_as_read_study_does(forked: bool) -> None:
    pages = saved_pages()
    # Bytes as the spider gives a UTF-8 page, text as it gives any other, and a page with no
    # study: a Drop, with its reason.
    requests: list[tuple[str | bytes, str]] = [*pages, (pages[0][0].decode("utf-8"), pages[0][1])]
    requests.append((b"<html><body>nothing</body></html>", "https://tressless.com/research/x-Ab1"))
    answers = scenario(forked, answers_of, requests)
    assert answers == [read_study(page, url) for page, url in requests]
    assert isinstance(answers[-1][0], Drop)  # type: ignore[index]


def after_a_kill(forked: bool) -> tuple[list[object], int | None]:
    pages = saved_pages()

    async def run() -> tuple[list[object], int | None]:
        pool = new_pool(1, forked)
        try:
            first = await pool.read_study(*pages[0])
            process = pool.workers[0].process
            assert process is not None
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            rest = await asyncio.gather(*(pool.read_study(p, u) for p, u in pages[1:]))
            return [first, *rest], process.returncode
        finally:
            await pool.close()

    return asyncio.run(run())


@BOTH
def test_a_dead_worker_costs_no_page(forked: bool) -> None:
    answers, code = scenario(forked, after_a_kill)
    assert code == -signal.SIGKILL
    assert answers == [read_study(page, url) for page, url in saved_pages()]


def exit_codes(forked: bool, pages: int) -> tuple[list[int | None], float]:
    async def run() -> list[int | None]:
        pool = new_pool(2, forked)
        for page, url in saved_pages()[:pages]:
            await pool.read_study(page, url)
        processes = [w.process for w in pool.workers]
        await pool.close()
        return [p.poll() if p is not None else None for p in processes]

    started = time.monotonic()
    codes = asyncio.run(run())
    return codes, time.monotonic() - started


@BOTH
def test_workers_exit_when_closed(forked: bool) -> None:
    codes, _ = scenario(forked, exit_codes, 1)
    assert codes == [0, 0]


def test_forked_workers_exit_when_closed_before_any_page() -> None:
    """A crawl that parses no study page (robots.txt forbids them all, one URL that is no
    study) still ends its forked workers at once."""
    codes, seconds = scenario(True, exit_codes, 0)
    assert codes == [0, 0]
    assert seconds < 5  # not the 10 s a worker gets before it is killed


def crawl_settings(**values: object) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
    return settings


UNPACED = {"AUTOTHROTTLE_ENABLED": "0", "DOWNLOAD_DELAY": "0"}


def test_auto_starts_one_worker_only_for_an_unpaced_crawl_with_a_free_core() -> None:
    one_if_free = 1 if usable_cores() >= 2 else 0
    assert workers_for(crawl_settings(PARSE_WORKERS="auto")) == 0  # the site's polite defaults
    assert workers_for(crawl_settings(PARSE_WORKERS="auto", **UNPACED)) == one_if_free
    paced = {**UNPACED, "AUTOTHROTTLE_ENABLED": "1"}
    assert workers_for(crawl_settings(PARSE_WORKERS="auto", **paced)) == 0
    delayed = {**UNPACED, "DOWNLOAD_DELAY": "0.5"}
    assert workers_for(crawl_settings(PARSE_WORKERS="auto", **delayed)) == 0
    assert workers_for(crawl_settings(**UNPACED, PARSE_WORKERS="AUTO ")) == one_if_free
    assert project_settings.PARSE_WORKERS == "auto"
    assert workers_for(crawl_settings()) == 0  # the default, at the site's polite pace
    assert workers_for(crawl_settings(**UNPACED)) == one_if_free


def test_a_number_of_workers_is_taken_as_it_is() -> None:
    assert workers_for(crawl_settings(PARSE_WORKERS="0", **UNPACED)) == 0
    assert workers_for(crawl_settings(PARSE_WORKERS="2")) == 2
    assert workers_for(crawl_settings(PARSE_WORKERS=3)) == 3


@pytest.mark.parametrize("value", ["lots", "-1", "1.5"])
def test_a_wrong_value_is_one_clear_usage_error(value: str) -> None:
    with pytest.raises(CommandError) as raised:
        workers_for(crawl_settings(PARSE_WORKERS=value))
    assert raised.value.code == EXIT_USAGE
    assert f"PARSE_WORKERS={value!r} is not a number of worker processes" in raised.value.message


def test_a_spider_made_outside_a_crawl_forks_no_worker() -> None:
    """Only a starting crawl forks its workers: a spider made to be looked at (tests, tools)
    would leave them waiting until its process ends."""
    crawler = get_crawler(StudiesSpider, {"SITE_URL": "http://127.0.0.1:8000", "PARSE_WORKERS": 1})
    spider = StudiesSpider.from_crawler(crawler)
    assert spider.parse_pool is not None and spider.parse_pool.workers == []
