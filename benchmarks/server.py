"""A fast static server for benchmark sites: every response prepared in memory, asyncio protocol.

``tressless_crawler.demo.server.SiteServer`` (stdlib, one thread per connection, reads and hashes
each
file per request) is right for tests but would be the bottleneck of a crawl of thousands of
pages. This one loads the whole site at start-up and prepares each response once: headers
with a strong ``ETag`` (hash of the body) and ``Last-Modified`` (the sitemap ``<lastmod>`` from
``lastmod.json``, as SiteServer does), so a request costs a dictionary look-up and a write.

It behaves like SiteServer where a crawler cares: ``/x`` serves ``x/index.html`` (or the file
``x``), real 404s, HEAD, HTTP/1.1 keep-alive and pipelining, 304 answers to ``If-None-Match``
(weak comparison, takes precedence) and ``If-Modified-Since``, and ``{{SITE_URL}}`` in
robots.txt and sitemaps replaced by the server's own URL.

Counters for the benchmarks (not part of the site, never counted themselves):
``GET /__bench__/stats`` returns JSON (requests, by status, bytes sent, study pages) and
``GET /__bench__/reset`` zeroes them.

Run ``python benchmarks/server.py ROOT [--port N]``: it prints ``READY <url> <files>`` on
stdout once it listens, and serves until SIGTERM/SIGINT. Run it in its own process, so that
it never shares a GIL with the crawl it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import hashlib
import json
import signal
import socket
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

PLACEHOLDER = b"{{SITE_URL}}"
PRIVATE = frozenset({"lastmod.json", "manifest.json", "bench.json"})
TEMPLATED = (".txt", ".xml")
DEFAULT_LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
CONTENT_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".xml": b"application/xml; charset=utf-8",
    ".json": b"application/json; charset=utf-8",
    ".txt": b"text/plain; charset=utf-8",
    ".gz": b"application/gzip",
}
NOT_FOUND = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 Not Found</title></head>'
    b"<body><h1>404</h1><p>This page could not be found.</p></body></html>\n"
)
MAX_HEADER = 64 * 1024


def http_date(lastmod: str) -> str:
    parsed = datetime.fromisoformat(lastmod.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return email.utils.format_datetime(parsed.astimezone(UTC), usegmt=True)


class Resource:
    """One URL's prepared responses."""

    __slots__ = ("body", "etag", "last_modified", "modified_ts", "head_200", "head_304", "study")

    def __init__(self, body: bytes, content_type: bytes, last_modified: str, study: bool) -> None:
        self.body = body
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self.last_modified = last_modified
        self.modified_ts = email.utils.parsedate_to_datetime(last_modified).timestamp()
        self.study = study
        validators = f"ETag: {self.etag}\r\nLast-Modified: {last_modified}\r\n".encode()
        self.head_200 = (
            b"HTTP/1.1 200 OK\r\nServer: bench-site\r\nContent-Type: "
            + content_type
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n"
            + validators
        )
        self.head_304 = b"HTTP/1.1 304 Not Modified\r\nServer: bench-site\r\n" + validators


def load_site(root: Path, base_url: str) -> dict[str, Resource]:
    """URL path -> Resource for every public file under ``root``."""
    lastmod_file = root / "lastmod.json"
    lastmod = json.loads(lastmod_file.read_text()) if lastmod_file.is_file() else {}
    dates: dict[str, str] = {}
    site: dict[str, Resource] = {}
    for file in sorted(root.rglob("*")):
        if not file.is_file() or file.name in PRIVATE and file.parent == root:
            continue
        relative = file.relative_to(root).as_posix()
        if file.name == "index.html":
            path = "/" + relative[: -len("index.html")].rstrip("/")
        else:
            path = "/" + relative
        path = path if path != "" else "/"
        body = file.read_bytes()
        if file.suffix in TEMPLATED:
            body = body.replace(PLACEHOLDER, base_url.encode())
        key = "/" + path.strip("/")
        value = lastmod.get(key)
        if value:
            stamp = dates.get(value) or dates.setdefault(value, http_date(value))
        else:
            stamp = DEFAULT_LAST_MODIFIED
        content_type = CONTENT_TYPES.get(file.suffix, b"application/octet-stream")
        resource = Resource(body, content_type, stamp, path.startswith("/research/"))
        site[path] = resource
        if file.name == "index.html" and path != "/":
            site[path + "/"] = resource
    return site


def _etag_matches(header: str, etag: str) -> bool:
    bare = etag.removeprefix("W/")
    return any(t.strip() == "*" or t.strip().removeprefix("W/") == bare for t in header.split(","))


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_status: Counter[int] = Counter()
        self.study_requests = 0
        self.bytes_sent = 0
        self.conditional = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "study_requests": self.study_requests,
            "conditional_requests": self.conditional,
            "bytes_sent": self.bytes_sent,
        }


class HTTPProtocol(asyncio.Protocol):
    def __init__(self, site: dict[str, Resource], stats: Stats) -> None:
        self.site = site
        self.stats = stats
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.since_cache: dict[str, float | None] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER:
                    self._close()
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            if not self.handle(head):
                self._close()
                return

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.buffer = b""

    def handle(self, head: bytes) -> bool:
        """Answer one request; False when the connection must close after it."""
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        path = target.split("?", 1)[0].split("#", 1)[0] or "/"
        if "%" in path:
            from urllib.parse import unquote

            path = unquote(path)
        if path.startswith("/__bench__/"):
            return self.control(path, keep_alive)
        # A request body is refused; "Content-Length: 0" (aiohttp sends it on GETs) is no body.
        if headers.get("content-length", "0").strip() != "0" or "transfer-encoding" in headers:
            self.send(b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n", b"", 405, False)
            return False
        if method not in ("GET", "HEAD"):
            self.send(
                b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n", b"", 405, keep_alive
            )
            return keep_alive
        stats = self.stats
        resource = self.site.get(path)
        if resource is None:
            head_404 = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n"
            self.send(
                head_404, NOT_FOUND if method == "GET" else b"", 404, keep_alive, len(NOT_FOUND)
            )
            return keep_alive
        if resource.study:
            stats.study_requests += 1
        if self.not_modified(headers, resource):
            stats.conditional += 1
            self.send(resource.head_304, b"", 304, keep_alive, None)
            return keep_alive
        if "if-none-match" in headers or "if-modified-since" in headers:
            stats.conditional += 1
        self.send(resource.head_200, resource.body if method == "GET" else b"", 200, keep_alive, -1)
        return keep_alive

    def not_modified(self, headers: dict[str, str], resource: Resource) -> bool:
        match = headers.get("if-none-match")
        if match is not None:
            return _etag_matches(match, resource.etag)
        since = headers.get("if-modified-since")
        if since is None:
            return False
        if since not in self.since_cache:
            try:
                self.since_cache[since] = email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, IndexError):
                self.since_cache[since] = None
        stamp = self.since_cache[since]
        return stamp is not None and resource.modified_ts <= stamp

    def send(
        self, head: bytes, body: bytes, status: int, keep_alive: bool, length: int | None = 0
    ) -> None:
        """``length``: -1 means ``head`` already has Content-Length, None means no body."""
        assert self.transport is not None
        extra = b""
        if length is not None and length >= 0:
            extra = b"Content-Length: " + str(length).encode() + b"\r\n"
        extra += b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
        self.transport.write(head + extra)
        if body:
            self.transport.write(body)
        self.stats.requests += 1
        self.stats.by_status[status] += 1
        self.stats.bytes_sent += len(body)
        if not keep_alive:
            self.transport.close()

    def control(self, path: str, keep_alive: bool) -> bool:
        if path == "/__bench__/reset":
            self.stats.reset()
        body = json.dumps(self.stats.as_dict()).encode()
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + (
                b"\r\nConnection: keep-alive\r\n\r\n"
                if keep_alive
                else b"\r\nConnection: close\r\n\r\n"
            )
            + body
        )
        if not keep_alive:
            self.transport.close()
        return keep_alive


async def serve(root: Path, host: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    url = f"http://{host}:{sock.getsockname()[1]}"
    site = load_site(root, url)
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HTTPProtocol(site, stats), sock=sock, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {url} {len(site)}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a benchmark site from memory.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        sys.exit(f"{args.root} is not a directory")
    asyncio.run(serve(args.root, args.host, args.port))


if __name__ == "__main__":
    main()
