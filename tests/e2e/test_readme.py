"""The README's commands work as written: each block that runs offline is run, in order, in a
fresh directory, against the bundled demo site. Blocks that need the network say so on their
first line (``# needs ...``) and are checked for what CI relies on instead."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tressless_crawler.export import queries

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
BLOCK_RE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
DEMO_PORT = "8631"


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK_RE.findall(README.read_text("utf-8")) if lang == language]


def offline(body: str) -> bool:
    return not body.lstrip().startswith("# needs")


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def test_readme_is_short() -> None:
    assert len(README.read_bytes()) < 10 * 1024


def test_the_setup_commands_are_what_ci_runs() -> None:
    online = [body for body in blocks("bash") if not offline(body)]
    assert len(online) == 2, online
    main, tests = (body.strip().splitlines()[-1] for body in online)
    assert "pip install -e ." in main and main.endswith("scrapy crawl studies")
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert 'pip install -q -e ".[test]"' in ci and 'pip install -e ".[test]"' in tests
    for name in ("PG_URL", "REDIS_URL_TEST"):
        value = re.search(rf'^{name}="([^"]+)"', ci, re.M)
        assert value is not None and value.group(1) in tests
    assert tests.endswith("python -m pytest") and "python -m pytest" in ci


# Pages written alongside this README by other changes; checked like the rest once they exist.
ANNOUNCED = {
    "docs/security.md",
    "docs/parsing.md",
    "docs/community.md",
    "docs/analysis.md",
    "docs/archive.md",
    "docs/reliability.md",
}


def test_readme_links_lead_somewhere() -> None:
    text = README.read_text("utf-8")
    targets = re.findall(r"\]\(((?!https?:)[^)#]+)", text)
    assert "docs/operations.md" in targets
    for target in targets:
        assert (ROOT / target).exists() or target in ANNOUNCED, target


def test_every_export_field_is_documented() -> None:
    page = (ROOT / "docs" / "exports.md").read_text("utf-8")
    for what in queries.EXPORTS:
        for field in queries.fields_for(what, False):
            assert f"{field}" in page, (what, field)


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    """Every offline block, in order, in one fresh directory, as a user pastes them."""
    if shutil.which("sqlite3") is None:
        pytest.skip("the tour queries with the sqlite3 shell, which is not installed here")
    port = free_port()  # the demo's port may be taken by another run on this machine
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "SCRAPY_SETTINGS_MODULE": "tressless_crawler.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CRAWLER_LOG_LEVEL", None)
    tour = [body for body in blocks("bash") if offline(body)]
    assert len(tour) >= 5
    for body in tour:
        script = body.replace(DEMO_PORT, port)
        if "demo --serve" in script:
            script = script.replace("scrapy demo --serve", f"scrapy demo --serve --port {port}")
        result = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (body, result.stdout[-2000:], result.stderr[-3000:])
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
    studies = (tmp_path / "studies.jsonl").read_text("utf-8").splitlines()
    assert studies and all(json.loads(line)["study_id"] for line in studies)
    assert (tmp_path / "threads.csv").read_text("utf-8").startswith("post_id,")
