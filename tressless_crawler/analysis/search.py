"""Full-text search over the index migration 0007 keeps in step: one query language, two engines.

A query is words (all must match), ``"a phrase"``, ``word*`` (a prefix), ``a OR b`` and
``-word`` (must not match). It is parsed here and written out as an FTS5 MATCH expression on
SQLite and as a ``tsquery`` built by PostgreSQL's own functions, so both databases find the
same rows for it; neither engine ever sees the user's text as syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from tressless_crawler.exceptions import QuerySyntaxError

KINDS = ("studies", "threads", "comments")
OPEN, CLOSE = "[", "]"  # around a matched word in a snippet


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    groups: tuple[tuple[Term, ...], ...]  # all groups must match, any term of a group
    excluded: tuple[Term, ...]  # none may match


_TOKEN = re.compile(r'\s*(?:(-?)"([^"]*)("?)|(\S+))')


def parse(query: str) -> Query:
    """The query read into groups of terms, or QuerySyntaxError saying what is wrong."""
    items: list[tuple[str, Any]] = []  # ("or", None) | ("term", (Term, negated))
    position = 0
    source = query.strip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:  # only trailing blanks
            break
        position = match.end()
        minus, phrase, closed, word = match.groups()
        if word is None:
            if not closed:
                raise QuerySyntaxError(f'unclosed quote in {query!r}: end the phrase with "')
            items.append(("term", (_term(phrase, phrase=True), bool(minus))))
        elif word == "OR":
            items.append(("or", None))
        else:
            negated = word.startswith("-") and len(word) > 1
            items.append(("term", (_term(word[1:] if negated else word), negated)))
    if not items:
        raise QuerySyntaxError("empty query: give at least one word to search for")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False
    for index, (kind, value) in enumerate(items):
        if kind == "or":
            if joining or not groups or index == len(items) - 1 or items[index - 1][1][1]:
                raise QuerySyntaxError(f"OR must stand between two words in {query!r}")
            joining = True
            continue
        term, negated = value
        if negated:
            if joining:
                raise QuerySyntaxError(f"OR must stand between two words in {query!r}")
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if not groups:
        raise QuerySyntaxError(f"{query!r} only excludes words: say what to search for as well")
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


def _term(raw: str, phrase: bool = False) -> Term:
    prefix = not phrase and raw.endswith("*")
    body = raw[:-1] if prefix else raw
    if "*" in body or "\x00" in body:
        raise QuerySyntaxError(f"{raw!r}: * may only end a word (a prefix search)")
    if not any(ch.isalnum() for ch in body):
        raise QuerySyntaxError(f"{raw!r} has no letter or digit to search for")
    return Term(" ".join(body.split()), prefix)


# --- SQLite: an FTS5 MATCH expression ----------------------------------------------------------


def fts5_expression(query: Query) -> str:
    def term(t: Term) -> str:
        return '"' + t.text.replace('"', '""') + '"' + ("*" if t.prefix else "")

    groups = [
        term(g[0]) if len(g) == 1 else "(" + " OR ".join(term(t) for t in g) + ")"
        for g in query.groups
    ]
    expression = " AND ".join(groups)
    for t in query.excluded:
        expression = f"({expression}) NOT {term(t)}"
    return expression


# --- PostgreSQL: a tsquery built from the terms as bound values --------------------------------


def tsquery_expression(query: Query, params: dict[str, Any]) -> str:
    """SQL for the tsquery; the terms go into ``params``, never into the SQL text."""

    def term(t: Term) -> str:
        name = f"t{len(params)}"
        params[name] = t.text
        if t.prefix:
            return f"to_tsquery('simple', quote_literal(crawler_fold(:{name})) || ':*')"
        return f"phraseto_tsquery('simple', crawler_fold(:{name}))"

    groups = ["(" + " || ".join(term(t) for t in g) + ")" for g in query.groups]
    expression = " && ".join(groups)
    for t in query.excluded:
        expression = f"({expression}) && !!{term(t)}"
    return expression


# --- the searches ------------------------------------------------------------------------------
#
# Threads and comments are one table each. A study matches a group of terms by its own text or
# by the name of one of its authors or of its journal (indexed once per name, see migration
# 0007), so a study's set of hits is a compound SELECT: per group the union of those three,
# intersected over the groups, less what an excluded term matches in any of them. Ranking and
# snippets come from the text and the matched names, for the query's terms taken together.

STUDY_KEYS = {
    "sqlite": (
        "SELECT rowid AS k FROM studies_fts WHERE studies_fts MATCH :{p} "
        "UNION SELECT s.rowid FROM authors_fts JOIN study_authors sa "
        "ON sa.author_id = authors_fts.rowid JOIN studies s ON s.study_id = sa.study_id "
        "WHERE authors_fts MATCH :{p} "
        "UNION SELECT s.rowid FROM journals_fts JOIN studies s "
        "ON s.journal_id = journals_fts.rowid WHERE journals_fts MATCH :{p}"
    ),
    "postgresql": (
        "SELECT study_id AS k FROM studies WHERE search @@ {q} "
        "UNION SELECT sa.study_id FROM authors a JOIN study_authors sa ON sa.author_id = a.id "
        "WHERE a.search @@ {q} "
        "UNION SELECT s.study_id FROM journals j JOIN studies s ON s.journal_id = j.id "
        "WHERE j.search @@ {q}"
    ),
}

SQLITE_STUDIES = """
    WITH matched AS ({keys}),
    text_hits AS (
        SELECT rowid AS k, -bm25(studies_fts, 10.0, 4.0, 1.0) AS score,
               snippet(studies_fts, -1, :open, :close, '…', 16) AS snippet
        FROM studies_fts WHERE studies_fts MATCH :any
    ),
    names AS (
        SELECT rowid AS id, -bm25(authors_fts) * 3.0 AS score,
               highlight(authors_fts, 0, :open, :close) AS name
        FROM authors_fts WHERE authors_fts MATCH :any
    ),
    author_hits AS (
        SELECT study_id, sum(score) AS score, group_concat(name, '; ') AS names
        FROM (SELECT sa.study_id, n.score, n.name FROM names n
              JOIN study_authors sa ON sa.author_id = n.id ORDER BY sa.study_id, sa.position)
        GROUP BY study_id
    ),
    journal_hits AS (
        SELECT rowid AS id, -bm25(journals_fts) * 2.0 AS score,
               highlight(journals_fts, 0, :open, :close) AS name
        FROM journals_fts WHERE journals_fts MATCH :any
    ),
    ranked AS (
        SELECT s.study_id AS id, s.title AS title, s.url AS url,
               t.snippet AS text_snippet, a.names AS names, j.name AS journal,
               coalesce(t.score, 0) + coalesce(a.score, 0) + coalesce(j.score, 0) AS score
        FROM matched m JOIN studies s ON s.rowid = m.k
        LEFT JOIN text_hits t ON t.k = m.k
        LEFT JOIN author_hits a ON a.study_id = s.study_id
        LEFT JOIN journal_hits j ON j.id = s.journal_id
    )
    SELECT id, title, url, score, text_snippet, names, journal
    FROM ranked ORDER BY score DESC, id LIMIT :limit
"""

POSTGRES_STUDIES = """
    WITH q AS (SELECT {any} AS query),
    matched AS ({keys}),
    ranked AS (
        SELECT s.study_id, ts_rank(s.search, q.query)
               + coalesce((SELECT sum(ts_rank(a.search, q.query)) FROM study_authors sa
                           JOIN authors a ON a.id = sa.author_id
                           WHERE sa.study_id = s.study_id AND a.search @@ q.query), 0)
               + coalesce((SELECT ts_rank(j.search, q.query) FROM journals j
                           WHERE j.id = s.journal_id AND j.search @@ q.query), 0) AS score
        FROM matched m JOIN studies s ON s.study_id = m.k, q
        ORDER BY score DESC, s.study_id LIMIT :limit
    )
    SELECT s.study_id AS id, s.title AS title, s.url AS url, r.score AS score,
           CASE WHEN s.search @@ q.query
                THEN {headline} END AS text_snippet,
           (SELECT string_agg({name_headline}, '; ' ORDER BY sa.position)
            FROM study_authors sa JOIN authors a ON a.id = sa.author_id
            WHERE sa.study_id = s.study_id AND a.search @@ q.query) AS names,
           (SELECT {journal_headline} FROM journals j
            WHERE j.id = s.journal_id AND j.search @@ q.query) AS journal
    FROM ranked r JOIN studies s ON s.study_id = r.study_id, q
    ORDER BY r.score DESC, s.study_id
"""

SQLITE = {
    "threads": """
        SELECT coalesce(t.post_id, CAST(t.id AS TEXT)) AS id, t.title AS title, t.url AS url,
               snippet(threads_fts, -1, :open, :close, '…', 16) AS snippet,
               -bm25(threads_fts, 4.0, 1.0) AS score
        FROM threads_fts JOIN threads t ON t.id = threads_fts.rowid
        WHERE threads_fts MATCH :any
        ORDER BY bm25(threads_fts, 4.0, 1.0), t.id LIMIT :limit
    """,
    "comments": """
        SELECT c.comment_id AS id, t.title AS title, t.url AS url,
               snippet(comments_fts, 0, :open, :close, '…', 16) AS snippet,
               -bm25(comments_fts) AS score
        FROM comments_fts JOIN comments c ON c.id = comments_fts.rowid
        JOIN threads t ON t.id = c.thread_id
        WHERE comments_fts MATCH :any
        ORDER BY bm25(comments_fts), c.id LIMIT :limit
    """,
}

HEADLINE = (
    "ts_headline('simple', {text}, q.query, 'StartSel=\"' || :open || '\", StopSel=\"' || "
    ":close || '\", {options}')"
)
TEXT_OPTIONS = 'MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
NAME_OPTIONS = "HighlightAll=true"
POSTGRES = {
    "threads": """
        WITH q AS (SELECT {any} AS query),
        hits AS (
            SELECT t.id, ts_rank(t.search, q.query) AS score
            FROM threads t, q WHERE t.search @@ q.query
            ORDER BY score DESC, t.id LIMIT :limit
        )
        SELECT coalesce(t.post_id, CAST(t.id AS TEXT)) AS id, t.title AS title, t.url AS url,
               {headline} AS snippet, hits.score AS score
        FROM hits JOIN threads t ON t.id = hits.id, q
        ORDER BY hits.score DESC, t.id
    """,
    "comments": """
        WITH q AS (SELECT {any} AS query),
        hits AS (
            SELECT c.id, ts_rank(c.search, q.query) AS score
            FROM comments c, q WHERE c.search @@ q.query
            ORDER BY score DESC, c.id LIMIT :limit
        )
        SELECT c.comment_id AS id, t.title AS title, t.url AS url,
               {headline} AS snippet, hits.score AS score
        FROM hits JOIN comments c ON c.id = hits.id JOIN threads t ON t.id = c.thread_id, q
        ORDER BY hits.score DESC, c.id
    """,
}
HEADLINE_TEXT = {
    "studies": "concat_ws(' — ', s.title, s.tldr, s.summary)",
    "threads": "concat_ws(' — ', t.title, t.body)",
    "comments": "coalesce(c.body, '')",
}


def _headline(text: str, options: str = TEXT_OPTIONS) -> str:
    return HEADLINE.format(text=text, options=options)


def _any_terms(query: Query) -> Query:
    """The query's wanted terms as one group: what ranks and highlights its hits."""
    return Query((tuple(t for group in query.groups for t in group),), ())


def _study_keys(query: Query, dialect: str, params: dict[str, Any]) -> str:
    """The compound SELECT of the keys of the studies ``query`` finds."""

    def keys(group: Query) -> str:
        if dialect == "postgresql":
            select = STUDY_KEYS[dialect].format(q=f"({tsquery_expression(group, params)})")
        else:
            name = f"g{len(params)}"
            params[name] = fts5_expression(group)
            select = STUDY_KEYS[dialect].format(p=name)
        return f"SELECT k FROM ({select}) AS {'s' + str(len(params))}"

    parts = [keys(Query((group,), ())) for group in query.groups]
    compound = " INTERSECT ".join(parts)
    for term in query.excluded:
        compound += " EXCEPT " + keys(Query(((term,),), ()))
    return compound


def _study_snippet(row: dict[str, Any]) -> str:
    parts = [row.pop("text_snippet") or ""]
    names, journal = row.pop("names"), row.pop("journal")
    if names:
        parts.append(f"authors: {names}")
    if journal:
        parts.append(f"journal: {journal}")
    return " — ".join(p for p in parts if p)


def search(engine: Engine, query: str, kind: str = "studies", limit: int = 20) -> Iterator[dict]:
    """The best ``limit`` hits for ``query`` among ``kind``, best first, each with its snippet.

    Raises QuerySyntaxError for a query that cannot be read.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    parsed = parse(query)
    dialect = engine.dialect.name
    params: dict[str, Any] = {"limit": limit, "open": OPEN, "close": CLOSE}
    if kind == "studies":
        keys = _study_keys(parsed, dialect, params)
        if dialect == "postgresql":
            sql = POSTGRES_STUDIES.format(
                keys=keys,
                any=tsquery_expression(_any_terms(parsed), params),
                headline=_headline(HEADLINE_TEXT["studies"]),
                name_headline=_headline("a.name", NAME_OPTIONS),
                journal_headline=_headline("j.name", NAME_OPTIONS),
            )
        else:
            sql = SQLITE_STUDIES.format(keys=keys)
            params["any"] = fts5_expression(_any_terms(parsed))
    elif dialect == "postgresql":
        sql = POSTGRES[kind].format(
            any=tsquery_expression(parsed, params), headline=_headline(HEADLINE_TEXT[kind])
        )
    else:
        sql = SQLITE[kind]
        params["any"] = fts5_expression(parsed)
    with engine.connect() as conn:
        for rank, found in enumerate(conn.execute(text(sql), params).mappings(), 1):
            row = dict(found)
            if kind == "studies":
                row["snippet"] = _study_snippet(row)
            yield {
                "rank": rank,
                "kind": kind,
                "id": row["id"],
                "title": row["title"],
                "url": row["url"],
                "snippet": row["snippet"],
                "score": float(f"{row['score']:.6g}"),
            }
