"""Site-hosted community thread pages (``/community/<slug>-<post_id>``) -> ``ThreadItem``.

The site is a React app whose class names are generated per build and whose templates change,
so the parser anchors only on what a reader sees and on HTML semantics:

* the post is the ``<article>`` around the page's ``<h1>``; its author is the first
  ``/user/<name>`` link, its time the first ``<time datetime>``, its score the first
  "N upvotes"/"N points" label, its category the "in <Category>" label, its body the ``<p>``
  elements outside header/footer/nav/aside; "Summary" and "Link" labels mark the summary and a
  link post's target;
* the comments are the ``<article>`` elements of the section headed "N Comments"; a comment's
  parent is the nearest comment whose ``<article>`` (or the ``<li>`` wrapping it) encloses it,
  so depth comes from the DOM whether replies sit in nested lists or nested articles;
* "load more comments (N replies)" / "continue this thread" links are ``more`` stubs.

All selectors and labels are the constants below. The parser never raises: pages that are not
threads give ``Drop("not_a_thread", detail)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree
from lxml.etree import _Element as Element
from parsel import Selector

from tressless_crawler.items import PARSE_ERROR, CommentItem, Drop, ThreadItem
from tressless_crawler.urls import SITE_THREAD_RE, canonical_url, thread_id_from_url

__all__ = ["SOURCE_FORMAT", "parse_thread_html"]

logger = logging.getLogger(__name__)

# -- what the parser anchors on ------------------------------------------------------------
# The post's title: an <h1> inside an article, else inside main, else any (logos can be h1s).
TITLE_XPATHS = ("(//article//h1)[1]", "(//main//h1)[1]", "(//h1)[1]")
CANONICAL_XPATH = "//link[@rel='canonical']/@href"
FOLLOWING_LINK_XPATH = "following::a[@href][1]/@href"
POST_TAGS = ("article", "main", "body")  # the title's nearest such ancestor holds the post
COMMENT_TAG = "article"
REPLY_SCOPE_TAG = "li"  # an <li> wrapping a comment's <article> also holds its replies
SECTION_TAG = "section"
HEADING_TAGS = frozenset({"h2", "h3", "h4"})
STUB_TAGS = frozenset({"a", "button"})
LABEL_SKIP_TAGS = frozenset({"a", "p", "h1"})  # a label is never a link, a paragraph or a title
CHROME_TAGS = frozenset({"header", "footer", "nav", "aside"})  # never part of a body
BODY_TAG = "p"
BREAK_TAG = "br"
DROPPED_TAGS = ("script", "style", "noscript", "template")

USER_PATH_RE = re.compile(r"^/(?:user|u)/(?P<name>[^/?#]+)/?$")
COMMENT_PATH_RE = re.compile(r"/comment/(?P<id>[A-Za-z0-9_]+)/?$")
COMMENT_ANCHOR_RE = re.compile(r"^(?:t1_|c-|comment-)(?P<id>[A-Za-z0-9_]+)$")
MORE_QUERY_KEY = "more"
ID_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
MINUS_SIGN = "\u2212"  # typographic minus in "−2 points"
NUMBER = rf"[-{MINUS_SIGN}]?\d[\d,]*(?:\.\d+)?k?"
COMMENTS_HEADING_RE = re.compile(
    rf"^(?:(?P<n1>{NUMBER})\s+)?comments?(?:\s*\((?P<n2>{NUMBER})\))?$", re.I
)
COMMENT_COUNT_RE = re.compile(rf"^(?P<n>{NUMBER})\s+comments?$", re.I)
SCORE_RE = re.compile(rf"^(?P<n>{NUMBER})\s+(?:upvotes?|points?|votes?)$", re.I)
CATEGORY_RE = re.compile(r"^in\s+(?P<name>[^\s·•|][^·•|]{0,59})$")
EDITED_RE = re.compile(r"^[(*·•\s]*(?:last\s+)?edited\b", re.I)
MORE_RES = (
    re.compile(r"^load\s+more\s+comments(?:\s*\((?P<n>\d[\d,]*)\s+repl(?:y|ies)\))?$", re.I),
    re.compile(r"^(?P<n>\d[\d,]*)\s+more\s+(?:repl(?:y|ies)|comments?)$", re.I),
)
CONTINUE_RE = re.compile(r"^continue\s+this\s+thread\b", re.I)
SUMMARY_LABELS = frozenset({"summary", "thread summary"})
LINK_LABELS = frozenset({"link"})
STICKY_LABELS = frozenset({"pinned", "stickied", "stickied comment", "pinned comment"})
DISTINGUISHED_LABELS = {
    "mod": "moderator",
    "moderator": "moderator",
    "[m]": "moderator",
    "admin": "admin",
    "[a]": "admin",
}
BODY_MARKERS = {"[deleted]": "deleted", "[removed]": "removed"}
# Characters lxml cannot take: C0 controls, lone surrogates, non-characters.
BAD_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

SOURCE_FORMAT = "html"
NOT_A_THREAD = "not_a_thread"
PARSER_ERROR = PARSE_ERROR


@dataclass
class _Meta:
    """What the labels and links around a post or comment say (first occurrence wins)."""

    author: str | None = None
    comment_id: str | None = None
    posted_at: str | None = None
    upvotes: int | None = None
    comment_count: int | None = None
    category: str | None = None
    category_el: Element | None = None
    edited: bool = False
    stickied: bool = False
    distinguished: str | None = None


def parse_thread_html(html: str | bytes, url: str) -> ThreadItem | Drop:
    """The thread on the page at ``url``, or a Drop saying why the page is not one."""
    try:
        return _parse(html, url)
    except Exception as exc:  # the contract is "never raise"; the tests assert it never fires
        logger.exception("HTML thread parser failed on %s", url)
        return Drop(PARSER_ERROR, f"{type(exc).__name__} on {url}")


def _parse(html: str | bytes, url: str) -> ThreadItem | Drop:
    root = _root(html)
    address = _address(root, url)
    if address is None:
        return Drop(NOT_A_THREAD, "no /community/<slug>-<id> address")
    post_id, thread_url = address
    title = next((found[0] for xp in TITLE_XPATHS if (found := root.xpath(xp))), None)
    if title is None:
        return Drop(NOT_A_THREAD, "no <h1> title")
    post = _post_container(title)
    section, heading_count = _comments_section(root, title)
    fences: set[Element] = {section} if section is not None else set()
    summary, summary_nodes = _summary(root, title, fences)
    link_url, link_nodes = _link(post, title, fences, url)
    fences.update(summary_nodes, link_nodes)
    parts = _descendants(post, fences)
    meta = _meta(el for el, _chrome, in_p in parts if not in_p and el is not title)
    if meta.posted_at is None and meta.upvotes is None and meta.author is None:
        return Drop(NOT_A_THREAD, "no author, time or score next to the title")
    body = None if link_url else _body(parts)
    return ThreadItem(
        post_id=post_id,
        url=thread_url,
        title=_text(title) or None,
        category=meta.category,
        author=meta.author,
        posted_at=meta.posted_at,
        upvotes=meta.upvotes,
        body=None if body in BODY_MARKERS else body,
        summary=summary,
        comment_count=meta.comment_count if meta.comment_count is not None else heading_count,
        comments=_comments(section) if section is not None else [],
        link_url=link_url,
        edited=meta.edited,
        source_format=SOURCE_FORMAT,
    )


# -- page structure -----------------------------------------------------------------------


def _root(html: str | bytes) -> Element:
    """The parsed page without scripts, styles and comments (they repeat text as data)."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else str(html)
    root = Selector(text=BAD_CHARS_RE.sub("", text)).root
    etree.strip_elements(root, etree.Comment, *DROPPED_TAGS, with_tail=False)
    return root


def _address(root: Element, url: str) -> tuple[str, str | None] | None:
    """(post id, canonical URL) from the URL, else from ``<link rel=canonical>``.

    The same thread is served under several slugs; the canonical link names the preferred one,
    taken on the host and scheme of ``url``.
    """
    post_id = _site_thread_id(url)
    canonical = next(iter(root.xpath(CANONICAL_XPATH)), None)
    canonical_id = _site_thread_id(canonical) if canonical else None
    if post_id is None:
        post_id = canonical_id
    if post_id is None:
        return None
    base = url
    if canonical_id == post_id and canonical:
        base = urljoin(url, urlsplit(canonical.strip()).path)
    try:
        return post_id, canonical_url(base, https=False)
    except ValueError:
        return post_id, None


def _site_thread_id(url: str) -> str | None:
    try:
        path = urlsplit(url.strip()).path
        return thread_id_from_url(url.strip()) if SITE_THREAD_RE.match(path) else None
    except ValueError:
        return None


def _post_container(title: Element) -> Element:
    for tag in POST_TAGS:
        found = next(title.iterancestors(tag), None)
        if found is not None:
            return found
    return title.getroottree().getroot()


def _comments_section(root: Element, title: Element) -> tuple[Element | None, int | None]:
    """The element holding the comments (under a "N Comments" heading) and that N."""
    title_line = set(title.iterancestors())
    for heading in root.iter(*HEADING_TAGS):
        match = COMMENTS_HEADING_RE.match(_text(heading))
        if match:
            region = _comments_region(heading, title_line)
            if region is not None:
                return region, _number(match.group("n1") or match.group("n2"))
    return None, None


def _comments_region(heading: Element, title_line: set[Element]) -> Element | None:
    """The heading's ``<section>``, else its nearest ancestor holding an ``<article>``; never
    one that also holds the title (the comments could not be told from the post)."""
    section = next(heading.iterancestors(SECTION_TAG), None)
    if section is not None and section not in title_line:
        return section
    for ancestor in heading.iterancestors():
        if ancestor in title_line:
            return None
        if next(ancestor.iter(COMMENT_TAG), None) is not None:
            return ancestor
    return None


def _descendants(node: Element, fences: set[Element]) -> list[tuple[Element, bool, bool]]:
    """(element, inside header/footer/nav/aside, inside a <p>) below ``node`` in document
    order, not entering fenced subtrees (the comment section, other comments, labels)."""
    out: list[tuple[Element, bool, bool]] = []
    stack = [(child, False, False) for child in reversed(node)]
    while stack:
        el, chrome, in_p = stack.pop()
        if not isinstance(el.tag, str) or el in fences:
            continue
        out.append((el, chrome, in_p))
        chrome = chrome or el.tag in CHROME_TAGS
        in_p = in_p or el.tag == BODY_TAG
        stack.extend((child, chrome, in_p) for child in reversed(el))
    return out


def _labels(root: Element, fences: set[Element], labels: frozenset[str]) -> Element | None:
    """The first (outermost) element whose whole text is one of ``labels``."""
    for el, _chrome, in_p in _descendants(root, fences):
        if in_p or el.tag in LABEL_SKIP_TAGS:
            continue
        if _text(el).rstrip(":").strip().lower() in labels:
            return el
    return None


def _label_scope(label: Element, title: Element) -> tuple[list[Element], bool]:
    """Elements following a label that belong to it, and whether its parent does too.

    A label inside its own box owns the box; a label loose among the post's parts owns only
    the element after it.
    """
    parent = label.getparent()
    siblings = list(label.itersiblings())
    if parent is None or parent in set(title.iterancestors()):
        return siblings[:1], False
    return siblings, True


def _summary(root: Element, title: Element, fences: set[Element]) -> tuple[str | None, list]:
    label = _labels(root, fences, SUMMARY_LABELS)
    if label is None:
        return None, []
    siblings, owns_parent = _label_scope(label, title)
    tail = label.tail or ""
    pieces = [tail[1:] if tail.startswith(":") else tail]  # "<b>Summary</b>: text"
    for sibling in siblings:
        pieces += [_text(sibling), sibling.tail or ""]
    text = " ".join(" ".join(pieces).split())
    nodes = [label.getparent()] if owns_parent else [label, *siblings]
    return text or None, nodes


def _link(post: Element, title: Element, fences: set[Element], url: str) -> tuple[str | None, list]:
    """A link post's target: the first link after a "Link" label."""
    label = _labels(post, fences, LINK_LABELS)
    if label is None:
        return None, []
    href = next(iter(label.xpath(FOLLOWING_LINK_XPATH)), None)
    if href is None or not href.strip():
        return None, []
    _siblings, owns_parent = _label_scope(label, title)
    nodes = [label.getparent()] if owns_parent else [label]
    try:
        return urljoin(url, href.strip()), nodes
    except ValueError:
        return href.strip(), nodes


# -- comments -----------------------------------------------------------------------------


def _comments(section: Element) -> list[CommentItem]:
    """Comments and stubs in document order, parents and depth read from the nesting."""
    nodes = [  # asides, headers and footers of the section hold ads and forms, not comments
        (el, el.tag == COMMENT_TAG)
        for el, chrome, in_p in _descendants(section, set())
        if not (chrome or in_p)
        and (el.tag == COMMENT_TAG or (el.tag in STUB_TAGS and _stub_label(el)))
    ]
    blocks = {el for el, _is_comment in nodes}
    blocks.update(
        el.getparent() for el, is_comment in nodes if is_comment and _is_scope(el.getparent())
    )
    owner: dict[Element, CommentItem] = {}
    out: list[CommentItem] = []
    for el, is_comment in nodes:
        parent = _enclosing(el, section, owner)
        depth = parent.depth + 1 if parent is not None else 0
        parent_id = parent.comment_id if parent is not None else None
        if not is_comment:
            out.append(_stub(el, parent_id, depth))
            continue
        item = _comment(el, blocks, parent_id, depth)
        if item is None:
            continue
        out.append(item)
        owner[el] = item
        scope = el.getparent()
        if _is_scope(scope) and scope not in owner:
            owner[scope] = item
    return out


def _is_scope(el: Element | None) -> bool:
    return el is not None and el.tag == REPLY_SCOPE_TAG


def _enclosing(
    el: Element, section: Element, owner: dict[Element, CommentItem]
) -> CommentItem | None:
    """The nearest earlier comment whose article or list item holds ``el``.

    ``el`` itself is registered only after this call, so its own ``<li>`` is not yet an owner.
    """
    for ancestor in el.iterancestors():
        if ancestor is section:
            return None
        item = owner.get(ancestor)
        if item is not None:
            return item
    return None


def _comment(
    article: Element, blocks: set[Element], parent_id: str | None, depth: int
) -> CommentItem | None:
    parts = _descendants(article, blocks)  # other comments and stubs are fenced off
    meta = _meta(el for el, _chrome, in_p in parts if not in_p)
    body = _body(parts)
    kind = BODY_MARKERS.get(body or "", "comment")
    comment_id = meta.comment_id or _anchor_id(article)
    if not (comment_id or meta.author or meta.posted_at or body):
        return None  # an article without a comment's marks (an ad, a card): not a comment
    return CommentItem(
        comment_id=comment_id,
        parent_id=parent_id,
        author=meta.author,
        body=None if kind != "comment" else body,
        upvotes=meta.upvotes,
        posted_at=meta.posted_at,
        depth=depth,
        kind=kind,
        edited=meta.edited,
        stickied=meta.stickied,
        distinguished=meta.distinguished,
    )


def _stub(el: Element, parent_id: str | None, depth: int) -> CommentItem:
    href = el.get("href") or ""
    try:
        more_id = parse_qs(urlsplit(href).query).get(MORE_QUERY_KEY, [""])[0]
    except ValueError:
        more_id = ""
    return CommentItem(
        comment_id=more_id if ID_RE.match(more_id) else None,
        parent_id=parent_id,
        depth=depth,
        kind="more",
        more_count=(_stub_label(el) or (None,))[0],
    )


def _stub_label(el: Element) -> tuple[int | None] | None:
    """``(N,)`` for a "load more comments (N replies)" control (``(None,)`` without a count,
    ``(0,)`` for "continue this thread"); None for anything else."""
    text = _text(el)
    if CONTINUE_RE.match(text):
        return (0,)
    for pattern in MORE_RES:
        match = pattern.match(text)
        if match:
            return (_number(match.group("n")),)
    return None


def _anchor_id(article: Element) -> str | None:
    match = COMMENT_ANCHOR_RE.match(article.get("id") or "")
    return match.group("id") if match else None


# -- fields -------------------------------------------------------------------------------


def _meta(elements: Iterable[Element]) -> _Meta:
    meta = _Meta()
    for el in elements:
        if el.tag == BODY_TAG:
            continue
        if el.tag == "a":
            _read_link(el, meta)
        elif el.tag == "time" and meta.posted_at is None:
            meta.posted_at = _iso(el.get("datetime"))
        _read_label(el, meta)
    return meta


def _read_link(el: Element, meta: _Meta) -> None:
    try:
        path = urlsplit((el.get("href") or "").strip()).path
    except ValueError:
        return
    user = USER_PATH_RE.match(path)
    if user and meta.author is None:
        meta.author = unquote(user.group("name")).strip() or None
    comment = COMMENT_PATH_RE.search(path)
    if comment and meta.comment_id is None:
        meta.comment_id = comment.group("id")


def _read_label(el: Element, meta: _Meta) -> None:
    text = _text(el)
    if not text or len(text) > 80:  # labels are short; skip big containers cheaply
        return
    lower = text.lower()
    if meta.upvotes is None and (match := SCORE_RE.match(text)):
        meta.upvotes = _number(match.group("n"))
    if meta.comment_count is None and (match := COMMENT_COUNT_RE.match(text)):
        meta.comment_count = _number(match.group("n"))
    # The innermost match names the category: "in <a>Treatment</a>" inside a wider line.
    match = CATEGORY_RE.match(text)
    if match and (meta.category is None or meta.category_el in set(el.iterancestors())):
        meta.category, meta.category_el = match.group("name").strip(), el
    if el.tag == "a":
        return  # badges are not links: a user named "Pinned" or "edited-guy" is no badge
    meta.edited = meta.edited or bool(EDITED_RE.match(text))
    meta.stickied = meta.stickied or lower in STICKY_LABELS
    if meta.distinguished is None:
        meta.distinguished = DISTINGUISHED_LABELS.get(lower)


def _body(parts: list[tuple[Element, bool, bool]]) -> str | None:
    """Paragraphs outside header/footer/nav/aside, blank-line separated."""
    paragraphs = [
        _paragraph(el) for el, chrome, in_p in parts if el.tag == BODY_TAG and not (chrome or in_p)
    ]
    text = "\n\n".join(p for p in paragraphs if p)
    return text or None


def _paragraph(p: Element) -> str:
    """A paragraph's text: whitespace collapsed as a browser does, ``<br>`` kept as newline."""
    pieces: list[str] = []
    for event, el in etree.iterwalk(p, events=("start", "end")):
        if event == "start":
            pieces.append("\n" if el.tag == BREAK_TAG else re.sub(r"\s+", " ", el.text or ""))
        elif el is not p:
            pieces.append(re.sub(r"\s+", " ", el.tail or ""))
    lines = (" ".join(line.split()) for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)


def _text(el: Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _number(text: str | None) -> int | None:
    """ "12", "-3", "1,234", "1.2k" -> int; None when not a number."""
    if not text:
        return None
    value = text.strip().lower().replace(MINUS_SIGN, "-").replace(",", "")
    scale = 1000 if value.endswith("k") else 1
    try:
        return int(Decimal(value.rstrip("k")) * scale)
    except ArithmeticError:  # decimal.InvalidOperation
        return None


def _iso(value: str | None) -> str | None:
    """A ``datetime`` attribute -> UTC ``YYYY-MM-DDTHH:MM:SSZ`` (naive values taken as UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC).replace(microsecond=0)
    except (ValueError, OverflowError):
        return None
    return moment.isoformat().replace("+00:00", "Z")
