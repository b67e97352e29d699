"""Expanding a Reddit thread's ``more`` stubs, as Reddit's clients do, before the thread is stored.

PRAW's ``comments.replace_more(limit=None)`` is the model: a ``more`` stub is expanded through
``/api/morechildren.json?api_type=json&link_id=t3_<post>&children=<ids>`` (at most 100 ids a
request), a "continue this thread" stub (id ``_``) through its parent comment's permalink
(``/comments/<post>/_/<parent>.json``); what comes back joins the tree under its parent
(``tressless_crawler.parsers.comment_tree``), and any new stubs in it are expanded in turn.

One request at a time per thread, on the thread's host, so Scrapy's per-host delay and
concurrency apply, and the state travels in the request's ``meta`` (a shared frontier can
hand the next request to another worker). ``COMMUNITY_MAX_MORE_REQUESTS`` caps the requests
of one thread (0: no expansion). A stub whose request failed, or left over by the cap, is
stored as a stub. Incremental: ids already stored (from an earlier crawl's expansion) are
not asked for again; they take their place in the tree as ``kept`` items, with their stored
replies, so that the store keeps them, in the thread's order, and marks none gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tressless_crawler.items import CommentItem, ThreadItem
from tressless_crawler.parsers.comment_tree import CommentTree, Stub

__all__ = ["MAX_CHILDREN", "Expansion", "MoreRequest"]

MAX_CHILDREN = 100  # Reddit's limit of ids per morechildren request
KEPT = "kept"  # tressless_crawler.db.thread_writes keeps such a comment as stored


@dataclass(frozen=True)
class MoreRequest:
    token: int
    url: str
    asked: list[str]  # [] for a "continue this thread" stub
    parent_id: str | None = None


@dataclass
class Expansion:
    """One thread being expanded: its item, its tree, and what it may still ask for."""

    item: ThreadItem
    base: str  # scheme://host[:port] the thread came from
    cap: int  # requests at most (> 0)
    # comment id -> parent id of the comments stored by earlier crawls, in thread order
    stored: dict[str, str | None] = field(default_factory=dict)
    page: dict[str, object] = field(default_factory=dict)  # the thread response's validators
    requests: int = 0
    capped: bool = False
    kept: int = 0
    given_up: set[int] = field(default_factory=set)  # stubs that failed: left as they are
    asked: set[str] = field(default_factory=set)  # ids asked for in this crawl
    tree: CommentTree = field(init=False)
    _replies: dict[str | None, list[str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tree = CommentTree(self.item.comments)
        self.base = _origin(self.base)

    @property
    def post_id(self) -> str:
        return self.item.post_id or ""

    def next_request(self) -> MoreRequest | None:
        """The next stub to ask for, or None when the thread is done (or the cap reached)."""
        for stub in self.tree.pending():
            if stub.token in self.given_up:
                continue
            request = self._request_for(stub)
            if request is None:
                continue
            if self.requests >= self.cap:
                self.capped = True
                return None
            self.requests += 1
            return request
        return None

    def _request_for(self, stub: Stub) -> MoreRequest | None:
        if stub.is_continue:
            parent = stub.parent_id
            if not parent:
                self.given_up.add(stub.token)
                return None
            replies = [cid for cid, p in self.stored.items() if p == parent]
            if replies:  # expanded by an earlier crawl
                self._keep(stub.token, replies, [])
                return None
            url = f"{self.base}/comments/{self.post_id}/_/{parent}.json"
            self.given_up.add(stub.token)  # asked once: if nothing comes back, it stays
            return MoreRequest(stub.token, url, [], parent)
        known = [cid for cid in stub.ids if cid in self.stored]
        if known:
            self._keep(stub.token, known, known)
        left = self.tree.stub(stub.token)
        if left is None:
            return None
        asked = [cid for cid in left.ids if cid not in self.asked][:MAX_CHILDREN]
        if not asked:  # asked for them all already: what did not come back stays hidden
            self.given_up.add(stub.token)
            return None
        self.asked.update(asked)
        url = (
            f"{self.base}/api/morechildren.json?api_type=json&link_id=t3_{self.post_id}"
            f"&children={','.join(asked)}"
        )
        return MoreRequest(stub.token, url, asked)

    def _keep(self, token: int, ids: list[str], asked: list[str]) -> None:
        """Stored comments ``ids`` (and their stored replies) take the stub's place."""
        if self._replies is None:
            self._replies = {}
            for cid, parent in self.stored.items():
                self._replies.setdefault(parent, []).append(cid)
        items: list[CommentItem] = []
        stack = list(reversed(ids))
        while stack:
            cid = stack.pop()
            # one in the tree already (on the page) is passed too: the stub has it, then
            items.append(CommentItem(comment_id=cid, parent_id=self.stored.get(cid), kind=KEPT))
            if cid not in self.tree:
                self.kept += 1
                stack.extend(reversed(self._replies.get(cid, [])))
        self.tree.expand(token, items, asked)

    def finish(self) -> ThreadItem:
        self.item.comments = self.tree.comments()
        return self.item

    def stubs_left(self) -> int:
        return len(self.tree.pending())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
