"""Scrapy's per-page and per-item DEBUG lines are built only where a handler shows them.

Logging is set up as Scrapy's ``configure_logging`` does for a crawl (its loggers at DEBUG,
one root handler at LOG_LEVEL); the e2e security test shows the lines of a DEBUG crawl.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request

from tressless_crawler.cli.logformatter import ShortLogFormatter, debug_shown


@pytest.fixture
def scrapy_logging() -> Iterator[Callable[[int], None]]:
    """Sets up a root handler at a level as Scrapy's; the suite's logging is put back after."""
    scrapy_logger = logging.getLogger("scrapy")
    saved = logging.root.handlers[:], scrapy_logger.level

    def install(level: int) -> None:
        # Called in the test: pytest adds its capture handlers (which keep every record) to
        # the root logger when the test starts, after the fixtures.
        handler = logging.StreamHandler(io.StringIO())
        handler.setLevel(level)
        logging.root.handlers[:] = [handler]
        scrapy_logger.setLevel(logging.DEBUG)

    yield install
    logging.root.handlers[:], level = saved
    scrapy_logger.setLevel(level)


def lines(formatter: ShortLogFormatter) -> tuple[object, object]:
    request = Request("http://127.0.0.1/research/x")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    spider = Spider("studies")
    return (
        formatter.crawled(request, response, spider),
        formatter.scraped({"study_id": "x"}, response, spider),
    )


def test_no_line_is_built_at_info(scrapy_logging: Callable[[int], None]) -> None:
    scrapy_logging(logging.INFO)
    assert not debug_shown("scrapy.core.engine")
    assert lines(ShortLogFormatter()) == (None, None)


def test_the_lines_are_there_at_debug(scrapy_logging: Callable[[int], None]) -> None:
    scrapy_logging(logging.DEBUG)
    crawled, scraped = lines(ShortLogFormatter())
    assert isinstance(crawled, dict) and crawled["level"] == logging.DEBUG
    assert isinstance(scraped, dict) and "Scraped from" in scraped["msg"]


def test_a_handler_of_the_user_s_own_at_debug_gets_them(
    scrapy_logging: Callable[[int], None],
) -> None:
    scrapy_logging(logging.INFO)
    own = logging.NullHandler()  # level NOTSET: takes everything
    logging.getLogger("scrapy").addHandler(own)
    try:
        assert debug_shown("scrapy.core.scraper")
        assert all(line is not None for line in lines(ShortLogFormatter()))
    finally:
        logging.getLogger("scrapy").removeHandler(own)


def test_nothing_is_built_when_scrapy_s_loggers_are_above_debug(
    scrapy_logging: Callable[[int], None],
) -> None:
    scrapy_logging(logging.DEBUG)
    logging.getLogger("scrapy").setLevel(logging.INFO)
    assert lines(ShortLogFormatter()) == (None, None)
