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

KINDS = ("studies", "threads", "comments")
OPEN, CLOSE = "[", "]"  # around a matched word in a snippet


class QuerySyntaxError(ValueError):
    """The query cannot be read; the message says what to change."""


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

SQLITE = {
    # bm25 weights per column: title, tldr, summary, authors, journal
    "studies": """
        SELECT s.study_id AS id, s.title AS title, s.url AS url,
               snippet(studies_fts, -1, :open, :close, '…', 16) AS snippet,
               -bm25(studies_fts, 10.0, 4.0, 1.0, 3.0, 2.0) AS score
        FROM studies_fts JOIN studies s ON s.rowid = studies_fts.rowid
        WHERE studies_fts MATCH :match
        ORDER BY bm25(studies_fts, 10.0, 4.0, 1.0, 3.0, 2.0), s.study_id LIMIT :limit
    """,
    "threads": """
        SELECT coalesce(t.post_id, CAST(t.id AS TEXT)) AS id, t.title AS title, t.url AS url,
               snippet(threads_fts, -1, :open, :close, '…', 16) AS snippet,
               -bm25(threads_fts, 4.0, 1.0) AS score
        FROM threads_fts JOIN threads t ON t.id = threads_fts.rowid
        WHERE threads_fts MATCH :match
        ORDER BY bm25(threads_fts, 4.0, 1.0), t.id LIMIT :limit
    """,
    "comments": """
        SELECT c.comment_id AS id, t.title AS title, t.url AS url,
               snippet(comments_fts, 0, :open, :close, '…', 16) AS snippet,
               -bm25(comments_fts) AS score
        FROM comments_fts JOIN comments c ON c.id = comments_fts.rowid
        JOIN threads t ON t.id = c.thread_id
        WHERE comments_fts MATCH :match
        ORDER BY bm25(comments_fts), c.id LIMIT :limit
    """,
}

HEADLINE = (
    "ts_headline('simple', {text}, q.query, 'StartSel=\"' || :open || '\", StopSel=\"' || "
    ':close || \'", MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "\')'
)
POSTGRES = {
    "studies": """
        WITH q AS (SELECT {tsquery} AS query),
        hits AS (
            SELECT ss.study_id, ts_rank(ss.document, q.query) AS score
            FROM study_search ss, q WHERE ss.document @@ q.query
            ORDER BY score DESC, ss.study_id LIMIT :limit
        )
        SELECT s.study_id AS id, s.title AS title, s.url AS url,
               {headline} AS snippet, hits.score AS score
        FROM hits JOIN studies s ON s.study_id = hits.study_id
        JOIN study_overview o ON o.study_id = hits.study_id, q
        ORDER BY hits.score DESC, s.study_id
    """,
    "threads": """
        WITH q AS (SELECT {tsquery} AS query),
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
        WITH q AS (SELECT {tsquery} AS query),
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
    "studies": "concat_ws(' — ', s.title, s.tldr, o.authors, o.journal, s.summary)",
    "threads": "concat_ws(' — ', t.title, t.body)",
    "comments": "coalesce(c.body, '')",
}


def search(engine: Engine, query: str, kind: str = "studies", limit: int = 20) -> Iterator[dict]:
    """The best ``limit`` hits for ``query`` among ``kind``, best first, each with its snippet.

    Raises QuerySyntaxError for a query that cannot be read.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    parsed = parse(query)
    params: dict[str, Any] = {"limit": limit, "open": OPEN, "close": CLOSE}
    if engine.dialect.name == "postgresql":
        sql = POSTGRES[kind].format(
            tsquery=tsquery_expression(parsed, params),
            headline=HEADLINE.format(text=HEADLINE_TEXT[kind]),
        )
    else:
        sql = SQLITE[kind]
        params["match"] = fts5_expression(parsed)
    with engine.connect() as conn:
        for rank, row in enumerate(conn.execute(text(sql), params).mappings(), 1):
            yield {"rank": rank, "kind": kind, **row, "score": float(f"{row['score']:.6g}")}
