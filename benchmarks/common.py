"""Helpers shared by the benchmark scripts: the site server process, crawl runs, stats, machine."""

from __future__ import annotations

import ast
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
PYTHON = sys.executable

# Politeness off for a local site; the rest are the project's settings.
LOCAL_CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "LOG_LEVEL": "INFO",
    "HTTPCACHE_ENABLED": "0",
    # Scrapy's stats dump (read for the figures) is logged at DEBUG unless this is on.
    "LOG_DUMPS": "1",
}


# --- Server -------------------------------------------------------------------------------------
@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    resources: int

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__bench__/stats", timeout=10) as response:
            return json.loads(response.read())

    def reset(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__bench__/reset", timeout=10) as response:
            return json.loads(response.read())


@contextmanager
def serve(root: Path, timeout: float = 600) -> Iterator[Server]:
    """``benchmarks/server.py`` serving ``root`` in its own process."""
    process = subprocess.Popen(
        [PYTHON, str(BENCH_DIR / "server.py"), str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("READY") or not line:
                break
        if not line.startswith("READY"):
            raise RuntimeError(f"benchmark server did not start (exit {process.poll()})")
        _, url, count = line.split()
        yield Server(process, url, int(count))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Crawls --------------------------------------------------------------------------------------
@dataclass
class CrawlResult:
    label: str
    returncode: int
    wall: float  # seconds, process start to exit
    maxrss_kb: int  # peak resident set of the crawl process
    cpu_s: float = 0.0  # user + system CPU seconds of the crawl process
    stats: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)  # the server's counters for this crawl
    log_tail: str = ""
    log: str = ""  # the whole stderr, with run_command(..., keep_log=True)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.stats)

    @property
    def elapsed(self) -> float:
        return float(self.stats.get("elapsed_time_seconds") or self.wall)

    @property
    def responses(self) -> int:
        return int(self.stats.get("response_received_count", 0))

    @property
    def requests(self) -> int:
        return int(self.stats.get("downloader/request_count", 0))

    @property
    def pages_per_s(self) -> float:
        return self.responses / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return self.cpu_s / self.responses * 1000 if self.responses else 0.0


# Compiled bytecode of the code under test, as an installed package has it (pip compiles at
# install): without it (PYTHONDONTWRITEBYTECODE) every process of a contender would recompile the
# project's modules from source, and a worker process pay that at each start.
_compiled: set[Path] = set()


def bytecode_env(env: dict[str, str], *trees: Path) -> dict[str, str]:
    """``env`` with Python's bytecode cache on and ``trees`` compiled (into their __pycache__)."""
    env = dict(env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for tree in trees:
        if tree not in _compiled:
            subprocess.run(
                [PYTHON, "-m", "compileall", "-q", str(tree)],
                env=env,
                stdout=subprocess.DEVNULL,
                check=False,
            )
            _compiled.add(tree)
    return env


def crawl_env() -> dict[str, str]:
    env = bytecode_env(
        {
            **os.environ,
            "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
            "PYTHONPATH": str(ROOT),
        },
        ROOT / "tressless_crawler",
        BENCH_DIR,
    )
    for name in (
        "CRAWLER_SITE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "CRAWLER_HTTPCACHE",
        "CRAWLER_LOG_LEVEL",
    ):
        env.pop(name, None)
    return env


def run_command(
    cmd: list[str],
    *,
    label: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 7200,
    keep_log: bool = False,
) -> CrawlResult:
    """Run ``cmd``; stderr to a file; peak RSS polled from /proc (VmHWM) until it exits."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True
        )
        deadline = started + timeout
        rusage: resource.struct_rusage | None = None
        status = 0
        peak_kb = 0
        while True:
            peak_kb = max(peak_kb, _vm_hwm_kb(process.pid))
            pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, rusage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        log = err.read()
    return CrawlResult(
        label=label,
        returncode=process.returncode,
        wall=wall,
        # Not rusage.ru_maxrss: Linux carries the parent's RSS at fork into the child's ru_maxrss
        # across exec, so a crawl started by a big process would report that process's size.
        maxrss_kb=peak_kb or (rusage.ru_maxrss if rusage else 0),
        cpu_s=(rusage.ru_utime + rusage.ru_stime) if rusage else 0.0,
        stats=parse_stats_dump(log),
        log_tail="\n".join(log.splitlines()[-40:]),
        log=log if keep_log else "",
    )


def scrapy_crawl(
    site_url: str,
    database_url: str,
    *,
    label: str,
    workdir: Path,
    settings: dict[str, str] | None = None,
    args: list[str] | None = None,
    launcher: list[str] | None = None,
) -> CrawlResult:
    """The real ``scrapy crawl studies`` against ``site_url``, as a user runs it.

    ``launcher`` replaces ``python -m`` before ``scrapy`` (a profiler's command line).
    """
    cmd = [*(launcher or [PYTHON, "-m"]), "scrapy", "crawl", "studies", *(args or [])]
    for name, value in {
        **LOCAL_CRAWL_SETTINGS,
        "SITE_URL": site_url,
        "DATABASE_URL": database_url,
        **(settings or {}),
    }.items():
        cmd += ["-s", f"{name}={value}"]
    workdir.mkdir(parents=True, exist_ok=True)
    return run_command(cmd, label=label, cwd=workdir, env=crawl_env())


def scrapy_bench(workdir: Path, settings: dict[str, str] | None = None) -> CrawlResult:
    """``scrapy bench`` outside the project (Scrapy's defaults) with the crawl's concurrency."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [PYTHON, "-m", "scrapy", "bench"]
    for name, value in (settings or {}).items():
        cmd += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if k not in ("SCRAPY_SETTINGS_MODULE", "PYTHONPATH")}
    return run_command(cmd, label="scrapy bench", cwd=workdir, env=env)


def _vm_hwm_kb(pid: int) -> int:
    """The peak resident set of ``pid`` since its exec (VmHWM), 0 when gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


_LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
_DATETIME_RE = re.compile(r"datetime\.datetime\([^()]*(?:\([^()]*\)[^()]*)*\)")


def parse_stats_dump(log: str) -> dict[str, Any]:
    """The dict Scrapy logs after ``Dumping Scrapy stats:`` (datetimes become None)."""
    marker = log.rfind("Dumping Scrapy stats:")
    if marker < 0:
        return {}
    start = log.find("{", marker)
    lines = []
    for line in log[start:].splitlines():
        if _LOG_LINE_RE.match(line):
            break  # the next log record
        lines.append(line)
    text = "\n".join(lines)
    text = _DATETIME_RE.sub("None", text)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {}
    return value if isinstance(value, dict) else {}


# --- PostgreSQL ----------------------------------------------------------------------------------
def postgres_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


@contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """A fresh database ``name`` (dropped first if left over, and after use)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def postgres_available(admin_url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(admin_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0][:200]


# --- Machine --------------------------------------------------------------------------------------
def machine_info(postgres_url: str | None = None) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    import sqlite3
    from importlib.metadata import version

    packages = {}
    for name in ("Scrapy", "Twisted", "lxml", "parsel", "SQLAlchemy", "psycopg"):
        try:
            packages[name] = version(name)
        except Exception:
            packages[name] = "-"
    info = {
        "cpu": f"{cpu}, {os.cpu_count()} cores" + (f", {mem} RAM" if mem else ""),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(f"{k} {v}" for k, v in packages.items()),
        "sqlite": sqlite3.sqlite_version,
    }
    if postgres_url:
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(postgres_url)
            with engine.connect() as conn:
                info["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
            engine.dispose()
        except Exception:
            pass
    info["wrk"] = shutil.which("wrk") or "not installed"
    return info


def load_average() -> float:
    """The 1-minute load average: above ~0.5 on a 2-core machine, other work skews timings."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
