"""``scrapy demo`` on a fresh directory: the bundled site served, crawled, summarised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SITE_DIR, run_scrapy

pytestmark = pytest.mark.e2e
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def test_demo_fills_a_database_and_prints_a_summary(tmp_path: Path) -> None:
    result = run_scrapy(["demo", "--port", "0"], {}, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "data" / "demo.db").exists()
    assert list((tmp_path / "data" / "demo-archive").glob("*.warc.gz"))  # the archive is on
    lines = {
        line.split()[0]: line.split()[-1]
        for line in result.stdout.splitlines()
        if line.startswith("  ")
    }
    assert int(lines["studies"]) == len(MANIFEST["expected_study_ids"])
    linked = {p for p, spec in MANIFEST["threads"].items() if spec["linked_from"]}
    assert int(lines["community"]) >= len(linked)
    assert int(lines["comments"]) > 0
    assert "scrapy export studies" in result.stdout
