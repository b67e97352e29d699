"""Crawl report tables and fill-rate warnings."""

from __future__ import annotations

from tressless_crawler.items import StudyItem
from tressless_crawler.runs.report import (
    dropped_share,
    dropped_share_warnings,
    fill_rate_warnings,
    filled_fields,
    render_report,
)


def stats(items: int, tldr: int, **extra: int) -> dict:
    base = {
        "fill/studies/_items": items,
        "fill/studies/title": items,
        "fill/studies/tldr": tldr,
        "store/new": items,
        "dedupe/dropped/duplicate_study": 1,
        "finish_reason": "finished",
    }
    base.update(extra)
    return base


def test_filled_fields_ignore_empty_values_and_flags() -> None:
    item = StudyItem(study_id="ZpoR", title="T", tldr="", authors=["A"], cited=[])
    assert filled_fields(item) == ["title", "authors"]


def test_sharp_fall_warns() -> None:
    warnings = fill_rate_warnings(stats(100, 10), stats(100, 95))
    assert (
        len(warnings) == 1
        and "studies.tldr" in warnings[0]
        and "95%" in warnings[0]
        and "10%" in warnings[0]
    )


def test_small_changes_and_small_runs_do_not_warn() -> None:
    assert fill_rate_warnings(stats(100, 80), stats(100, 95)) == []
    assert fill_rate_warnings(stats(5, 0), stats(100, 95)) == []  # an incremental run of 5 pages
    assert fill_rate_warnings(stats(100, 10), None) == []


def test_report_shows_both_runs_side_by_side() -> None:
    text = render_report("run 2", stats(10, 9, **{"store/updated": 3}), stats(12, 12), "run 1")
    lines = text.splitlines()
    assert "run 2" in lines[0] and "run 1" in lines[0]
    new = next(line for line in lines if line.startswith("new "))
    assert new.split()[-2:] == ["10", "12"]
    assert any(line.startswith("dropped: dedupe/dropped/duplicate_study") for line in lines)
    assert any(
        line.startswith("fill studies.tldr") and "90%" in line and "100%" in line for line in lines
    )


def test_more_than_five_percent_of_study_pages_dropped_warns() -> None:
    run = {
        "parse/study_pages": 100,
        "parse/studies": 94,
        "parse/dropped/not_a_study_page": 4,
        "validate/dropped/missing_title": 2,
    }
    warnings = dropped_share_warnings(run)
    assert len(warnings) == 1 and "6% of the 100 study pages" in warnings[0]
    assert dropped_share(run) == 0.06
    lines = render_report("run 3", run, None).splitlines()
    assert any(line.startswith("study pages dropped") and "6%" in line for line in lines)


def test_five_percent_or_no_study_pages_do_not_warn() -> None:
    assert dropped_share_warnings({"parse/study_pages": 100, "parse/dropped/empty_page": 5}) == []
    assert dropped_share_warnings({"parse/threads": 10, "parse/dropped/not_a_thread": 9}) == []
    assert dropped_share({"parse/threads": 10}) is None
