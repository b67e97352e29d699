"""Benchmark figure 2 side by side: ``parse_study`` now against a baseline revision, one run.

The machine is shared, so absolute times move; the ratio of two parsers timed page by page,
interleaved (A then B on one page, B then A on the next), in the same process, does not. The
baseline's parser modules (``tressless_crawler/parsers/*.py`` at ``--baseline``, read with
``git show``) are loaded as a package of their own next to the current ones.

Also printed: the share of the non-study fixture pages (``tests/fixtures/pages/not_study``)
that would be stored, and the current parser's cost per markup family on the fixture studies.

Run ``python benchmarks/parse_ab.py SITE_DIR [--baseline REV] [--rounds N] [--limit N]`` with
SITE_DIR a site from ``benchmarks/sitegen.py``.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from micro import study_pages  # noqa: E402
from scrapy.exceptions import DropItem  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

from tressless_crawler.items import Drop  # noqa: E402
from tressless_crawler.parsers.study import parse_study  # noqa: E402
from tressless_crawler.pipelines.normalize import NormalizePipeline  # noqa: E402
from tressless_crawler.pipelines.validate import ValidatePipeline  # noqa: E402
from tressless_crawler.spiders.studies import page_source  # noqa: E402

PARSERS = "tressless_crawler/parsers"
BASELINE_PACKAGE = "baseline_parsers"
NOT_STUDY = ROOT / "tests" / "fixtures" / "pages" / "not_study"
STUDY_URL = "https://tressless.com/research/a-study-that-was-here-Xy12"
MAX_RATIO = 1.30  # issue 17: figure 2 may grow by 30 % at most


def load_baseline(revision: str, into: Path) -> Callable[[Any, str], Any]:
    """``parse_study`` of ``revision``, importable beside the current one."""
    package = into / BASELINE_PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{revision}:{PARSERS}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in (n for n in listing.split() if n.endswith(".py") and n != "__init__.py"):
        source = subprocess.run(
            ["git", "show", f"{revision}:{PARSERS}/{name}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        source = source.replace(
            "from tressless_crawler.parsers.", f"from {BASELINE_PACKAGE}."
        ).replace("from tressless_crawler.parsers import", f"from {BASELINE_PACKAGE} import")
        (package / name).write_text(source)
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{BASELINE_PACKAGE}.study").parse_study  # type: ignore[no-any-return]


def side_by_side(
    pages: list[tuple[str, bytes]], parsers: dict[str, Callable[[Any, str], Any]], rounds: int
) -> dict[str, float]:
    """CPU ms per page of each parser, timed page by page in alternating order."""
    cpu = time.process_time
    names = list(parsers)
    totals = dict.fromkeys(names, 0.0)
    for url, body in pages[:20]:  # warm-up: imports, regular expressions, caches
        for parse in parsers.values():
            parse(body, url)
    for r in range(rounds):
        for i, (url, body) in enumerate(pages):
            order = names if (i + r) % 2 == 0 else names[::-1]
            for name in order:
                start = cpu()
                parsers[name](body, url)
                totals[name] += cpu() - start
    return {name: total / (rounds * len(pages)) * 1000 for name, total in totals.items()}


def stored_share(parse: Callable[[Any, str], Any]) -> tuple[int, int]:
    """(stored, pages) over the non-study fixture pages, served at a study URL."""
    pages = sorted(NOT_STUDY.rglob("*.html"))
    stored = 0
    for path in pages:
        result = parse(page_source(HtmlResponse(STUDY_URL, body=path.read_bytes())), STUDY_URL)
        if isinstance(result, Drop) or type(result).__name__ == "Drop":
            continue
        crawler = get_crawler()
        crawler.stats.open_spider()
        item = NormalizePipeline.from_crawler(crawler).process_item(result)
        try:
            ValidatePipeline.from_crawler(crawler).process_item(item)
        except DropItem:
            continue
        stored += 1
    return stored, len(pages)


def family_costs(rounds: int) -> dict[str, float]:
    """CPU ms per page of the current parser on the fixture studies, by markup family."""
    import json

    from tests.support.sitegen.families import FAMILIES, render_family

    items = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "tests" / "fixtures" / "pages" / "study").glob("*.json"))
    ]
    items = [item for item in items if "drop" not in item]
    costs = {}
    for family in FAMILIES:
        pages = []
        for item in items:
            body = render_family(item, item["url"], family)
            pages.append((item["url"], page_source(HtmlResponse(item["url"], body=body))))
        costs[family] = side_by_side(pages, {"now": parse_study}, rounds)["now"]
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--baseline", default="main", help="git revision (default: main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    pages = study_pages(args.site, args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        baseline = load_baseline(args.baseline, Path(tmp))
        ms = side_by_side(pages, {"baseline": baseline, "now": parse_study}, args.rounds)
        base_stored = stored_share(baseline)
    now_stored = stored_share(parse_study)
    ratio = ms["now"] / ms["baseline"]
    print(f"parse_study, {len(pages)} pages x {args.rounds} rounds, interleaved (CPU ms per page)")
    print(f"  baseline ({args.baseline}): {ms['baseline']:.3f} ms")
    print(f"  now:                {ms['now']:.3f} ms")
    verdict = "met" if ratio <= MAX_RATIO else "NOT met"
    print(f"  now / baseline:     {ratio:.2f}x   (limit {MAX_RATIO:.2f}x: {verdict})")
    print("non-study pages stored (served at a study URL)")
    for name, (stored, total) in (("baseline", base_stored), ("now", now_stored)):
        print(f"  {name + ':':<9} {stored} / {total} ({stored / total:.0%})")
    print("parse_study now, by markup family (fixture studies, CPU ms per page)")
    for family, cost in family_costs(args.rounds).items():
        print(f"  {family:<9} {cost:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
