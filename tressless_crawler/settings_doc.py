"""The settings reference of docs/settings.md, generated from ``tressless_crawler/settings.py``.

``python -m tressless_crawler.settings_doc`` rewrites the generated blocks of docs/settings.md
(between ``<!-- settings: NAME -->`` and ``<!-- /settings -->``); with ``--check`` it changes
nothing and exits 1 when the file is not what it would write. Defaults and environment
variables come from the settings module's source, as it reads when no environment variable is
set; what a setting means is written here, next to the table it goes in. Every setting of the
module is in a table or in :data:`WIRING`.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tressless_crawler import settings as project_settings

SETTINGS_FILE = Path(project_settings.__file__)
DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
COMMAND = "python -m tressless_crawler.settings_doc"


@dataclass(frozen=True)
class Row:
    names: tuple[str, ...]
    meaning: str
    # Only for a setting the project does not set (Scrapy's own): its default, in words.
    default: str | None = None


def row(*names: str, meaning: str, default: str | None = None) -> Row:
    return Row(names, meaning, default)


TABLES: dict[str, list[Row]] = {
    "crawl": [
        row(
            "SITE_URL",
            meaning="the site's root; tests and the demo point it at 127.0.0.1",
        ),
        row(
            "DATABASE_URL",
            meaning="SQLAlchemy URL; `postgresql+psycopg://user:pass@host/db` for PostgreSQL "
            "([database.md](database.md))",
        ),
        row(
            "COMMUNITY_HOSTS",
            meaning="hosts whose community threads may be fetched (SITE_URL's host always is)",
        ),
        row(
            "INCREMENTAL_MAX_AGE_DAYS",
            meaning="a known page not seen for this long is refetched whatever its lastmod says",
        ),
        row(
            "BACKLOG_BATCH",
            meaning="sitemap studies handed to the scheduler at a time (the rest wait as URLs); "
            "`0`: `max(64, 2 × CONCURRENT_REQUESTS)`",
        ),
        row(
            "SITEMAP_MAX_URLS",
            meaning="URLs read from one sitemap (and sitemaps from one index), the protocol's "
            "limit; the cut is counted",
        ),
        row(
            "COMMUNITY_MAX_MORE_REQUESTS",
            meaning="requests one thread may make to expand its `more` stubs; `0` turns "
            "expansion off ([community.md](community.md))",
        ),
    ],
    "politeness": [
        row(
            "USER_AGENT",
            meaning="set it to name you and a contact URL before crawling the real site",
        ),
        row("ROBOTSTXT_OBEY", meaning="robots.txt is obeyed on every host"),
        row(
            "CONCURRENT_REQUESTS",
            "CONCURRENT_REQUESTS_PER_DOMAIN",
            meaning="Scrapy's concurrency limits",
        ),
        row(
            "DOWNLOAD_DELAY",
            "AUTOTHROTTLE_ENABLED",
            meaning="Scrapy's politeness; the demo turns both off",
        ),
        row(
            "DOWNLOAD_TIMEOUT",
            "DOWNLOAD_MAXSIZE",
            "DOWNLOAD_WARNSIZE",
            meaning="per request (s, bytes, bytes)",
        ),
        row(
            "AUTOTHROTTLE_START_DELAY",
            "AUTOTHROTTLE_MAX_DELAY",
            "AUTOTHROTTLE_TARGET_CONCURRENCY",
            meaning="AutoThrottle's bounds",
        ),
        row("HTTPCACHE_EXPIRATION_SECS", meaning="how long a cached response is used (s)"),
        row("HTTPCACHE_ENABLED", meaning="cache responses under `.scrapy/` while developing"),
    ],
    "failures": [
        row("RETRY_TIMES", "RETRY_HTTP_CODES", meaning="what is retried"),
        row(
            "RETRY_BACKOFF_BASE",
            "RETRY_BACKOFF_MAX",
            meaning="retry waits without Retry-After (s)",
        ),
        row("RETRY_AFTER_MAX", meaning="longest wait a server's Retry-After can ask for (s)"),
        row(
            "RETRY_GIVE_UP_LOG_LEVEL",
            meaning="Scrapy's own line for a request that finally fails (the spiders log it "
            "once, counted)",
        ),
        row(
            "REDIRECT_MAX_TIMES",
            meaning="redirects followed; loops and redirects off the site are refused",
        ),
        row(
            "CHARSET_FALLBACK",
            meaning="charset of a page that declares none and is not UTF-8",
        ),
    ],
    "store": [
        row(
            "STORE_BATCH_SIZE",
            meaning="items written per transaction ([reliability.md](reliability.md))",
        ),
        row(
            "STORE_FLUSH_SECONDS",
            meaning="longest an item waits for its batch (`0`: only by size) "
            "([reliability.md](reliability.md))",
        ),
        row(
            "STORE_RETRY_TIMES",
            "STORE_RETRY_BACKOFF",
            meaning="retries of a failed batch, first wait (s, doubling)",
        ),
        row(
            "SPOOL_DIR",
            meaning="where batches the database refused are kept, the spool (`scrapy db replay` "
            "loads them)",
        ),
        row(
            "JOURNAL_DIR",
            meaning="former name of `SPOOL_DIR`, still honoured: set alone it does what "
            "`SPOOL_DIR` does "
            "([failures.md](failures.md#names-kept-from-when-the-spool-was-called-the-journal))",
            default="unset",
        ),
        row(
            "SQLITE_BUSY_TIMEOUT",
            meaning="how long a SQLite write waits for another process's lock (s)",
        ),
    ],
    "runs": [
        row("CRAWL_LOCK_ENABLED", meaning="one crawl per spider and database at a time"),
        row(
            "CRAWL_LOCK_STALE_SECONDS",
            meaning="a lock whose heartbeat is older belongs to a dead crawl",
        ),
        row(
            "CRAWL_PROGRESS_SECONDS",
            meaning="a running crawl's figures go into its `crawl_runs` row this often "
            "(`0`: only at the end)",
        ),
        row("CRAWL_REPORT_ENABLED", meaning="the crawl report at the end of a crawl's log"),
        row(
            "CRAWL_PROGRESS_BAR",
            meaning="the live progress bar: `auto` (on a terminal only), `1`, `0`",
        ),
        row(
            "LOG_LEVEL",
            meaning="Scrapy's log level; `-L DEBUG` also prints tracebacks of errors",
        ),
        row(
            "LOG_DUMPS",
            meaning="Scrapy's startup dumps (versions, settings, components) and stats dump at "
            "INFO instead of DEBUG",
        ),
        row(
            "LOG_FILE",
            meaning="the log's file (`--logfile`); a command's one-line error ends it too",
            default="stderr",
        ),
        row(
            "LOG_FORMATTER",
            meaning="a dropped item is one line with its reason, not the whole item",
        ),
        row(
            "CONCURRENT_ITEMS",
            meaning="outputs of one callback processed in parallel: Scrapy starts this many tasks "
            "per response (a study page yields one item and a few requests; Scrapy's 100, and "
            "16, cost CPU on every page: [benchmarks](../benchmarks/peers.md))",
        ),
        row(
            "PARSE_WORKERS",
            meaning="worker processes that parse study pages, so a fast crawl uses a second core "
            "(`0`: parsed in the crawl's process); `auto` starts one where a second core is free "
            "and nothing paces the crawl (AutoThrottle off, no `DOWNLOAD_DELAY`), none for a "
            "polite crawl of the real site "
            "([operations](operations.md#fast-crawls-on-a-free-core), "
            "[benchmarks](../benchmarks/peers.md))",
        ),
        row(
            "REMOTE_CONTROL_ENABLED",
            meaning="Scrapy's remote-control HTTP server (runs code sent to a local port), off "
            "like the telnet console",
        ),
    ],
    "distributed": [
        row(
            "REDIS_URL",
            meaning="turns distributed mode on (`redis://[:password@]host:6379/0`, `rediss://` "
            "for TLS)",
        ),
        row("REDIS_KEY_PREFIX", meaning="prefix of every Redis key"),
        row("CRAWL_ID", meaning="a crawl's namespace in Redis"),
        row(
            "SHARED_RATE_LIMIT",
            meaning="requests per second per host over all workers; `0` turns it off",
        ),
        row(
            "REDIS_IDLE_TIMEOUT",
            meaning="seconds the whole frontier must stay empty before a worker exits",
        ),
        row(
            "FRONTIER_WORKER_TTL",
            meaning="seconds without a heartbeat after which a worker is dead and its requests "
            "are requeued",
        ),
    ],
    "archive": [
        row(
            "ARCHIVE",
            meaning="`warc` writes every response and its request to gzipped WARC files; "
            "`scrapy reparse` reads them back",
        ),
        row("ARCHIVE_DIR", meaning="where the WARC files go"),
        row(
            "ARCHIVE_MAX_SIZE",
            meaning="bytes after which a file is closed and the next one started",
        ),
        row(
            "ARCHIVE_COMPRESS_LEVEL",
            meaning=(
                "gzip level of each record: 1-3 ISA-L's (isal), 4-9 zlib's; "
                "6 gives 15 % smaller files than 1 for 9x the CPU"
            ),
        ),
    ],
}

# Settings that wire the project into Scrapy: set in settings.py, not meant to be changed per run.
WIRING = (
    "BOT_NAME",
    "SPIDER_MODULES",
    "NEWSPIDER_MODULE",
    "COMMANDS_MODULE",
    "ITEM_PIPELINES",
    "SPIDER_MIDDLEWARES",
    "DOWNLOADER_MIDDLEWARES",
    "EXTENSIONS",
    "ADDONS",
    "SCHEDULER",
    "DOWNLOAD_HANDLERS",
    "TWISTED_REACTOR",
    "RETRY_ENABLED",
    "RETRY_EXCEPTIONS",
    "STATS_CLASS",
    "REFERER_ENABLED",
    "FEED_EXPORT_ENCODING",
    "TELNETCONSOLE_ENABLED",
)


@dataclass(frozen=True)
class Declared:
    default: Any
    environment: str | None  # the variable that overrides the default, if any


def _environment_name(node: ast.AST) -> str | None:
    """NAME of an ``os.environ.get("NAME", ...)`` in the expression, if it has one."""
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "get"
            and ast.unparse(call.func.value) == "os.environ"
            and call.args
            and isinstance(call.args[0], ast.Constant)
        ):
            return str(call.args[0].value)
    return None


def declared_settings(source: str | None = None) -> dict[str, Declared]:
    """Every setting of the settings module, with the value it has when no environment
    variable is set."""
    tree = ast.parse(source if source is not None else SETTINGS_FILE.read_text(encoding="utf-8"))
    clean_os = SimpleNamespace(environ={})
    namespace: dict[str, Any] = {"os": clean_os, "__builtins__": {}}
    declared: dict[str, Declared] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        value = eval(compile(ast.Expression(node.value), str(SETTINGS_FILE), "eval"), namespace)
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id.isupper():
                namespace[target.id] = value
                declared[target.id] = Declared(value, _environment_name(node.value))
    return declared


def render_value(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, (list, tuple)):
        return "`" + ", ".join(str(v) for v in value) + "`"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1_000_000:
        if value % (1 << 20) == 0:
            return f"`{value}` ({value >> 20} MiB)"
        if value % 1_000_000_000 == 0:
            return f"`{value}` ({value // 1_000_000_000} GB)"
    return f"`{value}`"


def render_table(rows: list[Row], declared: dict[str, Declared]) -> str:
    lines = [
        "| setting | default | environment variable | meaning |",
        "|---|---|---|---|",
    ]
    for entry in rows:
        names = " / ".join(f"`{name}`" for name in entry.names)
        if entry.default is not None:
            default, environment = entry.default, ""
        else:
            default = " / ".join(render_value(declared[name].default) for name in entry.names)
            environment = " / ".join(
                f"`{declared[name].environment}`"
                for name in entry.names
                if declared[name].environment
            )
        lines.append(f"| {names} | {default} | {environment} | {entry.meaning} |")
    return "\n".join(lines)


def render_wiring() -> str:
    return (
        "Set in `tressless_crawler/settings.py` to wire the project into Scrapy, and not meant "
        "to be changed per run: " + ", ".join(f"`{name}`" for name in WIRING) + "."
    )


def blocks(declared: dict[str, Declared] | None = None) -> dict[str, str]:
    """The generated text of each block of docs/settings.md, by name."""
    declared = declared if declared is not None else declared_settings()
    generated = {name: render_table(rows, declared) for name, rows in TABLES.items()}
    generated["wiring"] = render_wiring()
    return generated


def problems(declared: dict[str, Declared] | None = None) -> list[str]:
    """Settings documented but not declared, or declared but documented nowhere."""
    declared = declared if declared is not None else declared_settings()
    documented = {name for rows in TABLES.values() for entry in rows for name in entry.names}
    found = []
    for rows in TABLES.values():
        for entry in rows:
            for name in entry.names:
                if entry.default is None and name not in declared:
                    found.append(f"{name} is documented but not set in settings.py")
                if entry.default is not None and name in declared:
                    found.append(f"{name} is set in settings.py: its default comes from there")
    for name in declared:
        if name not in documented and name not in WIRING:
            found.append(f"{name} is set in settings.py but documented nowhere")
    return found


BLOCK_RE = re.compile(r"(<!-- settings: (\w+) -->\n)(.*?)(<!-- /settings -->)", re.DOTALL)


def rewrite(text: str, generated: dict[str, str]) -> str:
    seen = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in generated:
            raise ValueError(f"docs/settings.md has a block {name!r} that is not generated")
        seen.add(name)
        return f"{match.group(1)}{generated[name]}\n{match.group(4)}"

    result = BLOCK_RE.sub(replace, text)
    missing = set(generated) - seen
    if missing:
        raise ValueError(f"docs/settings.md lacks the blocks {sorted(missing)}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Generate docs/settings.md.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("--doc", type=Path, default=DOC, help="the settings reference")
    args = parser.parse_args(argv)
    found = problems()
    if found:
        sys.stderr.write("".join(f"{problem}\n" for problem in found))
        return 1
    text = args.doc.read_text(encoding="utf-8")
    wanted = rewrite(text, blocks())
    if args.check:
        if wanted != text:
            sys.stderr.write(f"{args.doc} is not up to date with settings.py: run {COMMAND}\n")
            return 1
        return 0
    if wanted != text:
        args.doc.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
