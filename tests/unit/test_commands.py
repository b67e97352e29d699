"""Every project command shares tressless_crawler.cli.command.ProjectCommand.

That base is what makes a command's default settings take effect (Scrapy applies them below
the settings module), sends Scrapy's dumps to DEBUG and turns exceptions into one line and an
exit code: a command without it brings those problems back.
"""

from __future__ import annotations

from scrapy.cmdline import _get_commands_from_module
from scrapy.settings import Settings

from tressless_crawler.cli.command import (
    COMMAND_DEFAULTS_PRIORITY,
    ProjectCommand,
    apply_command_defaults,
)

EXPECTED = {"crawl", "db", "demo", "export", "report", "seed"}


def test_every_project_command_is_a_project_command() -> None:
    commands = _get_commands_from_module("tressless_crawler.commands", inproject=True)
    assert set(commands) >= EXPECTED
    for name, command in commands.items():
        assert isinstance(command, ProjectCommand), name
        assert type(command).run is ProjectCommand.run, f"{name} overrides run: put it in main"


def test_command_defaults_beat_the_settings_module_and_lose_to_the_command_line() -> None:
    settings = Settings()
    settings.set("DOWNLOAD_DELAY", 1.0, priority="project")
    settings.set("LOG_LEVEL", "DEBUG", priority="cmdline")
    settings.set("CONCURRENT_REQUESTS", 4, priority="spider")
    apply_command_defaults(
        settings, {"DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": 16}
    )
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert settings.getpriority("DOWNLOAD_DELAY") == COMMAND_DEFAULTS_PRIORITY
    assert settings.get("LOG_LEVEL") == "DEBUG"
    assert settings.getint("CONCURRENT_REQUESTS") == 4
