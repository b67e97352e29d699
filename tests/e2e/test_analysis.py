"""End to end on a crawled fixture site, both databases: ``scrapy search``, the Parquet export
read back by pyarrow and DuckDB against the JSONL export, ``scrapy export all --format sqlite``
and ``scrapy browse`` serving it over HTTP."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_scrapy, start_scrapy

pytestmark = pytest.mark.e2e

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")
EXPORTS = [["studies"], ["studies", "--history"], ["threads"], ["comments"], ["authors"], ["runs"]]


@pytest.fixture
def crawled(site_server, db_url: str, tmp_path: Path) -> str:
    settings = {
        "SITE_URL": site_server.url,
        "DATABASE_URL": db_url,
        "COMMUNITY_HOSTS": "127.0.0.1",
    }
    result = run_scrapy(["crawl", "studies", "-a", "follow_community=1"], settings, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return db_url


def jsonl(db_url: str, args: list[str], cwd: Path) -> list[dict[str, Any]]:
    result = run_scrapy(["export", *args, "--format", "jsonl"], {"DATABASE_URL": db_url}, cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def as_json_value(value: Any) -> Any:
    """A value read from Parquet as the JSONL export writes it, times compared as instants."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list) and value and isinstance(value[0], tuple):  # a map
        return dict(value)
    if isinstance(value, list):
        return [as_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json_value(v) for k, v in value.items()}
    return value


def times_as_instants(record: dict[str, Any], names: set[str]) -> dict[str, Any]:
    out = dict(record)
    for name in names:
        if out.get(name):
            moment = datetime.fromisoformat(out[name])
            out[name] = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            out[name] = out[name].astimezone(UTC)
    if isinstance(out.get("settings"), dict):
        out["settings"] = json.dumps(out["settings"], ensure_ascii=False, separators=(",", ":"))
    return out


def test_parquet_export_reads_back_as_the_jsonl_export(crawled: str, tmp_path: Path) -> None:
    import duckdb
    import pyarrow.parquet as pq

    from tressless_crawler.analysis.parquet import TIMES

    for args in EXPORTS:
        path = tmp_path / f"{'-'.join(args)}.parquet"
        result = run_scrapy(
            ["export", *args, "--format", "parquet", "-o", str(path)],
            {"DATABASE_URL": crawled},
            tmp_path,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        expected = [times_as_instants(r, TIMES) for r in jsonl(crawled, args, tmp_path)]
        table = pq.read_table(path)
        got = [{k: as_json_value(v) for k, v in row.items()} for row in table.to_pylist()]
        assert got == expected, args
        assert table.num_rows == len(expected) and (args[0] == "runs" or table.num_rows > 0)
        # DuckDB reads the same rows, with the types the columns declare
        ((count,),) = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()
        assert count == len(expected)
    studies = tmp_path / "studies.parquet"
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{studies}')").fetchall()
    schema = {row[0]: row[1] for row in described}
    assert schema["authors"] == "VARCHAR[]"
    assert schema["first_seen"] == "TIMESTAMP WITH TIME ZONE"
    assert schema["cited_total"] == "BIGINT"
    assert schema["community_posts"].startswith("STRUCT(post_id VARCHAR")
    rows = duckdb.sql(
        f"SELECT study_id, authors, len(cited) FROM read_parquet('{studies}') ORDER BY study_id"
    ).fetchall()
    records = jsonl(crawled, ["studies"], tmp_path)
    assert rows == [(r["study_id"], r["authors"], len(r["cited"])) for r in records]


def test_parquet_without_pyarrow_says_how_to_install_it(crawled: str, tmp_path: Path) -> None:
    blocker = tmp_path / "blocked" / "pyarrow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    cmd = [sys.executable, "-m", "scrapy", "export", "studies", "--format", "parquet"]
    cmd += ["-o", str(tmp_path / "s.parquet"), "-s", f"DATABASE_URL={crawled}"]
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": f"{blocker.parent}{os.pathsep}{ROOT}",
    }
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert 'pip install "tressless-crawler[parquet]"' in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_search_command(crawled: str, tmp_path: Path) -> None:
    studies = jsonl(crawled, ["studies"], tmp_path)
    target = max(studies, key=lambda s: len(s["title"]))
    word = max(target["title"].split(), key=len).strip(",.:;()")
    settings = {"DATABASE_URL": crawled}
    result = run_scrapy(["search", word, "--format", "jsonl", "--limit", "50"], settings, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert target["study_id"] in [h["id"] for h in hits]
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert all("[" in h["snippet"] for h in hits)
    assert all(a["score"] >= b["score"] for a, b in zip(hits, hits[1:], strict=False))

    table = run_scrapy(["search", word, "--limit", "3"], settings, tmp_path)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == [
        "#",
        "id",
        "title",
    ]
    assert 1 < len(table.stdout.splitlines()) <= 4

    threads = jsonl(crawled, ["threads"], tmp_path)
    thread = next(t for t in threads if t["source"] == "thread" and t["title"])
    word = max(thread["title"].split(), key=len).strip(",.:;()?!")
    found = run_scrapy(["search", word, "--in", "threads", "--format", "jsonl"], settings, tmp_path)
    assert thread["post_id"] in [json.loads(line)["id"] for line in found.stdout.splitlines()]

    bad = run_scrapy(["search", '"unclosed phrase'], settings, tmp_path)
    assert bad.returncode == 2
    assert problems(bad.stderr) == [
        "Error: bad query: unclosed quote in '\"unclosed phrase': end the phrase with \""
    ]


def problems(stderr: str) -> list[str]:
    """What a command told its user on stderr, without the log lines the tests ask for."""
    return [line for line in stderr.splitlines() if not LOG_LINE.match(line)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def test_sqlite_copy_served_by_scrapy_browse(crawled: str, tmp_path: Path) -> None:
    copy = tmp_path / "corpus.db"
    result = run_scrapy(
        ["export", "all", "--format", "sqlite", "-o", str(copy)],
        {"DATABASE_URL": crawled},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    copy_url = f"sqlite:///{copy}"
    from tressless_crawler.analysis.parquet import TIMES

    for args in (["studies"], ["threads"], ["comments"], ["authors"], ["studies", "--history"]):
        copied = [times_as_instants(r, TIMES) for r in jsonl(copy_url, args, tmp_path)]
        assert copied == [times_as_instants(r, TIMES) for r in jsonl(crawled, args, tmp_path)]
    source_ids = [s["study_id"] for s in jsonl(crawled, ["studies"], tmp_path)]
    assert [s["study_id"] for s in jsonl(copy_url, ["studies"], tmp_path)] == source_ids
    word = "alopecia"
    hits = {}
    for url in (crawled, copy_url):
        out = run_scrapy(
            ["search", word, "--format", "jsonl", "--limit", "500"], {"DATABASE_URL": url}, tmp_path
        )
        assert out.returncode == 0, out.stderr[-2000:]
        hits[url] = sorted(json.loads(line)["id"] for line in out.stdout.splitlines())
    assert hits[crawled] == hits[copy_url] and hits[crawled]

    if crawled.startswith("postgresql"):
        refused = run_scrapy(["browse"], {"DATABASE_URL": crawled}, tmp_path)
        assert refused.returncode == 2
        lines = problems(refused.stderr)
        assert len(lines) == 1 and "export all --format sqlite" in lines[0]

    port = free_port()
    log = tmp_path / "browse.log"
    process = start_scrapy(["browse", str(copy), "--port", str(port)], {}, tmp_path, log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                index = get(f"{base}/")
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert "tressless corpus" in index
        studies = json.loads(get(f"{base}/corpus/studies.json?_shape=array&_size=max"))
        assert sorted(s["study_id"] for s in studies) == sorted(source_ids)
        found = json.loads(get(f"{base}/corpus/studies.json?_search={word}&_shape=array"))
        assert sorted(s["study_id"] for s in found) == hits[crawled]
        facets = json.loads(get(f"{base}/corpus/study_overview.json?_facet=journal"))
        assert facets["facet_results"]["journal"]["results"]
        canned = json.loads(get(f"{base}/corpus/studies_most_threads.json?_shape=array"))
        assert canned and canned[0]["community_count"] >= canned[-1]["community_count"]
        page = get(f"{base}/corpus/threads_of_study?study_id={source_ids[0]}")
        assert "The community threads of a study" in page
    finally:
        process.terminate()
        process.wait(timeout=30)
