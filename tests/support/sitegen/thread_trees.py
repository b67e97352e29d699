"""Busy fixture threads: hundreds of comments, nested deeper than a page shows, generated.

The fixture server cuts a thread down as Reddit does (tressless_crawler.demo.reddit_api), so these
threads reach the crawler with ``more`` stubs at several levels (one hiding more than 100
ids), and "continue this thread" stubs where the nesting passes the page's depth. The site
holds them whole: the manifest's counts are those of the whole tree, what a crawl that
expands every stub stores. Deterministic: the same tree on every build.
"""

from __future__ import annotations

from tests.support.sitegen.site_data import Comment, More, Thread

__all__ = ["BUSY_THREADS", "busy_thread"]

AUTHORS = ("big3_ben", "pharm_phil", "hairhopeful", "evidence_pls", "derm_dana", "norwood_ned")
BODIES = (
    "Same here, month {n} on fin and holding.",
    "Source?  \nI'd like to read the **actual** trial.",
    "Shed at week {n}, it passed.\n\nStick with it.",
    "Bloodwork came back normal 👍",
    "`1mg` daily, *not* every other day.",
    "> took it for {n} months\n\nand then?",
)


class _Ids:
    """Comment ids ``<prefix><n in base 36>``: unique within and across the busy threads."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def next(self) -> str:
        self.n += 1
        n, digits = self.n, ""
        while n:
            n, rem = divmod(n, 36)
            digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rem] + digits
        return f"{self.prefix}{digits:0>4}"


def _comment(ids: _Ids, n: int, replies: tuple[Comment | More, ...] = ()) -> Comment:
    cid = ids.next()
    kind = n % 23
    body = BODIES[n % len(BODIES)].format(n=n % 12 + 1)
    if kind == 7:
        return Comment(cid, None, None, 30 + n, "[deleted]", replies)
    if kind == 11:
        return Comment(cid, None, 1, 30 + n, "[removed]", replies)
    return Comment(
        cid,
        AUTHORS[n % len(AUTHORS)],
        (n * 7) % 50 - 3,
        30 + n,
        body,
        replies,
        edited=kind == 3,
    )


def _chain(ids: _Ids, length: int, n: int) -> tuple[Comment, ...]:
    """A reply chain ``length`` levels deep, a second reply at every third level."""
    if length <= 0:
        return ()
    deeper = _chain(ids, length - 1, n + 1)
    if length % 3 == 0:
        deeper = (*deeper, _comment(ids, n + 100))
    return (_comment(ids, n, deeper),)


def _replies(ids: _Ids, width: int, levels: int, n: int) -> tuple[Comment, ...]:
    """``width`` replies, each with ``width - 1`` of its own, ``levels`` deep."""
    if levels <= 0 or width <= 0:
        return ()
    return tuple(
        _comment(ids, n + i, _replies(ids, width - 1, levels - 1, n + i * 3)) for i in range(width)
    )


def busy_thread(post_id: str, prefix: str, top_level: int) -> Thread:
    """``top_level`` top-level comments: the first three with deep chains (past the page's
    depth, one of them twice), the next ones with wide reply trees (past a page's replies)."""
    ids = _Ids(prefix)
    comments: list[Comment | More] = []
    for i in range(top_level):
        if i < 3:
            comments.append(_comment(ids, i, _chain(ids, 9 + i * 4, i)))
        elif i < 9:
            comments.append(_comment(ids, i, _replies(ids, 6, 2, i)))
        else:
            comments.append(_comment(ids, i, _replies(ids, i % 3, 1, i)))
    return Thread(
        post_id=post_id,
        slug="finasteride_megathread_every_question_answered",
        title="Finasteride megathread: every question answered",
        category="Treatment",
        author="AutoModerator",
        created="2023-05-01T12:00:00Z",
        score=2048,
        body="Ask anything about finasteride here.  \nRead the **wiki** first.",
        summary="The subreddit's finasteride megathread.",
        hosted="reddit",
        comments=tuple(comments),
    )


BUSY_THREADS: tuple[Thread, ...] = (busy_thread("z9d33p", "zq", 130),)
