"""Reddit's thread endpoints, answered from the fixture site's thread files (for the server).

The site holds each Reddit-form thread as one ``.json`` file with its whole comment tree.
Reddit never sends a busy thread whole, and neither does this: like Reddit it

* serves a thread at every URL form Reddit knows (``/comments/<id>.json``, with or without
  ``/r/<sub>`` and a slug) cut down the way Reddit cuts it: at most ``TOP_LEVEL`` top-level
  comments and ``REPLIES`` replies to a comment, the rest behind a ``more`` stub listing their
  ids, and no deeper than ``PAGE_DEPTH`` levels, where a "continue this thread" stub (id ``_``)
  stands for the replies;
* answers ``/api/morechildren.json?api_type=json&link_id=t3_<id>&children=<ids>`` (at most
  ``MAX_CHILDREN`` ids) with those comments and ``MORE_LEVELS`` levels of their replies, flat,
  each naming its parent, deeper ones again behind stubs;
* answers a comment's permalink (``/comments/<id>/<slug>/<comment>.json``) with the thread
  and that comment as the root of a tree cut down as a thread page is.

Stubs already in a file (ids of comments the site does not have) are passed on as they are:
asked for, they give nothing, as deleted comments do on Reddit.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

TOP_LEVEL = 20
REPLIES = 4
PAGE_DEPTH = 8  # levels of comments a page shows (Reddit's default is 10)
MORE_LEVELS = 3  # levels of replies a morechildren answer brings with each comment
MAX_CHILDREN = 100
THREAD_PATH_RE = re.compile(
    r"^(?:/r/[^/]+)?/comments/(?P<post>[a-z0-9]+)"
    r"(?:/(?P<slug>[^/]*?)(?:/(?P<comment>[a-z0-9]+))?)?/?\.json$"
)
MORE_PATH_RE = re.compile(r"^/api/morechildren(?:\.json)?/?$")

Thing = dict[str, Any]


class RedditThreads:
    """The Reddit-form threads under ``root/r/*/comments/<id>/*.json``, by post id."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, Path] | None = None

    def handles(self, path: str) -> bool:
        return bool(THREAD_PATH_RE.match(path) or MORE_PATH_RE.match(path))

    def answer(self, path: str, query: str) -> tuple[int, bytes] | None:
        """(status, JSON body) for a thread endpoint; None when the thread is not here."""
        match = THREAD_PATH_RE.match(path)
        if match:
            document = self._document(match.group("post"))
            if document is None:
                return None
            comment = match.group("comment")
            if comment:
                return _json(permalink(document, comment))
            return _json(thread_page(document))
        if MORE_PATH_RE.match(path):
            return more_children(self, parse_qs(query))
        return None

    def _document(self, post_id: str) -> list[Any] | None:
        if self._files is None:
            self._files = {
                file.parent.name: file
                for file in sorted(self.root.glob("r/*/comments/*/*.json"))
                if file.is_file()
            }
        file = self._files.get(post_id)
        return json.loads(file.read_text("utf-8")) if file is not None else None


def more_children(threads: RedditThreads, query: dict[str, list[str]]) -> tuple[int, bytes]:
    link = (query.get("link_id") or [""])[0]
    ids = [c for c in ",".join(query.get("children") or []).split(",") if c]
    if (query.get("api_type") or [""])[0] != "json" or not link.startswith("t3_") or not ids:
        return _json({"json": {"errors": [["BAD_REQUEST", "api_type, link_id, children"]]}})
    if len(ids) > MAX_CHILDREN:
        return _json({"json": {"errors": [["TOO_MANY", f"at most {MAX_CHILDREN} children"]]}})
    document = threads._document(link[3:])
    things: list[Thing] = []
    if document is not None:
        index = {thing["data"]["id"]: thing for thing in _walk(_comments(document))}
        wanted = set(ids)
        for cid in ids:
            thing = index.get(cid)
            # a comment asked for with its parent comes with the parent's replies
            if thing is not None and _parent(thing) not in wanted:
                things.extend(_flat(thing, MORE_LEVELS))
    return _json({"json": {"errors": [], "data": {"things": things}}})


def thread_page(document: list[Any]) -> list[Any]:
    """The thread as Reddit's page of it shows: cut down (see the module docstring)."""
    out = copy.deepcopy(document)
    listing = out[1]["data"]
    listing["children"] = _cut(listing["children"], 0, TOP_LEVEL)
    return out


def permalink(document: list[Any], comment_id: str) -> list[Any]:
    """A comment's own page: the post, and the comment as the root of a cut-down tree."""
    out = copy.deepcopy(document)
    found = next((t for t in _walk(_comments(out)) if t["data"].get("id") == comment_id), None)
    children = []
    if found is not None:
        found = copy.deepcopy(found)
        _shift_depth(found, -int(found["data"].get("depth") or 0))
        children = _cut([found], 0, TOP_LEVEL)
    out[1]["data"]["children"] = children
    return out


def _cut(things: list[Thing], depth: int, breadth: int) -> list[Thing]:
    """``things`` (siblings at ``depth``) with replies cut down, the surplus behind a stub."""
    shown: list[Thing] = []
    hidden: list[Thing] = []
    for thing in things:
        if thing.get("kind") != "t1":
            shown.append(thing)
        elif len(shown) < breadth:
            shown.append(_with_replies(thing, depth))
        else:
            hidden.append(thing)
    if hidden:
        shown.append(_more(hidden, depth))
    return shown


def _with_replies(thing: Thing, depth: int) -> Thing:
    thing = dict(thing)
    data = dict(thing["data"])
    replies = _replies(data)
    if replies and depth + 1 >= PAGE_DEPTH:
        stub = {
            "kind": "more",
            "data": {
                "count": 0,
                "name": "t1__",
                "id": "_",
                "parent_id": data["name"],
                "depth": depth + 1,
                "children": [],
            },
        }
        data["replies"] = _listing([stub])
    elif replies:
        data["replies"] = _listing(_cut(replies, depth + 1, REPLIES))
    thing["data"] = data
    return thing


def _flat(thing: Thing, levels: int) -> Iterator[Thing]:
    """A comment and ``levels`` levels of its replies, flat (``replies`` empty), in order;
    the replies beyond behind stubs, with the page's depth limit."""
    data = dict(thing["data"])
    replies = _replies(data)
    data["replies"] = ""
    yield {"kind": "t1", "data": data}
    if not replies:
        return
    depth = int(data.get("depth") or 0)
    if depth + 1 >= PAGE_DEPTH:
        yield {
            "kind": "more",
            "data": {
                "count": 0,
                "name": "t1__",
                "id": "_",
                "parent_id": data["name"],
                "depth": depth + 1,
                "children": [],
            },
        }
        return
    if levels <= 0:
        yield _more([r for r in replies if r.get("kind") == "t1"], depth + 1)
        return
    comments = [r for r in replies if r.get("kind") == "t1"]
    for reply in comments[:REPLIES]:
        yield from _flat(reply, levels - 1)
    if len(comments) > REPLIES:
        yield _more(comments[REPLIES:], depth + 1)
    yield from (r for r in replies if r.get("kind") == "more")


def _more(hidden: list[Thing], depth: int) -> Thing:
    ids = [t["data"]["id"] for t in hidden]
    count = sum(1 for t in hidden for _ in _walk([t]))
    return {
        "kind": "more",
        "data": {
            "count": count,
            "name": f"t1_{ids[0]}",
            "id": ids[0],
            "parent_id": hidden[0]["data"]["parent_id"],
            "depth": depth,
            "children": ids,
        },
    }


def _comments(document: list[Any]) -> list[Thing]:
    return document[1]["data"]["children"]


def _replies(data: dict[str, Any]) -> list[Thing]:
    replies = data.get("replies")
    return replies["data"]["children"] if isinstance(replies, dict) else []


def _parent(thing: Thing) -> str | None:
    parent = thing["data"].get("parent_id") or ""
    return parent[3:] if parent.startswith("t1_") else None


def _walk(things: list[Thing]) -> Iterator[Thing]:
    stack = list(reversed(things))
    while stack:
        thing = stack.pop()
        if thing.get("kind") != "t1":
            continue
        yield thing
        stack.extend(reversed(_replies(thing["data"])))


def _shift_depth(thing: Thing, by: int) -> None:
    for node in _walk([thing]):
        node["data"]["depth"] = int(node["data"].get("depth") or 0) + by


def _listing(children: list[Thing]) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": None, "before": None, "children": children}}


def _json(value: Any) -> tuple[int, bytes]:
    return 200, json.dumps(value, ensure_ascii=False).encode("utf-8")
