"""The fixture server answers Reddit's thread endpoints from the whole threads of the site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.components.test_site_server import fetch
from tests.conftest import SITE_DIR
from tressless_crawler.demo.server import SiteServer

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
POST = "z9d33p"


@pytest.fixture
def server() -> Iterator[SiteServer]:
    with SiteServer(SITE_DIR) as running:
        yield running


def things(document: list[Any]) -> Iterator[tuple[dict[str, Any], int]]:
    stack = [(t, 0) for t in reversed(document[1]["data"]["children"])]
    while stack:
        thing, depth = stack.pop()
        yield thing, depth
        replies = thing["data"].get("replies")
        if isinstance(replies, dict):
            stack.extend((r, depth + 1) for r in reversed(replies["data"]["children"]))


def test_every_url_form_of_a_thread_gives_the_same_cut_down_page(server: SiteServer) -> None:
    spec = MANIFEST["threads"][POST]
    forms = [
        f"/comments/{POST}.json",
        f"/r/tressless/comments/{POST}.json",
        f"/r/tressless/comments/{POST}/any_slug/.json",
        spec["fetch_path"],
    ]
    bodies = {fetch(server.url + form).body for form in forms}
    assert len(bodies) == 1
    page = json.loads(bodies.pop())
    nodes = list(things(page))
    stubs = [(t["data"], depth) for t, depth in nodes if t["kind"] == "more"]
    assert len(nodes) < spec["comments"]
    assert {depth for _, depth in stubs} >= {0, 1, 2, 8}  # stubs at several levels
    assert any(d["id"] == "_" and d["count"] == 0 for d, _ in stubs)  # continue this thread
    assert max(len(d["children"]) for d, _ in stubs) > 100
    assert fetch(server.url + "/comments/nothere.json").status == 404


def test_morechildren_answers_flat_with_parents_and_limits_ids(server: SiteServer) -> None:
    page = json.loads(fetch(f"{server.url}/comments/{POST}.json").body)
    stub = next(t["data"] for t, depth in things(page) if t["kind"] == "more" and depth == 1)
    ids = ",".join(stub["children"])
    reply = fetch(
        f"{server.url}/api/morechildren.json?api_type=json&link_id=t3_{POST}&children={ids}"
    )
    answer = json.loads(reply.body)["json"]
    assert answer["errors"] == []
    got = answer["data"]["things"]
    assert [t["data"]["id"] for t in got if t["data"]["id"] in stub["children"]] == stub["children"]
    assert all(t["data"].get("replies", "") == "" for t in got)  # flat
    assert {t["data"]["parent_id"] for t in got if t["data"]["id"] in stub["children"]} == {
        stub["parent_id"]
    }
    many = ",".join(f"x{i}" for i in range(101))
    too_many = fetch(
        f"{server.url}/api/morechildren.json?api_type=json&link_id=t3_{POST}&children={many}"
    )
    assert json.loads(too_many.body)["json"]["errors"]


def test_a_comment_permalink_roots_the_tree_at_the_comment(server: SiteServer) -> None:
    page = json.loads(fetch(f"{server.url}/comments/{POST}.json").body)
    stub = next(
        t["data"] for t, _ in things(page) if t["kind"] == "more" and t["data"]["id"] == "_"
    )
    parent = stub["parent_id"][3:]
    view = json.loads(fetch(f"{server.url}/comments/{POST}/_/{parent}.json").body)
    nodes = list(things(view))
    assert nodes[0][0]["data"]["id"] == parent and nodes[0][0]["data"]["depth"] == 0
    assert len(nodes) > 1 and view[0]["data"]["children"][0]["data"]["id"] == POST
