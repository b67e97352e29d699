"""What nobody sees on a page: the elements the walk over its lines leaves out, by their
attributes and by the page's own style rules."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

__all__ = ["hidden_classes", "hide_invisible"]

HIDDEN_TAG = "template"  # what an element nobody sees becomes: one that never shows text

# Elements nobody sees: the hidden attribute, inline display:none or visibility:hidden, the
# ARIA roles of the site's chrome and of modal boxes (cookie banners), and the classes the
# page's own style sheets hide (``hidden_classes``): copies of visible text for screen
# readers, mobile duplicates. Where the rules are in a linked style sheet, the page cannot
# tell; the visually-hidden utility classes of the common CSS frameworks are taken as
# hidden then. Class names only ever say whether text is shown, never which field it is.
VISUALLY_HIDDEN_CLASSES = ("sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text")
CHROME_ROLES = ("navigation", "banner", "contentinfo", "dialog", "alertdialog", "search")
# The attributes that make an element a candidate, for _is_hidden to decide; class names
# are looked for as substrings first, then as whole tokens.
_HIDING_ATTRIBUTES = frozenset({"hidden", "aria-modal", "role", "style"})
_CLASS_ONLY = ["class"]
_CLASS_XPATH = etree.XPath("//*[contains(@class, $name)]")
# A style sheet that can hide anything says one of these (minified or with one space),
# each found after a shorter word it holds: a search for a word absent from a long sheet
# rules out two hints.
_CSS_HINTS = (
    ("none", ("display:none", "display: none")),
    ("visibility", ("visibility:hidden", "visibility: hidden")),
    ("clip", ("clip",)),
    ("1px", ("width:1px", "width: 1px")),
)
# @import ...; @media (...) { rules } @font-face { declarations }: screen-dependent or no rules.
_CSS_AT_BLOCK_RE = re.compile(r"@[^{};]*(?:;|\{(?:[^{}]*\{[^{}]*\})*[^{}]*\})")
_CSS_RULE_RE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CLASS_SELECTOR_RE = re.compile(r"^\.((?:[\w-]|\\.)+)$")
_CSS_ESCAPE_RE = re.compile(r"\\(.)")
_STYLE_HIDES_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def hide_invisible(root: etree._Element) -> list[etree._Element]:
    """Turn the elements nobody sees into elements the walk skips (their tails stay).

    Returns the root's elements: lxml makes an element's Python object when it is asked for
    and drops it when nothing holds it, so a walk over the tree while they are held does not
    make them again (3 % of the study parser's time).
    """
    elements: list[etree._Element] = []
    candidates, styles = _candidates(root, elements)
    hidden = [element for element in candidates if _is_hidden(element)]
    for name in _classes_hidden_by(styles):
        hidden += [
            element
            for element in _CLASS_XPATH(root, name=name)
            if name in (element.get("class") or "").split()
        ]
    for element in hidden:
        if isinstance(element.tag, str) and element.tag not in ("html", "body"):
            element.tag = HIDDEN_TAG
    return elements


def _candidates(
    root: etree._Element, seen: list[etree._Element]
) -> tuple[list[etree._Element], list[etree._Element]]:
    """The elements of the document (the root's, and any beside it) with an attribute that
    may hide them, and the root's ``<style>`` elements: one pass over the elements, which
    costs less than an XPath query per attribute. The root's elements go to ``seen``."""
    candidates, styles = [], []
    for top in (*root.itersiblings(preceding=True), root, *root.itersiblings()):
        for element in top.iter(etree.Element):
            if top is root:
                seen.append(element)
            names = element.keys()
            if names == _CLASS_ONLY:  # most elements
                if _may_hide_by_class(element.get("class")):
                    candidates.append(element)
            elif names and (
                not _HIDING_ATTRIBUTES.isdisjoint(names)
                or ("class" in names and _may_hide_by_class(element.get("class")))
            ):
                candidates.append(element)
            if top is root and element.tag == "style":
                styles.append(element)
    return candidates, styles


def _may_hide_by_class(classes: str) -> bool:
    return "sr-only" in classes or "isually" in classes or "screen-reader" in classes


def _is_hidden(element: etree._Element) -> bool:
    get = element.get
    if get("hidden") is not None or (get("aria-modal") or "").strip().lower() == "true":
        return True
    if (get("role") or "").strip().lower() in CHROME_ROLES:
        return True
    style = get("style")
    if style and _STYLE_HIDES_RE.search(style):
        return True
    classes = get("class")
    return bool(classes) and any(name in VISUALLY_HIDDEN_CLASSES for name in classes.split())


def hidden_classes(root: etree._Element) -> list[str]:
    """Classes that the page's ``<style>`` rules hide, each by a selector of its own.

    Hidden means ``display: none``, ``visibility: hidden``, or the visually-hidden pattern
    (clipped away, or one pixel with its overflow hidden). Rules inside ``@media`` and
    compound selectors are left out: whether they apply depends on the screen.
    """
    return _classes_hidden_by(root.iter("style"))


def _classes_hidden_by(styles: Iterable[etree._Element]) -> list[str]:
    names: list[str] = []
    for style in styles:
        css = style.text or ""
        if not any(word in css and any(h in css for h in hints) for word, hints in _CSS_HINTS):
            continue
        if "@" in css:
            css = _CSS_AT_BLOCK_RE.sub("", css)
        for selectors, declarations in _CSS_RULE_RE.findall(css):
            if not _hides(declarations.replace(" ", "").lower()):
                continue
            for selector in selectors.split(","):
                match = _CLASS_SELECTOR_RE.match(selector.strip())
                if match:
                    names.append(_CSS_ESCAPE_RE.sub(r"\1", match.group(1)))
    return names


def _hides(declarations: str) -> bool:
    return (
        "display:none" in declarations
        or "visibility:hidden" in declarations
        or "clip:rect(0" in declarations
        or "clip-path:inset(50%)" in declarations
        or (
            "width:1px" in declarations
            and "height:1px" in declarations
            and "overflow:hidden" in declarations
        )
    )
