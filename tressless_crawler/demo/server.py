"""A static-site HTTP server for tests and the demo: the fixture site on 127.0.0.1.

Crawls in tests must never touch the internet, so they run against the project's own
fixture site (``tests/fixtures/site``) served here on a free local port. Besides serving
files it behaves like a real origin where the crawler cares: real 404s, strong ETags and
Last-Modified on every 200 with 304 answers to conditional requests, HEAD, and a
``{{SITE_URL}}`` placeholder in robots.txt and sitemaps replaced by the server's own URL
(absolute URLs there are required, but the port is only known at serve time).

Every request is logged in ``server.requests`` so tests can count fetches, and a ``faults``
map (path -> :class:`Fault` or a callable returning one) injects misbehaviour: error
statuses with ``Retry-After``, delays that trip timeouts, reset connections, truncated
bodies, wrong charsets, redirect loops, huge bodies.

Reddit-form threads are answered as Reddit answers them (every URL form of a thread, busy
threads cut down behind ``more`` stubs, ``/api/morechildren`` and comment permalinks): see
:mod:`tressless_crawler.demo.reddit_api`.

Run it by hand with ``python -m tressless_crawler.demo.server ROOT [--port N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import hashlib
import json
import logging
import mimetypes
import socket
import struct
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from tressless_crawler.demo.reddit_api import RedditThreads

logger = logging.getLogger(__name__)

PLACEHOLDER = "{{SITE_URL}}"
# Written by the builder for the server and the tests; not part of the public site.
LASTMOD_FILE = "lastmod.json"
PRIVATE_FILES = frozenset({LASTMOD_FILE, "manifest.json"})
# Used as Last-Modified for files without a sitemap <lastmod>: fixed so responses are stable.
DEFAULT_LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}
# Only these are templated: substituting inside pages would hide relative-link bugs.
TEMPLATED_SUFFIXES = frozenset({".txt", ".xml"})
NOT_FOUND_BODY = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 Not Found</title></head>'
    b"<body><h1>404</h1><p>This page could not be found.</p></body></html>\n"
)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it.

    ``path`` is the raw target, query included; ``status`` is 0 when no response was sent
    (a ``reset`` fault, or the server stopped during a ``delay``).
    """

    method: str
    path: str
    status: int
    user_agent: str = ""


@dataclass
class Fault:
    """A custom response for one path.

    ``status=None`` keeps the normal response (its status, body and validators) and only
    applies the other knobs, e.g. a ``delay`` before a good page or a ``Content-Type``
    header with a wrong charset. ``body`` replaces the body; ``headers`` are added to or
    override the response headers. ``truncate=N`` announces the full Content-Length, sends
    N bytes and closes the connection. ``reset`` aborts the connection with a TCP RST
    before any byte is sent, or, with ``truncate``, right after the N bytes (a connection
    reset mid-body). ``times`` limits the fault to the first N requests of the
    path, after which the normal response is served again (for retry tests).
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str | None = None
    delay: float = 0.0
    truncate: int | None = None
    reset: bool = False
    times: int | None = None


@dataclass(frozen=True)
class FaultRequest:
    """What a fault callable learns about the request; ``hit`` counts from 1 per path.

    ``reused``: the request came on a kept-alive connection that served an earlier one. An HTTP
    client re-sends a request at once when such a connection is closed before any answer.
    """

    method: str
    path: str
    headers: dict[str, str]
    hit: int
    reused: bool = False


FaultHook = Fault | Callable[[FaultRequest], Fault | None]


@dataclass
class Response:
    """A response before it goes on the wire (faults edit it there)."""

    status: int
    headers: dict[str, str]
    body: bytes


def http_date(value: str) -> str:
    """An RFC 7231 date from a sitemap ``<lastmod>`` (``YYYY-MM-DD`` or W3C datetime)."""
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return email.utils.format_datetime(parsed.astimezone(UTC), usegmt=True)


def _parse_http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed is not None else None


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as RFC 7232 asks for If-None-Match."""
    tags = [tag.strip() for tag in header.split(",")]
    bare = etag.removeprefix("W/")
    return "*" in tags or any(tag.removeprefix("W/") == bare for tag in tags)


class _Handler(BaseHTTPRequestHandler):
    """Routes every request through :meth:`SiteServer.handle`; never logs to stderr."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are dropped after this, so no thread waits forever.
    timeout = 15
    served = 0  # requests received on this connection so far

    def parse_request(self) -> bool:
        self.served += 1
        return super().parse_request()

    def version_string(self) -> str:
        return "fixture-site/1.0"

    def setup(self) -> None:
        super().setup()
        self.server.site.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the client (or a reset fault) already closed the socket
        finally:
            self.server.site.track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.site.handle(self)

    def do_HEAD(self) -> None:
        self.server.site.handle(self)

    def _method_not_allowed(self) -> None:
        self.server.site.handle(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a handler sleeping in a delay fault

    def __init__(self, address: tuple[str, int], site: SiteServer) -> None:
        self.site = site
        super().__init__(address, _Handler)


class SiteServer:
    """Serves ``root`` over HTTP from a background thread (see the module docstring).

    Use as a context manager or call :meth:`start` / :meth:`stop`. ``port=0`` picks a
    free port; read it back from :attr:`port` or :attr:`url` once started.
    """

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: MutableMapping[str, FaultHook] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self._requested_port = port
        self.faults: MutableMapping[str, FaultHook] = faults if faults is not None else {}
        self._requests: list[RequestRecord] = []
        self._fault_hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lastmod = self._load_lastmod()
        self.reddit = RedditThreads(self.root)

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> SiteServer:
        if self._httpd is not None:
            return self
        if not self.root.is_dir():
            raise FileNotFoundError(f"site root {self.root} is not a directory")
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll interval
            name=f"site-server:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("Serving %s at %s", self.root, self.url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The site's root URL without a trailing slash, e.g. ``http://127.0.0.1:8123``."""
        return f"http://{self.host}:{self.port}"

    # --- request log ---------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._fault_hits.clear()

    def count(self, path: str | None = None, method: str | None = None) -> int:
        """How many requests matched ``path`` (raw target) and ``method``."""
        return sum(
            1
            for record in self.requests
            if (path is None or record.path == path) and (method is None or record.method == method)
        )

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # --- serving -------------------------------------------------------------------
    def handle(self, handler: _Handler) -> None:
        """Answer one request: a fault when one applies, else the static file."""
        path = unquote(urlsplit(handler.path).path) or "/"
        fault = self._fault_for(handler, path)
        if fault is not None and fault.delay > 0 and self._stopping.wait(fault.delay):
            self._record(handler, 0)
            handler.close_connection = True
            return  # server stopping: drop the request as a dead origin would
        if fault is not None and fault.reset and fault.truncate is None:
            self._record(handler, 0)
            self._reset(handler)
            return
        if fault is not None and fault.status is not None:
            response = Response(
                fault.status, {"Content-Type": CONTENT_TYPES[".html"]}, _status_page(fault.status)
            )
        elif handler.command not in ("GET", "HEAD"):
            handler.close_connection = True  # its request body is left unread
            response = Response(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"}, b"")
        else:
            query = urlsplit(handler.path).query
            response = self.respond(path, dict(handler.headers.items()), query)
        if fault is not None:
            response.headers.update(fault.headers)
            if fault.body is not None:
                body = fault.body
                response.body = body.encode("utf-8") if isinstance(body, str) else body
        self._record(handler, response.status)
        self._send(handler, response, fault.truncate if fault is not None else None)
        if fault is not None and fault.reset and fault.truncate is not None:
            self._reset(handler)

    def respond(self, path: str, headers: dict[str, str], query: str = "") -> Response:
        """The normal response for ``path``: file, 304 or 404 (no faults applied).

        Reddit's thread endpoints are answered from the thread files
        (tressless_crawler.demo.reddit_api).
        """
        file = None if self.reddit.handles(path) else self._resolve(path)
        answer = self.reddit.answer(path, query) if file is None else None
        if file is None and answer is None:
            return Response(
                HTTPStatus.NOT_FOUND, {"Content-Type": CONTENT_TYPES[".html"]}, NOT_FOUND_BODY
            )
        if answer is not None:
            body, suffix = answer[1], ".json"
        else:
            assert file is not None
            body, suffix = file.read_bytes(), file.suffix
        if suffix in TEMPLATED_SUFFIXES:
            body = body.replace(PLACEHOLDER.encode(), self.url.encode())
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        last_modified = self._last_modified(path)
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if self._not_modified(headers, etag, last_modified):
            return Response(HTTPStatus.NOT_MODIFIED, validators, b"")
        content_type = CONTENT_TYPES.get(suffix) or (
            mimetypes.guess_type(path)[0] or "application/octet-stream"
        )
        if suffix == ".html" and not _is_utf8(body):
            # A page in another charset declares it itself (a legacy page's <meta http-equiv>).
            content_type = "text/html"
        return Response(HTTPStatus.OK, {"Content-Type": content_type, **validators}, body)

    def _resolve(self, path: str) -> Path | None:
        """``/x/y`` -> ``root/x/y/index.html`` if it exists, else ``root/x/y``."""
        relative = path.strip("/")
        if relative in PRIVATE_FILES:
            return None
        candidate = (self.root / relative).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None  # ../ escapes
        if (candidate / "index.html").is_file():
            return candidate / "index.html"
        if candidate.is_file() and not path.endswith("/"):
            return candidate
        return None

    def _last_modified(self, path: str) -> str:
        key = "/" + path.strip("/")
        value = self._lastmod.get(key)
        return http_date(value) if value else DEFAULT_LAST_MODIFIED

    @staticmethod
    def _not_modified(headers: dict[str, str], etag: str, last_modified: str) -> bool:
        lowered = {name.lower(): value for name, value in headers.items()}
        if "if-none-match" in lowered:  # takes precedence over If-Modified-Since
            return _etag_matches(lowered["if-none-match"], etag)
        since = _parse_http_date(lowered.get("if-modified-since", ""))
        modified = _parse_http_date(last_modified)
        return since is not None and modified is not None and modified <= since

    def _load_lastmod(self) -> dict[str, str]:
        file = self.root / LASTMOD_FILE
        if not file.is_file():
            return {}
        data = json.loads(file.read_text(encoding="utf-8"))
        return {str(key): str(value) for key, value in data.items()}

    def _fault_for(self, handler: _Handler, path: str) -> Fault | None:
        """The fault for ``path`` (with or without a trailing slash), counting its hits."""
        keys = [path] if path == "/" else [path, path.rstrip("/"), path.rstrip("/") + "/"]
        key = next((key for key in keys if key in self.faults), None)
        if key is None:
            return None
        hook = self.faults[key]
        with self._lock:
            hit = self._fault_hits.get(key, 0) + 1
            self._fault_hits[key] = hit
        if isinstance(hook, Fault):
            fault: Fault | None = hook
        else:
            headers = dict(handler.headers.items())
            reused = handler.served > 1
            fault = hook(FaultRequest(handler.command, path, headers, hit, reused))
        if fault is not None and fault.times is not None and hit > fault.times:
            return None
        return fault

    # --- wire ----------------------------------------------------------------------
    def _record(self, handler: _Handler, status: int) -> None:
        record = RequestRecord(
            handler.command, handler.path, int(status), handler.headers.get("User-Agent", "")
        )
        with self._lock:
            self._requests.append(record)
        logger.debug("%s %s -> %s", record.method, record.path, record.status)

    @staticmethod
    def _send(handler: _Handler, response: Response, truncate: int | None) -> None:
        status = int(response.status)
        # Later headers win, case-insensitively, so a fault can override Content-Type.
        headers = {name.lower(): (name, value) for name, value in response.headers.items()}
        no_body = status == HTTPStatus.NOT_MODIFIED or 100 <= status < 200 or status == 204
        try:
            handler.send_response(status)
            for name, value in headers.values():
                if name.lower() != "content-length":
                    handler.send_header(name, value)
            if not no_body:
                length = headers.get("content-length", ("", str(len(response.body))))[1]
                handler.send_header("Content-Length", length)
            if truncate is not None:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            if handler.command == "HEAD" or no_body:
                return
            body = response.body if truncate is None else response.body[:truncate]
            for chunk in _chunks(body):
                handler.wfile.write(chunk)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True  # the client gave up (e.g. its timeout fired)

    @staticmethod
    def _reset(handler: _Handler) -> None:
        """Abort the connection with RST (SO_LINGER 0) so the client sees a reset."""
        handler.close_connection = True
        try:
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.connection.close()
        except OSError:
            pass


def _status_page(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"<!DOCTYPE html>\n<html><body><h1>{status} {phrase}</h1></body></html>\n".encode()


def _chunks(body: bytes, size: int = 1 << 16) -> Iterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), size):
        yield bytes(view[start : start + size])


def main(argv: list[str] | None = None) -> None:
    """Serve a site directory until interrupted."""
    parser = argparse.ArgumentParser(description="Serve a static fixture site over HTTP.")
    parser.add_argument(
        "root", type=Path, help="the site directory (e.g. tressless_crawler/demo/site)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = SiteServer(args.root, host=args.host, port=args.port).start()
    logger.info("Serving %s at %s (Ctrl-C to stop)", server.root, server.url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        logger.info("Stopping")
    finally:
        server.stop()


if __name__ == "__main__":
    main()


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
