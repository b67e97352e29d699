"""Drops items that cannot be stored, counting each drop by its reason."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from tressless_crawler.items import StudyItem, ThreadItem
from tressless_crawler.stats import VALIDATE_DROPPED, VALIDATE_PASSED
from tressless_crawler.urls import is_http_url

logger = logging.getLogger(__name__)

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STUDY_ID_RE = re.compile(r"^[A-Za-z0-9]{3,4}$")


def study_problem(item: Mapping[str, Any]) -> str | None:
    """The reason a study cannot be stored, or None when it can."""
    if not item.get("study_id"):
        return "missing_study_id"
    if not STUDY_ID_RE.match(item["study_id"]):
        return "bad_study_id"
    if not item.get("title"):
        return "missing_title"
    if not item.get("url") or not is_http_url(item["url"]):
        return "bad_url"
    if item.get("published") and not MONTH_RE.match(item["published"]):
        return "bad_published"
    return None


def thread_problem(item: Mapping[str, Any]) -> str | None:
    if not item.get("post_id"):
        return "missing_post_id"
    if not item.get("title"):
        return "missing_title"
    if not item.get("url") or not is_http_url(item["url"]):
        return "bad_url"
    return None


def fields_of(item: Any) -> Mapping[str, Any]:
    """An item's fields by name: its ``__dict__`` for a dataclass (what ``ItemAdapter`` reads,
    without building one per item), else an ``ItemAdapter``."""
    fields = getattr(item, "__dict__", None)
    return fields if fields is not None else ItemAdapter(item)


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, StudyItem):
            problem = study_problem(fields_of(item))
        elif isinstance(item, ThreadItem):
            problem = thread_problem(fields_of(item))
        else:
            return item
        if problem is None:
            if self.stats is not None:
                self.stats.inc_value(VALIDATE_PASSED)
            return item
        if self.stats is not None:
            self.stats.inc_value(VALIDATE_DROPPED.key(problem))
        url = getattr(item, "url", None)
        logger.warning("Dropped %s from %s: %s", type(item).__name__, url, problem)
        raise DropItem(f"{problem}: {url}")
