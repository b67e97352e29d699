"""The Datasette browser of a crawler SQLite database: its metadata and the app.

Datasette comes with the ``[browse]`` extra; this module adds the metadata that makes the
crawler's tables readable there: descriptions, facets, the search tables and the queries people
ask most. The database is opened immutable (read only, no locks), which is also why it must be
a SQLite file. It reads no setting: ``scrapy browse`` passes the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

INSTALL_HINT = 'scrapy browse needs Datasette: pip install "tressless-crawler[browse]"'

TABLES: dict[str, dict[str, Any]] = {
    "studies": {
        "description": "Research summaries, one row per study page (keyed by the site's id).",
        "columns": {
            "study_id": "The site's id of the study (the end of its URL).",
            "title": "The study's title as the page shows it.",
            "published": "Publication month, YYYY-MM.",
            "journal_id": "The journal it appeared in (journals.id).",
            "tldr": "The site's one-paragraph summary.",
            "summary": "The site's longer summary.",
            "cited_total": "How many studies the page says this one cites.",
            "related_total": "How many related studies the page lists.",
            "community_total": "How many community posts the page says discuss it.",
            "snapshot": "The normalised item as stored (JSON).",
            "first_seen": "When a crawl first stored it (UTC).",
            "last_seen": "When a crawl last saw it (UTC).",
            "changed_at": "When its content last changed (UTC).",
            "gone_at": "When its page stopped answering (404/410), if it did (UTC).",
        },
        "facets": ["journal_id", "published"],
        "fts_table": "studies_fts",
        "sort_desc": "changed_at",
    },
    "study_overview": {
        "description": "One row per study with its journal, authors in order and counts.",
        "columns": {
            "published_year": "Year of publication.",
            "authors": "Authors in page order, joined with '; '.",
            "cited_count": "Cited entries stored.",
            "related_count": "Related entries stored.",
            "community_count": "Community post cards stored.",
            "gone": "1 if the study's page no longer answers.",
        },
        "facets": ["journal", "published_year"],
    },
    "threads": {
        "description": "Community threads: from a study's card, completed by crawling the thread.",
        "columns": {
            "thread_key": "Post id when known, else url:<url> or title:<title>.",
            "category": "The community's flair/category of the post.",
            "source": "card until the thread itself was crawled, then thread.",
            "comment_count": "Comments the thread says it has.",
        },
        "facets": ["category", "source"],
        "fts_table": "threads_fts",
    },
    "thread_overview": {
        "description": "One row per thread with the studies it is linked from and its comments.",
        "columns": {
            "comments_stored": "Comments stored (not counting 'more' stubs).",
            "study_count": "How many studies link to the thread.",
            "study_ids": "Those studies' ids, joined with '; '.",
        },
        "facets": ["category"],
        "fts_table": "threads_fts",
        "fts_pk": "thread_id",
    },
    "study_threads_view": {
        "description": "Study and thread pairs (a study's Related Community Posts), with titles.",
        "facets": ["category"],
    },
    "comments": {
        "description": "Comments of crawled threads; parent_id is the parent comment's id.",
        "facets": ["kind", "depth"],
        "fts_table": "comments_fts",
    },
    "authors": {"description": "Author names, one row each."},
    "journals": {"description": "Journal names, one row each."},
    "study_authors": {"description": "A study's authors in page order."},
    "research_links": {
        "description": "A study's cited and related entries, in page order; the target may "
        "not have been crawled.",
        "facets": ["kind"],
    },
    "study_threads": {"description": "A study's community post cards, in page order."},
    "history": {
        "description": "Previous versions of studies and threads: a row each time one changed.",
        "facets": ["entity"],
    },
    "crawl_runs": {
        "description": "Every crawl: when, how it ended, what it did.",
        "facets": ["spider", "status"],
    },
    "pages": {"description": "The HTTP validators of the last fetch of each URL."},
}

QUERIES: dict[str, dict[str, str]] = {
    "find_studies": {
        "title": "Find studies by their text, an author or the journal",
        "description": "Studies whose title, TLDR and summary have all the words, or one of "
        "whose authors' names has them, or whose journal's name has them. `scrapy search` "
        "also finds words spread over these.",
        "sql": """SELECT o.study_id, o.title, o.journal, o.authors, o.published
FROM study_overview o JOIN studies s ON s.study_id = o.study_id
WHERE s.rowid IN (
  SELECT rowid FROM studies_fts WHERE studies_fts MATCH escape_fts(:words)
  UNION SELECT s2.rowid FROM authors_fts
    JOIN study_authors sa ON sa.author_id = authors_fts.rowid
    JOIN studies s2 ON s2.study_id = sa.study_id
  WHERE authors_fts MATCH escape_fts(:words)
  UNION SELECT s3.rowid FROM journals_fts JOIN studies s3 ON s3.journal_id = journals_fts.rowid
  WHERE journals_fts MATCH escape_fts(:words)
)
ORDER BY o.published DESC, o.study_id""",
    },
    "most_cited_studies": {
        "title": "Most-cited studies",
        "description": "Stored studies cited by the most other stored studies, with the "
        "citation count the site shows for them.",
        "sql": """SELECT o.study_id, o.title, o.journal, o.published,
  count(DISTINCT r.source_study_id) AS cited_by_studies,
  max(r.citations) AS citations
FROM research_links r JOIN study_overview o ON o.study_id = r.target_study_id
WHERE r.kind = 'cited'
GROUP BY o.study_id
ORDER BY cited_by_studies DESC, citations DESC, o.study_id
LIMIT 100""",
    },
    "studies_most_threads": {
        "title": "Studies with the most community threads",
        "sql": """SELECT study_id, title, journal, published, community_count, community_total
FROM study_overview
ORDER BY community_count DESC, study_id
LIMIT 100""",
    },
    "authors_most_studies": {
        "title": "Authors with the most studies",
        "sql": """SELECT a.name AS author, count(DISTINCT sa.study_id) AS studies
FROM authors a JOIN study_authors sa ON sa.author_id = a.id
GROUP BY a.id
ORDER BY studies DESC, a.name
LIMIT 100""",
    },
    "threads_of_study": {
        "title": "The community threads of a study",
        "description": "Give the study's id, the end of its URL.",
        "sql": """SELECT position, thread_id, post_id, thread_title, thread_url, category,
  upvotes, comment_count, posted
FROM study_threads_view
WHERE study_id = :study_id
ORDER BY position""",
    },
    "study_versions": {
        "title": "A study's version history",
        "description": "Every stored version of a study, oldest first, the current one last.",
        "sql": """SELECT recorded_at, run_id, content_hash, 0 AS current,
  json_extract(data, '$.title') AS title, json_extract(data, '$.tldr') AS tldr
FROM history WHERE entity = 'study' AND entity_key = :study_id
UNION ALL
SELECT changed_at, last_run_id, content_hash, 1, title, tldr
FROM studies WHERE study_id = :study_id
ORDER BY current, recorded_at""",
    },
}


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the crawler database named ``database`` (its file's stem)."""
    return {
        "title": "tressless corpus",
        "description": "Research summaries and community threads stored by tressless-crawler.",
        "databases": {
            database: {
                "description": "Tables as the crawler stores them; the *_overview views join "
                "them for reading.",
                "tables": TABLES,
                "queries": QUERIES,
            }
        },
    }


def in_wal_mode(path: str | Path) -> bool:
    """Whether the SQLite file is in WAL mode (a crawler's live database), from its header."""
    with open(path, "rb") as f:
        header = f.read(20)
    return len(header) == 20 and header[18] == 2


def make_datasette(path: str | Path, immutable: bool = True) -> Any:
    """A Datasette serving ``path`` with the crawler's metadata, read only.

    ``immutable``: opened with ``immutable=1`` (no locks, nothing can change it: an exported
    copy); otherwise with ``mode=ro``, which still sees what a running crawl commits to its
    write-ahead log.
    """
    try:
        from datasette.app import Datasette
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None
    path = Path(path)
    return Datasette(
        immutables=[str(path)] if immutable else [],
        files=[] if immutable else [str(path)],
        metadata=metadata(path.stem),
        settings={"default_page_size": 50, "facet_time_limit_ms": 1000},
    )
