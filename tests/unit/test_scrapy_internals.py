"""The private parts of Scrapy and scrapy-redis the crawler uses are where it expects them.

Each internal of ``tressless_crawler.scrapy_internals`` is exercised against the installed
Scrapy (a real crawl for the engine's and the downloader's), so an upgrade that moves one
fails here rather than in production; and no other module of the package may touch a
private name of Scrapy, scrapy-redis or Twisted (the last tests read the package's source).
"""

from __future__ import annotations

import ast
import gzip
import importlib
import inspect
import json
import logging
import os
import pkgutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.test import get_crawler

import tressless_crawler
from tressless_crawler import scrapy_internals
from tressless_crawler.commands.crawl import Command as CrawlCommand
from tressless_crawler.scrapy_internals import (
    DecompressionMaxSizeExceeded,
    ScrapyInternalsError,
    create_crawler,
    decode_content,
    engine_in_progress,
    hold_downloader_slot,
    wake_engine,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(tressless_crawler.__file__).parent
INTERNALS = PACKAGE / "scrapy_internals.py"
LIBRARIES = ("scrapy", "scrapy_redis", "twisted")


# --- the engine and the downloader, in a real crawl ---------------------------------------
@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    """What tests/support/internals_probe.py saw in its crawl (its own process: a reactor)."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "tests.support.internals_probe"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert report["finish_reason"] == "finished"
    assert report["unavailable"] == []  # no internal was missing
    return report


def test_engine_in_progress_holds_a_request_until_its_callback_is_done(
    probe: dict[str, Any],
) -> None:
    # ExecutionEngine._slot.inprogress: the shared frontier's ledger relies on exactly this
    assert probe["in_progress_at_start"] == 0
    assert probe["in_progress_in_callback"] == [True, True]
    assert probe["in_progress_when_idle"] == 0


def test_a_held_downloader_slot_sends_its_queue_when_the_hold_ends(probe: dict[str, Any]) -> None:
    # Downloader._latercall releases a slot held through Slot.latercall
    assert probe["held"] is True
    assert len(probe["answered_after"]) == 2
    hold = probe["hold"]
    assert all(hold * 0.9 <= after < hold + 30 for after in probe["answered_after"])


def test_wake_engine_finds_the_engines_next_call(probe: dict[str, Any]) -> None:
    # ExecutionEngine._slot.nextcall: called in every callback of the probe, never missing
    assert "scrapy_internals/unavailable/ExecutionEngine._slot.nextcall" not in probe["unavailable"]


# --- what happens when an internal moved --------------------------------------------------
class EngineWithoutSlot:
    """An engine as a Scrapy without ``_slot`` would have it."""


def crawler_with(engine: object) -> Crawler:
    crawler = get_crawler()
    crawler.engine = engine  # type: ignore[assignment]
    return crawler


def test_let_scraper_close_finds_the_scrapers_closing_check() -> None:
    """``Scraper._check_if_closing`` takes no argument, and the scraper's slot says whether it
    is closing: what :func:`let_scraper_close` relies on."""
    from scrapy.core.scraper import Scraper, Slot

    check = getattr(Scraper, "_check_if_closing", None)
    assert callable(check), "Scraper._check_if_closing moved: see docs/upgrading.md"
    required = [
        p
        for p in inspect.signature(check).parameters.values()
        if p.name != "self" and p.default is inspect.Parameter.empty
    ]
    assert not required, required
    assert Slot(max_active_size=1).closing is None  # set to a Deferred when the scraper closes


def test_a_required_internal_that_moved_fails_loudly() -> None:
    with pytest.raises(ScrapyInternalsError) as raised:
        engine_in_progress(crawler_with(EngineWithoutSlot()))
    message = str(raised.value)
    assert "ExecutionEngine._slot.inprogress" in message
    assert "scrapy 2." in message and "docs/upgrading.md" in message


def test_an_optional_internal_that_moved_warns_once_and_counts(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scrapy_internals, "_warned", set())
    crawler = crawler_with(EngineWithoutSlot())
    with caplog.at_level(logging.WARNING, logger=scrapy_internals.__name__):
        wake_engine(crawler)
        wake_engine(crawler)
    warnings = [r for r in caplog.records if "ExecutionEngine._slot.nextcall" in r.getMessage()]
    assert len(warnings) == 1
    assert crawler.stats is not None
    stat = "scrapy_internals/unavailable/ExecutionEngine._slot.nextcall"
    assert crawler.stats.get_value(stat) == 2


class EngineWithDownloader:
    def __init__(self, crawler: Crawler) -> None:
        self.downloader = Downloader(crawler)


def test_hold_downloader_slot_holds_nothing_before_the_host_has_a_slot() -> None:
    crawler = get_crawler()
    crawler.engine = EngineWithDownloader(crawler)  # type: ignore[assignment]
    assert hold_downloader_slot(crawler, Request("http://example.com/"), 1.0) is False


# --- decompression ------------------------------------------------------------------------
def test_gunzip_past_its_limit_raises_the_class_the_studies_spider_catches() -> None:
    body = gzip.compress(b"x" * 10_000)
    with pytest.raises(DecompressionMaxSizeExceeded):
        gunzip(body, max_size=1_000)
    assert issubclass(DecompressionMaxSizeExceeded, ValueError)
    assert gunzip(body, max_size=20_000) == b"x" * 10_000


def middleware_decoded(body: bytes, encodings: list[bytes]) -> Response:
    """The response as Scrapy's HttpCompressionMiddleware hands it on."""
    crawler = get_crawler(settings_dict={"COMPRESSION_ENABLED": True})
    middleware = HttpCompressionMiddleware.from_crawler(crawler)
    url = "http://example.com/page"
    response = Response(url, body=body, headers={"Content-Encoding": encodings})
    return middleware.process_response(Request(url), response)


@pytest.mark.parametrize(
    ("encodings", "encode"),
    [
        ([b"gzip"], gzip.compress),
        ([b"x-gzip"], gzip.compress),
        ([b"deflate"], zlib.compress),
        ([b"gzip, deflate"], lambda data: zlib.compress(gzip.compress(data))),
        ([b"identity-ish", b"gzip"], gzip.compress),  # the unknown one is kept
    ],
)
def test_decode_content_undoes_what_the_middleware_undoes(
    encodings: list[bytes], encode: Any
) -> None:
    plain = b"<html><body>" + b"study " * 500 + b"</body></html>"
    body, kept = decode_content(encode(plain), encodings, 1_000_000)
    expected = middleware_decoded(encode(plain), encodings)
    assert body == expected.body == plain
    assert kept == expected.headers.getlist("Content-Encoding")


def test_decode_content_past_its_limit_raises() -> None:
    with pytest.raises(DecompressionMaxSizeExceeded):
        decode_content(gzip.compress(b"x" * 10_000), [b"gzip"], 1_000)


# --- commands -----------------------------------------------------------------------------
def test_create_crawler_makes_the_crawler_as_scrapys_crawl_command_does() -> None:
    command = CrawlCommand()
    command.crawler_process = CrawlerRunner({"TELNETCONSOLE_ENABLED": False})  # type: ignore[assignment]
    crawler = create_crawler(command, Spider)  # type: ignore[arg-type]
    assert isinstance(crawler, Crawler)
    assert crawler.spidercls is Spider


# --- the rule: nothing else touches a private name of these libraries ---------------------
def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def package_sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != INTERNALS:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def library_module(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in LIBRARIES


def library_names(tree: ast.Module) -> set[str]:
    """The local names a module imported from the libraries (modules, classes, functions)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and library_module(node.module):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if library_module(alias.name):
                    names.add(alias.asname or alias.name.split(".")[0])
    return names


# Names of other objects that look private and are not: namedtuple's (and SQLAlchemy Row's)
# public methods, lxml's element class, which lxml documents under this name, and os._exit, the
# documented way for a forked child to end.
PUBLIC_UNDERSCORED = {"_asdict", "_fields", "_replace", "_make", "_Element", "_exit"}
# Objects of the package's own whose private helpers it calls: not a library's.
OWN_OBJECTS = {"search", "threads"}


def private_uses(path: Path, tree: ast.Module) -> Iterator[str]:
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and library_module(node.module):
            assert node.module is not None
            if any(private(part) for part in node.module.split(".")):
                yield f"{where}:{node.lineno}: imports the private module {node.module}"
            for alias in node.names:
                if private(alias.name):
                    yield f"{where}:{node.lineno}: imports {node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if library_module(alias.name) and any(map(private, alias.name.split("."))):
                    yield f"{where}:{node.lineno}: imports the private module {alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
        ):
            yield f"{where}:{node.lineno}: {ast.unparse(node)}"
        elif isinstance(node, ast.Attribute) and private(node.attr):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id in ("self", "cls"):
                if node.value is root:
                    continue  # self._x: checked against the class below
            elif node.attr in PUBLIC_UNDERSCORED or (
                isinstance(root, ast.Name) and root.id in OWN_OBJECTS and node.value is root
            ):
                continue
            yield f"{where}:{node.lineno}: {ast.unparse(node)}"


def test_the_rule_finds_what_it_is_about() -> None:
    sample = ast.parse(
        "from scrapy.utils._compression import _DecompressionMaxSizeExceeded\n"
        "import scrapy.utils._compression\n"
        "slot = getattr(crawler.engine, '_slot', None)\n"
        "release = downloader._latercall\n"
        "self.crawler.engine._slot.nextcall.schedule()\n"
        "ok = row._asdict(); own = self._mine\n"
    )
    found = list(private_uses(ROOT / "sample.py", sample))
    assert len(found) == 6, found
    assert not any("_asdict" in line or "_mine" in line for line in found)


def test_no_module_but_scrapy_internals_touches_a_private_name() -> None:
    found = [line for path, tree in package_sources() for line in private_uses(path, tree)]
    assert found == [], "use a public API, or tressless_crawler.scrapy_internals:\n" + "\n".join(
        found
    )


def package_classes() -> Iterator[type]:
    """Every class the package defines (its migrations are scripts, not modules)."""
    for info in pkgutil.walk_packages(tressless_crawler.__path__, "tressless_crawler."):
        if ".db.migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                yield value


def library_class(cls: type) -> bool:
    return library_module(cls.__module__)


def own_names(cls: type) -> set[str]:
    """Names a class of the package defines or assigns (``self.x = ...``, ``x: T``, ``def x``)."""
    tree = ast.parse(inspect.cleandoc("\n" + inspect.getsource(cls)))
    names = set(vars(cls))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_no_class_of_the_package_uses_or_overrides_a_private_member_of_its_library_bases() -> None:
    found = []
    for cls in package_classes():
        libraries = [base for base in cls.__mro__ if library_class(base)]
        if not libraries or cls.__module__ == scrapy_internals.__name__:
            continue
        ours = [base for base in cls.__mro__ if base.__module__.startswith("tressless_crawler.")]
        defined = set().union(*(own_names(base) for base in ours))
        for name in vars(cls):
            if name == "_abc_impl":
                continue  # ABCMeta's own, in every abstract class
            if private(name) and any(name in vars(base) for base in libraries):
                found.append(f"{cls.__qualname__} overrides {name} of {libraries[0].__name__}")
        tree = ast.parse(inspect.cleandoc("\n" + inspect.getsource(cls)))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
                and private(node.attr)
                and node.attr not in defined
            ):
                found.append(f"{cls.__qualname__} uses {node.attr} of {libraries[0].__name__}")
    assert found == [], "\n".join(sorted(set(found)))
