"""Settings checked before a command runs: a value that cannot be read as the kind of value its
setting takes (``-s STORE_BATCH_SIZE=abc``, ``-s ROBOTSTXT_OBEY=yes``) is refused with one line
naming the setting, before a crawl opens its run row or takes its lock.

The kind is that of the setting's default: true/false, a whole number for the project's int
defaults (:mod:`tressless_crawler.defaults`, read with ``getint``), a number otherwise (Scrapy
reads several of its int defaults as floats: ``DOWNLOAD_DELAY=0.5``). Only text values are
checked: those are what a user typed.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings, default_settings

from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.exceptions import SettingValueError


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
