"""Study pages in every family of markup the parser reads, rendered from one study item.

A family is one module here with a ``render(study, url) -> bytes`` function: ``study`` holds
the fields of a ``tressless_crawler.items.StudyItem`` (as ``dataclasses.asdict`` gives them),
``url``
is the page's address, and the bytes are the page as served (each family picks its
charset). Parsing the page must give back the same item, whatever the family: that is what
``tests/unit/test_families.py`` checks, for every study of the fixture site and of the
fixture pages. A new family is a new module and one line in ``FAMILIES``.

Every family prints the site's chrome around the study (navigation, footer, a newsletter
box, a cookie banner) with label-like words in it ("Research", "TLDR", "Community"), and
its own way of marking up the same visible text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.sitegen.families import legacy, react, reader, semantic, table, templates

__all__ = ["FAMILIES", "render_family"]

Renderer = Callable[[dict[str, Any], str], bytes]

FAMILIES: dict[str, Renderer] = {
    "cards": templates.render_cards,
    "flat": templates.render_flat,
    "react": react.render,
    "legacy": legacy.render,
    "semantic": semantic.render,
    "table": table.render,
    "reader": reader.render,
}


def render_family(study: dict[str, Any], url: str, family: str) -> bytes:
    """The page of ``study`` at ``url`` in ``family``'s markup."""
    try:
        renderer = FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}") from None
    return renderer(study, url)
