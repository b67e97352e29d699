"""The project deployed to a real Scrapyd through scrapy.cfg; a crawl scheduled over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import FAST_CRAWL, ROOT, SITE_DIR
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun, Study

pytestmark = pytest.mark.e2e
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base: str, path: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{path}", data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path: Path):
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {tmp_path / 'eggs'}\nlogs_dir = {tmp_path / 'logs'}\n"
        f"dbs_dir = {tmp_path / 'dbs'}\n"
        "items_dir =\nmax_proc = 2\npoll_interval = 0.5\n",
        encoding="utf-8",
    )
    scrapyd_bin = Path(sys.executable).with_name("scrapyd")
    proc = subprocess.Popen(
        [str(scrapyd_bin)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if api(base, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("scrapyd did not start")
        yield base, port
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # waits and closes the stderr pipe


def test_deploy_schedule_and_crawl(scrapyd, site_server, tmp_path: Path) -> None:
    base, port = scrapyd
    # A deploy target for this scrapyd, beside the project's own scrapy.cfg [deploy] section.
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    (xdg / "scrapy.cfg").write_text(
        f"[deploy:test]\nurl = {base}/\nproject = crawler\n", encoding="utf-8"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg)}
    deploy = subprocess.run(
        [str(Path(sys.executable).with_name("scrapyd-deploy")), "test", "--version", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deploy.returncode == 0, deploy.stderr
    assert api(base, "listprojects.json")["projects"] == ["crawler"]
    assert "studies" in api(base, "listspiders.json?project=crawler")["spiders"]

    db_url = f"sqlite:///{tmp_path / 'scheduled.db'}"
    settings = {**FAST_CRAWL, "SITE_URL": site_server.url, "DATABASE_URL": db_url}
    job = api(
        base,
        "schedule.json",
        [("project", "crawler"), ("spider", "studies")]
        + [("setting", f"{k}={v}") for k, v in settings.items()],
    )
    assert job["status"] == "ok", job
    deadline = time.time() + 240
    while time.time() < deadline:
        jobs = api(base, "listjobs.json?project=crawler")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the scheduled crawl did not finish")
    logs = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")[-3000:]
        for p in (tmp_path / "logs").rglob("*.log")
    )

    engine = make_engine(db_url)
    with engine.connect() as conn:
        studies = conn.execute(select(func.count()).select_from(Study)).scalar_one()
        status = conn.execute(select(CrawlRun.status)).scalar_one()
    engine.dispose()
    assert studies == len(MANIFEST["expected_study_ids"]), logs
    assert status == "finished"
