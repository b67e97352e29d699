"""The behaviour every project command shares.

* Its ``default_settings`` beat the project's settings module. Scrapy applies them at
  "command" priority, below "project", so they never took effect (the demo crawled with
  the real site's delays; export and report logged at INFO). Here they are applied again
  above the project's and below ``-s``/``-L`` and the spiders' own settings.
* Startup dumps go to DEBUG (:mod:`tressless_crawler.cli.startup_log`).
* A setting whose text does not read as its kind of value, or a number out of its range, is
  refused before the command runs; for a command that crawls, so are a site or Redis URL that
  is not one and an archive directory that cannot be written
  (:mod:`tressless_crawler.cli.settings_check`).
* An option it does not know is refused by name, with the nearest known one. Scrapy parses a
  command line with ``parse_known_args`` and hands what it does not know to the command as
  arguments: ``scrapy crawl studies --ful`` said "running 'scrapy crawl' with more than one
  spider is not supported", ``scrapy export studies --formt csv`` "say what to export".
  Arguments after ``--`` are arguments whatever they look like; ``scrapy search`` takes words
  that start with ``-`` (a word to leave out) as they are.
* An exception becomes one line on stderr and an exit code (:mod:`tressless_crawler.cli.errors`);
  ``--traceback`` (or ``-L DEBUG``) adds the traceback.

Commands subclass :class:`ProjectCommand` before Scrapy's class and put their work in
``main`` instead of ``run``. Settings: ``DATABASE_URL`` (:meth:`ProjectCommand.require_database`),
``LOG_LEVEL`` and ``LOG_FILE`` (whether a traceback is shown, where the log goes).
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
import traceback
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from tressless_crawler.cli.errors import explain, missing_sqlite_file
from tressless_crawler.cli.settings_check import (
    check_crawl_settings,
    check_setting_ranges,
    check_setting_values,
)
from tressless_crawler.cli.startup_log import quiet_startup
from tressless_crawler.exceptions import CommandError
from tressless_crawler.exit_codes import EXIT_USAGE
from tressless_crawler.redact import redact_secrets

logger = logging.getLogger(__name__)

# Above "project" (20), below the spiders' custom_settings ("spider", 30) and -s ("cmdline", 40).
COMMAND_DEFAULTS_PRIORITY = 25


def apply_command_defaults(settings: Settings, defaults: dict[str, Any]) -> None:
    for name, value in defaults.items():
        if name == "LOG_LEVEL" and os.environ.get("CRAWLER_LOG_LEVEL"):
            continue  # the environment chose the level for every command
        if (settings.getpriority(name) or 0) < COMMAND_DEFAULTS_PRIORITY:
            settings.set(name, value, priority=COMMAND_DEFAULTS_PRIORITY)


def unknown_option(args: list[str]) -> str | None:
    """The first argument before ``--`` that is written as an option (``-x``, ``--name``)."""
    for arg in args:
        if arg == "--":
            return None
        if len(arg) > 1 and arg.startswith("-") and not _is_number(arg):
            return arg
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def option_hint(option: str, opts: argparse.Namespace) -> str:
    """`` (did you mean --format?)`` when a known option's name is close to ``option``."""
    name = option.split("=", 1)[0]
    known = ["--" + dest.replace("_", "-") for dest in vars(opts)]
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return f" (did you mean {match[0]}?)" if match else ""


class ProjectCommand(ScrapyCommand):
    """Base of the project's commands: see the module's docstring."""

    # Arguments that are free text, where a word may start with "-" (search's left-out words).
    free_text_args = False
    # Whether it crawls the site: its site, Redis and archive settings are checked first.
    crawls_site = False

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--traceback",
            action="store_true",
            help="on an error, print its traceback after the one-line message",
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        apply_command_defaults(self.settings, self.default_settings)
        quiet_startup(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            assert self.settings is not None
            if not self.free_text_args:
                args = self.known_arguments(args, opts)
            check_setting_values(self.settings)
            check_setting_ranges(self.settings)
            if self.crawls_site:
                check_crawl_settings(self.settings)
            self.main(args, opts)
        except UsageError as exc:
            if not str(exc):
                raise  # Scrapy prints the command's help
            self.fail(exc, opts)
        except (Exception, KeyboardInterrupt) as exc:
            self.fail(exc, opts)

    def main(self, args: list[str], opts: argparse.Namespace) -> None:
        raise NotImplementedError

    def known_arguments(self, args: list[str], opts: argparse.Namespace) -> list[str]:
        """``args`` without a ``--`` separator, once none of them is an unknown option."""
        option = unknown_option(args)
        if option is not None:
            command = type(self).__module__.rsplit(".", 1)[-1]  # Scrapy names it so
            raise CommandError(
                f"unknown option {option}{option_hint(option, opts)}: "
                f"`scrapy {command} -h` lists the options",
                EXIT_USAGE,
            )
        if "--" in args:
            at = args.index("--")
            args = [*args[:at], *args[at + 1 :]]
        return args

    def fail(self, exc: BaseException, opts: argparse.Namespace) -> None:
        assert self.settings is not None
        problem = explain(exc, str(self.settings.get("DATABASE_URL") or ""))
        if self.wants_traceback(opts):
            sys.stderr.write(redact_secrets("".join(traceback.format_exception(exc))))
        else:
            logger.debug("Traceback of the error below", exc_info=exc)
        self.tell(problem.message, problem.code)

    def tell(self, message: str, code: int) -> None:
        """The one line on stderr, and the exit code. With ``--logfile`` (cron, Scrapyd) the
        line goes to the log too, where whoever reads the log looks for it."""
        assert self.settings is not None
        message = redact_secrets(message)  # a URL in the message keeps no credential
        if self.settings.get("LOG_FILE"):
            logger.error("%s (exit code %d)", message, code)
        sys.stderr.write(f"Error: {message}\n")
        sys.stderr.flush()
        self.exitcode = code

    def wants_traceback(self, opts: argparse.Namespace) -> bool:
        assert self.settings is not None
        return bool(getattr(opts, "traceback", False)) or (
            str(self.settings.get("LOG_LEVEL")).upper() == "DEBUG"
        )

    def require_database(self) -> str:
        """DATABASE_URL for a command that only reads: a SQLite file must already exist."""
        assert self.settings is not None
        url = str(self.settings.get("DATABASE_URL") or "")
        if not url:
            raise CommandError("DATABASE_URL is not set", EXIT_USAGE)
        missing = missing_sqlite_file(url)
        if missing is not None:
            raise missing
        return url
