"""Reddit's JSON form of a community thread -> ``ThreadItem``.

Reddit serves every thread as JSON when ``.json`` is appended to its URL: a list of two
Listings, the first holding the post (kind ``t3``), the second the comment tree (kind ``t1``,
replies nested in ``replies``) with ``more`` stubs for comments it did not expand, each
listing the ids it hides (``children``). The spider expands them (``/api/morechildren`` and
"continue this thread" permalinks, parsed by ``parse_more_children`` and
``parse_thread_reddit``) and joins the results into the tree
(``tressless_crawler.parsers.comment_tree``).

The parser is a pure function of the response body and URL. It never raises: input that is
not a thread gives ``Drop("not_a_thread", detail)``; single malformed comments are skipped.
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from tressless_crawler.items import PARSE_ERROR, CommentItem, Drop, ThreadItem
from tressless_crawler.urls import canonical_url, thread_id_from_url

__all__ = ["SOURCE_FORMAT", "parse_more_children", "parse_thread_reddit"]

logger = logging.getLogger(__name__)

SOURCE_FORMAT = "reddit_json"
NOT_A_THREAD = "not_a_thread"
NOT_MORE_CHILDREN = "not_more_children"
PARSER_ERROR = PARSE_ERROR
DELETED = "[deleted]"
# A comment whose body is one of these markers is recorded with this ``kind`` and no body.
BODY_MARKERS = {"[deleted]": "deleted", "[removed]": "removed"}
ID_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
# Without ``raw_json=1`` Reddit escapes exactly these three characters in every string.
ENTITY_RE = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def parse_thread_reddit(body: str | bytes, url: str) -> ThreadItem | Drop:
    """The thread in ``body`` (Reddit JSON fetched from ``url``), or a Drop saying why not."""
    try:
        return _parse(body, url)
    except Exception as exc:  # the contract is "never raise"; the tests assert it never fires
        logger.exception("Reddit thread parser failed on %s", url)
        return Drop(PARSER_ERROR, f"{type(exc).__name__} on {url}")


def _parse(body: str | bytes, url: str) -> ThreadItem | Drop:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError, TypeError) as exc:
        return Drop(NOT_A_THREAD, f"not JSON: {type(exc).__name__}")
    if not isinstance(document, list) or len(document) != 2:
        return Drop(NOT_A_THREAD, "not a list of two Listings")
    posts = _listing_children(document[0])
    comments = _listing_children(document[1])
    if posts is None or comments is None:
        return Drop(NOT_A_THREAD, "not a list of two Listings")
    post = next((_data(child) for child in posts if _kind(child) == "t3"), None)
    if post is None:
        return Drop(NOT_A_THREAD, "no t3 post in the first Listing")
    post_id = _post_id(post, url)
    if post_id is None:
        return Drop(NOT_A_THREAD, "the post has no id")
    return _thread(post, post_id, comments, url, escaped=_is_escaped(url))


def _thread(
    post: dict[str, Any], post_id: str, comments: list[Any], url: str, *, escaped: bool
) -> ThreadItem:
    is_link = post.get("is_self") is False
    body = None if is_link else _markdown(post.get("selftext"), escaped)
    link = _text(post.get("url"), escaped) if is_link else None
    return ThreadItem(
        post_id=post_id,
        url=_thread_url(post.get("permalink"), url),
        title=_text(post.get("title"), escaped),
        category=_text(post.get("link_flair_text"), escaped),
        author=_author(post.get("author")),
        posted_at=_iso_utc(post.get("created_utc")),
        upvotes=_int(post.get("score")),
        body=None if (body or "").strip() in BODY_MARKERS else body,
        summary=None,  # Reddit has no summary; the site adds one on its own pages only
        comment_count=_int(post.get("num_comments")),
        comments=_flatten(comments, escaped=escaped),
        link_url=_resolve(link, url),
        edited=_edited(post.get("edited")),
        source_format=SOURCE_FORMAT,
    )


def _flatten(children: list[Any], *, escaped: bool) -> list[CommentItem]:
    """The comment tree in document (depth-first) order; iterative, so no depth limit."""
    out: list[CommentItem] = []
    stack: list[tuple[Any, CommentItem | None, int]] = [(c, None, 0) for c in reversed(children)]
    while stack:
        node, parent, depth = stack.pop()
        item = _comment(node, parent, depth, escaped=escaped)
        if item is None:
            continue
        out.append(item)
        if item.kind != "more":
            replies = _listing_children(_data(node).get("replies")) or []
            stack.extend((child, item, depth + 1) for child in reversed(replies))
    return out


def _comment(
    node: Any, parent: CommentItem | None, depth: int, *, escaped: bool
) -> CommentItem | None:
    kind, data = _kind(node), _data(node)
    if kind not in ("t1", "more") or not data:
        return None
    comment_id = _thing_id(data, "t1_")
    # Nesting decides the parent; the field only speaks for the top level (a comment's own
    # page lists it first) or when the enclosing comment lost its id.
    parent_id = parent.comment_id if parent is not None else None
    if parent_id is None:
        parent_id = _parent_from_field(data.get("parent_id"))
    if kind == "more":
        children = data.get("children")
        return CommentItem(
            comment_id=comment_id,
            parent_id=parent_id,
            depth=depth,
            kind="more",
            more_count=_int(data.get("count")),
            children=[c for c in children if isinstance(c, str) and ID_RE.match(c)]
            if isinstance(children, list)
            else [],
        )
    body = _markdown(data.get("body"), escaped)
    marker = BODY_MARKERS.get((body or "").strip())
    return CommentItem(
        comment_id=comment_id,
        parent_id=parent_id,
        author=_author(data.get("author")),
        body=None if marker else body,
        upvotes=_int(data.get("score")),
        posted_at=_iso_utc(data.get("created_utc")),
        depth=depth,
        kind=marker or "comment",
        edited=_edited(data.get("edited")),
        stickied=data.get("stickied") is True,
        distinguished=_text(data.get("distinguished"), escaped=False),
    )


def parse_more_children(body: str | bytes, url: str) -> list[CommentItem] | Drop:
    """The comments of a ``/api/morechildren.json?api_type=json`` answer, or a Drop.

    Reddit answers with the requested comments and some of their replies as one flat list of
    things (``replies`` empty), each naming its parent in ``parent_id``; further stubs come
    as ``more`` things. Depth is left to the tree they join
    (``tressless_crawler.parsers.comment_tree``).
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError, TypeError) as exc:
        return Drop(NOT_MORE_CHILDREN, f"not JSON: {type(exc).__name__}")
    try:
        data = document["json"]
        errors = data.get("errors") or []
        things = data.get("data", {}).get("things") if not errors else None
    except (AttributeError, KeyError, TypeError):
        return Drop(NOT_MORE_CHILDREN, "no json.data.things")
    if errors:
        return Drop(NOT_MORE_CHILDREN, f"errors: {str(errors)[:200]}")
    if not isinstance(things, list):
        return Drop(NOT_MORE_CHILDREN, "no json.data.things")
    escaped = _is_escaped(url)
    out = []
    for thing in things:
        try:
            item = _comment(thing, None, 0, escaped=escaped)
        except Exception:  # one malformed thing costs that thing
            logger.exception("Malformed thing in %s", url)
            continue
        if item is not None:
            out.append(item)
    return out


# -- shape helpers ------------------------------------------------------------------------


def _listing_children(value: Any) -> list[Any] | None:
    """The children of a Listing, or None when ``value`` is not one."""
    if not isinstance(value, dict) or value.get("kind") != "Listing":
        return None
    data = value.get("data")
    if not isinstance(data, dict):
        return None
    children = data.get("children")
    return children if isinstance(children, list) else None


def _kind(node: Any) -> Any:
    return node.get("kind") if isinstance(node, dict) else None


def _data(node: Any) -> dict[str, Any]:
    data = node.get("data") if isinstance(node, dict) else None
    return data if isinstance(data, dict) else {}


def _post_id(post: dict[str, Any], url: str) -> str | None:
    """The t3 id; its fullname or the URL stand in when the field is unusable."""
    post_id = _thing_id(post, "t3_")
    if post_id is None:
        try:
            post_id = thread_id_from_url(url)
        except ValueError:
            return None
    return post_id


def _thing_id(data: dict[str, Any], prefix: str) -> str | None:
    """``id``, else ``name`` without its kind prefix (``t1_``/``t3_``)."""
    value = data.get("id")
    if isinstance(value, str) and ID_RE.match(value):
        return value
    name = data.get("name")
    if isinstance(name, str) and name.startswith(prefix) and ID_RE.match(name[len(prefix) :]):
        return name[len(prefix) :]
    return None


def _parent_from_field(value: Any) -> str | None:
    """``t1_<id>`` -> ``<id>``; a ``t3_`` parent (the post) or anything else -> None."""
    if isinstance(value, str) and value.startswith("t1_") and ID_RE.match(value[3:]):
        return value[3:]
    return None


# -- value helpers ------------------------------------------------------------------------


def _is_escaped(url: str) -> bool:
    """Reddit escapes ``& < >`` unless the request asked for ``raw_json=1``."""
    try:
        return parse_qs(urlsplit(url).query).get("raw_json") != ["1"]
    except ValueError:
        return True


def _unescape(text: str) -> str:
    """Undo Reddit's escaping in one pass, so ``&amp;lt;`` becomes ``&lt;``, not ``<``."""
    return ENTITY_RE.sub(lambda m: ENTITIES[m.group(1)], text)


def _text(value: Any, escaped: bool) -> str | None:
    if not isinstance(value, str):
        return None
    text = (_unescape(value) if escaped else value).strip()
    return text or None


def _markdown(value: Any, escaped: bool) -> str | None:
    """A body: Markdown as written (its spaces are syntax: see normalize.clean_markdown)."""
    if not isinstance(value, str):
        return None
    text = _unescape(value) if escaped else value
    return text if text.strip(" \t\r\n") else None


def _author(value: Any) -> str | None:
    name = value.strip() if isinstance(value, str) else ""
    return None if not name or name == DELETED else name


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _edited(value: Any) -> bool:
    """``edited`` is ``false`` or the edit's timestamp."""
    if isinstance(value, bool):
        return value
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _iso_utc(value: Any) -> str | None:
    """Epoch seconds -> ``YYYY-MM-DDTHH:MM:SSZ`` (seconds truncated)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(math.floor(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _thread_url(permalink: Any, url: str) -> str | None:
    """The canonical thread URL: the permalink on the host and scheme that served the JSON."""
    try:
        if isinstance(permalink, str) and permalink.startswith("/") and "//" not in permalink:
            return canonical_url(permalink, base=url, https=False)
        path = urlsplit(url).path
        if path.endswith(".json"):
            url = urljoin(url, path[: -len(".json")] or "/")
        return canonical_url(url, https=False)
    except ValueError:
        return None


def _resolve(link: str | None, url: str) -> str | None:
    """Crossposts carry a site-relative ``url``; make it absolute."""
    if link is None or not link.startswith("/") or link.startswith("//"):
        return link
    try:
        return urljoin(url, link)
    except ValueError:
        return link
