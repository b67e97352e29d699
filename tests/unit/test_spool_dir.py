"""``SPOOL_DIR`` and its former name ``JOURNAL_DIR`` (tressless_crawler.db.spool.spool_dir)."""

from __future__ import annotations

from scrapy.settings import Settings

from tressless_crawler.db.spool import spool_dir


def project(**extra: str) -> Settings:
    """The project's settings.py, plus what a user's copy of it sets."""
    settings = Settings()
    settings.setmodule("tressless_crawler.settings", priority="project")
    settings.setdict(extra, priority="project")
    return settings


def test_the_default_directory_is_unchanged() -> None:
    assert spool_dir(project()) == "data/journal"
    assert spool_dir(Settings()) == "data/journal"  # no project settings at all


def test_the_former_name_alone_is_honoured_wherever_it_is_set() -> None:
    assert spool_dir(project(JOURNAL_DIR="/var/spool/a")) == "/var/spool/a"
    cmdline = project()
    cmdline.set("JOURNAL_DIR", "/var/spool/b", priority="cmdline")
    assert spool_dir(cmdline) == "/var/spool/b"
    assert spool_dir(Settings({"JOURNAL_DIR": "/var/spool/c"})) == "/var/spool/c"


def test_the_new_name_is_read_and_wins_when_both_are_given_alike() -> None:
    assert spool_dir(project(SPOOL_DIR="/var/spool/d")) == "/var/spool/d"
    both = project(SPOOL_DIR="/var/spool/d", JOURNAL_DIR="/var/spool/e")
    assert spool_dir(both) == "/var/spool/d"


def test_the_one_given_at_the_higher_priority_wins() -> None:
    settings = project(JOURNAL_DIR="/var/spool/f")
    settings.set("SPOOL_DIR", "/var/spool/g", priority="cmdline")
    assert spool_dir(settings) == "/var/spool/g"
    settings = project(SPOOL_DIR="/var/spool/h")
    settings.set("JOURNAL_DIR", "/var/spool/i", priority="cmdline")
    assert spool_dir(settings) == "/var/spool/i"
