"""Content hashes and JSON snapshots of items, encoded once.

A study's hash covers its content but not the parts of its community cards that only reflect
when the page was seen (``4 years ago`` becomes ``5 years ago`` without any edit); its snapshot
keeps everything. Both are the same sorted, compact JSON except for those card fields, so the
bulk of the item is encoded once and the cards twice. The snapshot goes to the database as that
text (:class:`JsonText`, passed through by :func:`json_serializer`), not encoded again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

# Card fields that describe time relative to the crawl, not the page's content.
VOLATILE_CARD_FIELDS = ("age", "posted_approx", "posted_precision")
CARDS = "community_posts"

# Stands for the cards while the rest is encoded. It holds a NUL character, which the parsers
# never let into an item's text; the slow path below still covers it if one ever got there.
_PLACEHOLDER = "\x00cards\x00"

_json_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def _encode(value: Any) -> str:
    """Sorted, compact JSON, non-ASCII kept: ``json.dumps``' text, at orjson's speed.

    For the str, int, bool, None, list and dict values of items both give the same text (a test
    holds them to it, as hashes stored by earlier crawls depend on it); whatever orjson refuses
    (integers beyond 64 bits, lone surrogates, keys that are not strings) goes through ``json``.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return _json_encode(value)


class JsonText(str):
    """JSON that is already encoded: the engine's serializer stores it as it is."""


def json_serializer(value: Any) -> str:
    """The engine's JSON serializer: text encoded already as it is, the rest compact JSON."""
    if isinstance(value, JsonText):
        return str(value)
    try:
        return orjson.dumps(value).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value)


def json_deserializer(text: str | bytes) -> Any:
    """The engine's JSON deserializer: orjson, and ``json`` for what orjson refuses.

    Snapshots encoded by ``json`` (integers beyond 64 bits, say) or written by other tools
    (``NaN``) still load; exports read every snapshot, so this is most of their parse time.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _stable_cards(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in card.items() if k not in VOLATILE_CARD_FIELDS} for card in cards]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(data: dict[str, Any]) -> str:
    """A stable hash of an item's content, ignoring what only reflects the crawl time."""
    payload = data
    if CARDS in data:
        payload = dict(data)
        payload[CARDS] = _stable_cards(data[CARDS])
    return _digest(_encode(payload))


def hash_and_snapshot(data: dict[str, Any]) -> tuple[str, JsonText]:
    """``(content_hash(data), data as JSON)``, sharing the encoding of everything but the cards."""
    cards = data.get(CARDS)
    if not isinstance(cards, list) or not cards:
        text = _encode(data)
        return _digest(text), JsonText(text)
    rest = dict(data)
    rest[CARDS] = _PLACEHOLDER
    text = _encode(rest)
    marker = _encode(_PLACEHOLDER)
    if text.count(marker) != 1:  # the placeholder's text occurs in the data itself
        return content_hash(data), JsonText(_encode(data))
    stable = text.replace(marker, _encode(_stable_cards(cards)))
    full = text.replace(marker, _encode(cards))
    return _digest(stable), JsonText(full)
