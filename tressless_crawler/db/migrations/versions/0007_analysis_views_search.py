"""Views for analysis (study_overview, thread_overview, study_threads_view) and full-text search

The search index is kept in step by the database itself, in the statement that writes the rows
it indexes, whatever writes them: on SQLite FTS5 tables filled by triggers (studies_fts,
authors_fts, journals_fts, threads_fts, comments_fts); on PostgreSQL generated ``tsvector``
columns (``search``) with GIN indexes on the same five tables.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-05 21:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

# --- views: the same columns and meaning on both databases -------------------------------------

# Authors joined in page order: string_agg orders itself; SQLite's group_concat (before 3.44)
# takes the rows in the order of the subquery it reads.
AUTHORS = {
    "postgresql": (
        "(SELECT string_agg(a.name, '; ' ORDER BY sa.position) FROM study_authors sa "
        "JOIN authors a ON a.id = sa.author_id WHERE sa.study_id = s.study_id)"
    ),
    "sqlite": (
        "(SELECT group_concat(name, '; ') FROM (SELECT a.name AS name FROM study_authors sa "
        "JOIN authors a ON a.id = sa.author_id WHERE sa.study_id = s.study_id "
        "ORDER BY sa.position))"
    ),
}
STUDY_IDS = {
    "postgresql": (
        "(SELECT string_agg(st.study_id, '; ' ORDER BY st.study_id) FROM "
        "(SELECT DISTINCT study_id FROM study_threads WHERE thread_id = t.id) st)"
    ),
    "sqlite": (
        "(SELECT group_concat(study_id, '; ') FROM (SELECT DISTINCT study_id FROM study_threads "
        "WHERE thread_id = t.id ORDER BY study_id))"
    ),
}

STUDY_OVERVIEW = """
CREATE VIEW study_overview AS
SELECT
    s.study_id,
    s.url,
    s.title,
    s.published,
    CAST(substr(s.published, 1, 4) AS INTEGER) AS published_year,
    j.name AS journal,
    {authors} AS authors,
    s.tldr,
    s.cited_total,
    (SELECT count(*) FROM research_links r
        WHERE r.source_study_id = s.study_id AND r.kind = 'cited') AS cited_count,
    s.related_total,
    (SELECT count(*) FROM research_links r
        WHERE r.source_study_id = s.study_id AND r.kind = 'related') AS related_count,
    s.community_total,
    (SELECT count(*) FROM study_threads c WHERE c.study_id = s.study_id) AS community_count,
    s.first_seen,
    s.last_seen,
    s.changed_at,
    s.gone_at,
    CASE WHEN s.gone_at IS NULL THEN 0 ELSE 1 END AS gone
FROM studies s
LEFT JOIN journals j ON j.id = s.journal_id
"""

THREAD_OVERVIEW = """
CREATE VIEW thread_overview AS
SELECT
    t.id AS thread_id,
    t.post_id,
    t.url,
    t.title,
    t.category,
    t.author,
    t.posted_at,
    t.posted_approx,
    t.upvotes,
    t.comment_count,
    (SELECT count(*) FROM comments c
        WHERE c.thread_id = t.id AND c.kind = 'comment') AS comments_stored,
    (SELECT count(DISTINCT st.study_id) FROM study_threads st
        WHERE st.thread_id = t.id) AS study_count,
    {study_ids} AS study_ids,
    t.source,
    t.first_seen,
    t.last_seen,
    t.changed_at,
    t.gone_at
FROM threads t
"""

STUDY_THREADS_VIEW = """
CREATE VIEW study_threads_view AS
SELECT
    st.study_id,
    s.title AS study_title,
    st.position,
    t.id AS thread_id,
    t.post_id,
    t.title AS thread_title,
    t.url AS thread_url,
    t.category,
    t.upvotes,
    t.comment_count,
    coalesce(t.posted_at, CAST(t.posted_approx AS {date_type})) AS posted
FROM study_threads st
JOIN studies s ON s.study_id = st.study_id
JOIN threads t ON t.id = st.thread_id
"""

VIEWS = ("study_threads_view", "thread_overview", "study_overview")


def create_views(dialect: str) -> None:
    op.execute(STUDY_OVERVIEW.format(authors=AUTHORS[dialect]))
    op.execute(THREAD_OVERVIEW.format(study_ids=STUDY_IDS[dialect]))
    # posted: the thread's own time, else the date its card's age gives (text on SQLite).
    op.execute(STUDY_THREADS_VIEW.format(date_type="TEXT" if dialect == "sqlite" else "DATE"))


# --- the search index --------------------------------------------------------------------------
#
# A study is found by its own text (title, TLDR, summary) and by the names of its authors and its
# journal. The names are indexed once each, in their own tables, and reach a study through the
# link tables at query time: a change of a study's authors or journal is then a change of links
# only, with nothing to re-index, and renaming an author or a journal re-indexes one name.

# --- SQLite: FTS5 tables and their triggers ----------------------------------------------------

# unicode61 folds case and (remove_diacritics 2) accents, so "cafe" finds "Café", and Cyrillic
# and Kazakh letters are word characters; no stemming, as on PostgreSQL.
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def _external(table: str, key: str, columns: tuple[str, ...]) -> list[str]:
    """An FTS5 index over ``table``'s own columns, and the triggers that keep it in step.

    External content: the text stays in ``table``; every change removes the text it indexed
    (the old values) and adds the new.
    """
    fts = f"{table}_fts"
    names = ", ".join(columns)
    old = ", ".join(f"old.{c}" for c in columns)
    new = ", ".join(f"new.{c}" for c in columns)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content = '{table}', "
        f"content_rowid = '{key}', {TOKENIZE})",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts} (rowid, {names}) VALUES (new.{key}, {new}); END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} WHEN {changed} BEGIN "
        f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.{key}, {old}); "
        f"INSERT INTO {fts} (rowid, {names}) VALUES (new.{key}, {new}); END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.{key}, {old}); END",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]


SQLITE_FTS = {
    # studies have no integer key: their rowid, which SQLite keeps (VACUUM included)
    "studies": ("rowid", ("title", "tldr", "summary")),
    "authors": ("id", ("name",)),
    "journals": ("id", ("name",)),
    "threads": ("id", ("title", "body")),
    "comments": ("id", ("body",)),
}
SQLITE_UP = [
    statement
    for table, (key, columns) in SQLITE_FTS.items()
    for statement in _external(table, key, columns)
]
SQLITE_DOWN = [
    statement
    for table in SQLITE_FTS
    for statement in (
        f"DROP TRIGGER IF EXISTS {table}_fts_insert",
        f"DROP TRIGGER IF EXISTS {table}_fts_update",
        f"DROP TRIGGER IF EXISTS {table}_fts_delete",
        f"DROP TABLE IF EXISTS {table}_fts",
    )
]

# --- PostgreSQL: tsvector columns with GIN indexes ---------------------------------------------

# crawler_fold(text): lower case without accents, the same on the documents and the queries.
# unaccent is a trusted extension (PostgreSQL 13+): the database's owner may create it. Where
# the server lacks it, the fold is lower case only (accents then count on PostgreSQL).
FOLD_UNACCENT = """
CREATE FUNCTION crawler_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary, value)) $$
"""
FOLD_PLAIN = """
CREATE FUNCTION crawler_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(value) $$
"""


def _vector(column: str, weight: str) -> str:
    return f"setweight(to_tsvector('simple', coalesce(crawler_fold({column}), '')), '{weight}')"


# Generated columns: PostgreSQL computes them in the statement that writes the row.
POSTGRES_VECTORS = {
    "studies": (("title", "A"), ("tldr", "B"), ("summary", "D")),
    "authors": (("name", "C"),),
    "journals": (("name", "C"),),
    "threads": (("title", "A"), ("body", "B")),
    "comments": (("body", "B"),),
}
POSTGRES_UP = [
    statement
    for table, columns in POSTGRES_VECTORS.items()
    for statement in (
        f"ALTER TABLE {table} ADD COLUMN search tsvector GENERATED ALWAYS AS ("
        + " || ".join(_vector(column, weight) for column, weight in columns)
        + ") STORED",
        f"CREATE INDEX ix_{table}_search ON {table} USING gin (search)",
    )
]
POSTGRES_DOWN = [
    *(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search" for table in POSTGRES_VECTORS),
    "DROP FUNCTION IF EXISTS crawler_fold(text)",
]


def _create_fold() -> None:
    """crawler_fold with unaccent where the server has it (in a savepoint: it may refuse)."""
    bind = op.get_bind()
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'"
    ).first()
    if available:
        try:
            with bind.begin_nested():
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        except Exception:  # not allowed to: lower case only
            available = None
    if available:
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        ).scalar_one()
        op.execute(FOLD_UNACCENT.format(schema=f'"{schema}"'))
    else:
        op.execute(FOLD_PLAIN)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    create_views(dialect)
    if dialect == "postgresql":
        _create_fold()
        for statement in POSTGRES_UP:
            op.execute(statement)
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_DOWN if dialect == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
