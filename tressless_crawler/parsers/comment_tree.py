"""A thread's comment tree, with its ``more`` stubs replaced by what expanding them gave.

Reddit hides parts of a busy thread behind stubs: ``more`` stubs listing the ids of the
comments they stand for, and "continue this thread" stubs (id ``_``) where the nesting gets
too deep. Expanding them (as PRAW's ``replace_more`` does) gives comments that each name their
parent; this module puts them where they belong: in place of the stub, in document order,
under their parent, with the depth their place in the tree gives. A comment already in the
tree is not added twice; ids a stub still hides afterwards stay in that stub.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tressless_crawler.items import CommentItem

__all__ = ["CONTINUE_ID", "CommentTree", "Stub"]

CONTINUE_ID = "_"


@dataclass
class _Node:
    item: CommentItem
    children: list[_Node] = field(default_factory=list)
    parent: _Node | None = None
    token: int | None = None  # stubs only


@dataclass
class Stub:
    """A stub still in the tree: ``token`` names it across expansions."""

    token: int
    parent_id: str | None
    ids: list[str]  # the comment ids it still hides ([] for "continue this thread")
    count: int | None

    @property
    def is_continue(self) -> bool:
        return not self.ids


class CommentTree:
    """The comments of a thread as a tree; ``comments()`` flattens it in document order."""

    def __init__(self, comments: list[CommentItem]) -> None:
        self.root = _Node(CommentItem(kind="root"))
        self.by_id: dict[str, _Node] = {}
        self.stubs: dict[int, _Node] = {}
        self._next_token = 0
        for item in comments:
            parent = self._node(item.parent_id) or self.root
            self._attach(item, parent, len(parent.children))

    # -- reading -------------------------------------------------------------------------

    def pending(self) -> list[Stub]:
        """The stubs still in the tree, in document order."""
        out = []
        for node in self._walk():
            if node.token is not None:
                out.append(self._stub(node.token))
        return out

    def stub(self, token: int) -> Stub | None:
        return self._stub(token) if token in self.stubs else None

    def comments(self) -> list[CommentItem]:
        """Every comment and remaining stub, depth-first, with the depth of its place."""
        out = []
        stack = [(child, 0) for child in reversed(self.root.children)]
        while stack:
            node, depth = stack.pop()
            if node.item.depth != depth:
                node.item = replace(node.item, depth=depth)
            out.append(node.item)
            stack.extend((child, depth + 1) for child in reversed(node.children))
        return out

    def __contains__(self, comment_id: object) -> bool:
        return comment_id in self.by_id

    # -- expanding -----------------------------------------------------------------------

    def expand(self, token: int, items: list[CommentItem], asked: list[str]) -> int:
        """Put ``items`` (what expanding stub ``token`` for ``asked`` gave) into the tree.

        Items go under their parent when it is in the tree, else where the stub is. The
        ids of ``asked`` that came back leave the stub; the stub goes when it hides nothing
        more (a "continue" stub: when anything came back). Returns how many comments and
        new stubs were added.
        """
        stub = self.stubs.get(token)
        if stub is None:
            return 0
        place = stub.parent or self.root
        at = place.children.index(stub)
        added = 0
        returned: set[str] = set()
        for item in items:
            cid = item.comment_id
            if item.kind != "more" and cid:
                returned.add(cid)
                if cid in self.by_id:
                    continue  # already in the tree (listed by two stubs, or on the page)
            parent, index, at = self._place(item, place, at)
            kept = self._unhidden(item)
            if kept is not None:
                self._attach(kept, parent, index)
                added += 1
        self._settle(token, stub, returned, asked)
        return added

    def _place(self, item: CommentItem, place: _Node, at: int) -> tuple[_Node, int, int]:
        """(parent, index) of an expanded item and the next index at the stub's place: under
        its parent, last, when that is in the tree elsewhere; else where the stub is."""
        parent = self._node(item.parent_id)
        if parent is None or parent is place:
            return place, at, at + 1
        return parent, len(parent.children), at

    def _unhidden(self, item: CommentItem) -> CommentItem | None:
        """The item; a "more" stub with only the ids the tree lacks, None when it lacks none."""
        if item.kind != "more" or item.comment_id == CONTINUE_ID:
            return item
        hidden = [c for c in item.children if c not in self.by_id]
        return replace(item, children=hidden) if hidden else None

    def _settle(self, token: int, stub: _Node, returned: set[str], asked: list[str]) -> None:
        """Remove the stub when it hides nothing more, else keep the ids still hidden in it."""
        left = [cid for cid in stub.item.children if cid not in returned and cid not in asked]
        missing = [cid for cid in asked if cid not in returned]
        if stub.item.comment_id == CONTINUE_ID or not stub.item.children:
            done = bool(returned)
        else:
            done = not left and not missing
        if done:
            self._remove(token)
        elif returned:
            remaining = left + missing
            stub.item = replace(stub.item, children=remaining, more_count=len(remaining))

    # -- internals -----------------------------------------------------------------------

    def _node(self, comment_id: str | None) -> _Node | None:
        return self.by_id.get(comment_id) if comment_id else None

    def _attach(self, item: CommentItem, parent: _Node, index: int) -> None:
        """``item`` keeps its ``parent_id``, even when that parent is not in the tree."""
        node = _Node(item, parent=parent)
        parent.children.insert(index, node)
        if item.kind == "more":
            node.token = self._next_token
            self.stubs[node.token] = node
            self._next_token += 1
        elif item.comment_id and item.comment_id not in self.by_id:
            self.by_id[item.comment_id] = node

    def _remove(self, token: int) -> None:
        node = self.stubs.pop(token)
        owner = node.parent or self.root
        owner.children.remove(node)

    def _stub(self, token: int) -> Stub:
        node = self.stubs[token]
        parent_id = node.item.parent_id
        if parent_id is None and node.parent is not None and node.parent is not self.root:
            parent_id = node.parent.item.comment_id
        return Stub(token, parent_id, list(node.item.children), node.item.more_count)

    def _walk(self) -> list[_Node]:
        out = []
        stack = list(reversed(self.root.children))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out
