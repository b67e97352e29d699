"""A thread is its post id whatever its URL; expanded comments join the tree where they belong."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tressless_crawler.items import CommentItem, Drop
from tressless_crawler.parsers.comment_tree import CommentTree
from tressless_crawler.parsers.thread_reddit import parse_more_children
from tressless_crawler.spiders.community import thread_fetch_url

HOSTS = {"tressless.com", "www.tressless.com", "www.reddit.com", "old.reddit.com"}
SITE = "https://tressless.com"
REDDIT_FORMS = [
    "https://www.reddit.com/r/tressless/comments/k3j9xz/oral_minoxidil_6_month_update/",
    "https://www.reddit.com/r/tressless/comments/k3j9xz/oral_minoxidil_6_month_update",
    "https://www.reddit.com/r/tressless/comments/k3j9xz/other_slug/",
    "https://www.reddit.com/r/tressless/comments/k3j9xz/",
    "https://www.reddit.com/r/tressless/comments/k3j9xz",
    "https://www.reddit.com/comments/k3j9xz",
    "https://www.reddit.com/comments/k3j9xz.json",
    "https://www.reddit.com/r/tressless/comments/k3j9xz/slug/.json",
    "https://www.reddit.com/r/tressless/comments/k3j9xz/slug.json?raw_json=1",
    "http://www.reddit.com/r/tressless/comments/k3j9xz/slug/",
    "https://old.reddit.com/r/tressless/comments/k3j9xz/slug/",
    "https://reddit.com/r/tressless/comments/k3j9xz/slug/",
    "https://np.reddit.com/r/tressless/comments/k3j9xz/slug/?utm_source=share#top",
    "HTTPS://WWW.REDDIT.COM/r/tressless/comments/K3J9XZ/slug/",
]
SITE_FORMS = [
    "https://tressless.com/community/oral-minoxidil-k3j9xz",
    "https://tressless.com/community/oral-minoxidil-k3j9xz/",
    "http://tressless.com/community/oral-minoxidil-k3j9xz",
    "https://www.tressless.com/community/oral-minoxidil-k3j9xz?ref=card",
    "/community/oral-minoxidil-k3j9xz",
]


def test_every_form_of_a_reddit_thread_url_is_one_url() -> None:
    urls = {thread_fetch_url(url, HOSTS, SITE) for url in REDDIT_FORMS}
    assert urls == {"https://www.reddit.com/comments/k3j9xz.json"}


def test_every_form_of_a_site_thread_url_is_one_url() -> None:
    urls = {thread_fetch_url(url if "//" in url else SITE + url, HOSTS, SITE) for url in SITE_FORMS}
    assert urls == {"https://tressless.com/community/oral-minoxidil-k3j9xz"}


def test_the_site_host_keeps_the_site_scheme_and_port() -> None:
    site = "http://127.0.0.1:8123"
    url = "https://127.0.0.1:8123/r/tressless/comments/k3j9xz/slug/"
    assert thread_fetch_url(url, {"127.0.0.1"}, site) == f"{site}/comments/k3j9xz.json"


@pytest.mark.parametrize(
    "url",
    ["https://www.reddit.com/r/tressless/", "https://tressless.com/research/x-Ab1", "mailto:x", ""],
)
def test_not_a_thread_url(url: str) -> None:
    assert thread_fetch_url(url, HOSTS, SITE) is None


# -- the tree ---------------------------------------------------------------------------------


def c(cid: str, parent: str | None = None, depth: int = 0) -> CommentItem:
    return CommentItem(comment_id=cid, parent_id=parent, depth=depth, body=cid)


def more(cid: str, parent: str | None, children: list[str], depth: int = 0) -> CommentItem:
    return CommentItem(
        comment_id=cid,
        parent_id=parent,
        kind="more",
        more_count=len(children),
        children=children,
        depth=depth,
    )


def shape(items: list[CommentItem]) -> list[tuple[str | None, str | None, int, str]]:
    return [(i.comment_id, i.parent_id, i.depth, i.kind) for i in items]


def test_expanded_comments_replace_their_stub_in_place_with_their_depth() -> None:
    tree = CommentTree(
        [c("a"), c("a1", "a", 1), more("a2", "a", ["a2", "a3"], 1), c("b"), more("_", "b", [], 1)]
    )
    stubs = tree.pending()
    assert [s.ids for s in stubs] == [["a2", "a3"], []]
    # morechildren: flat, each naming its parent; a reply of a2 comes with them
    tree.expand(stubs[0].token, [c("a2", "a"), c("a2x", "a2"), c("a3", "a")], ["a2", "a3"])
    # continue this thread: b's replies, nested
    tree.expand(stubs[1].token, [c("b1", "b", 1), c("b11", "b1", 2)], [])
    assert shape(tree.comments()) == [
        ("a", None, 0, "comment"),
        ("a1", "a", 1, "comment"),
        ("a2", "a", 1, "comment"),
        ("a2x", "a2", 2, "comment"),
        ("a3", "a", 1, "comment"),
        ("b", None, 0, "comment"),
        ("b1", "b", 1, "comment"),
        ("b11", "b1", 2, "comment"),
    ]
    assert tree.pending() == []


def test_a_stub_keeps_what_did_not_come_back_and_nothing_is_added_twice() -> None:
    tree = CommentTree([c("a"), more("m", None, ["x", "y", "z"])])
    token = tree.pending()[0].token
    tree.expand(token, [c("x"), c("a"), c("x")], ["x", "y"])  # y missing, a and x twice
    items = tree.comments()
    assert shape(items) == [
        ("a", None, 0, "comment"),
        ("x", None, 0, "comment"),
        ("m", None, 0, "more"),
    ]
    assert items[-1].children == ["z", "y"] and items[-1].more_count == 2


def test_a_stub_nothing_came_back_for_stays_as_it_was() -> None:
    stub = more("m", "a", ["x"], 1)
    tree = CommentTree([c("a"), stub])
    tree.expand(tree.pending()[0].token, [], ["x"])
    assert tree.comments()[1] == stub


def test_new_stubs_in_an_answer_join_the_tree_and_a_reply_keeps_an_unknown_parent() -> None:
    tree = CommentTree([c("q", "elsewhere"), more("m", None, ["x"])])
    tree.expand(tree.pending()[0].token, [c("x"), more("x1", "x", ["x1", "x2"], 1)], ["x"])
    assert [s.ids for s in tree.pending()] == [["x1", "x2"]]
    assert tree.comments()[0].parent_id == "elsewhere"  # kept, even though not in the tree


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=60))
def test_any_tree_cut_behind_stubs_comes_back_whole(seed: int, size: int) -> None:
    """A random tree; random subtrees hidden behind stubs; expanding (answers shuffled the way
    a flat list may come) gives back the whole tree, every comment once, in order."""
    rnd = random.Random(seed)
    parents: list[str | None] = [None]
    whole: list[tuple[str, str | None]] = []
    for n in range(size):
        cid = f"c{n}"
        parent = rnd.choice(parents)
        whole.append((cid, parent))
        parents.append(cid)
    children: dict[str | None, list[str]] = {}
    for cid, parent in whole:
        children.setdefault(parent, []).append(cid)

    def ordered(parent: str | None, depth: int) -> list[tuple[str, str | None, int]]:
        out = []
        for cid in children.get(parent, []):
            out.append((cid, parent, depth))
            out.extend(ordered(cid, depth + 1))
        return out

    full = ordered(None, 0)
    depth_of = {cid: depth for cid, _, depth in full}
    hidden: dict[str, list[str]] = {}  # stub id -> the siblings it hides
    page: list[CommentItem] = []

    def visible(parent: str | None, depth: int) -> None:
        kids = children.get(parent, [])
        cut = rnd.randint(0, len(kids)) if kids else 0
        for cid in kids[:cut]:
            page.append(c(cid, parent, depth))
            visible(cid, depth + 1)
        if kids[cut:]:
            stub_id = f"s{len(hidden)}"
            hidden[stub_id] = kids[cut:]
            page.append(more(stub_id, parent, kids[cut:], depth))

    visible(None, 0)
    tree = CommentTree(page)
    for _ in range(size + 1):
        stubs = tree.pending()
        if not stubs:
            break
        stub = stubs[0]
        answer: list[CommentItem] = []
        for cid in stub.ids:  # each asked comment with all its replies, flat, with parents
            answer.append(c(cid, dict(whole)[cid]))
            answer.extend(c(d, p) for d, p, _ in ordered(cid, depth_of[cid] + 1))
        tree.expand(stub.token, answer, stub.ids)
    assert [(i.comment_id, i.parent_id, i.depth) for i in tree.comments()] == full


# -- morechildren answers ---------------------------------------------------------------------


def test_morechildren_answer_parses_to_flat_comments_with_parents() -> None:
    things = [
        {"kind": "t1", "data": {"id": "x", "parent_id": "t3_p", "body": "a &amp; b", "depth": 1}},
        {"kind": "t1", "data": {"id": "y", "parent_id": "t1_x", "body": "[deleted]"}},
        {"kind": "more", "data": {"id": "z", "parent_id": "t1_x", "count": 7, "children": ["z"]}},
        {"kind": "t1", "data": "broken"},
    ]
    body = json.dumps({"json": {"errors": [], "data": {"things": things}}})
    items = parse_more_children(body, "https://www.reddit.com/api/morechildren.json?api_type=json")
    assert isinstance(items, list)
    assert [(i.comment_id, i.parent_id, i.kind, i.body) for i in items] == [
        ("x", None, "comment", "a & b"),
        ("y", "x", "deleted", None),
        ("z", "x", "more", None),
    ]
    assert items[2].children == ["z"] and items[2].more_count == 7


@pytest.mark.parametrize(
    "body",
    [b"<html>", b"[]", b'{"json": {"errors": [["RATELIMIT", "slow down"]]}}', b'{"json": 3}'],
)
def test_morechildren_answer_that_is_not_one_is_a_drop(body: bytes) -> None:
    assert isinstance(parse_more_children(body, "https://www.reddit.com/api/x"), Drop)


# -- what a re-crawl asks for ---------------------------------------------------------------


def expansion(comments: list[CommentItem], stored: dict[str, str | None], cap: int = 50):
    from tressless_crawler.items import ThreadItem
    from tressless_crawler.spiders.expansion import Expansion

    item = ThreadItem(post_id="p1", url="https://www.reddit.com/comments/p1", comments=comments)
    return Expansion(item, "https://www.reddit.com/comments/p1.json", cap, stored=stored)


def test_stored_comments_are_not_asked_for_again_and_keep_their_place() -> None:
    page = [c("a"), more("m", None, ["b", "x", "a"]), c("z")]
    state = expansion(page, {"b": None, "b1": "b", "a": None})
    request = state.next_request()
    assert request is not None and request.asked == ["x"]  # b is stored, a is on the page
    assert "link_id=t3_p1&children=x" in request.url
    state.tree.expand(request.token, [c("x")], request.asked)
    assert state.next_request() is None
    item = state.finish()
    assert [(i.comment_id, i.kind, i.depth) for i in item.comments] == [
        ("a", "comment", 0),
        ("b", "kept", 0),
        ("b1", "kept", 1),
        ("x", "comment", 0),
        ("z", "comment", 0),
    ]
    assert state.kept == 2


def test_continue_stubs_go_through_the_parent_permalink_unless_replies_are_stored() -> None:
    page = [c("a"), more("_", "a", [], 1), c("b"), more("_", "b", [], 1)]
    state = expansion(page, {"b1": "b"})
    request = state.next_request()
    assert request is not None and request.url.endswith("/comments/p1/_/a.json")
    assert request.parent_id == "a"
    assert state.next_request() is None  # b's replies are stored: kept, not fetched
    assert [(i.comment_id, i.kind) for i in state.finish().comments][-1] == ("b1", "kept")


def test_the_cap_stops_the_requests() -> None:
    page = [more("m", None, [f"x{i}" for i in range(250)])]
    state = expansion(page, {}, cap=2)
    asked = []
    while (request := state.next_request()) is not None:
        asked.append(request.asked)
    assert [len(ids) for ids in asked] == [100, 100] and state.capped
