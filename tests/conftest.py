"""Shared fixtures: databases (SQLite file and a fresh PostgreSQL database), the fixture site.

The PostgreSQL half of the suite needs TEST_DATABASE_URL (an administrative URL
such as postgresql+psycopg://postgres@127.0.0.1:5432/test); each test gets a
database of its own, created and dropped around it. Without the variable those
tests are skipped locally, and fail under CI (CI=true), where they must run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SITE_DIR = FIXTURES / "site"

# Local politeness settings off: the fixture site is ours.
FAST_CRAWL = {
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "LOG_LEVEL": "INFO",
    "HTTPCACHE_ENABLED": "0",
}


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            "TEST_DATABASE_URL is not set under CI: the PostgreSQL half of the suite must run "
            "(.ci/run sets it to postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    admin = _postgres_admin_url()
    assert admin is not None
    name = f"crawler_test_{uuid.uuid4().hex[:12]}"
    # pool_pre_ping: a test may restart the server (tests/e2e/test_database_faults.py)
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crawler.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Every database test runs on both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def site_server() -> Iterator[object]:
    """The fixture site served on 127.0.0.1 (a free port)."""
    from tressless_crawler.demo.server import SiteServer

    server = SiteServer(SITE_DIR)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_scrapy(
    args: list[str], settings: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``scrapy`` command of this environment, as a user would."""
    cmd = [sys.executable, "-m", "scrapy", *args]
    for name, value in {**FAST_CRAWL, **settings}.items():
        cmd += ["-s", f"{name}={value}"]
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def start_scrapy(
    args: list[str], settings: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """Start the real ``scrapy`` command in the background, as run_scrapy does; output: ``log``."""
    cmd = [sys.executable, "-m", "scrapy", *args]
    for name, value in {**FAST_CRAWL, **settings}.items():
        cmd += ["-s", f"{name}={value}"]
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def _redis_test_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            "TEST_REDIS_URL is not set under CI: the Redis half of the suite must run "
            "(.ci/run sets it to redis://127.0.0.1:6379/15)"
        )
    pytest.skip(
        "Redis tests skipped: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run them"
    )
    return None


@pytest.fixture
def redis_url() -> Iterator[str]:
    """TEST_REDIS_URL, a Redis database for the tests (the suite uses number 15).

    It is not flushed: test sessions running at the same time share it. Each
    test keeps its keys under a prefix of its own (``redis_prefix``).
    """
    import redis

    url = _redis_test_url()
    assert url is not None
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"TEST_REDIS_URL is set but Redis does not answer: {exc}")
    finally:
        client.close()
    yield url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted after the test."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
