"""The defaults of the project's own settings: the values in ``tressless_crawler/settings.py``.

Components read their settings from the crawler. One built without the project's settings
(``scrapy.utils.test.get_crawler()`` in tests, an application embedding a spider) gets the
project's default of a setting it does not set from here, so that no component keeps a copy
of a default. ``docs/settings.md`` is generated from the same module
(:mod:`tressless_crawler.settings_doc`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from scrapy.settings import BaseSettings

from tressless_crawler import settings as _project
from tressless_crawler.exceptions import SettingValueError

DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {name: value for name, value in vars(_project).items() if name.isupper()}
)


def get(settings: BaseSettings, name: str) -> Any:
    """The setting, or its project default when it is unset or empty."""
    value = settings.get(name)
    return DEFAULTS[name] if value is None or value == "" else value


def getint(settings: BaseSettings, name: str) -> int:
    try:
        return settings.getint(name, DEFAULTS[name])
    except ValueError:
        raise bad_value(settings, name, "a whole number") from None


def getfloat(settings: BaseSettings, name: str) -> float:
    try:
        return settings.getfloat(name, DEFAULTS[name])
    except ValueError:
        raise bad_value(settings, name, "a number") from None


def getbool(settings: BaseSettings, name: str) -> bool:
    try:
        return settings.getbool(name, DEFAULTS[name])
    except ValueError:
        raise bad_value(settings, name, "1/0 or true/false") from None


def bad_value(settings: BaseSettings, name: str, kind: str) -> SettingValueError:
    """The one-line error for a setting that does not read as ``kind``."""
    return SettingValueError(name, settings.get(name), kind, DEFAULTS[name])
