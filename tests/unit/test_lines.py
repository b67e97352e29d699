"""The text layer: what a browser shows, as lines, whatever the markup."""

from __future__ import annotations

import pytest

from tressless_crawler.parsers.lines import linearise, page_titles, parse_root
from tressless_crawler.parsers.visibility import hidden_classes


def lines(html: str) -> list[str]:
    chunks, _, _ = linearise(parse_root(html.encode("utf-8")))
    return [chunk.text for chunk in chunks]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>6<!-- --> / <!-- -->1000+<!-- --> results</p>", ["6 / 1000+ results"]),
        ("<p><span>61<!-- --> upvotes</span></p>", ["61 upvotes"]),
        ("<p>Tr<!-- -->üeb</p>", ["Trüeb"]),
        ("<p><b>TLDR</b><!-- -->Text</p>", ["TLDRText"]),  # after an element: not glued
        ('<p>61<svg viewBox="0 0 1 1"><path d="M0"/></svg> upvotes</p>', ["61 upvotes"]),
        ("<p>a<br>b</p><div>c</div>", ["a", "b", "c"]),
    ],
)
def test_comments_and_icons_never_split_a_phrase(html: str, expected: list[str]) -> None:
    assert lines(html) == expected


@pytest.mark.parametrize(
    "hidden",
    [
        "<span hidden>copy</span>",
        '<span style="display: none">copy</span>',
        '<span style="visibility:hidden">copy</span>',
        '<span class="x sr-only">copy</span>',
        '<div role="dialog">We use cookies</div>',
        '<div role="navigation">Research</div>',
        "<nav>Research</nav>",
        "<header>Tressless Research</header>",
        "<footer>Related Research</footer>",
        "<aside>Newsletter</aside>",
    ],
)
def test_what_nobody_sees_and_the_chrome_are_left_out(hidden: str) -> None:
    assert lines(f"<body><p>Shown</p>{hidden}<p>Also shown</p></body>") == ["Shown", "Also shown"]


def test_an_articles_own_header_and_footer_are_content() -> None:
    html = "<article><header><h1>Title</h1></header><p>Body</p><footer>Source</footer></article>"
    assert lines(html) == ["Title", "Body", "Source"]


def test_aria_hidden_text_is_visible() -> None:
    assert lines('<p><span aria-hidden="true">TLDR</span> Text</p>') == ["TLDR Text"]


def test_classes_the_pages_style_sheets_hide() -> None:
    css = (
        ".a1{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)}"
        ".b2,.c3{display:none}.d4{color:red}.e5 .f6{display:none}"
        "@media (min-width:768px){.g7{display:none}}@import url(x.css);.h8{visibility: hidden}"
    )
    root = parse_root(f"<html><head><style>{css}</style></head><body></body></html>".encode())
    assert hidden_classes(root) == ["a1", "b2", "c3", "h8"]
    html = (
        f"<html><head><style>{css}</style></head><body><p>One<span class='a1'> copy</span></p>"
        "<p class='g7'>Two</p><p class='d4'>Three</p><p class='b2 d4'>Gone</p></body></html>"
    )
    assert lines(html) == ["One", "Two", "Three"]


def test_bold_lines_and_page_titles() -> None:
    root = parse_root(
        b"<html><head><title>A Study - Tressless</title>"
        b'<meta property="og:title" content="A Study"></head>'
        b"<body><font size=4><b>A Study</b></font><br>Not <b>bold</b></body></html>"
    )
    assert page_titles(root) == ("A Study - Tressless", "A Study")
    chunks, _, _ = linearise(root)
    assert [(c.text, c.bold) for c in chunks] == [("A Study", True), ("Not bold", False)]


def test_the_block_tree_knows_each_blocks_lines() -> None:
    chunks, _, blocks = linearise(parse_root(b"<div><p>a</p><p>b</p></div><p>c</p>"))
    outer = blocks.parent[chunks[0].block]
    assert blocks.parent[chunks[1].block] == outer
    assert blocks.start[outer] == 0 and blocks.end[outer] == 2
    assert blocks.around(chunks[1].block, 0) == outer
