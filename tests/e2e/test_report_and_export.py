"""Crawl report, fill-rate warning, ``scrapy report`` and ``scrapy export`` of a crawled store."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SITE_DIR, run_scrapy
from tressless_crawler.demo.server import SiteServer

pytestmark = pytest.mark.e2e
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
NOT_STUDY = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "not_study"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database filled by two crawls: the fixture site, then the same site without TLDR labels."""
    tmp = tmp_path_factory.mktemp("crawled")
    site = tmp / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    url = f"sqlite:///{tmp / 'crawler.db'}"
    with SiteServer(site) as server:
        first = run_scrapy(["crawl", "studies"], {"SITE_URL": server.url, "DATABASE_URL": url}, tmp)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "Crawl report for 'studies'" in first.stderr
        # A markup change: the TLDR label is renamed on every page.
        for page in (site / "research").glob("*/index.html"):
            page.write_bytes(page.read_bytes().replace(b">TLDR<", b">Key point<"))
        second = run_scrapy(
            ["crawl", "studies", "-a", "full=1"], {"SITE_URL": server.url, "DATABASE_URL": url}, tmp
        )
        assert second.returncode == 0, second.stderr[-2000:]
    (tmp / "second.log").write_text(second.stderr, encoding="utf-8")
    return tmp, url


def test_fill_rate_fall_is_warned(crawled: tuple[Path, str]) -> None:
    tmp, _ = crawled
    log = (tmp / "second.log").read_text(encoding="utf-8")
    assert "Fill rate fell: studies.tldr" in log


def test_a_run_dropping_many_study_pages_is_warned(tmp_path: Path) -> None:
    """Block pages served in place of some studies (here 4 of the site's study pages)."""
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    challenge = (NOT_STUDY / "cloudflare_challenge.html").read_bytes()
    pages = sorted((site / "research").glob("*/index.html"))
    for page in pages[:4]:
        page.write_bytes(challenge)
    url = f"sqlite:///{tmp_path / 'crawler.db'}"
    with SiteServer(site) as server:
        result = run_scrapy(
            ["crawl", "studies"], {"SITE_URL": server.url, "DATABASE_URL": url}, tmp_path
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Study pages dropped: " in result.stderr
    assert "parse/dropped/not_a_study_page" in result.stderr
    report = run_scrapy(["report"], {"DATABASE_URL": url}, tmp_path)
    assert "WARNING: " in report.stdout and "study pages fetched were dropped" in report.stdout


def test_report_command_shows_the_run_beside_the_previous(crawled: tuple[Path, str]) -> None:
    tmp, url = crawled
    result = run_scrapy(["report"], {"DATABASE_URL": url}, tmp)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Crawl run 2 of 'studies': finished" in out
    assert "run 2" in out and "run 1" in out
    assert "WARNING: studies.tldr" in out
    first = run_scrapy(["report", "1"], {"DATABASE_URL": url}, tmp)
    assert "Crawl run 1 of 'studies'" in first.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_export_studies_in_every_format(crawled: tuple[Path, str], fmt: str) -> None:
    tmp, url = crawled
    out = tmp / f"studies.{fmt}"
    result = run_scrapy(
        ["export", "studies", "--format", fmt, "-o", str(out)], {"DATABASE_URL": url}, tmp
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    if fmt == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
    elif fmt == "json":
        records = json.loads(text)
    else:
        records = list(csv.DictReader(io.StringIO(text)))
    assert {r["study_id"] for r in records} == set(MANIFEST["expected_study_ids"])
    by_id = {r["study_id"]: r for r in records}
    spec = MANIFEST["studies"]["ZpoR"]
    assert by_id["ZpoR"]["title"] == spec["title"]
    if fmt == "csv":
        assert by_id["ZpoR"]["authors"].count("; ") == spec["authors"] - 1
        assert json.loads(by_id["ZpoR"]["cited"])[0]["study_id"] == spec["cited"][0]
    else:
        assert len(by_id["ZpoR"]["authors"]) == spec["authors"]
        assert [c["study_id"] for c in by_id["ZpoR"]["cited"]] == spec["cited"]


def test_export_history_runs_authors_and_filters(crawled: tuple[Path, str]) -> None:
    tmp, url = crawled
    hist = run_scrapy(
        ["export", "studies", "--history", "--format", "jsonl"], {"DATABASE_URL": url}, tmp
    )
    versions = [json.loads(line) for line in hist.stdout.splitlines()]
    zpor = [v for v in versions if v["study_id"] == "ZpoR"]
    assert [v["version"] for v in zpor] == [1, 2] and [v["current"] for v in zpor] == [False, True]
    assert zpor[0]["tldr"] and zpor[1]["tldr"] is None  # the TLDR disappeared with the label

    runs = run_scrapy(["export", "runs", "--format", "json"], {"DATABASE_URL": url}, tmp)
    rows = json.loads(runs.stdout)
    assert [r["run_id"] for r in rows] == [1, 2] and rows[0]["items_new"] == len(
        MANIFEST["expected_study_ids"]
    )
    assert "DATABASE_URL" in rows[0]["settings"]
    assert all(r["worker"].startswith(f"{r['host']}:{r['pid']}:") for r in rows)

    authors = run_scrapy(["export", "authors", "--format", "jsonl"], {"DATABASE_URL": url}, tmp)
    names = [json.loads(line)["name"] for line in authors.stdout.splitlines()]
    assert len(names) == len(set(names)) > 0

    only_run_2 = run_scrapy(["export", "studies", "--run", "2"], {"DATABASE_URL": url}, tmp)
    assert len(only_run_2.stdout.splitlines()) == len(MANIFEST["expected_study_ids"])
    nothing = run_scrapy(["export", "studies", "--since", "2999-01-01"], {"DATABASE_URL": url}, tmp)
    assert nothing.stdout == ""
    bad = run_scrapy(["export", "studies", "--since", "yesterday"], {"DATABASE_URL": url}, tmp)
    assert bad.returncode != 0 and "not a date" in bad.stderr + bad.stdout


def test_export_refuses_an_empty_database(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # a file with no schema (a missing file: tests/e2e/test_cli.py)
    result = run_scrapy(
        ["export", "studies"], {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}, tmp_path
    )
    assert result.returncode == 3
    assert "scrapy db upgrade" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("size", [(0, 0), (30, 100)], ids=["unsized-pty", "sized-terminal"])
def test_export_shows_progress_to_a_person_and_not_to_a_pipe(
    crawled: tuple[Path, str], size: tuple[int, int]
) -> None:
    """With stderr on a terminal, a progress bar counts the rows; the file is the same.

    A bare pseudo-terminal reports no size (rows and columns 0), as ``script`` and some
    schedulers' terminals do; the bar must show there too.
    """
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    from tests.conftest import ROOT

    tmp, url = crawled
    n = len(MANIFEST["expected_study_ids"])
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "scrapy", "export", "studies", "-s", f"DATABASE_URL={url}"]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    try:
        proc = subprocess.Popen(
            [*cmd, "-o", str(tmp / "tty.jsonl")], cwd=tmp, env=env, stderr=follower
        )
        os.close(follower)
        screen = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            screen += data
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(leader)
    text = screen.decode("utf-8", "replace")
    assert f"{n} studies [" in text and "studies/s]" in text, text[-2000:]  # tqdm's counter
    assert f"{n} studies written to" in text

    piped = run_scrapy(
        ["export", "studies", "-o", str(tmp / "pipe.jsonl")], {"DATABASE_URL": url}, tmp
    )
    assert (
        piped.returncode == 0 and "studies/s" not in piped.stderr and f"{n} studies" in piped.stderr
    )
    assert (tmp / "tty.jsonl").read_bytes() == (tmp / "pipe.jsonl").read_bytes()
