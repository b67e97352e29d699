"""The database across crawls: schema commands, gone pages, feed exports, discovery fallbacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from tests.conftest import SITE_DIR, run_scrapy
from tressless_crawler.db import schema
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import Study
from tressless_crawler.demo.server import SiteServer

pytestmark = pytest.mark.e2e
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def test_db_upgrade_and_an_outdated_schema(site_server, db_url: str, tmp_path: Path) -> None:
    up = run_scrapy(["db", "upgrade"], {"DATABASE_URL": db_url}, tmp_path)
    assert up.returncode == 0, up.stderr[-2000:]
    head = schema.head_revision()
    assert f"schema empty -> {head}" in up.stdout
    current = run_scrapy(["db", "current"], {"DATABASE_URL": db_url}, tmp_path)
    assert f"{head} (current)" in current.stdout

    engine = make_engine(db_url)  # an older crawler's schema
    command.downgrade(schema.alembic_config(engine), "0001")
    engine.dispose()
    refused = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": db_url}, tmp_path
    )
    assert refused.returncode != 0
    assert "Run `scrapy db upgrade`" in refused.stderr
    assert site_server.count() == 0

    assert run_scrapy(["db", "upgrade"], {"DATABASE_URL": db_url}, tmp_path).returncode == 0
    ok = run_scrapy(
        ["crawl", "studies"], {"SITE_URL": site_server.url, "DATABASE_URL": db_url}, tmp_path
    )
    assert ok.returncode == 0, ok.stderr[-2000:]


def test_removed_page_is_marked_gone_not_deleted(db_url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    victim = "ZpoR"
    path = MANIFEST["expected_study_paths"][victim]
    with SiteServer(site) as server:
        settings = {"SITE_URL": server.url, "DATABASE_URL": db_url}
        assert run_scrapy(["crawl", "studies"], settings, tmp_path).returncode == 0
        shutil.rmtree(site / path.lstrip("/"))
        for sitemap in (site / "sitemaps").glob("*.xml"):
            text = sitemap.read_text(encoding="utf-8")
            loc = f"<loc>{{{{SITE_URL}}}}{path}</loc>"
            if loc in text:
                start = text.rindex("<url>", 0, text.index(loc))
                end = text.index("</url>", start) + len("</url>")
                sitemap.write_text(text[:start] + text[end:], encoding="utf-8")
        second = run_scrapy(["crawl", "studies"], settings, tmp_path)
        assert second.returncode == 0, second.stderr[-2000:]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        gone = conn.execute(
            select(Study.study_id, Study.gone_status).where(Study.gone_at.is_not(None))
        ).all()
        total = len(conn.execute(select(Study.study_id)).all())
    engine.dispose()
    assert gone == [(victim, 404)]
    assert total == len(MANIFEST["expected_study_ids"])  # kept


def test_scrapy_feed_exports_keep_working(site_server, sqlite_url: str, tmp_path: Path) -> None:
    out = tmp_path / "items.jsonl"
    result = run_scrapy(
        ["crawl", "studies", "-O", str(out)],
        {"SITE_URL": site_server.url, "DATABASE_URL": sqlite_url},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {i["study_id"] for i in items} == set(MANIFEST["expected_study_ids"])
    assert all("title" in i and "cited" in i for i in items)  # only study items, no bookkeeping


def test_no_sitemap_falls_back_to_the_listings(tmp_path: Path, sqlite_url: str) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site, symlinks=True)
    robots = site / "robots.txt"
    robots.write_text(
        "\n".join(
            line
            for line in robots.read_text(encoding="utf-8").splitlines()
            if not line.startswith("Sitemap")
        ),
        encoding="utf-8",
    )
    with SiteServer(site) as server:
        result = run_scrapy(
            ["crawl", "studies"], {"SITE_URL": server.url, "DATABASE_URL": sqlite_url}, tmp_path
        )
        assert not any("sitemap" in r.path for r in server.requests)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "walking the listings" in result.stderr
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        ids = set(conn.execute(select(Study.study_id)).scalars())
    engine.dispose()
    assert ids == set(MANIFEST["expected_study_ids"])
