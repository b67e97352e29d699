"""Drops repeats within one crawl: one study per study id, one thread per post id.

The same study is served under several slugs; the first one seen wins and the
others are counted, so that one id never becomes two rows or two writes.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from tressless_crawler.exceptions import DuplicateItem
from tressless_crawler.items import StudyItem, ThreadItem
from tressless_crawler.stats import DEDUPE_DROPPED

logger = logging.getLogger(__name__)


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen: dict[str, set[str]] = {"study": set(), "thread": set()}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, StudyItem):
            kind, key = "study", item.study_id
        elif isinstance(item, ThreadItem):
            kind, key = "thread", item.post_id
        else:
            return item
        seen = self.seen[kind]
        if key in seen:
            if self.stats is not None:
                self.stats.inc_value(DEDUPE_DROPPED.key(kind))
            logger.debug("Dropped duplicate %s %s (%s)", kind, key, item.url)
            raise DuplicateItem(f"duplicate {kind} {key}: {item.url}")
        seen.add(key)  # type: ignore[arg-type]
        return item
