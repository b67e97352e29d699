"""The generic walker of the page parsers: an HTML page as the lines a browser would show,
each remembering its block, link, heading and boldness, and the tree of its blocks."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.text import DEBRIS
from tressless_crawler.parsers.visibility import hide_invisible

__all__ = [
    "BLOCK_TAGS",
    "Blocks",
    "CONTROL_RE",
    "HEADING_TAG",
    "IGNORED_TAGS",
    "UNSET",
    "Chunk",
    "document_bytes",
    "join_pieces",
    "linearise",
    "hide_invisible",
    "page_titles",
    "parse_root",
]

# fmt: off
# Elements whose text is never page content.
IGNORED_TAGS = frozenset({
    "head", "script", "style", "noscript", "template", "nav", "svg",
    "button", "iframe", "object", "select", "textarea", "dialog", "math", "canvas",
})
# Landmarks that are the site's chrome (banner, footer, sidebar) outside the content
# elements below, and part of the content inside one (an article's own header).
LANDMARK_TAGS = frozenset({"header", "footer", "aside"})
CONTENT_TAGS = frozenset({"article", "main", "section"})
# Inline elements that print their text in bold: a title may be nothing but a bold line.
BOLD_TAGS = frozenset({"b", "strong"})
# Elements that start a new line of text when rendered.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4",
    "h5", "h6", "hgroup", "hr", "html", "legend", "li", "main", "menu", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# fmt: on
HEADING_TAG = "h1"  # the heading each line remembers (Chunk.h1)
# Unlike XML, HTML text may not hold these; they only appear when binary data was decoded.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# No space is put before closing or after opening punctuation when joining inline pieces.
CLOSING_PUNCTUATION = ",.;:!?)]\u201d\u2019"
OPENING_PUNCTUATION = "([\u201c\u2018"

UNSET = object()  # a Chunk's answer not worked out yet, where None is an answer


class Chunk:
    """One rendered line of visible text (or one image) with where it sits in the page.

    A page parser asks the same questions of a line several times (is it a call to action,
    a list entry, a section head?); it keeps the answers on the line the first time, in the
    last four slots, which start unanswered (None, or UNSET where None is an answer).
    """

    __slots__ = (
        "text", "spaced", "pieces", "block", "link", "href", "link_text", "rest", "links", "h1",
        "img_alt", "img_src", "is_image", "bold", "cta", "kind", "head", "tldr_rest",
    )  # fmt: skip

    def __init__(
        self,
        text: str,  # as a browser shows it: text nodes concatenated, whitespace collapsed
        spaced: str,  # text nodes joined by spaces: separates fields in adjacent inline elements
        pieces: tuple[str, ...],
        block: int,  # index of the innermost block element holding the line
        link: int | None = None,  # index of the <a> holding the start of the line
        href: str | None = None,  # its href
        link_text: str = "",  # the part of the line inside that link
        rest: str = "",  # the part after it (spaced)
        links: tuple[tuple[str, str], ...] = (),  # (href, text) of every link on the line
        h1: int | None = None,  # index of the enclosing h1, if any
        img_alt: str | None = None,
        img_src: str | None = None,
    ) -> None:
        self.text = text
        self.spaced = spaced
        self.pieces = pieces
        self.block = block
        self.link = link
        self.href = href
        self.link_text = link_text
        self.rest = rest
        self.links = links
        self.h1 = h1
        self.img_alt = img_alt
        self.img_src = img_src
        self.is_image = img_src is not None
        self.bold = False  # every piece of text on the line is bold
        self.cta: bool | None = None  # a call to action?
        self.kind: str | None = None  # the kind of list entry it starts; "" for none
        self.head: Any = None  # what it says as a section head
        self.tldr_rest: str | None | object = UNSET  # the text after a leading TLDR label


# -- the document -----------------------------------------------------------------------------

# CONTROL_RE's characters as UTF-8 bytes: the ASCII ones are single bytes that never occur
# inside the encoding of another character; lone surrogates cannot be encoded at all.
_CONTROL_BYTES = tuple(bytes([b]) for b in range(0x80) if CONTROL_RE.match(chr(b)))
_CONTROL_NON_ASCII = ("\ufffe", "\uffff")  # and the ones above ASCII that UTF-8 can encode
_CONTROL_NON_ASCII_BYTES = tuple(ch.encode("utf-8") for ch in _CONTROL_NON_ASCII)
# Their first bytes (one, 0xEF, for both): a memchr for it rules them out on most pages.
_CONTROL_NON_ASCII_LEADS = frozenset(b[:1] for b in _CONTROL_NON_ASCII_BYTES)
_UTF8_BOM = codecs.BOM_UTF8


def document_bytes(page: str | bytes) -> bytes:
    """The page as the UTF-8 bytes lxml parses: stripped, without CONTROL_RE's characters.

    ``page`` is the decoded text, or the body of a page that is in UTF-8: the bytes as
    received are then used as they are when they need nothing removed (the usual case),
    which spares decoding the page and encoding it again; invalid UTF-8 is replaced by
    U+FFFD, as Scrapy decodes. Either way the same bytes come out.

    Finding out that a page holds none of CONTROL_RE's characters is cheaper on the bytes
    than with the regular expression over the whole text.
    """
    if isinstance(page, bytes):
        return _utf8_document(page)
    if isinstance(page, str) and not any(ch in page for ch in _CONTROL_NON_ASCII):
        try:
            body = page.strip().encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: removed below
            pass
        else:
            if not any(b in body for b in _CONTROL_BYTES):
                return body
    return CONTROL_RE.sub("", page or "").strip().encode("utf-8")


def _utf8_document(body: bytes) -> bytes:
    """``document_bytes`` of a UTF-8 body, without decoding it when that changes nothing."""
    if body.startswith(_UTF8_BOM):  # what decoding it as Scrapy does removes
        body = body[len(_UTF8_BOM) :]
    stripped = body.strip()
    # bytes.strip() removes the ASCII blanks that str.strip() does; when either end is past
    # ASCII (a no-break space, say) the text decides. Control characters are removed there too.
    if (
        stripped[:1] < b"\x80"
        and stripped[-1:] < b"\x80"
        and not any(b in stripped for b in _CONTROL_BYTES)
        and not (
            any(lead in stripped for lead in _CONTROL_NON_ASCII_LEADS)
            and any(b in stripped for b in _CONTROL_NON_ASCII_BYTES)
        )
        and _is_utf8(stripped)
    ):
        return stripped
    return document_bytes(body.decode("utf-8", errors="replace"))


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_root(body: bytes) -> etree._Element:
    """The page's element tree, parsed as ``parsel.Selector(text=..., type="html")`` does.

    Always as HTML, never guessed: JSON bodies exist too, and must come out as plain text.
    """
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    root = etree.fromstring(body, parser=parser)
    if root is None:  # nothing but comments, say
        root = etree.fromstring(b"<html/>", parser=parser)
    return root


# -- linearising ------------------------------------------------------------------------------

_Piece = tuple[str, int | None, str | None, bool]  # a text node: text, link index, href, bold

# What an element does to the lines, by its tag: the loop below asks once per element.
(
    _INLINE, _BOLD, _LINK_ELEMENT, _ANCHOR, _BLOCK, _CONTENT, _LANDMARK, _HEADING, _BREAK,
    _IMAGE, _HIDDEN, _NOT_ELEMENT,
) = range(12)  # fmt: skip
_ROLES: dict[object, int] = {}  # element.tag (a comment's is a function) -> role


@dataclass(slots=True)
class Blocks:
    """The block elements of a page: each one's parent and where its lines end.

    Blocks nest in document order, so the lines of a block are a contiguous run of the
    chunk list: from its first line to ``end[block]`` (exclusive).
    """

    parent: dict[int, int] = field(default_factory=dict)
    start: dict[int, int] = field(default_factory=dict)
    end: dict[int, int] = field(default_factory=dict)
    content: set[int] = field(default_factory=set)  # article, main and section elements

    def outermost_content(self, block: int) -> int:
        """The outermost content element holding ``block``, else ``block``."""
        found, current = block, block
        while current:
            if current in self.content:
                found = current
            current = self.parent.get(current, 0)
        return found

    def around(self, block: int, index: int) -> int:
        """The innermost block holding both ``block`` and the line at ``index``."""
        while block and self.start.get(block, 0) > index:
            block = self.parent.get(block, 0)
        return block


def linearise(root: etree._Element) -> tuple[list[Chunk], list[etree._Element], Blocks]:
    """The visible lines of the page in document order, its ``<link>`` elements and blocks.

    One loop over the tree's start/end events; each element opening a block, a ``br`` or an
    ``img`` closes the line being collected. The ``<link>`` elements (in ``head`` as a rule)
    are picked up on the way, in document order, to save another search of the whole tree.

    What a browser would not show is left out: elements that never show text, the elements
    ``hide_invisible`` marks, and the site's chrome landmarks (``header``, ``footer``,
    ``aside``) outside the content elements. Comments never split a phrase: the text after
    one continues the text before it (React prints ``6<!-- --> / <!-- -->1000+``).
    """
    elements = hide_invisible(root)  # held during the walk: their objects are made once
    walk = _Walk(_links_beside(root, preceding=True))
    role_of = _ROLES.get
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    skipped = False  # the subtree of the element just started was skipped
    for event, element in walker:
        if event == "start":
            role = role_of(element.tag)
            if role is None:
                role = _role(element)
            if role >= _HIDDEN or (role == _LANDMARK and not walk.content):
                walk.link_elements.extend(element.iter("link"))
                walker.skip_subtree()  # the next event is this element's "end"
                skipped = True
                continue
            value = walk.open(element, role)
        elif event == "end":
            if skipped:
                skipped = False
            else:
                walk.close(walk.roles.pop())
            value = element.tail
        elif walk.continues(element):
            continue
        else:
            value = element.tail
        if value:
            walk.add(value)
    walk.flush()
    walk.link_elements += _links_beside(root, preceding=False)
    del elements
    return walk.chunks, walk.link_elements, walk.tree


class _Walk:
    """One walk over a page: the lines so far, the open line and the elements around it."""

    __slots__ = (
        "chunks", "link_elements", "buffer", "blocks", "tree", "links", "h1s", "roles",
        "counter", "content", "bold",
    )  # fmt: skip

    def __init__(self, link_elements: list[etree._Element]) -> None:
        self.chunks: list[Chunk] = []
        self.link_elements = link_elements
        self.buffer: list[_Piece] = []  # the text nodes of the open line
        self.blocks = [0]  # indexes of the open block elements
        self.tree = Blocks()
        self.links: list[tuple[int, str | None]] = []  # (index, href) of the open <a> elements
        self.h1s: list[int] = []
        self.roles: list[int] = []  # roles of the open elements the walk went into
        self.counter = 0  # elements that matter get an index, in document order
        self.content = 0  # open content elements (article, main, section)
        self.bold = 0  # open bold elements

    def open(self, element: etree._Element, role: int) -> str | None:
        """An element starts: what it does to the lines; the text it starts with."""
        self.roles.append(role)
        if role >= _BLOCK:  # a block, an h1, a br or an img ends the open line
            if self.buffer:
                self.flush()
            if role == _IMAGE:
                self.chunks.append(_image(element, self.blocks[-1]))
                return None
            if role <= _HEADING:
                self._open_block(role)
        elif role == _ANCHOR:
            self.counter += 1
            self.links.append((self.counter, element.get("href")))
        elif role == _BOLD:
            self.bold += 1
        elif role == _LINK_ELEMENT:
            self.link_elements.append(element)
        return element.text  # type: ignore[no-any-return]

    def _open_block(self, role: int) -> None:
        self.counter += 1
        self.tree.parent[self.counter] = self.blocks[-1]
        self.tree.start[self.counter] = len(self.chunks)
        self.blocks.append(self.counter)
        if role == _CONTENT:
            self.content += 1
            self.tree.content.add(self.counter)
        elif role == _HEADING:
            self.counter += 1
            self.h1s.append(self.counter)

    def close(self, role: int) -> None:
        """An element the walk went into ends."""
        if role == _ANCHOR:
            if self.links:
                self.links.pop()
        elif role == _BOLD:
            self.bold -= 1
        elif _BLOCK <= role <= _HEADING:
            if self.buffer:
                self.flush()
            if len(self.blocks) > 1:
                self.tree.end[self.blocks.pop()] = len(self.chunks)
            if role == _CONTENT:
                self.content -= 1
            elif role == _HEADING and self.h1s:
                self.h1s.pop()

    def continues(self, node: etree._Element) -> bool:
        """Whether the text after a comment continues the text before it, in the same link:
        then it is added to that text."""
        value = node.tail
        buffer = self.buffer
        if not (value and buffer and _follows_text(node)):
            return False
        if buffer[-1][1] != (self.links[-1][0] if self.links else None):
            return False
        if DEBRIS in value:
            value = tx.strip_debris(value)
        last = buffer[-1]
        buffer[-1] = (last[0] + value, last[1], last[2], last[3])
        return True

    def add(self, value: str) -> None:
        """A text node: a piece of the open line (a blank outside links starts no line)."""
        if DEBRIS in value:
            value = tx.strip_debris(value)
        if self.links:
            link, href = self.links[-1]
            self.buffer.append((value, link, href, self.bold > 0))
        elif self.buffer or not value.isspace():
            self.buffer.append((value, None, None, self.bold > 0))

    def flush(self) -> None:
        """Close the open line."""
        buffer = self.buffer
        if buffer:
            if len(buffer) > 1 or not buffer[0][0].isspace():  # a lone blank is no line
                _flush(buffer, self.blocks[-1], self.h1s[-1] if self.h1s else None, self.chunks)
            self.buffer = []


def page_titles(root: etree._Element) -> tuple[str | None, str | None]:
    """The text of the page's ``<title>`` and its ``og:title``, as given (None when absent)."""
    title = og = None
    head = next(root.iterchildren("head"), None)  # find("head") without ElementPath
    if head is None:
        return None, None
    element = next(head.iterchildren("title"), None)
    if element is not None:
        title = tx.none_if_empty(element.text)
    for meta in head.iterchildren("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:title":
            og = tx.none_if_empty(meta.get("content"))
            break
    return title, og


def _follows_text(node: etree._Element) -> bool:
    """Whether a comment comes right after a text node (not after an element's end)."""
    previous = node.getprevious()
    if previous is None:
        parent = node.getparent()
        return parent is not None and bool(parent.text)
    return not isinstance(previous.tag, str) or bool(previous.tail)


def _links_beside(root: etree._Element, *, preceding: bool) -> list[etree._Element]:
    """The ``<link>`` elements beside the root element (markup after ``</html>`` can go there)."""
    siblings = list(root.itersiblings(preceding=preceding))
    if preceding:
        siblings.reverse()
    return [link for sibling in siblings for link in sibling.iter("link")]


def _role(element: etree._Element) -> int:
    """What the element does to the lines (see ``linearise``), from its tag."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        role = _NOT_ELEMENT
    else:
        name = tag.rsplit("}", 1)[-1].lower()
        if name in IGNORED_TAGS:
            role = _HIDDEN
        elif name == HEADING_TAG:
            role = _HEADING
        elif name in CONTENT_TAGS:
            role = _CONTENT
        elif name in LANDMARK_TAGS:
            role = _LANDMARK
        elif name in BLOCK_TAGS:
            role = _BLOCK
        elif name in BOLD_TAGS:
            role = _BOLD
        elif name == "a":
            role = _ANCHOR
        elif name == "br":
            role = _BREAK
        elif name == "img":
            role = _IMAGE
        elif tag == "link":  # in no namespace
            role = _LINK_ELEMENT
        else:
            role = _INLINE
    if len(_ROLES) < 1024:  # bounded: pages may invent tag names
        _ROLES[tag] = role
    return role


def _image(element: etree._Element, block: int) -> Chunk:
    return Chunk(
        text="",
        spaced="",
        pieces=(),
        block=block,
        img_alt=tx.clean_text(element.get("alt")),
        img_src=_image_source(element).strip(),
    )


def _image_source(element: etree._Element) -> str:
    """The image's URL; lazy-loading pages put a data: placeholder in ``src``."""
    srcset = (element.get("srcset") or element.get("data-srcset") or "").split()
    candidates = [element.get("src"), element.get("data-src"), srcset[0] if srcset else None]
    for candidate in candidates:
        candidate = (candidate or "").strip().rstrip(",")
        if candidate and not candidate.lower().startswith("data:"):
            return candidate
    return ""


def _flush(buffer: list[_Piece], block: int, h1: int | None, chunks: list[Chunk]) -> None:
    """Close the line made of ``buffer``: keep it when it has visible text."""
    if len(buffer) == 1:  # most lines: one text node
        value, link, href, bold = buffer[0]
        text = tx.clean_text(value)
        if text:
            chunks.append(_one_link_line(text, text, (text,), block, link, href, h1, bold))
        return
    values = [piece[0] for piece in buffer]
    text = tx.clean_text("".join(values))
    if not text:
        return
    cleaned = [tx.clean_text(value) for value in values]
    pieces = tuple(filter(None, cleaned))
    spaced = join_pieces(pieces)
    _, link, href, _ = buffer[0]
    one_link = bold = True  # the whole line in one link (or none); all its text bold
    for piece, clean in zip(buffer, cleaned, strict=True):
        if piece[1] != link:
            one_link = False
        if clean and not piece[3]:
            bold = False
    if one_link:
        chunks.append(_one_link_line(text, spaced, pieces, block, link, href, h1, bold))
        return
    link, href, link_text, rest = _first_link(buffer, values, cleaned)
    links = _links_of(buffer, cleaned)
    chunk = Chunk(text, spaced, pieces, block, link, href, link_text, rest, links, h1)
    chunk.bold = bold
    chunks.append(chunk)


def _one_link_line(
    text: str,
    spaced: str,
    pieces: tuple[str, ...],
    block: int,
    link: int | None,
    href: str | None,
    h1: int | None,
    bold: bool,
) -> Chunk:
    """A line whose text is all in one link, or in none (``link`` None)."""
    links = (((href or "").strip(), text),) if link is not None else ()
    link_text = text if link else ""
    chunk = Chunk(text, spaced, pieces, block, link, href, link_text, "", links, h1)
    chunk.bold = bold
    return chunk


def _first_link(
    buffer: list[_Piece], values: list[str], cleaned: list[str]
) -> tuple[int | None, str | None, str, str]:
    """(index, href, text, the text after it) of what holds the start of a line of several
    links: a link, or no link (index None, no text)."""
    start = 0
    while not values[start].strip():
        start += 1
    _, link, href, _ = buffer[start]
    run = start + 1
    while run < len(buffer) and buffer[run][1] == link:
        run += 1
    if not link:
        return link, href, "", ""
    text = cleaned[start] if run == start + 1 else tx.clean_text("".join(values[start:run]))
    return link, href, text, join_pieces(tuple(filter(None, cleaned[run:])))


def _links_of(buffer: list[_Piece], cleaned: list[str]) -> tuple[tuple[str, str], ...]:
    """(href, text) of each link that has text on the line; ``cleaned``: each piece's text."""
    at: dict[int, list[int]] = {}  # link index -> positions of its pieces
    for i, piece in enumerate(buffer):
        if piece[1] is not None:
            at.setdefault(piece[1], []).append(i)
    if not at:
        return ()
    links = []
    for positions in at.values():
        if len(positions) == 1:
            text = cleaned[positions[0]]
        else:
            text = tx.clean_text("".join(buffer[i][0] for i in positions))
        if text:
            links.append(((buffer[positions[-1]][2] or "").strip(), text))
    return tuple(links)


def join_pieces(pieces: tuple[str, ...]) -> str:
    """Pieces joined by a space, except before closing and after opening punctuation."""
    if len(pieces) == 1:
        return pieces[0]
    out = ""
    for piece in pieces:
        if out and not (piece[0] in CLOSING_PUNCTUATION or out[-1] in OPENING_PUNCTUATION):
            out += " "
        out += piece
    return out
