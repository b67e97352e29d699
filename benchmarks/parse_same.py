"""Proof that a change to the study parser changes no result: ``read_study`` now against a
baseline revision, page by page, over every page at hand.

The pages: every HTML page of a ``benchmarks/sitegen.py`` site (study pages at their URL, the
other pages at theirs and at a study URL), every HTML fixture under ``tests/fixtures`` (parser
fixtures and the fixture site), every fixture study rendered by every markup family of
``tests/support/sitegen/families`` (as ``tests/unit/test_families.py`` does) and new builds of
each (the test's own variations, seeded), and seeded mutations of the fixture pages (pieces cut
out, tags broken) for the corners. Each page goes in as the spider hands it over
(``page_source``) and as decoded text.

Both results are compared as plain data: an item as ``dataclasses.asdict`` gives it, a drop as
its reason and detail, and the notes. Any difference is printed and counted; the exit status is
1 when there is one.

Run ``python benchmarks/parse_same.py SITE_DIR [--baseline REV] [--builds N] [--mutations N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from parse_ab import BASELINE_PACKAGE, load_baseline  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from tressless_crawler.items import Drop  # noqa: E402
from tressless_crawler.parsers.study import read_study  # noqa: E402
from tressless_crawler.spiders.studies import page_source  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
STUDY_URL = "https://tressless.com/research/a-study-that-was-here-Xy12"
SITE_BASE = "http://127.0.0.1:8000"

Page = tuple[str, str, str | bytes]  # (corpus, url, page as the parser takes it)
Reader = Callable[[str | bytes, str], tuple[Any, tuple[str, ...]]]


def served(body: bytes, url: str) -> list[str | bytes]:
    """The page as the spider hands it over, and as decoded text when that is another form."""
    given = page_source(HtmlResponse(url, body=body))
    if isinstance(given, bytes):
        return [given, body.decode("utf-8", errors="replace")]
    return [given]


def site_pages(site: Path) -> Iterator[Page]:
    for path in sorted(site.rglob("*.html")):
        body = path.read_bytes()
        url = f"{SITE_BASE}/{path.parent.relative_to(site).as_posix()}"
        urls = [url] if "/research/" in url else [url, STUDY_URL]
        for at in urls:
            for page in served(body, at):
                yield "site", at, page


def fixture_pages() -> Iterator[Page]:
    for path in sorted(FIXTURES.rglob("*.html")):
        body = path.read_bytes()
        expected = path.with_suffix(".json")
        url = STUDY_URL
        if expected.exists():
            url = json.loads(expected.read_text(encoding="utf-8")).get("url") or STUDY_URL
        for at in dict.fromkeys([url, STUDY_URL]):
            for page in served(body, at):
                yield "fixtures", at, page


def family_pages(builds: int) -> Iterator[Page]:
    """Every item of the family tests in every family, then ``builds`` new builds of each."""
    from tests.support.sitegen.families import FAMILIES, render_family
    from tests.unit.test_families import CHANGES, ITEMS, vary

    rng = random.Random(17)
    for name in sorted(ITEMS):
        item = ITEMS[name]
        for family in sorted(FAMILIES):
            body = render_family(item, item["url"], family)
            for page in served(body, item["url"]):
                yield "families", item["url"], page
            encoding = "cp1252" if family == "legacy" else "utf-8"
            for _ in range(builds):
                changes = rng.sample(CHANGES, rng.randint(1, len(CHANGES)))
                text = vary(body.decode(encoding), random.Random(rng.getrandbits(32)), changes)
                varied = text.encode(encoding, errors="xmlcharrefreplace")
                yield "builds", item["url"], page_source(HtmlResponse(item["url"], body=varied))


def mutated_pages(count: int) -> Iterator[Page]:
    """Each fixture page with pieces cut out, tags broken and comments put in, seeded."""
    rng = random.Random(29)
    for path in sorted((FIXTURES / "pages").rglob("*.html")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for _ in range(count):
            yield "mutations", STUDY_URL, _mutate(text, rng)


# Markup the parser treats with care: what hides, what links, what breaks a line or a phrase.
SNIPPETS = (
    "<", ">", "</div>", "<b>", "</a>", "<br>", "<!-- -->", " ", "\u200b", "\u00a0", "e\u0301",
    "[object Object]", "<p hidden>TLDR x</p>", '<div role="navigation">Related</div>',
    '<span class="sr-only">Related research</span>', '<i style="display:none">x</i>',
    "<style>.q1{display:none}</style>", '<p class="q1">Authors</p>', "<h1>A Title</h1>",
    '<a href="/research/a-b-Xy3">A study</a>', '<a href="/community/a-post-abc123">A post</a>',
    "<strong>Title:</strong>", "3 / 10+ results", "May 2020 in “J”", "<header>Menu</header>",
    '<link rel="canonical" href="/research/other-Zz9">', "<main>", "</main>", "<?pi x?>",
)  # fmt: skip


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(text) + 1)
        what = rng.random()
        if what < 0.3:
            text = text[:at] + text[at + rng.randint(1, 400) :]
        elif what < 0.8:
            text = text[:at] + rng.choice(SNIPPETS) + text[at:]
        elif what < 0.9:
            text = text + rng.choice(SNIPPETS)  # after </html>
        else:
            text = text[:at]
    return text


def as_data(result: tuple[Any, tuple[str, ...]]) -> tuple[Any, ...]:
    item, notes = result
    if isinstance(item, Drop):
        return "drop", item.reason, item.detail, notes
    return type(item).__name__, dataclasses.asdict(item), notes


def compare(pages: Iterator[Page], readers: dict[str, Reader]) -> tuple[Counter[str], ...]:
    """Pages per corpus, differences per corpus, and the baseline's outcomes by kind."""
    seen: Counter[str] = Counter()
    differ: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    baseline, now = readers["baseline"], readers["now"]
    for corpus, url, page in pages:
        seen[corpus] += 1
        before, after = as_data(baseline(page, url)), as_data(now(page, url))
        outcomes["item" if before[0] != "drop" else f"drop {before[1]}"] += 1
        if before != after:
            differ[corpus] += 1
            if differ[corpus] <= 5:
                print(f"DIFFERENT ({corpus}) {url}:\n  before {before}\n  after  {after}")
    return seen, differ, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, nargs="?", help="a benchmarks/sitegen.py site")
    parser.add_argument("--baseline", default="main", help="git revision (default: main)")
    parser.add_argument("--builds", type=int, default=5, help="new builds per family page")
    parser.add_argument("--mutations", type=int, default=40, help="mutations per fixture page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        load_baseline(args.baseline, Path(tmp))
        baseline = sys.modules[f"{BASELINE_PACKAGE}.study"].read_study

        def pages() -> Iterator[Page]:
            if args.site is not None:
                yield from site_pages(args.site)
            yield from fixture_pages()
            yield from family_pages(args.builds)
            yield from mutated_pages(args.mutations)

        seen, differ, outcomes = compare(pages(), {"baseline": baseline, "now": read_study})
    print(f"read_study now against {args.baseline}, page by page")
    for corpus, count in seen.items():
        print(f"  {corpus:<10} {count:>6} pages  {differ[corpus]} different")
    print(f"  {'all':<10} {sum(seen.values()):>6} pages  {sum(differ.values())} different")
    print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
