"""URL rules of the site: canonical forms, ids from slugs, host checks."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
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
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, base: str | None = None, *, https: bool = True) -> str:
    """Absolute URL without query or fragment; http becomes https when ``https``.

    Except for an http URL that names its port: https on that port would be another server
    (a site served over http on a port of its own, as the demo and the tests are, keeps http).
    The spiders put the site's own URLs on SITE_URL's scheme (:func:`on_site_scheme`).
    """
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if https and scheme == "http" and parts.port is None:
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


def is_http_url(url: str) -> bool:
    try:
        return urlsplit(url).scheme.lower() in ("http", "https")
    except ValueError:
        return False


def is_community_listing_url(url: str) -> bool:
    return bool(COMMUNITY_LISTING_RE.match(_path(url)))


# -- origins: what may be fetched -----------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port (the default port of the scheme when the URL names none)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme) == self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")


def origin_of(url: str) -> Origin | None:
    """The origin of an http(s) URL with a host; None for anything else or a malformed URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return Origin(scheme, host, port if port is not None else DEFAULT_PORTS[scheme])


def _site_variants(origin: Origin, www: bool) -> set[Origin]:
    """``origin``, its http/https twin when it is on the default port, its www. twin."""
    found = {origin}
    if DEFAULT_PORTS[origin.scheme] == origin.port:
        found |= {Origin(scheme, origin.host, port) for scheme, port in DEFAULT_PORTS.items()}
    if www and _named_host(origin.host):
        twin = origin.host[4:] if origin.host.startswith("www.") else "www." + origin.host
        found |= {Origin(o.scheme, twin, o.port) for o in found}
    return found


def _named_host(host: str) -> bool:
    """A DNS name with a dot (not an IP address, not ``localhost``): it may have a www. twin."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return False


def site_origins(site_url: str) -> frozenset[Origin]:
    """The site's own origins: SITE_URL's, and where it names no port the http/https twin on
    the default port; with or without ``www.``. Another port is another server."""
    origin = origin_of(site_url)
    return frozenset(_site_variants(origin, www=True)) if origin else frozenset()


def host_origins(entry: str) -> frozenset[Origin]:
    """The origins one COMMUNITY_HOSTS entry allows.

    ``host`` allows http and https on their default ports, ``host:port`` both schemes on that
    port, ``scheme://host[:port]`` that origin (and its twin when on the default port).
    """
    entry = entry.strip().lower()
    if not entry:
        return frozenset()
    if "://" in entry:
        origin = origin_of(entry)
        return frozenset(_site_variants(origin, www=False)) if origin else frozenset()
    try:
        parts = urlsplit("//" + entry)
        port = parts.port
    except ValueError:
        return frozenset()
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return frozenset()
    if port is None:
        return frozenset(Origin(scheme, host, p) for scheme, p in DEFAULT_PORTS.items())
    return frozenset(Origin(scheme, host, port) for scheme in DEFAULT_PORTS)


class Origins:
    """A set of origins a crawl may fetch from; ``allows(url)`` is the admission check."""

    def __init__(self, origins: frozenset[Origin] | set[Origin]) -> None:
        self.origins = frozenset(origins)
        self.hosts = sorted({o.host for o in self.origins})

    @classmethod
    def for_site(cls, site_url: str, extra_hosts: list[str] | None = None) -> Origins:
        """SITE_URL's own origins and those of ``extra_hosts`` (COMMUNITY_HOSTS entries)."""
        found = set(site_origins(site_url))
        for entry in extra_hosts or []:
            found |= host_origins(entry)
        return cls(frozenset(found))

    def allows(self, url: str) -> bool:
        origin = origin_of(url)
        return origin is not None and origin in self.origins

    def __str__(self) -> str:
        return ", ".join(sorted(str(o) for o in self.origins))


def rebase_on_site(url: str, site_url: str) -> str:
    """A URL of the site's own origins moved onto SITE_URL's scheme and port; others unchanged.

    Also moved: what earlier versions stored for a site served over http, the same host and
    port with https. A URL on another port of the site's host is another server's: unchanged.
    """
    site = urlsplit(site_url)
    origin, site_origin = origin_of(url), origin_of(site_url)
    if origin is None or site_origin is None:
        return url
    legacy = Origin("https", site_origin.host, site_origin.port)
    if origin in site_origins(site_url) or (site_origin.scheme == "http" and origin == legacy):
        parts = urlsplit(url)
        return urlunsplit((site.scheme, site.netloc, parts.path, parts.query, ""))
    return url


# A URL whose answer from on_site_scheme depends on its origin alone: a plain scheme and host
# (and port), then a path of characters urlsplit and urlunsplit keep as they are, no query.
_PLAIN_URL_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.:-]+)/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*\Z"
)


def on_site_scheme(url: str, site_url: str) -> str:
    """A URL of SITE_URL's host and own origins given SITE_URL's scheme and port.

    Canonical URLs are https, but a site served over plain http (a mirror) can only be
    opened over http: its pages are stored as SITE_URL says. Other URLs are unchanged.
    The crawl of a mirror asks this of every link of every page: a plain URL's answer is
    worked out once per origin (``_site_prefix``); a property test holds it to the long way.
    """
    plain = _PLAIN_URL_RE.match(url)
    if plain is None:
        return _on_site_scheme(url, site_url)
    prefix = _site_prefix(plain.group(1), site_url)
    return url if prefix is None else prefix + url[plain.end(1) :]


@lru_cache(maxsize=256)
def _site_prefix(origin: str, site_url: str) -> str | None:
    """What ``on_site_scheme`` puts in place of ``origin`` (scheme://host[:port]) before a plain
    path; None when it keeps the URL as it is."""
    probe = origin + "/"
    result = _on_site_scheme(probe, site_url)
    return None if result == probe else result[:-1]


def _on_site_scheme(url: str, site_url: str) -> str:
    origin, site = origin_of(url), origin_of(site_url)
    if origin is None or site is None or origin.host != site.host or origin == site:
        return url
    if origin not in site_origins(site_url):
        return url
    parts, site_parts = urlsplit(url), urlsplit(site_url)
    return urlunsplit((site_parts.scheme, site_parts.netloc, parts.path, parts.query, ""))
