"""The site's "cards" and "flat" templates (tests.support.sitegen.render) as families."""

from __future__ import annotations

from typing import Any

from tests.support.sitegen.render import render_study

# Card fields the parser never fills: the normalise pipeline derives them.
DERIVED = ("posted_approx", "posted_precision")


def _data(study: dict[str, Any]) -> dict[str, Any]:
    data = {key: value for key, value in study.items() if value not in (None, [], "")}
    data["journal"] = study.get("journal")
    data["community_posts"] = [
        {k: v for k, v in card.items() if k not in DERIVED}
        for card in study.get("community_posts") or []
    ]
    data["show_discuss"] = True
    data["cited_shown"] = len(study.get("cited") or [])
    return data


def render_cards(study: dict[str, Any], url: str) -> bytes:
    return render_study(_data(study), "cards").encode("utf-8")


def render_flat(study: dict[str, Any], url: str) -> bytes:
    return render_study(_data(study), "flat").encode("utf-8")
