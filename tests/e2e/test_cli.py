"""The command line as a user meets it: one line per problem, an exit code per outcome.

Every case runs the real ``scrapy`` command; each asserts the last line of stderr (what a
user or cron reads), the exit code documented in docs/operations.md, and no traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, SITE_DIR, run_scrapy, start_scrapy
from tests.e2e.test_concurrency import hold_lock
from tressless_crawler import exit_codes as errors
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlLock, CrawlRun
from tressless_crawler.demo.server import SiteServer

pytestmark = pytest.mark.e2e

STUDY = "/research/frontal-fibrosing-alopecia-a-frontal-variant-of-lichen-planopilaris-VW69"


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def assert_fails(
    result: subprocess.CompletedProcess[str], code: int, *words: str
) -> subprocess.CompletedProcess[str]:
    line = last_line(result)
    assert result.returncode == code, (result.returncode, result.stderr[-3000:])
    assert line.startswith("Error: "), result.stderr[-3000:]
    for word in words:
        assert word in line, line
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "Task exception was never retrieved" not in result.stderr
    return result


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrapy_plain(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command exactly as typed: no -s LOG_LEVEL from the test helpers."""
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CRAWLER_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- the demo --------------------------------------------------------------------------


def test_demo_runs_without_politeness_and_names_its_database(tmp_path: Path) -> None:
    """The command's own settings beat the project's: the run records no delay."""
    result = scrapy_plain(["demo", "--port", "0"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DATABASE_URL=sqlite:///data/demo.db" in result.stdout.splitlines()[-1]
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'demo.db'}")
    with engine.connect() as conn:
        settings = conn.execute(select(CrawlRun.settings)).scalar_one()
    engine.dispose()
    assert settings["DOWNLOAD_DELAY"] in (0, "0", 0.0)
    assert settings["AUTOTHROTTLE_ENABLED"] in (False, "False", 0)
    # The log is the crawl's, not Scrapy's dumps; no deprecation; a drop is one line.
    log = result.stderr
    assert "ScrapyDeprecationWarning" not in log
    for dump in ("Overridden settings", "Enabled extensions", "Versions:", "Dumping Scrapy"):
        assert dump not in log
    assert "Crawl report for 'studies'" in log
    dropped = [i for i, line in enumerate(log.splitlines()) if "Dropped: duplicate study" in line]
    assert dropped, log[-3000:]
    for i in dropped:
        assert "[" in log.splitlines()[i + 1][:30]  # the next line is the next record


def test_demo_serve_serves_the_site_until_interrupted(tmp_path: Path) -> None:
    port = closed_port()
    log = tmp_path / "serve.log"
    proc = start_scrapy(["demo", "--serve", "--port", str(port)], {}, tmp_path, log)
    try:
        deadline = time.monotonic() + 60
        while f"127.0.0.1:{port}" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.2)
        result = run_scrapy(
            ["crawl", "studies", "-a", f"url=http://127.0.0.1:{port}{STUDY}"],
            {"SITE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": "sqlite:///one.db"},
            tmp_path,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_commands_that_only_read_log_warnings_only(tmp_path: Path) -> None:
    """export, report and db log at WARNING: no Alembic or Scrapy chatter on stderr."""
    assert scrapy_plain(["db", "upgrade"], tmp_path).returncode == 0
    for args in (["db", "current"], ["export", "runs"]):
        result = scrapy_plain(args, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr


# --- how a crawl ended -------------------------------------------------------------------


def test_unreachable_site(tmp_path: Path) -> None:
    log = tmp_path / "crawl.log"  # as cron and Scrapyd run it: the log in a file
    result = run_scrapy(
        ["crawl", "studies", "--logfile", str(log)],
        {"SITE_URL": f"http://127.0.0.1:{closed_port()}", "RETRY_TIMES": "0"},
        tmp_path,
    )
    assert_fails(result, errors.EXIT_UNREACHABLE, "could not reach", "connection refused")
    assert result.stderr.count("\n") == 1  # the line, and nothing else
    assert "could not reach" in log.read_text().splitlines()[-1]


def test_a_site_without_studies(tmp_path: Path) -> None:
    empty = tmp_path / "empty-site"
    empty.mkdir()
    (empty / "index.html").write_text("<html><body>Nothing here</body></html>")
    with SiteServer(empty) as server:
        result = run_scrapy(["crawl", "studies"], {"SITE_URL": server.url}, tmp_path)
    assert_fails(result, errors.EXIT_NOTHING_FOUND, "found no study")


def test_a_crawl_refused_by_the_lock(site_server, sqlite_url: str, tmp_path: Path) -> None:
    hold_lock(sqlite_url, os.getpid(), datetime.now(UTC))
    result = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url}, tmp_path
    )
    assert_fails(result, errors.EXIT_REFUSED, "crawl refused", f"pid {os.getpid()}")


def test_an_interrupted_crawl(site_server, tmp_path: Path) -> None:
    log = tmp_path / "crawl.log"
    proc = start_scrapy(
        ["crawl", "studies"],
        {"SITE_URL": site_server.url, "DOWNLOAD_DELAY": "0.5", "CONCURRENT_REQUESTS": "1"},
        tmp_path,
        log,
    )
    deadline = time.monotonic() + 120
    while site_server.count() < 3:
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=120)
    text = log.read_text(errors="replace")
    assert code == errors.EXIT_INTERRUPTED, text[-3000:]
    assert text.strip().splitlines()[-1].startswith("Error: the crawl was interrupted")
    assert "Traceback" not in text


def test_a_finished_crawl_with_nothing_new_ends_0(site_server, tmp_path: Path) -> None:
    settings = {"SITE_URL": site_server.url}
    assert run_scrapy(["crawl", "studies"], settings, tmp_path).returncode == 0
    again = run_scrapy(["crawl", "studies"], settings, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Error:" not in again.stderr


# --- spider arguments --------------------------------------------------------------------

ARGUMENT_CASES = [
    ("studies", "url=notaurl", "is not a URL"),
    ("studies", "url=", "-a url= is empty"),
    ("studies", "ful=1", "accepts: url, follow_links, listings, follow_community, full"),
    ("studies", "url=http://elsewhere.example/research/x-AB12", "not on the site's origin"),
    ("studies", "url={site}/about", "not a study page"),
    ("community", "url=notaurl", "is not a URL"),
    ("community", "url=", "-a url= is empty"),
    ("community", "frm_db=0", "accepts: url, from_db"),
    ("community", "url=http://elsewhere.example/community/t-1", "not a thread URL"),
]


@pytest.mark.parametrize(("spider", "argument", "says"), ARGUMENT_CASES)
def test_spider_arguments_are_checked(
    site_server, tmp_path: Path, spider: str, argument: str, says: str
) -> None:
    argument = argument.replace("{site}", site_server.url)
    result = run_scrapy(["crawl", spider, "-a", argument], {"SITE_URL": site_server.url}, tmp_path)
    assert_fails(result, errors.EXIT_USAGE, says)
    assert site_server.count() == 0  # refused before anything was fetched


def test_a_wrong_parse_workers_setting_is_refused_before_any_request(
    site_server, tmp_path: Path
) -> None:
    result = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "PARSE_WORKERS": "lots"}, tmp_path
    )
    assert_fails(result, errors.EXIT_USAGE, "PARSE_WORKERS='lots' is not a number of worker")
    assert site_server.count() == 0


@pytest.mark.parametrize(
    ("args", "setting", "says"),
    [
        (["crawl", "studies"], "STORE_BATCH_SIZE=abc", "STORE_BATCH_SIZE='abc' is not a whole"),
        (["crawl", "studies"], "CONCURRENT_REQUESTS=lots", "CONCURRENT_REQUESTS='lots'"),
        (["crawl", "community"], "ROBOTSTXT_OBEY=yes", "ROBOTSTXT_OBEY='yes' is not 1/0"),
        (["crawl", "studies"], "STORE_BATCH_SIZE=1.5", "STORE_BATCH_SIZE='1.5' is not a whole"),
        (["export", "studies", "-o", "x.csv"], "SQLITE_BUSY_TIMEOUT=30s", "SQLITE_BUSY_TIMEOUT"),
        # in range: a concurrency of 0 waited for ever; a negative delay means nothing
        (["crawl", "studies"], "CONCURRENT_REQUESTS=0", "'0' is not a whole number at least 1"),
        (["crawl", "studies"], "STORE_BATCH_SIZE=-5", "'-5' is not a whole number at least 1"),
        (["crawl", "studies"], "DOWNLOAD_DELAY=-1", "DOWNLOAD_DELAY='-1' is not a number 0 or"),
        (["export", "studies", "-o", "x.csv"], "STORE_BATCH_SIZE=0", "STORE_BATCH_SIZE='0'"),
        # what a crawl needs: SITE_URL=tressless.com failed at its first request, htps:// after
        # retrying every start request, ARCHIVE=warcc with exit 1
        (["crawl", "studies"], "SITE_URL=tressless.com", "'tressless.com' is not an http(s) URL"),
        (["crawl", "studies"], "SITE_URL=htps://127.0.0.1:9", "is not an http(s) URL"),
        (["crawl", "studies"], "ARCHIVE=warcc", "ARCHIVE='warcc' is not warc, or off"),
        (["crawl", "studies"], "REDIS_URL=user:pw@127.0.0.1:6379", "'***@127.0.0.1:6379' is not"),
        (
            ["crawl", "community"],
            "COMMUNITY_HOSTS=tressless.com,https://www.reddit.com,ftp://www.reddit.com",
            "COMMUNITY_HOSTS='ftp://www.reddit.com' is not a list of hosts: host, host:port",
        ),
    ],
    ids=[
        "project",
        "scrapy",
        "bool",
        "whole-number",
        "export",
        "concurrency-0",
        "batch-negative",
        "delay-negative",
        "export-range",
        "site-no-scheme",
        "site-bad-scheme",
        "archive-format",
        "redis-no-scheme",
        "community-hosts",
    ],
)
def test_a_setting_that_does_not_read_is_named_in_one_line(
    site_server, sqlite_url: str, tmp_path: Path, args: list[str], setting: str, says: str
) -> None:
    """A typo in -s: one line naming the setting, exit 2, nothing fetched, and no crawl run
    left "running" (the run is refused before it opens, or closed as it fails)."""
    name, value = setting.split("=", 1)
    settings = {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url, name: value}
    if args[0] == "export":  # a database to read
        done = run_scrapy(["crawl", "studies"], {**settings, name: "30"}, tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        site_server.reset_requests()
    result = run_scrapy(args, settings, tmp_path)
    assert_fails(result, errors.EXIT_USAGE, says, f"-s {name}=")
    assert ":pw@" not in result.stderr  # a password in a malformed URL is not shown
    assert site_server.count() == 0
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            statuses = list(conn.execute(select(CrawlRun.status)).scalars())
    except Exception:  # no database at all: refused before it was made
        statuses = []
    finally:
        engine.dispose()
    assert "running" not in statuses


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["crawl", "studies", "--ful"], "unknown option --ful: `scrapy crawl -h`"),
        (
            ["crawl", "studies", "--loglevl", "DEBUG"],
            "unknown option --loglevl (did you mean --loglevel?)",
        ),
        (
            ["export", "studies", "--formt", "csv"],
            "unknown option --formt (did you mean --format?)",
        ),
        (["report", "--spidr", "studies"], "unknown option --spidr (did you mean --spider?)"),
        (["reparse", "--workrs", "2"], "unknown option --workrs (did you mean --workers?)"),
    ],
)
def test_an_unknown_option_is_named_with_the_nearest_known_one(
    site_server, sqlite_url: str, tmp_path: Path, args: list[str], says: str
) -> None:
    """Scrapy hands options it does not know to the command as arguments: `crawl studies
    --ful` said "more than one spider", `export studies --formt csv` "say what to export"."""
    result = run_scrapy(args, {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url}, tmp_path)
    assert_fails(result, errors.EXIT_USAGE, says)
    assert site_server.count() == 0
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # no run was opened


def test_search_takes_words_that_start_with_a_dash(sqlite_url: str, tmp_path: Path) -> None:
    made = run_scrapy(["db", "upgrade"], {"DATABASE_URL": sqlite_url}, tmp_path)
    assert made.returncode == 0, made.stderr[-2000:]
    result = run_scrapy(
        ["search", "dutasteride", "-topical"], {"DATABASE_URL": sqlite_url}, tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("setting", ["ARCHIVE_DIR", "SPOOL_DIR"])
def test_a_directory_the_crawl_cannot_write_is_named_before_any_request(
    site_server, sqlite_url: str, tmp_path: Path, setting: str
) -> None:
    """An archive that cannot be written failed at the first page to archive; a spool that
    cannot be made loses the batches the database refuses. Both are refused at the start."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = {
        "SITE_URL": site_server.url,
        "DATABASE_URL": sqlite_url,
        "ARCHIVE": "warc",
        setting: str(blocker / "inside"),
    }
    result = run_scrapy(["crawl", "studies"], settings, tmp_path)
    assert_fails(result, errors.EXIT_OUTPUT, f"{setting} {blocker / 'inside'} cannot be")
    assert site_server.count() == 0


def test_the_default_spool_where_it_cannot_be_made_is_a_warning_not_a_refusal(
    site_server, sqlite_url: str, tmp_path: Path
) -> None:
    """SPOOL_DIR left at its default (data/journal, relative) under a working directory where
    it cannot be made: the crawl runs, and says that a refused batch would be lost."""
    workdir = tmp_path / "service"
    workdir.mkdir()
    (workdir / "data").write_text("a file where the default spool's parent would be")
    settings = {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url}
    result = run_scrapy(["crawl", "studies"], settings, workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SPOOL_DIR data/journal cannot be used (" in result.stderr
    assert "is not a directory): point -s SPOOL_DIR=" in result.stderr
    assert site_server.count() > 0


def test_a_class_path_that_does_not_import_is_named_and_its_run_closed(
    site_server, sqlite_url: str, tmp_path: Path
) -> None:
    """A crawl that fails before its spider opens (here: a pipeline that does not import)
    says which module, closes the run it had opened and releases its lock: the same command
    with the setting fixed runs at once."""
    settings = {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url}
    broken = {**settings, "ITEM_PIPELINES": '{"nope_pipelines.Store": 800}'}
    result = run_scrapy(["crawl", "studies"], broken, tmp_path)
    assert_fails(result, errors.EXIT_FAILED, "cannot import nope_pipelines", "ITEM_PIPELINES")
    assert "driver" not in last_line(result)
    assert site_server.count() == 0
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(CrawlRun.status, CrawlRun.finish_reason)).all()
            locks = conn.execute(select(CrawlLock.name)).all()
    finally:
        engine.dispose()
    assert [tuple(run) for run in runs] == [("failed", "start_error")]
    assert locks == []
    fixed = run_scrapy(["crawl", "studies"], settings, tmp_path)
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert "died without closing" not in fixed.stderr


def test_a_database_driver_that_is_not_installed(site_server, tmp_path: Path) -> None:
    url = "postgresql+psycopg2://crawler@127.0.0.1/crawler"
    result = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": url}, tmp_path
    )
    assert_fails(result, errors.EXIT_DATABASE, "needs a driver that is not installed (psycopg2)")


def test_a_study_url_that_does_not_exist(site_server, tmp_path: Path) -> None:
    result = run_scrapy(
        ["crawl", "studies", "-a", f"url={site_server.url}/research/no-such-study-ZZ99"],
        {"SITE_URL": site_server.url},
        tmp_path,
    )
    assert_fails(result, errors.EXIT_NOTHING_FOUND, "does not exist (404/410)")


def test_an_unknown_spider(tmp_path: Path) -> None:
    result = run_scrapy(["crawl", "stuides"], {}, tmp_path)
    assert_fails(result, errors.EXIT_USAGE, "no spider named 'stuides'", "community, studies")


# --- DATABASE_URL ------------------------------------------------------------------------

DATABASE_CASES = [
    ("foo://x/y", "unknown database scheme"),
    ("not a url", "is not a database URL"),
    ("postgresql+psycopg://postgres@127.0.0.1:{closed}/test", "Connection refused"),
]


@pytest.mark.parametrize(("url", "says"), DATABASE_CASES)
def test_database_urls_that_do_not_work(site_server, tmp_path: Path, url: str, says: str) -> None:
    url = url.replace("{closed}", str(closed_port()))
    for args in (["crawl", "studies"], ["export", "studies"], ["db", "upgrade"]):
        result = run_scrapy(args, {"SITE_URL": site_server.url, "DATABASE_URL": url}, tmp_path)
        assert_fails(result, errors.EXIT_DATABASE, says)
    assert site_server.count() == 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"username": "no_such_role"}, 'role "no_such_role" does not exist'),
        ({"database": "no_such_database"}, 'database "no_such_database" does not exist'),
    ],
)
def test_postgres_role_or_database_that_does_not_exist(
    postgres_url: str, tmp_path: Path, change: dict[str, str], says: str
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(**change).render_as_string(hide_password=False)  # type: ignore[arg-type]
    result = run_scrapy(["crawl", "studies"], {"DATABASE_URL": url}, tmp_path)
    assert_fails(result, errors.EXIT_DATABASE, says)


# --- read-only commands ------------------------------------------------------------------


@pytest.mark.parametrize("args", [["export", "studies"], ["report"], ["db", "current"]])
def test_read_only_commands_refuse_a_missing_sqlite_file(tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "nowhere" / "crawler.db"
    result = run_scrapy(args, {"DATABASE_URL": f"sqlite:///{target}"}, tmp_path)
    assert_fails(result, errors.EXIT_DATABASE, f"no database at {target}")
    assert not (tmp_path / "nowhere").exists()


def test_report_before_any_crawl(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_scrapy(["db", "upgrade"], {"DATABASE_URL": url}, tmp_path).returncode == 0
    result = run_scrapy(["report"], {"DATABASE_URL": url}, tmp_path)
    assert_fails(result, errors.EXIT_DATABASE, "no crawl run in this database yet")
    (tmp_path / "other.db").write_bytes(b"")
    empty = run_scrapy(["report"], {"DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}, tmp_path)
    assert_fails(empty, errors.EXIT_DATABASE, "has no crawler schema yet")


@pytest.mark.parametrize(
    ("settings", "options", "used"),
    [
        ({}, [], "data/journal"),
        ({"SPOOL_DIR": "spool-a"}, [], "spool-a"),
        ({"JOURNAL_DIR": "spool-b"}, [], "spool-b"),  # the setting's former name
        ({"SPOOL_DIR": "spool-a"}, ["--spool", "spool-c"], "spool-c"),
        ({"JOURNAL_DIR": "spool-b"}, ["--journal", "spool-d"], "spool-d"),  # the former option
    ],
)
def test_replay_reads_the_spool_directory_by_its_new_and_former_names(
    tmp_path: Path, settings: dict[str, str], options: list[str], used: str
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = run_scrapy(["db", "replay", *options], {"DATABASE_URL": url, **settings}, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    # The output keeps its wording: scripts read it.
    assert result.stdout.endswith(f"from 0 journal file(s) in {used}\n"), result.stdout


# --- export's output file ----------------------------------------------------------------


@pytest.fixture(scope="module")
def crawled_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("crawled")
    url = f"sqlite:///{tmp / 'crawler.db'}"
    with SiteServer(SITE_DIR) as server:
        result = run_scrapy(
            ["crawl", "studies"], {"SITE_URL": server.url, "DATABASE_URL": url}, tmp
        )
    assert result.returncode == 0, result.stderr[-3000:]
    return url


def unwritable(tmp_path: Path) -> str:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return str(locked / "out.jsonl")
    return "/proc/sys/kernel/ostype"  # root may write anywhere but here


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("{tmp}/no/such/dir/out.jsonl", "does not exist"),
        ("{tmp}", "it is a directory"),
        ("unwritable", "permission denied"),
        ("/dev/full", "no space left"),
    ],
)
def test_export_to_a_file_that_cannot_be_written(
    crawled_db: str, tmp_path: Path, target: str, says: str
) -> None:
    path = (
        unwritable(tmp_path) if target == "unwritable" else target.replace("{tmp}", str(tmp_path))
    )
    if path == "/dev/full" and not Path(path).exists():
        pytest.skip("no /dev/full here")
    result = run_scrapy(["export", "studies", "-o", path], {"DATABASE_URL": crawled_db}, tmp_path)
    assert_fails(result, errors.EXIT_OUTPUT, f"cannot write {path}", says)


def test_traceback_on_request(tmp_path: Path) -> None:
    result = run_scrapy(
        ["export", "studies", "--traceback"], {"DATABASE_URL": "foo://x/y"}, tmp_path
    )
    assert result.returncode == errors.EXIT_DATABASE
    assert "Traceback" in result.stderr and last_line(result).startswith("Error: ")


# --- progress ----------------------------------------------------------------------------


def test_progress_bar_on_a_terminal_only(site_server, tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "studies", "-s", f"SITE_URL={site_server.url}"]
    cmd += ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    try:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=follower)
        os.close(follower)
        screen = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:
                break
            if not data:
                break
            screen += data
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(leader)
    text = screen.decode("utf-8", "replace")
    assert " pages |" in text and "items " in text and "queue " in text, text[-2000:]

    piped = run_scrapy(["crawl", "studies"], {"SITE_URL": site_server.url}, tmp_path)
    assert piped.returncode == 0 and " pages |" not in piped.stderr
