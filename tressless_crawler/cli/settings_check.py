"""Settings checked before a command runs: a value that cannot be read as the kind of value its
setting takes (``-s STORE_BATCH_SIZE=abc``, ``-s ROBOTSTXT_OBEY=yes``), or a number out of its
setting's range (``-s CONCURRENT_REQUESTS=0`` waited for ever), is refused with one line naming
the setting, before a crawl opens its run row or takes its lock; for a crawl, so are a site or
Redis URL that is not one and an archive directory that cannot be written.

The kind is that of the setting's default: true/false, a whole number for the project's int
defaults (:mod:`tressless_crawler.defaults`, read with ``getint``), a number otherwise (Scrapy
reads several of its int defaults as floats: ``DOWNLOAD_DELAY=0.5``). Only text values are
checked: those are what a user typed.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings, default_settings

from tressless_crawler import defaults
from tressless_crawler.archive.middleware import archive_format
from tressless_crawler.db.spool import DEFAULT_DIR as DEFAULT_SPOOL_DIR
from tressless_crawler.db.spool import spool_dir
from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.exceptions import CommandError, SettingValueError
from tressless_crawler.exit_codes import EXIT_OUTPUT
from tressless_crawler.urls import host_origins, origin_of

logger = logging.getLogger(__name__)


def default_of(name: str) -> Any:
    return DEFAULTS[name] if name in DEFAULTS else getattr(default_settings, name, None)


def check_setting_values(settings: BaseSettings) -> None:
    """Raise :class:`SettingValueError` for the first setting whose text does not read."""
    for name, attribute in sorted(settings.attributes.items()):
        value = attribute.value  # not settings.get: that warns about deprecated names
        if not isinstance(value, str):
            continue
        default = default_of(name)
        if isinstance(default, bool):
            kind = "1/0 or true/false"
            reads = _reads(settings.getbool, name)
        elif isinstance(default, int) and name in DEFAULTS:
            kind = "a whole number"
            reads = _reads(settings.getint, name)
        elif isinstance(default, (int, float)):
            kind = "a number"
            reads = _reads(settings.getfloat, name)
        else:
            continue
        if not reads:
            raise SettingValueError(name, value, kind, default)


def _reads(getter: Any, name: str) -> bool:
    try:
        getter(name)
    except ValueError:
        return False
    return True


# -- values in range ---------------------------------------------------------------------------

# Numbers a setting cannot take whatever its kind: a concurrency of 0 waits for ever, a
# negative delay or retry count means nothing. (least value, whether it may be equal, words)
AT_LEAST_ONE = (1.0, True, "at least 1")
AT_LEAST_ZERO = (0.0, True, "0 or more")
ABOVE_ZERO = (0.0, False, "above 0")
NUMBER_RANGES: dict[str, tuple[float, bool, str]] = {
    "CONCURRENT_REQUESTS": AT_LEAST_ONE,
    "CONCURRENT_REQUESTS_PER_DOMAIN": AT_LEAST_ONE,
    "CONCURRENT_ITEMS": AT_LEAST_ONE,
    "STORE_BATCH_SIZE": AT_LEAST_ONE,
    "SITEMAP_MAX_URLS": AT_LEAST_ONE,
    "ARCHIVE_MAX_SIZE": AT_LEAST_ONE,
    "DOWNLOAD_DELAY": AT_LEAST_ZERO,
    "DOWNLOAD_MAXSIZE": AT_LEAST_ZERO,
    "DOWNLOAD_WARNSIZE": AT_LEAST_ZERO,
    "RETRY_TIMES": AT_LEAST_ZERO,
    "RETRY_BACKOFF_BASE": AT_LEAST_ZERO,
    "RETRY_BACKOFF_MAX": AT_LEAST_ZERO,
    "RETRY_AFTER_MAX": AT_LEAST_ZERO,
    "REDIRECT_MAX_TIMES": AT_LEAST_ZERO,
    "STORE_RETRY_TIMES": AT_LEAST_ZERO,
    "STORE_RETRY_BACKOFF": AT_LEAST_ZERO,
    "COMMUNITY_MAX_MORE_REQUESTS": AT_LEAST_ZERO,
    "AUTOTHROTTLE_START_DELAY": AT_LEAST_ZERO,
    "AUTOTHROTTLE_MAX_DELAY": AT_LEAST_ZERO,
    "CRAWL_PROGRESS_SECONDS": AT_LEAST_ZERO,  # 0: off
    "STORE_FLUSH_SECONDS": AT_LEAST_ZERO,  # 0: off
    "DOWNLOAD_TIMEOUT": ABOVE_ZERO,
    "CRAWL_LOCK_STALE_SECONDS": ABOVE_ZERO,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": ABOVE_ZERO,
}


def check_setting_ranges(settings: BaseSettings) -> None:
    """Raise :class:`SettingValueError` for the first number out of its setting's range."""
    for name, (least, inclusive, words) in NUMBER_RANGES.items():
        raw = settings.attributes[name].value if name in settings.attributes else None
        if raw is None or raw == "":
            continue
        value = settings.getfloat(name)  # its kind was checked first
        if value < least or (value == least and not inclusive):
            default = default_of(name)
            whole = isinstance(default, int) and not isinstance(default, bool)
            kind = f"{'a whole number' if whole else 'a number'} {words}"
            raise SettingValueError(name, raw, kind, default)


# -- what a crawl needs of its settings --------------------------------------------------------

REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_crawl_settings(settings: BaseSettings) -> None:
    """What ``scrapy crawl`` and ``scrapy seed`` need of the site, Redis and archive settings,
    checked before the crawl opens its run or sends a request: ``SITE_URL=tressless.com``
    failed at its first request, ``htps://`` after retrying every start request, an unwritable
    ``ARCHIVE_DIR`` only when the first page was to be archived."""
    site = str(settings.get("SITE_URL") or "")
    if site and origin_of(site) is None:
        raise SettingValueError(
            "SITE_URL", _shown(site), "an http(s) URL with a host", default_of("SITE_URL")
        )
    redis_url = str(settings.get("REDIS_URL") or "").strip()
    if redis_url and urlsplit(redis_url).scheme.lower() not in REDIS_SCHEMES:
        kind = "a redis://, rediss:// or unix:// URL (or empty: no Redis)"
        raise SettingValueError("REDIS_URL", _shown(redis_url), kind, default_of("REDIS_URL"))
    for entry in settings.getlist("COMMUNITY_HOSTS"):
        entry = str(entry).strip()
        # an entry that allows no origin was left out without a word
        if entry and (not host_origins(entry) or any(c.isspace() for c in entry)):
            kind = "a list of hosts: host, host:port or http(s)://host[:port], comma-separated"
            raise SettingValueError("COMMUNITY_HOSTS", entry, kind, default_of("COMMUNITY_HOSTS"))
    try:
        archive = archive_format(settings.get("ARCHIVE"))
    except ValueError:
        raise SettingValueError(
            "ARCHIVE", settings.get("ARCHIVE"), "warc, or off", default_of("ARCHIVE")
        ) from None
    if archive is not None:
        _writable("ARCHIVE_DIR", str(defaults.get(settings, "ARCHIVE_DIR")))
    spool = spool_dir(settings)
    problem = _cannot_be_made(spool)
    if problem is not None:
        message = (
            f"SPOOL_DIR {spool} cannot be used ({problem}): point -s SPOOL_DIR=... at a "
            "directory this user can write"
        )
        if spool != DEFAULT_SPOOL_DIR:  # chosen, and mistyped: refused
            raise CommandError(message, EXIT_OUTPUT)
        # the default, under a working directory this user cannot write (a service started
        # in /, say): the crawl runs, told that a batch the database refuses would be lost
        logger.warning("%s; until then a batch the database refuses is lost", message)


def _shown(value: str) -> str:
    """A URL as an error may show it: what precedes an ``@`` may be a password."""
    return f"***@{value.rsplit('@', 1)[1]}" if "@" in value else value


def _cannot_be_made(directory: str) -> str | None:
    """Why the spool's directory could not be made when it is needed, or None.

    The spool is made only when the database refuses a batch, and a batch that cannot be
    spooled then is lost: the directory, or the nearest that exists on its path, must be a
    directory this user may write (checked without making anything).
    """
    existing = Path(directory).expanduser().absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} cannot be written"
    return None


def _writable(name: str, directory: str) -> None:
    """The directory is made (the crawl would make it at its first write) and a file can be
    written in it."""
    path = Path(directory).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CommandError(
            f"{name} {directory} cannot be written ({exc.strerror or exc}): point "
            f"-s {name}=... at a directory this user can write",
            EXIT_OUTPUT,
        ) from None
