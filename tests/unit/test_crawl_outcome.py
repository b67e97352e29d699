"""How a crawl's stats and run status become an exit code (tressless_crawler.cli.outcome)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tressless_crawler import exit_codes as errors
from tressless_crawler.cli.outcome import judge_stats

SITE = "http://127.0.0.1:1"
SPIDER = SimpleNamespace(name="studies", single_url=None, settings={})
DONE = {"finish_reason": "finished", "crawl_run/status": "finished", "response_received_count": 5}


@pytest.mark.parametrize(
    ("stats", "code"),
    [
        ({**DONE, "item_scraped_count": 3}, errors.EXIT_OK),
        ({**DONE, "incremental/skipped_lastmod": 40}, errors.EXIT_OK),  # nothing to do
        ({**DONE, "incremental/not_modified": 2}, errors.EXIT_OK),
        (DONE, errors.EXIT_NOTHING_FOUND),
        (
            {**DONE, "response_received_count": 0, "failures/count": 2, "failures/dns": 2},
            errors.EXIT_UNREACHABLE,
        ),
        ({**DONE, "finish_reason": "shutdown", "crawl_run/status": "interrupted"}, 130),
        ({"item_scraped_count": 3}, errors.EXIT_INTERRUPTED),  # killed before closing
        ({**DONE, "crawl_run/status": "finished_with_journal"}, errors.EXIT_SPOOLED),
        ({**DONE, "crawl_run/status": "spooled"}, errors.EXIT_SPOOLED),
        ({**DONE, "item_scraped_count": 9, "store/journaled": 1}, errors.EXIT_SPOOLED),
        ({**DONE, "crawl_run/status": "failed", "finish_reason": "boom"}, errors.EXIT_FAILED),
        ({**DONE, "crawl_run/status": "something_new"}, errors.EXIT_FAILED),
        ({**DONE, "finish_reason": "closespider_errorcount"}, errors.EXIT_FAILED),
    ],
)
def test_exit_code_of_a_crawl(stats: dict, code: int) -> None:
    problem = judge_stats(stats, SPIDER, SITE)
    assert problem.code == code
    assert bool(problem.message) == (code != 0)


def test_the_codes_are_distinct_and_documented() -> None:
    codes = {k: v for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert len(codes) == len(set(codes.values())) == 10
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name, code in codes.items():
        assert f"| {code} |" in page, (name, code)
