"""Content hashes and snapshots: one encoding, the same text and hash as plain ``json`` gives.

Hashes stored by earlier crawls were computed with ``json.dumps(..., sort_keys=True,
ensure_ascii=False, separators=(",", ":"))``; a different text would make every stored study
look changed on the next crawl.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tressless_crawler.db.snapshots import (
    VOLATILE_CARD_FIELDS,
    JsonText,
    _encode,
    content_hash,
    hash_and_snapshot,
    json_serializer,
)

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"


def reference_text(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def reference_hash(data: dict) -> str:
    payload = dict(data)
    if "community_posts" in payload:
        payload["community_posts"] = [
            {k: v for k, v in card.items() if k not in VOLATILE_CARD_FIELDS}
            for card in payload["community_posts"]
        ]
    return hashlib.sha256(reference_text(payload).encode("utf-8")).hexdigest()


def fixture_items() -> list[dict]:
    items = []
    for path in sorted(PAGES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "drop" not in data:
            items.append(data)
    return items


def test_fixture_items_exist() -> None:
    assert len(fixture_items()) >= 14
    assert any(item["community_posts"] for item in fixture_items())


@pytest.mark.parametrize("data", fixture_items(), ids=lambda d: d["study_id"])
def test_hash_and_snapshot_match_plain_json(data: dict) -> None:
    digest, snapshot = hash_and_snapshot(data)
    assert digest == reference_hash(data) == content_hash(data)
    assert isinstance(snapshot, JsonText)
    assert json.loads(snapshot) == data
    assert snapshot == reference_text(data)


def test_hash_ignores_card_ages_but_snapshot_keeps_them() -> None:
    data = next(item for item in fixture_items() if item["community_posts"])
    older = json.loads(json.dumps(data))
    for card in older["community_posts"]:
        card["age"] = "9 years ago"
    assert hash_and_snapshot(older)[0] == hash_and_snapshot(data)[0]
    assert hash_and_snapshot(older)[1] != hash_and_snapshot(data)[1]
    assert "9 years ago" in hash_and_snapshot(older)[1]


def test_placeholder_text_in_the_data_takes_the_slow_path() -> None:
    data = next(item for item in fixture_items() if item["community_posts"])
    data = json.loads(json.dumps(data))
    data["cited"].append({"title": "\x00cards\x00", "url": None})
    digest, snapshot = hash_and_snapshot(data)
    assert digest == reference_hash(data)
    assert json.loads(snapshot) == data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_encoding_is_plain_json_text(value: object) -> None:
    """Big integers and lone surrogates included (orjson refuses them; json is used then)."""
    assert _encode(value) == reference_text(value)


@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    st.lists(
        st.dictionaries(st.sampled_from(["title", "age", "upvotes", "posted_approx"]), json_values),
        max_size=3,
    ),
)
def test_hash_and_snapshot_of_any_item(data: dict, cards: list) -> None:
    data = dict(data, community_posts=cards)
    digest, snapshot = hash_and_snapshot(data)
    assert digest == reference_hash(data)
    assert snapshot == reference_text(data)


def test_serializer_stores_encoded_text_as_it_is() -> None:
    assert json_serializer(JsonText('{"a":1}')) == '{"a":1}'
    assert json.loads(json_serializer({"a": [1, "é"]})) == {"a": [1, "é"]}
    assert json.loads(json_serializer({"big": 2**70})) == {"big": 2**70}


def test_deserializer_reads_what_orjson_reads_and_what_only_json_reads() -> None:
    import math

    from tressless_crawler.db.snapshots import json_deserializer

    assert json_deserializer('{"a":[1,"é",null]}') == {"a": [1, "é", None]}
    assert json_deserializer(b'{"n":1}') == {"n": 1}
    assert json_deserializer(f'{{"n":{2**70}}}') == {"n": 2**70}
    assert math.isnan(json_deserializer('{"x":NaN}')["x"])
