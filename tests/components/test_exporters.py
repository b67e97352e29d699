"""Export writers: JSON Lines, JSON and spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
import json

from tressless_crawler.export.writers import csv_cell, write_records

RECORDS = [
    {
        "study_id": "ZpoR",
        "title": '=HYPERLINK("http://x")',
        "authors": ["Trüeb R", "Bı́ró T"],
        "cited": [{"study_id": "AbC1", "title": "X"}],
        "cited_total": 3,
        "flag": True,
        "tldr": None,
    },
    {
        "study_id": "VW69",
        "title": "-5% hair loss",
        "authors": [],
        "cited": [],
        "cited_total": None,
        "flag": False,
        "tldr": "@mention",
    },
]
FIELDS = ["study_id", "title", "authors", "cited", "cited_total", "flag", "tldr"]


def test_jsonl_keeps_nesting_and_unicode() -> None:
    out = io.StringIO()
    assert write_records(iter(RECORDS), out, "jsonl", FIELDS) == 2
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == RECORDS
    assert "Trüeb" in lines[0]  # not \u-escaped


def test_json_is_one_array() -> None:
    out = io.StringIO()
    write_records(iter(RECORDS), out, "json", FIELDS)
    assert json.loads(out.getvalue()) == RECORDS
    empty = io.StringIO()
    write_records(iter([]), empty, "json", FIELDS)
    assert json.loads(empty.getvalue()) == []


def test_csv_is_flat_with_header_and_escapes_formulas() -> None:
    out = io.StringIO()
    write_records(iter(RECORDS), out, "csv", FIELDS)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == FIELDS
    assert rows[1][1].startswith("'=HYPERLINK")
    assert rows[1][2] == "Trüeb R; Bı́ró T"
    assert json.loads(rows[1][3]) == [{"study_id": "AbC1", "title": "X"}]
    assert rows[1][4:6] == ["3", "true"]
    assert rows[2][1] == "'-5% hair loss" and rows[2][6] == "'@mention"


def test_csv_raw_keeps_values() -> None:
    out = io.StringIO()
    write_records(iter(RECORDS), out, "csv", FIELDS, escape_formulas=False)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][1] == '=HYPERLINK("http://x")'


def test_csv_cell_numbers_are_not_escaped() -> None:
    assert csv_cell(-3) == "-3"
    assert csv_cell("+1 upvote") == "'+1 upvote"


def test_json_text_matches_json_and_falls_back_for_what_orjson_refuses() -> None:
    from datetime import UTC, datetime

    from tressless_crawler.export.writers import json_text

    for record in RECORDS:
        assert json_text(record) == json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert json_text({"at": when}) == json.dumps({"at": str(when)}, separators=(",", ":"))
    big = {"n": 2**70, "s": "\ud800"}  # beyond 64 bits; a lone surrogate
    assert json.loads(json_text(big)) == big
    assert json.loads(json_text({1: "a"})) == {"1": "a"}
