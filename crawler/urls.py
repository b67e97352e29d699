"""URL rules of the site: canonical forms, ids from slugs, host checks."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# /research/<slug>-<id>: the id is the last hyphen-separated token, 3-4 letters/digits.
STUDY_PATH_RE = re.compile(r"^/research/(?:(?P<slug>[^/]*?)-)?(?P<id>[A-Za-z0-9]{3,4})/?$")
LISTING_PATH_RE = re.compile(r"^/search/(?:research/[^/]+(?:/\d+)?|[^/]+)/?$")
REDDIT_COMMENTS_RE = re.compile(r"/comments/(?P<id>[a-z0-9]+)(?:/|$)", re.I)
COMMUNITY_LISTING_RE = re.compile(r"^/community(?:/page/\d+)?/?$")
# /community/<slug>-<id> and /community/post/<slug>-<id>
SITE_THREAD_RE = re.compile(r"^/community/(?:post/)?[^/]*-(?P<id>[A-Za-z0-9]{3,})/?$")


def canonical_url(url: str, base: str | None = None, *, https: bool = True) -> str:
    """Absolute URL without query or fragment; http becomes https when ``https``."""
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if https and scheme == "http":
        scheme = "https"
    path = parts.path or "/"
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, parts.netloc.lower(), path, "", ""))


def _path(url: str) -> str:
    """The URL's path; "" for a malformed URL (e.g. ``http://[``) instead of an exception."""
    if _plain(url):
        # What urlsplit comes to for the usual links, without its general parse: nothing to
        # strip or remove, no query, fragment or bracketed host (tests/unit/test_urls.py).
        if url[:1] == "/" and url[1:2] != "/":
            return url
        for prefix in _HTTP_PREFIXES:
            if url.startswith(prefix):
                at = url.find("/", len(prefix))
                return url[at:] if at >= 0 else ""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


_HTTP_PREFIXES = ("https://", "http://")


def _plain(url: str) -> bool:
    """Printable ASCII (no blank but the space, no control) without ``?#[]``."""
    return (
        url.isascii()
        and url.isprintable()
        and "?" not in url
        and "#" not in url
        and "[" not in url
        and "]" not in url
    )


# Pure functions of the URL, asked about the same links over and over (every line of a list
# entry, every page citing a study): cached, bounded.
@lru_cache(maxsize=4096)
def study_id_from_url(url: str) -> str | None:
    """The study id of a ``/research/<slug>-<id>`` URL, else None."""
    match = STUDY_PATH_RE.match(_path(url))
    return match.group("id") if match else None


def study_slug_from_url(url: str) -> str | None:
    """The slug (without the id) of a study URL, else None."""
    match = STUDY_PATH_RE.match(_path(url))
    return (match.group("slug") or None) if match else None


def is_study_url(url: str) -> bool:
    return study_id_from_url(url) is not None


def is_listing_url(url: str) -> bool:
    return bool(LISTING_PATH_RE.match(_path(url)))


@lru_cache(maxsize=4096)
def thread_id_from_url(url: str) -> str | None:
    """The post id of a community thread URL (Reddit or site-hosted), else None."""
    path = _path(url)
    if path.endswith(".json"):
        path = path[: -len(".json")]
    match = REDDIT_COMMENTS_RE.search(path)
    if match:
        return match.group("id").lower()
    match = SITE_THREAD_RE.match(path)
    return match.group("id") if match else None


def valid_url(url: str) -> bool:
    """False for what ``Request(url)`` would refuse: ``http://[``, ``http://host:80x/``..."""
    try:
        urlsplit(url).port  # noqa: B018 - parsing the port is the check
        safe_url_string(url)
    except ValueError:
        return False
    return True


def join_url(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``; None for a malformed link."""
    try:
        url = urljoin(base, href.strip())
    except ValueError:
        return None
    return url if valid_url(url) else None


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def same_host(url: str, site_url: str) -> bool:
    return host_of(url) == host_of(site_url)


def is_http_url(url: str) -> bool:
    try:
        return urlsplit(url).scheme.lower() in ("http", "https")
    except ValueError:
        return False


def is_community_listing_url(url: str) -> bool:
    return bool(COMMUNITY_LISTING_RE.match(_path(url)))


def rebase_on_site(url: str, site_url: str) -> str:
    """A URL of SITE_URL's host moved onto SITE_URL's scheme and port; other URLs unchanged.

    Stored URLs are canonical (https) while the site may be served otherwise (tests, the demo).
    """
    parts, site = urlsplit(url), urlsplit(site_url)
    if parts.hostname and parts.hostname.lower() == (site.hostname or "").lower():
        return urlunsplit((site.scheme, site.netloc, parts.path, parts.query, ""))
    return url
