"""WARC archive and ``scrapy reparse``: a crawl of the fixture site with the archive on,
the database deleted and the site stopped, then the archive parsed again into the same
exports without a single request."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import SITE_DIR, run_scrapy, start_scrapy
from tressless_crawler.archive.reader import archive_files, index_file, read_records
from tressless_crawler.archive.writer import index_path
from tressless_crawler.demo.server import SiteServer
from tressless_crawler.export.queries import STUDY_META

pytestmark = pytest.mark.e2e
EXPORTS = ("studies", "threads", "comments", "authors")
BOOKKEEPING = {*STUDY_META, "run_id", "recorded_at"}  # when and by which run, not what
STATS = {"LOG_LEVEL": "DEBUG"}  # Scrapy's stats dump is logged at DEBUG


def export(what: str, url: str, cwd: Path) -> list[dict]:
    out = cwd / f"{what}.jsonl"
    result = run_scrapy(
        ["export", what, "--format", "jsonl", "-o", str(out)], {"DATABASE_URL": url}, cwd
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in r.items() if k not in BOOKKEEPING} for r in records]


def final_stats(log: str) -> str:
    return log[log.rindex("Dumping Scrapy stats") :]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The fixture site crawled (studies and their community threads) with the archive on."""
    tmp = tmp_path_factory.mktemp("archived")
    db = tmp / "crawler.db"
    archive = tmp / "archive"
    with SiteServer(SITE_DIR) as server:
        result = run_scrapy(
            ["crawl", "studies", "-a", "follow_community=1"],
            {
                "SITE_URL": server.url,
                "COMMUNITY_HOSTS": "127.0.0.1",
                "DATABASE_URL": f"sqlite:///{db}",
                "ARCHIVE": "warc",
                # study pages parsed in a worker: stored in another order than the reparse's
                "PARSE_WORKERS": "1",
                "ARCHIVE_DIR": str(archive),
                **STATS,
            },
            tmp,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    exports = {what: export(what, f"sqlite:///{db}", tmp) for what in EXPORTS}
    with sqlite3.connect(db) as conn:
        pages = dict(conn.execute("SELECT url, warc_record_id FROM pages").fetchall())
    return {
        "tmp": tmp,
        "db": db,
        "archive": archive,
        "exports": exports,
        "pages": pages,
        "log": result.stderr,
    }


def test_every_response_is_archived_with_its_request(crawled: dict) -> None:
    files = archive_files(crawled["archive"])
    assert files, "no WARC file written"
    responses, requests = {}, {}
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                rec_id = record.rec_headers.get_header("WARC-Record-ID")
                if record.rec_type == "response":
                    responses[rec_id] = record.rec_headers.get_header("WARC-Target-URI")
                elif record.rec_type == "request":
                    requests[record.rec_headers.get_header("WARC-Concurrent-To")] = rec_id
    stats = final_stats(crawled["log"])
    received = int(re.search(r"'response_received_count': (\d+)", stats).group(1))
    assert len(responses) == received  # robots.txt, sitemaps, 404s and all
    assert set(requests) == set(responses)
    assert any(url.endswith("/robots.txt") for url in responses.values())
    # every pages row names the archived response its content came from
    assert crawled["pages"] and all(rid in responses for rid in crawled["pages"].values())


def test_reparse_rebuilds_the_database_from_the_archive_alone(crawled: dict) -> None:
    tmp, db = crawled["tmp"], crawled["db"]
    db.unlink()  # and the site is not served: a single request would fail
    url = f"sqlite:///{db}"
    settings = {"DATABASE_URL": url, "ARCHIVE_DIR": str(crawled["archive"]), **STATS}
    result = run_scrapy(["reparse"], settings, tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = final_stats(result.stderr)
    assert "downloader/request_count" not in stats and "response_received_count" not in stats
    for what in EXPORTS:
        assert export(what, url, tmp) == crawled["exports"][what], what
    with sqlite3.connect(db) as conn:
        pages = dict(conn.execute("SELECT url, warc_record_id FROM pages").fetchall())
        runs = conn.execute("SELECT spider, status FROM crawl_runs").fetchall()
    assert pages == crawled["pages"]
    assert runs == [("reparse", "finished")]

    # again over the same database: nothing changed, so no study gets a new version
    again = run_scrapy(["reparse", "--spider", "studies"], settings, tmp)
    assert again.returncode == 0, again.stderr[-3000:]
    stats = final_stats(again.stderr)
    studies = len(crawled["exports"]["studies"])
    assert f"'store/studies/unchanged': {studies}" in stats
    assert "store/studies/changed" not in stats and "parse/threads" not in stats
    assert export("studies", url, tmp) == crawled["exports"]["studies"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM history").fetchone() == (0,)


def test_reparse_rebuilds_a_postgresql_database(postgres_url: str, tmp_path: Path) -> None:
    settings = {
        "DATABASE_URL": postgres_url,
        "ARCHIVE": "warc",
        "ARCHIVE_DIR": str(tmp_path),
        **STATS,
    }
    with SiteServer(SITE_DIR) as server:
        crawl = run_scrapy(["crawl", "studies"], {**settings, "SITE_URL": server.url}, tmp_path)
        assert crawl.returncode == 0, crawl.stderr[-3000:]
    before = {what: export(what, postgres_url, tmp_path) for what in EXPORTS}
    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # the database deleted: an empty schema
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    result = run_scrapy(["reparse", "--workers", "1"], settings, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "downloader/request_count" not in final_stats(result.stderr)
    for what in EXPORTS:
        assert export(what, postgres_url, tmp_path) == before[what], what


def test_reparse_options_and_errors(crawled: dict, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    settings = {"DATABASE_URL": url, "ARCHIVE_DIR": str(crawled["archive"]), **STATS}
    future = run_scrapy(["reparse", "--since", "2999-01-01"], settings, tmp_path)
    assert future.returncode == 0, future.stderr[-3000:]
    assert "'reparse/chosen': 0" in future.stderr
    community = run_scrapy(["reparse", "--spider", "community"], settings, tmp_path)
    assert community.returncode == 0, community.stderr[-3000:]
    assert "parse/studies" not in final_stats(community.stderr)
    assert len(export("threads", url, tmp_path)) == len(crawled["exports"]["threads"])
    settings = {"DATABASE_URL": url, "ARCHIVE_DIR": str(crawled["archive"])}  # no DEBUG traces
    bad = run_scrapy(["reparse", "--since", "yesterday"], settings, tmp_path)
    assert bad.returncode == 2 and "--since 'yesterday' is not a date" in bad.stderr
    empty = run_scrapy(["reparse"], {**settings, "ARCHIVE_DIR": str(tmp_path / "none")}, tmp_path)
    assert empty.returncode == 2 and "no WARC files under" in empty.stderr
    assert "Traceback" not in bad.stderr + empty.stderr


def test_a_record_damaged_after_the_crawl_costs_that_page_only(
    crawled: dict, tmp_path: Path
) -> None:
    """Bytes changed inside one record of a closed, indexed file (bit rot, a bad copy): the
    reparse skips that page with one warning and a counted stat, and reads every other."""
    archive = tmp_path / "archive"
    shutil.copytree(crawled["archive"], archive)
    stored = {s["url"] for s in crawled["exports"]["studies"]}
    warc = next(p for p in archive_files(archive) if index_path(p).exists())
    lines = index_path(warc).read_text(encoding="utf-8").splitlines()[1:]
    offset, length, damaged_url = next(
        (e[0], e[1], e[2]) for e in map(json.loads, lines) if e[2] in stored and e[5] == 200
    )
    with warc.open("r+b") as stream:  # the same size: the index still names the file
        stream.seek(offset + length // 2)
        middle = stream.read(32)
        stream.seek(offset + length // 2)
        stream.write(bytes(b ^ 0xFF for b in middle))
    url = f"sqlite:///{tmp_path / 'reparsed.db'}"
    settings = {"DATABASE_URL": url, "ARCHIVE_DIR": str(archive), **STATS}
    result = run_scrapy(["reparse", "--spider", "studies"], settings, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "no longer reads" in line]
    assert len(warnings) == 1 and damaged_url in warnings[0], warnings
    assert "'reparse/damaged_records': 1" in final_stats(result.stderr)
    assert "failed: reparse/damaged_records" in result.stderr  # in the crawl report
    expected = [s for s in crawled["exports"]["studies"] if s["url"] != damaged_url]
    assert export("studies", url, tmp_path) == expected


def test_a_killed_crawl_leaves_readable_warc_files(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with SiteServer(SITE_DIR) as server:
        process = start_scrapy(
            ["crawl", "studies"],
            {
                "SITE_URL": server.url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'crawler.db'}",
                "ARCHIVE": "warc",
                # study pages parsed in a worker: stored in another order than the reparse's
                "PARSE_WORKERS": "1",
                "ARCHIVE_DIR": str(archive),
                "CONCURRENT_REQUESTS": "2",
            },
            tmp_path,
            tmp_path / "crawl.log",
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                files = archive_files(archive)
                if files and sum(len(index_file(p).entries) for p in files) >= 10:
                    break
                time.sleep(0.2)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    files = archive_files(archive)
    entries = [e for p in files for e in index_file(p).entries]
    assert len(entries) >= 10
    for path in files:
        offsets = [e.offset for e in entries if e.path == str(path)]
        assert all(r.complete and r.status for r in read_records(str(path), offsets))


def test_an_unknown_archive_format_stops_the_crawl(tmp_path: Path) -> None:
    settings = {
        "SITE_URL": "http://127.0.0.1:9",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crawler.db'}",
        "ARCHIVE": "zip",
    }
    result = run_scrapy(["crawl", "studies"], settings, tmp_path)
    # a wrong setting: refused before the crawl opens its run, in one line (exit 2)
    assert result.returncode == 2, result.stderr[-2000:]
    assert (
        result.stderr.rstrip()
        .splitlines()[-1]
        .startswith("Error: setting ARCHIVE='zip' is not warc, or off")
    )
    assert "downloader/request_count" not in result.stderr
    assert not (tmp_path / "crawler.db").exists()
