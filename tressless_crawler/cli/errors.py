"""The one place where an exception becomes the line a user reads and an exit code.

Every command ends with one of the codes of :mod:`tressless_crawler.exit_codes`
(``docs/operations.md`` lists them for cron and Scrapyd). A problem the user can fix (a wrong
argument, a database URL that does not work, an output file that cannot be written) is one
line on stderr saying what went wrong and what to do; the traceback is shown only with
``--traceback`` or ``-L DEBUG``.
"""

from __future__ import annotations

import errno
import inspect
import logging
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

from scrapy.exceptions import UsageError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from tressless_crawler.exceptions import (
    CommandError,
    CrawlLocked,
    CrawlRefused,
    SchemaOutdated,
    SpiderArgumentError,
)
from tressless_crawler.exit_codes import (
    EXIT_DATABASE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OUTPUT,
    EXIT_REFUSED,
    EXIT_USAGE,
)

logger = logging.getLogger(__name__)

TRACEBACK_HINT = "run again with --traceback for details"


@dataclass(frozen=True)
class Problem:
    message: str
    code: int
    expected: bool = True  # False: a bug or an unforeseen failure, worth its traceback


def safe_url(url: str) -> str:
    """The database URL for a message: credentials hidden, or a note if it does not parse."""
    from tressless_crawler.redact import redact_url

    try:
        make_url(url)
    except Exception:
        return "<unparsable URL>"
    return redact_url(url)


def check_arguments(spider: object, given: dict[str, object]) -> None:
    """Refuse ``-a`` names the spider does not know (Scrapyd's ``_job`` and the like pass).

    The accepted names are the keyword parameters of the spider's ``__init__``."""
    unknown = sorted(name for name in given if not name.startswith("_"))
    if not unknown:
        return
    parameters = inspect.signature(type(spider).__init__).parameters.values()
    accepted = [
        p.name
        for p in parameters
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    names = ", ".join(f"-a {name}=" for name in unknown)
    raise SpiderArgumentError(
        f"the {getattr(spider, 'name', 'spider')} spider takes no argument {names}; "
        f"it accepts: {', '.join(accepted)}"
    )


def check_url_argument(url: str, what: str) -> str:
    """``-a url=``: not empty, an absolute http(s) URL; returns it stripped."""
    from tressless_crawler.urls import host_of, is_http_url, valid_url

    value = url.strip()
    if not value:
        raise SpiderArgumentError(
            f"-a url= is empty: give the URL of {what}, or leave -a url out to crawl the site"
        )
    if not (is_http_url(value) and valid_url(value) and host_of(value)):
        raise SpiderArgumentError(
            f"-a url={value} is not a URL: give the full http(s) URL of {what}"
        )
    return value


def explain(exc: BaseException, database_url: str = "") -> Problem:
    """The line and exit code for an exception that ended a command."""
    if isinstance(exc, CommandError):
        return Problem(exc.message, exc.code)
    if isinstance(exc, UsageError):
        return Problem(str(exc) or "wrong command line (see --help)", EXIT_USAGE)
    if isinstance(exc, KeyboardInterrupt):
        return Problem("interrupted", EXIT_INTERRUPTED)
    refused = _refusal(exc)
    if refused is not None:
        return refused
    database = _database_problem(exc, database_url)
    if database is not None:
        return database
    if isinstance(exc, ModuleNotFoundError):
        return Problem(
            f"cannot import {exc.name or 'a module'} ({exc}): check the class paths in the "
            "settings (ITEM_PIPELINES, DOWNLOADER_MIDDLEWARES, EXTENSIONS, ...), or install "
            "the missing package",
            EXIT_FAILED,
        )
    if isinstance(exc, OSError):
        return Problem(_os_error(exc), EXIT_FAILED)
    return Problem(f"failed: {type(exc).__name__}: {exc} ({TRACEBACK_HINT})", EXIT_FAILED, False)


def _raised_by_sqlalchemy(exc: BaseException) -> bool:
    """The import failed while SQLAlchemy loaded a database driver (not a setting's class)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return any(f"{os.sep}sqlalchemy{os.sep}" in frame.filename for frame in frames)


def _refusal(exc: BaseException) -> Problem | None:
    if isinstance(exc, (CrawlRefused, CrawlLocked, SchemaOutdated)):
        cause = exc.__cause__ if isinstance(exc, CrawlRefused) else exc
        message = f"crawl refused: {exc}"
        if isinstance(cause, SchemaOutdated) and "db upgrade" not in message:
            message += " (run `scrapy db upgrade`)"
        return Problem(message, EXIT_REFUSED)
    return None


def _database_problem(exc: BaseException, url: str) -> Problem | None:
    shown = safe_url(url) if url else ""
    where = f"DATABASE_URL {shown}" if shown and not shown.startswith("<") else "DATABASE_URL"
    if isinstance(exc, sa_exc.ArgumentError) and "URL" in str(exc):
        return Problem(
            f"{where} is not a database URL: use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host/database",
            EXIT_DATABASE,
        )
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return Problem(
            f"{where} has an unknown database scheme; use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host/database",
            EXIT_DATABASE,
        )
    if isinstance(exc, ModuleNotFoundError) and url and _raised_by_sqlalchemy(exc):
        return Problem(
            f"{where} needs a driver that is not installed ({exc.name}); "
            "use sqlite:/// or postgresql+psycopg://",
            EXIT_DATABASE,
        )
    if isinstance(exc, sa_exc.DBAPIError):
        detail = first_line(getattr(exc, "orig", None) or exc)
        lowered = detail.lower()
        if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
            return Problem(
                f"{where} has no crawler schema yet: run a crawl or `scrapy db upgrade` first",
                EXIT_DATABASE,
            )
        hint = _database_hint(lowered)
        return Problem(f"cannot use {where} ({detail}){hint}", EXIT_DATABASE)
    return None


def _database_hint(detail: str) -> str:
    if "password authentication" in detail or ("role" in detail and "does not exist" in detail):
        return ": check the user and password in DATABASE_URL"
    if "database" in detail and "does not exist" in detail:
        return ": create the database, or fix its name in DATABASE_URL"
    if "unable to open database file" in detail:
        return ": check that the directory exists and can be written"
    if any(
        word in detail
        for word in ("refused", "translate host", "timeout", "timed out", "resolve", "no route")
    ):
        return ": is the server running, and is the host right?"
    return ""


def first_line(value: object) -> str:
    text = str(value).strip()
    return (text.splitlines() or [""])[0][:300]


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def output_problem(path: str, exc: OSError) -> CommandError:
    """An output file that cannot be opened or written, as a one-line error."""
    target = Path(path)
    if isinstance(exc, FileNotFoundError) or not target.parent.exists():
        what = f"cannot write {path}: the directory {target.parent} does not exist"
    elif isinstance(exc, IsADirectoryError) or target.is_dir():
        what = f"cannot write {path}: it is a directory; give a file name"
    elif isinstance(exc, PermissionError):
        what = f"cannot write {path}: permission denied"
    elif exc.errno == errno.ENOSPC:
        what = f"cannot write {path}: no space left on the device (the file is incomplete)"
    else:
        what = f"cannot write {path}: {exc.strerror or exc}"
    return CommandError(what, EXIT_OUTPUT)


def missing_sqlite_file(url: str) -> CommandError | None:
    """For read-only commands: a SQLite file that does not exist is refused, not created."""
    try:
        parsed = make_url(url)
    except Exception:
        return None  # explain() reports an unparsable URL
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    if path.exists():
        return None
    return CommandError(
        f"no database at {path}: run a crawl first, or point DATABASE_URL at an existing one",
        EXIT_DATABASE,
    )
