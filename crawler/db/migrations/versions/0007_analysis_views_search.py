"""Views for analysis (study_overview, thread_overview, study_threads_view) and full-text search

The search index is kept in step by the database itself, in the transaction that writes the
rows it indexes, whatever writes them: on SQLite FTS5 tables filled by triggers (studies_fts,
threads_fts, comments_fts); on PostgreSQL ``tsvector`` columns with GIN indexes (threads and
comments: generated columns; studies: the study_search table, filled by statement triggers,
since a study's document takes its authors and journal from other tables).

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


# --- SQLite: FTS5 tables and their triggers ----------------------------------------------------

# unicode61 folds case and (remove_diacritics 2) accents of every script it knows, so "cafe"
# finds "Café" and Cyrillic and Kazakh words are words; no stemming, as on PostgreSQL.
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"

# A study's document: studies_fts keeps its own text (the authors and journal come from other
# tables), under the study's rowid, which is what Datasette and `scrapy search` join on.
STUDY_DOCUMENT = """
INSERT INTO studies_fts (rowid, title, tldr, summary, authors, journal)
SELECT s.rowid, s.title, s.tldr, s.summary,
    (SELECT group_concat(name, '; ') FROM (SELECT a.name AS name FROM study_authors sa
        JOIN authors a ON a.id = sa.author_id WHERE sa.study_id = s.study_id
        ORDER BY sa.position)),
    (SELECT j.name FROM journals j WHERE j.id = s.journal_id)
FROM studies s WHERE {where}
"""
STUDY_REINDEX = (
    "DELETE FROM studies_fts WHERE rowid IN (SELECT rowid FROM studies WHERE {where});\n"
    + STUDY_DOCUMENT.strip()
    + ";"
)

SQLITE_UP = [
    f"CREATE VIRTUAL TABLE studies_fts USING fts5(title, tldr, summary, authors, journal, "
    f"{TOKENIZE})",
    f"CREATE VIRTUAL TABLE threads_fts USING fts5(title, body, content = 'threads', "
    f"content_rowid = 'id', {TOKENIZE})",
    f"CREATE VIRTUAL TABLE comments_fts USING fts5(body, content = 'comments', "
    f"content_rowid = 'id', {TOKENIZE})",
    # studies
    "CREATE TRIGGER studies_fts_insert AFTER INSERT ON studies BEGIN "
    + STUDY_DOCUMENT.format(where="s.rowid = new.rowid").strip()
    + "; END",
    "CREATE TRIGGER studies_fts_update AFTER UPDATE OF title, tldr, summary, journal_id "
    "ON studies WHEN old.title IS NOT new.title OR old.tldr IS NOT new.tldr "
    "OR old.summary IS NOT new.summary OR old.journal_id IS NOT new.journal_id BEGIN "
    + STUDY_REINDEX.format(where="rowid = new.rowid")
    + " END",
    "CREATE TRIGGER studies_fts_delete AFTER DELETE ON studies BEGIN "
    "DELETE FROM studies_fts WHERE rowid = old.rowid; END",
    # a study's authors and journal
    "CREATE TRIGGER studies_fts_author_added AFTER INSERT ON study_authors BEGIN "
    + STUDY_REINDEX.format(where="study_id = new.study_id")
    + " END",
    "CREATE TRIGGER studies_fts_author_removed AFTER DELETE ON study_authors BEGIN "
    + STUDY_REINDEX.format(where="study_id = old.study_id")
    + " END",
    "CREATE TRIGGER studies_fts_author_renamed AFTER UPDATE OF name ON authors BEGIN "
    + STUDY_REINDEX.format(
        where="study_id IN (SELECT study_id FROM study_authors WHERE author_id = new.id)"
    )
    + " END",
    "CREATE TRIGGER studies_fts_journal_renamed AFTER UPDATE OF name ON journals BEGIN "
    + STUDY_REINDEX.format(where="journal_id = new.id")
    + " END",
    # threads and comments: external content, so each change removes the old text it indexed
    "CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN "
    "INSERT INTO threads_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER threads_fts_update AFTER UPDATE OF title, body ON threads "
    "WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN "
    "INSERT INTO threads_fts (threads_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO threads_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN "
    "INSERT INTO threads_fts (threads_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER comments_fts_insert AFTER INSERT ON comments BEGIN "
    "INSERT INTO comments_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER comments_fts_update AFTER UPDATE OF body ON comments "
    "WHEN old.body IS NOT new.body BEGIN "
    "INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO comments_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER comments_fts_delete AFTER DELETE ON comments BEGIN "
    "INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "END",
    # the rows already stored
    STUDY_DOCUMENT.format(where="1 = 1"),
    "INSERT INTO threads_fts (threads_fts) VALUES ('rebuild')",
    "INSERT INTO comments_fts (comments_fts) VALUES ('rebuild')",
]

SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "studies_fts_insert",
            "studies_fts_update",
            "studies_fts_delete",
            "studies_fts_author_added",
            "studies_fts_author_removed",
            "studies_fts_author_renamed",
            "studies_fts_journal_renamed",
            "threads_fts_insert",
            "threads_fts_update",
            "threads_fts_delete",
            "comments_fts_insert",
            "comments_fts_update",
            "comments_fts_delete",
        )
    ),
    "DROP TABLE IF EXISTS studies_fts",
    "DROP TABLE IF EXISTS threads_fts",
    "DROP TABLE IF EXISTS comments_fts",
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


def _vector(expression: str, weight: str) -> str:
    return f"setweight(to_tsvector('simple', coalesce(crawler_fold({expression}), '')), '{weight}')"


STUDY_VECTOR = " || ".join(
    [
        _vector("s.title", "A"),
        _vector("s.tldr", "B"),
        _vector("au.names", "C"),
        _vector("j.name", "C"),
        _vector("s.summary", "D"),
    ]
)

POSTGRES_UP = [
    """
    CREATE TABLE study_search (
        study_id VARCHAR(16) PRIMARY KEY
            REFERENCES studies (study_id) ON DELETE CASCADE,
        document tsvector NOT NULL
    )
    """,
    "CREATE INDEX ix_study_search_document ON study_search USING gin (document)",
    f"""
    CREATE FUNCTION study_search_refresh(ids text[]) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO study_search (study_id, document)
        SELECT s.study_id, {STUDY_VECTOR}
        FROM studies s
        LEFT JOIN journals j ON j.id = s.journal_id
        LEFT JOIN LATERAL (
            SELECT string_agg(a.name, '; ' ORDER BY sa.position) AS names
            FROM study_authors sa JOIN authors a ON a.id = sa.author_id
            WHERE sa.study_id = s.study_id
        ) au ON true
        WHERE s.study_id = ANY(ids)
        ON CONFLICT (study_id) DO UPDATE SET document = excluded.document
    $$
    """,
    # One refresh per statement for all its rows (the store writes a batch per statement).
    """
    CREATE FUNCTION study_search_on_study() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM study_search_refresh(ARRAY(SELECT study_id FROM new_rows));
        ELSE
            PERFORM study_search_refresh(ARRAY(
                SELECT n.study_id FROM new_rows n JOIN old_rows o ON o.study_id = n.study_id
                WHERE o.title IS DISTINCT FROM n.title OR o.tldr IS DISTINCT FROM n.tldr
                   OR o.summary IS DISTINCT FROM n.summary
                   OR o.journal_id IS DISTINCT FROM n.journal_id));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION study_search_on_author_link() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM study_search_refresh(ARRAY(SELECT DISTINCT study_id FROM new_rows));
        ELSE
            PERFORM study_search_refresh(ARRAY(SELECT DISTINCT study_id FROM old_rows));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION study_search_on_name() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'journals' THEN
            PERFORM study_search_refresh(ARRAY(
                SELECT s.study_id FROM studies s JOIN new_rows n ON n.id = s.journal_id));
        ELSE
            PERFORM study_search_refresh(ARRAY(
                SELECT DISTINCT sa.study_id FROM study_authors sa
                JOIN new_rows n ON n.id = sa.author_id));
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER study_search_insert AFTER INSERT ON studies REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION study_search_on_study()",
    "CREATE TRIGGER study_search_update AFTER UPDATE ON studies REFERENCING OLD TABLE AS "
    "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION study_search_on_study()",
    "CREATE TRIGGER study_search_author_added AFTER INSERT ON study_authors REFERENCING NEW "
    "TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION study_search_on_author_link()",
    "CREATE TRIGGER study_search_author_removed AFTER DELETE ON study_authors REFERENCING OLD "
    "TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION study_search_on_author_link()",
    "CREATE TRIGGER study_search_author_renamed AFTER UPDATE ON authors REFERENCING NEW TABLE "
    "AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION study_search_on_name()",
    "CREATE TRIGGER study_search_journal_renamed AFTER UPDATE ON journals REFERENCING NEW TABLE "
    "AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION study_search_on_name()",
    "SELECT study_search_refresh(ARRAY(SELECT study_id FROM studies))",
    # threads and comments: their text is in their own row, so a generated column suffices
    "ALTER TABLE threads ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    + " || ".join([_vector("title", "A"), _vector("body", "B")])
    + ") STORED",
    "CREATE INDEX ix_threads_search ON threads USING gin (search)",
    "ALTER TABLE comments ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    + _vector("body", "B")
    + ") STORED",
    "CREATE INDEX ix_comments_search ON comments USING gin (search)",
]

POSTGRES_DOWN = [
    "ALTER TABLE comments DROP COLUMN IF EXISTS search",
    "ALTER TABLE threads DROP COLUMN IF EXISTS search",
    "DROP TRIGGER IF EXISTS study_search_journal_renamed ON journals",
    "DROP TRIGGER IF EXISTS study_search_author_renamed ON authors",
    "DROP TRIGGER IF EXISTS study_search_author_removed ON study_authors",
    "DROP TRIGGER IF EXISTS study_search_author_added ON study_authors",
    "DROP TRIGGER IF EXISTS study_search_update ON studies",
    "DROP TRIGGER IF EXISTS study_search_insert ON studies",
    "DROP FUNCTION IF EXISTS study_search_on_name()",
    "DROP FUNCTION IF EXISTS study_search_on_author_link()",
    "DROP FUNCTION IF EXISTS study_search_on_study()",
    "DROP FUNCTION IF EXISTS study_search_refresh(text[])",
    "DROP TABLE IF EXISTS study_search",
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
