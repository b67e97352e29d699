"""Links as the page parsers use them: hrefs made absolute, study and thread ids, the canonical
link of a page."""

from __future__ import annotations

import re
import string
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree

from tressless_crawler.urls import canonical_url, study_id_from_url, thread_id_from_url

__all__ = ["absolute", "canonical_hrefs", "page_url", "resolve", "study_id", "thread_id"]

# <link rel="canonical" href>: the word in rel in any ASCII case, between XML blanks; what the
# XPath //link[contains(concat(' ', translate(normalize-space(@rel), <A-Z>, <a-z>), ' '),
# ' canonical ')]/@href selects.
CANONICAL_REL = "canonical"
REL_FOLD = str.maketrans(string.ascii_uppercase + "\t\n\r", string.ascii_lowercase + "   ")
# A site-relative link of plain path segments: nothing in it for urljoin to resolve (dot or
# empty segments) or for urlsplit to split off or remove (";", "?", "#", ":", whitespace).
PLAIN_PATH_RE = re.compile(r"/|(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_.~%+-]+)+/?")
WEB_SCHEMES = ("http", "https")
# An absolute http(s) URL in lower case of a plain host, port and path: urljoin gives it back
# as it is, whatever the base.
PLAIN_URL_RE = re.compile(rf"https?://[a-z0-9.-]+(?::[0-9]+)?(?:{PLAIN_PATH_RE.pattern})?")


def page_url(link_elements: list[etree._Element], url: str, study: str) -> str:
    """The canonical link when it names study ``study`` on the same site, else ``url``."""
    fetched = canonical_url(url)
    for href in canonical_hrefs(link_elements):
        candidate = resolve(href, fetched)
        if candidate and study_id(candidate) == study and _site(candidate) == _site(fetched):
            return candidate
    return fetched


def canonical_hrefs(link_elements: list[etree._Element]) -> list[str]:
    """The hrefs of the ``rel="canonical"`` ones among the page's ``<link>`` elements."""
    hrefs = []
    for element in link_elements:
        rel = (element.get("rel") or "").translate(REL_FOLD)
        href = element.get("href")
        if href is not None and CANONICAL_REL in rel.split(" "):
            hrefs.append(href)
    return hrefs


def study_id(url: str | None) -> str | None:
    """The study id of a URL; None for other and malformed URLs (``http://[``)."""
    try:
        return study_id_from_url(url or "")
    except ValueError:
        return None


def thread_id(url: str | None) -> str | None:
    """The thread id of a URL; None for other and malformed URLs."""
    try:
        return thread_id_from_url(url or "")
    except ValueError:
        return None


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def resolve(href: str | None, base: str, *, https: bool = True) -> str | None:
    """An absolute canonical http(s) URL for ``href``, or None for empty/script/anchor links.

    A site-relative path of plain segments, the usual link of a list entry, is put on the
    base's origin without ``urljoin``/``urlsplit``: the same URL, and without this the study
    parser takes 1.13x as long on a benchmark site (docs/parsing.md, "Cost").
    """
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    try:
        if PLAIN_PATH_RE.fullmatch(href):
            origin = _canonical_origin(base, https)
            if origin is not None:
                return f"{origin}{href.rstrip('/') or '/'}"
        joined = canonical_url(href, base, https=https)
        return joined if urlsplit(joined).scheme in WEB_SCHEMES else None
    except ValueError:  # a malformed link costs the link, not the page
        return None


# The page's URL, split once for all the links put on it.
_split_base = lru_cache(maxsize=64)(urlsplit)


@lru_cache(maxsize=64)
def _canonical_origin(base: str, https: bool) -> str | None:
    """``scheme://host`` of ``base`` as ``canonical_url`` writes it, for ``resolve`` to put a
    plain path on; None when that is not for the shortcut (not http(s), a non-ASCII host)."""
    origin = _split_base(base)
    if origin.scheme not in WEB_SCHEMES or not origin.netloc.isascii():
        return None
    upgrade = https and origin.scheme == "http" and origin.port is None
    return f"{'https' if upgrade else origin.scheme}://{origin.netloc.lower()}"


def absolute(href: str | None, base: str) -> str | None:
    """``href`` made absolute, query kept (image URLs need it); None unless http(s).

    A plain absolute URL is kept, and a site-relative path of plain segments (the study's
    image) is put on the base's origin, without ``urljoin``: the same URLs
    (tests/unit/test_parser_shortcuts.py).
    """
    href = (href or "").strip()
    if not href or href.startswith(("#", "data:", "javascript:")):
        return None
    try:
        if PLAIN_URL_RE.fullmatch(href):  # the source link, as a rule
            _split_base(base)  # a malformed base fails urljoin all the same
            return href
        if PLAIN_PATH_RE.fullmatch(href):  # what urljoin comes to for a plain path
            origin = _split_base(base)
            if origin.scheme in WEB_SCHEMES and origin.netloc:
                return f"{origin.scheme}://{origin.netloc}{href}"
        joined = urljoin(base, href)
        return joined if urlsplit(joined).scheme in WEB_SCHEMES else None
    except ValueError:
        return None
