"""What the full-text index costs the store: one process writing studies at a schema revision.

``python benchmarks/search_index.py [--revision 0004|head] [--studies N] [--postgres]`` makes a
fresh database at that revision (0004: before the views and the search index; head: with
them), writes N studies through ``write_studies`` in batches of 100 (titles of 10 words,
summaries of 300, six authors from a pool of 3,000), writes them all again changed, then three
more times unchanged, and prints the seconds of each phase. Compare the two revisions side by
side in one run, as the machine's speed drifts::

    farm-bench -n 3 --timeout 600 --vs "python benchmarks/search_index.py --revision 0004" \\
        -- python benchmarks/search_index.py --revision head

Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import common  # noqa: E402

WORDS = [
    "hair",
    "loss",
    "finasteride",
    "dutasteride",
    "minoxidil",
    "frontal",
    "vertex",
    "density",
    "trial",
    "patients",
    "men",
    "women",
    "scalp",
    "follicle",
    "androgen",
    "receptor",
    "topical",
    "oral",
    "dose",
    "months",
    "placebo",
]
BATCH = 100


def studies(n: int) -> list[dict[str, Any]]:
    from tressless_crawler.items import StudyItem

    rnd = random.Random(1)
    return [
        asdict(
            StudyItem(
                study_id=f"S{i:06d}",
                url=f"https://tressless.com/research/study-S{i:06d}",
                title=" ".join(rnd.choices(WORDS, k=10)),
                published="2020-01",
                journal=f"Journal {rnd.randint(1, 200)}",
                authors=[f"Author {rnd.randint(1, 3000)}" for _ in range(6)],
                tldr=" ".join(rnd.choices(WORDS, k=30)),
                summary=" ".join(rnd.choices(WORDS, k=300)),
            )
        )
        for i in range(n)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--revision", default="head")
    parser.add_argument("--studies", type=int, default=3000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--postgres-url", default=common.postgres_admin_url())
    args = parser.parse_args(argv)

    from alembic import command

    from tressless_crawler.db import schema
    from tressless_crawler.db import study_writes as store
    from tressless_crawler.db.engine import make_engine

    now = datetime(2026, 1, 1, tzinfo=UTC)
    items = studies(args.studies)
    with ExitStack() as stack:
        if args.postgres:
            url = stack.enter_context(common.postgres_database(args.postgres_url, "bench_fts"))
        else:
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
        engine = make_engine(url, immediate=True)
        stack.callback(engine.dispose)
        with engine.begin() as conn:
            command.upgrade(schema.alembic_config(connection=conn), args.revision)

        def write_all(label: str) -> None:
            started = time.perf_counter()
            for start in range(0, len(items), BATCH):
                store.write_studies(engine, items[start : start + BATCH], None, now)
            sys.stdout.write(f"{label:<22} {time.perf_counter() - started:8.2f} s\n")

        write_all("new")
        for item in items:
            item["tldr"] = "changed " + item["tldr"]
        write_all("changed")
        for round_ in range(3):
            write_all(f"unchanged {round_ + 1}")


if __name__ == "__main__":
    main()
