"""Study pages parsed in a worker process, so that a crawl uses a second core.

With ``PARSE_WORKERS = N`` (N > 0) the studies spider hands each study page's body to one of N
worker processes, which run :func:`tressless_crawler.parsers.study.read_study` on it and send
back its result; the item then goes through the pipelines and the store in the crawl's own
process as before. Only the parse moves: the parser is a pure function of the page's bytes
and URL, so the items are the same, and what is stored, when and by whom does not change (the
crawl's process stays the database's only writer; a worker holds nothing that a kill could
lose). Settings read: ``PARSE_WORKERS`` (``auto``: one worker where a second core is free
and the crawl is not paced, see :func:`workers_for`), ``AUTOTHROTTLE_ENABLED``,
``DOWNLOAD_DELAY``.

The workers are forked from the crawl's process when the spider is made, before the crawl
has a thread of its own (the parser is imported already and the crawl's memory shared, so a
worker starts in milliseconds; nothing the crawl made is collected in it, and it ignores the
Ctrl-C the crawl handles); where the process cannot fork they are fresh interpreters
(``python -m tressless_crawler.spiders.parse_worker``) started at the first page. Either way
they talk over two pipes (a page goes as its bytes behind a small header, the answer comes back
as a length-prefixed pickle); the crawl reads and writes the pipes from
its event loop (no thread of its own, so no GIL contention with the reactor). A worker's log
records are sent back with each answer and logged by the crawl. A worker that dies (killed,
out of memory) costs no page: what it had not answered is parsed in the crawl's process, and
so is everything after (logged once). A worker exits when its input pipe closes, including
when the crawl is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from tressless_crawler.items import Drop, StudyItem
from tressless_crawler.parsers.study import read_study

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# A request: its number, whether the page is text (else bytes), the sizes of the URL and the
# page, then both as bytes (not pickled: a page is 50 KB). An answer: the size of its pickle.
REQUEST = struct.Struct("!IBII")
PIPE_SIZE = 1 << 20  # Linux's default pipe-max-size for an unprivileged process
HEADER = struct.Struct("!I")
Parsed = tuple[StudyItem | Drop, tuple[str, ...]]
# (logger name, level, message) of the records a parse logged
LogRecords = list[tuple[str, int, str]]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _can_fork() -> bool:
    """Whether a worker may be forked now: the platform forks and only this thread runs."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


def workers_for(settings: BaseSettings) -> int:
    """The parse workers a crawl starts: ``PARSE_WORKERS``, or for ``auto`` one where a second
    core is free and nothing paces the crawl, else none.

    A paced crawl (AutoThrottle, or a DOWNLOAD_DELAY: the real site's defaults) waits on the
    network and its parse costs nothing it would feel, so it spares the worker's memory (about
    30 MB); an unpaced one is bound by its own process's CPU, of which the parse is a third.
    """
    # Here, not at the top: a worker process runs this module, and these import Scrapy, which
    # would double its start-up for nothing it uses.
    from tressless_crawler import defaults
    from tressless_crawler.exceptions import CommandError
    from tressless_crawler.exit_codes import EXIT_USAGE

    value = defaults.get(settings, "PARSE_WORKERS")
    text = str(value).strip().lower()
    if text == "auto":
        paced = settings.getbool("AUTOTHROTTLE_ENABLED") or settings.getfloat("DOWNLOAD_DELAY") > 0
        return 1 if not paced and usable_cores() >= 2 else 0
    try:
        workers = int(text)
    except ValueError:
        workers = -1
    if workers < 0:
        raise CommandError(
            f"PARSE_WORKERS={value!r} is not a number of worker processes "
            "(use auto, 0 to parse in the crawl's process, or 1, 2, ...)",
            EXIT_USAGE,
        )
    return workers


# --- The worker's side ----------------------------------------------------------------------
class _Collect(logging.Handler):
    """Keeps the records logged during one parse, to be sent back with its answer."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: LogRecords = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.records.append((record.name, record.levelno, text))


def _requests(stream: BinaryIO) -> Iterator[tuple[int, str | bytes, str]]:
    while True:
        header = stream.read(REQUEST.size)
        if len(header) < REQUEST.size:
            return  # the crawl closed the pipe (or died): the worker's work is done
        seq, is_text, url_size, page_size = REQUEST.unpack(header)
        url = stream.read(url_size).decode("utf-8", "surrogatepass")
        page = stream.read(page_size)
        yield seq, page.decode("utf-8", "surrogatepass") if is_text else page, url


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    """Answer each parse request with ``(seq, (result, notes), log records)``."""
    collect = _Collect()
    root = logging.getLogger()
    root.handlers[:] = [collect]
    root.setLevel(logging.INFO)
    for seq, page, url in _requests(inbox):
        parsed = read_study(page, url)
        answer = pickle.dumps((seq, parsed, collect.records), pickle.HIGHEST_PROTOCOL)
        collect.records = []
        outbox.write(HEADER.pack(len(answer)) + answer)
        outbox.flush()


def main(argv: list[str]) -> int:
    inbox = os.fdopen(int(argv[0]), "rb")
    outbox = os.fdopen(int(argv[1]), "wb")
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the crawl is gone
        serve(inbox, outbox)
    return 0


# --- The crawl's side -----------------------------------------------------------------------
class _Answers(asyncio.Protocol):
    """Reads a worker's answers off its pipe and resolves the waiting parses."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            end = start + HEADER.size + size
            if len(buffer) < end:
                break
            self.worker.answered(pickle.loads(memoryview(buffer)[start + HEADER.size : end]))
            start = end
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.lost()


def _pipes() -> tuple[int, int, int, int]:
    """The two pipes of a worker (to it: read, write; from it: read, write), each with room
    for many pages (Linux: 64 KB by default, about one page), so that a page goes in one write
    and the worker reads a queue of them without waking the crawl."""
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    for fd in (to_worker_w, from_worker_r):
        with contextlib.suppress(AttributeError, OSError):  # not Linux, or over pipe-max-size
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    return to_worker_r, to_worker_w, from_worker_r, from_worker_w


def _as_worker() -> None:
    """In a forked worker: the crawl's signal handlers off (Ctrl-C reaches the whole process
    group; the crawl decides, and the worker ends when its input does), and nothing the crawl
    created is ever collected here (``gc.freeze``: no walk over the crawl's objects, no copy of
    their memory pages, no finaliser closing a connection the crawl still uses)."""
    gc.freeze()
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)  # the crawl's event loop's, shared after the fork
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Forked:
    """A forked worker, with what the crawl uses of ``subprocess.Popen``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"parse worker {self.pid}", timeout or 0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class _Worker:
    """One worker process and the parses it has not answered yet."""

    def __init__(self, pool: ParsePool) -> None:
        self.pool = pool
        self.process: subprocess.Popen[bytes] | _Forked | None = None
        self.ends: tuple[int, int] | None = None  # the crawl's ends of the two pipes
        self.requests: asyncio.WriteTransport | None = None
        self.answers: asyncio.ReadTransport | None = None
        self.waiting: dict[int, tuple[asyncio.Future[Parsed], str | bytes, str]] = {}
        self.alive = False

    def fork(self, inherited: list[int]) -> None:
        """Start the worker now as a fork of the crawl's process: it has the parser imported
        already, and shares the crawl's memory until either writes it. Only while the crawl
        has no thread but its main one (no lock can then be held by a thread the fork leaves
        behind); ``inherited``: the crawl's ends of the workers forked before, closed in this one
        (else a worker would hold another's input open, and that one never see its end)."""
        to_worker_r, to_worker_w, from_worker_r, from_worker_w = _pipes()
        pid = os.fork()
        if pid == 0:  # the worker: it never returns into the crawl's code
            try:
                for fd in (to_worker_w, from_worker_r, *inherited):
                    os.close(fd)
                _as_worker()
                main([str(to_worker_r), str(from_worker_w)])
            finally:
                os._exit(0)
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.process = _Forked(pid)
        self.ends = (to_worker_w, from_worker_r)

    async def start(self) -> None:
        if self.ends is None:  # not forked: a fresh interpreter
            to_worker_r, to_worker_w, from_worker_r, from_worker_w = _pipes()
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(to_worker_r), str(from_worker_w)],
                    pass_fds=(to_worker_r, from_worker_w),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    # The crawl's own import path: the project may run from a Scrapyd egg.
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                )
            finally:
                os.close(to_worker_r)
                os.close(from_worker_w)
            self.ends = (to_worker_w, from_worker_r)
        to_worker_w, from_worker_r = self.ends
        loop = asyncio.get_running_loop()
        self.requests, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(to_worker_w, "wb", buffering=0)
        )
        self.answers, _ = await loop.connect_read_pipe(
            lambda: _Answers(self), os.fdopen(from_worker_r, "rb", buffering=0)
        )
        self.alive = True

    def parse(self, seq: int, page: str | bytes, url: str) -> asyncio.Future[Parsed]:
        future: asyncio.Future[Parsed] = asyncio.get_running_loop().create_future()
        self.waiting[seq] = (future, page, url)
        is_text = isinstance(page, str)
        body = page.encode("utf-8", "surrogatepass") if isinstance(page, str) else page
        address = url.encode("utf-8", "surrogatepass")
        assert self.requests is not None
        self.requests.writelines(
            (REQUEST.pack(seq, is_text, len(address), len(body)), address, body)
        )
        return future

    def answered(self, answer: tuple[int, Parsed, LogRecords]) -> None:
        seq, parsed, records = answer
        for name, level, text in records:
            logging.getLogger(name).log(level, "%s", text)
        entry = self.waiting.pop(seq, None)
        if entry is not None and not entry[0].done():
            entry[0].set_result(parsed)

    def lost(self) -> None:
        """The worker is gone: what it had not answered is parsed here."""
        if not self.alive:
            return
        self.alive = False
        self.pool.worker_lost(self)
        waiting, self.waiting = self.waiting, {}
        for future, page, url in waiting.values():
            if not future.done():
                future.set_result(read_study(page, url))

    def cpu_seconds(self) -> float | None:
        """The worker's CPU time so far (user + system), where /proc tells it."""
        if self.process is None:
            return None
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    async def close(self) -> None:
        self.alive = False
        if self.requests is not None:
            self.requests.close()  # the worker reads the end of its input and exits
        elif self.ends is not None:  # forked, and no page came: the pipes never joined the loop
            for fd in self.ends:
                os.close(fd)
            self.ends = None
        process = self.process
        if process is not None:
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self.answers is not None:
            self.answers.close()


class ParsePool:
    """``PARSE_WORKERS`` worker processes that parse study pages, started at the first page."""

    def __init__(self, workers: int) -> None:
        self.size = max(0, workers)
        self.workers: list[_Worker] = []
        self.started = False
        self.starting: asyncio.Future[None] | None = None
        self.seq = 0
        self.sent = 0
        self.failed = False

    def fork_workers(self) -> bool:
        """Start the workers now, forked, when the crawl has no thread but its main one and
        the platform forks; else they start from a fresh interpreter at the first page."""
        if self.workers or not self.size or not _can_fork():
            return False
        inherited: list[int] = []
        try:
            for _ in range(self.size):
                worker = _Worker(self)
                worker.fork(inherited)
                self.workers.append(worker)
                assert worker.ends is not None
                inherited.extend(worker.ends)
        except OSError as exc:  # out of processes or memory: those started are kept
            logger.warning("Could not fork a parse worker (%s): starting them later", exc)
        return bool(self.workers)

    async def read_study(self, page: str | bytes, url: str) -> Parsed:
        """``read_study(page, url)``, computed by a worker (in this process without one)."""
        if not self.started:
            await self._start()
        live = [worker for worker in self.workers if worker.alive]
        if not live:
            return read_study(page, url)
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        self.sent += 1
        worker = min(live, key=lambda w: len(w.waiting))  # the least busy
        return await worker.parse(self.seq, page, url)

    async def _start(self) -> None:
        if self.starting is None:
            self.starting = asyncio.ensure_future(self._start_workers())
        await asyncio.shield(self.starting)

    async def _start_workers(self) -> None:
        try:
            if not self.workers:  # none forked: fresh interpreters
                self.workers = [_Worker(self) for _ in range(self.size)]
            for worker in self.workers:
                await worker.start()
            forked = isinstance(self.workers[0].process, _Forked)
            logger.info(
                "Parsing study pages in %d worker process(es) (%s)",
                len(self.workers),
                "forked" if forked else "started",
            )
        except Exception as exc:
            logger.warning("Could not start a parse worker (%s): parsing in this process", exc)
        finally:
            self.started = True

    def worker_lost(self, worker: _Worker) -> None:
        if not self.failed:
            self.failed = True
            code = worker.process.poll() if worker.process is not None else None
            logger.warning(
                "A parse worker exited (code %s): its pages are parsed in this process", code
            )

    async def close(self) -> None:
        workers, self.workers = self.workers, []
        cpu = [worker.cpu_seconds() for worker in workers]
        for worker in workers:
            await worker.close()
        if workers:
            known = [seconds for seconds in cpu if seconds is not None]
            logger.info(
                "Parse workers: %d page(s) sent, %s s of CPU",
                self.sent,
                f"{sum(known):.1f}" if known else "-",
            )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
