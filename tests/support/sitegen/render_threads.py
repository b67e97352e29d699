"""Render community threads as the site's HTML pages and as Reddit's JSON, for fixtures.

The fixture site and the parser tests need threads in both forms the crawler reads: pages
hosted on the site (``/community/<slug>-<post_id>``) and Reddit's JSON (a thread URL with
``.json`` appended). Both are built here from one ``thread`` dict, deterministically: the same
dict gives the same string.

HTML pages imitate a server-rendered React app: generated class names, a navigation header,
a footer, a sidebar of related posts and inline scripts whose JSON repeats (and contradicts)
page text, so a parser that reads scripts or class names is caught. Two templates:

* ``"cards"`` (default) - indented markup; the post is an ``<article>``, comments are
  ``<article>`` cards in nested ``<ul>/<li>`` lists after it; "N upvotes" labels.
* ``"flat"`` - the older, minified template: the comment section sits inside the post's
  ``<article>``, replies are ``<article>`` elements nested inside their parent's ``<article>``;
  "N points" labels, ``[M]`` moderator badges, a ``Summary`` label followed by inline text.

JSON mimics Reddit's output without ``raw_json=1``: ``&``, ``<`` and ``>`` escaped in strings,
the usual extra fields, ``replies: ""`` on leaves, ``more`` stubs with their child ids.

The parsers give a thread back field for field (the round-trip tests check it) when its texts
are in normal form: no surrounding or doubled spaces, lines split by ``\n``, paragraphs by one
blank line. HTML collapses other whitespace as a browser would.

Keys of ``thread`` (all optional unless marked; absent and ``None`` are the same):

Post
    ``post_id`` (str, required), ``title`` (str), ``category`` (str, the flair),
    ``author`` (str; ``None`` shows ``[deleted]``), ``posted_at`` (``YYYY-MM-DDTHH:MM:SSZ``),
    ``upvotes`` (int), ``body`` (str, plain text; paragraphs separated by a blank line),
    ``body_status`` (``"deleted"`` | ``"removed"``: the body is shown as that marker),
    ``summary`` (str, HTML only: the site's one-paragraph summary under "Summary"),
    ``comment_count`` (int; default: comments in the tree plus the counts of ``more`` stubs),
    ``link_url`` (str: a link post to this target; its body is not shown),
    ``edited`` (bool), ``stickied`` (bool, JSON only).
Addresses
    ``url`` (str: a site thread URL ``.../community/<slug>-<post_id>`` sets the HTML page's
    canonical address; a Reddit URL ``.../comments/<post_id>/<slug>/`` sets the JSON
    permalink), ``slug`` (str, the site slug; default from the title),
    ``permalink`` (str, Reddit path, overrides ``url``), ``subreddit`` (default ``tressless``).
Page
    ``template`` (``"cards"`` | ``"flat"``, HTML only).
Comments
    ``comments``: list of comment dicts, each with ``comment_id`` (str, required except on
    ``more`` stubs), ``author`` (str; ``None`` shows ``[deleted]``), ``body`` (str),
    ``upvotes`` (int), ``posted_at``, ``edited``, ``stickied`` (bool),
    ``distinguished`` (``"moderator"`` | ``"admin"``),
    ``kind`` (``"comment"`` default, ``"deleted"`` / ``"removed"`` show that marker as the
    body, ``"more"`` is a stub of comments not expanded), ``more_count`` (int, for stubs;
    0 renders "continue this thread"), ``children`` (list of ids, for JSON stubs; default
    generated) and ``replies`` (a nested list of comment dicts).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from tressless_crawler.urls import REDDIT_COMMENTS_RE, SITE_THREAD_RE

__all__ = [
    "TEMPLATES",
    "render_thread_html",
    "render_thread_json",
    "thread_site_path",
    "thread_reddit_permalink",
]

TEMPLATES = ("cards", "flat")
SITE_ORIGIN = "https://tressless.com"
SUBREDDIT = "tressless"
SUBREDDIT_ID = "t5_2s8o1"
MARKERS = {"deleted": "[deleted]", "removed": "[removed]"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NAV_LINKS = (
    ("/", "Home"), ("/research", "Research"), ("/learn", "Learn"),
    ("/community", "Community"), ("/search", "Search"),
)
FOOTER_LINKS = (("/about", "About"), ("/privacy", "Privacy"), ("/terms", "Terms"))
BADGES = {
    "cards": {"moderator": "MOD", "admin": "ADMIN"},
    "flat": {"moderator": "[M]", "admin": "[A]"},
}
EDIT_DELAY = 5400.0  # seconds between a post and its (invented) edit time in JSON


# -- public API ---------------------------------------------------------------------------


def render_thread_html(thread: dict[str, Any], template: str | None = None) -> str:
    """The site's page for ``thread`` (keys in the module docstring)."""
    template = template or thread.get("template") or "cards"
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; expected one of {TEMPLATES}")
    page = _CardsPage(thread) if template == "cards" else _FlatPage(thread)
    return page.render()


def render_thread_json(thread: dict[str, Any]) -> str:
    """Reddit's ``.json`` answer for ``thread``: a list of two Listings."""
    permalink = thread_reddit_permalink(thread)
    post = _post_data(thread, permalink)
    comments = [
        _comment_thing(c, thread, permalink, parent=f"t3_{thread['post_id']}", depth=0)
        for c in thread.get("comments") or []
    ]
    document = [_listing([{"kind": "t3", "data": post}], dist=1), _listing(comments, dist=None)]
    return json.dumps(document, ensure_ascii=False)


def thread_site_path(thread: dict[str, Any]) -> str:
    """``/community/<slug>-<post_id>``: the site path of the thread's page."""
    path = urlsplit(thread.get("url") or "").path
    if SITE_THREAD_RE.match(path):
        return path
    slug = thread.get("slug") or _slugify(thread.get("title") or "", "-", 80) or "post"
    return f"/community/{slug}-{thread['post_id']}"


def thread_reddit_permalink(thread: dict[str, Any]) -> str:
    """``/r/<sub>/comments/<post_id>/<slug>/``: the path Reddit gives as ``permalink``."""
    if thread.get("permalink"):
        return str(thread["permalink"])
    path = urlsplit(thread.get("url") or "").path
    if REDDIT_COMMENTS_RE.search(path):
        return path.rstrip("/") + "/"
    slug = _slugify(thread.get("title") or "", "_", 50) or "post"
    return f"/r/{thread.get('subreddit') or SUBREDDIT}/comments/{thread['post_id']}/{slug}/"


# -- shared helpers -----------------------------------------------------------------------


def _e(text: Any) -> str:
    return escape(str(text), quote=False)


def _a(text: Any) -> str:
    return escape(str(text), quote=True)


def _slugify(title: str, sep: str, limit: int) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", sep, ascii_title.lower()).strip(sep)
    return slug[:limit].rstrip(sep)


def _digest(text: str, alphabet: str, width: int) -> str:
    """A short stable token (class names, fake ids) derived from ``text``."""
    number = int(hashlib.sha1(text.encode()).hexdigest()[:15], 16)
    out = ""
    for _ in range(width):
        number, rem = divmod(number, len(alphabet))
        out += alphabet[rem]
    return out


def _b36(text: str, width: int = 7) -> str:
    return _digest(text, "0123456789abcdefghijklmnopqrstuvwxyz", width)


def _moment(iso: str | None) -> datetime | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


def _epoch(iso: str | None) -> float | None:
    moment = _moment(iso)
    return None if moment is None else float(int(moment.timestamp()))


def _paragraphs(text: str) -> list[str]:
    """Plain text -> paragraph HTML: blank lines split paragraphs, newlines become ``<br>``."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [_e(line.strip()) for line in block.split("\n") if line.strip()]
        if lines:
            out.append("<br>".join(lines))
    return out


def _count(comments: list[dict[str, Any]]) -> int:
    """Reddit's ``num_comments``: comments in the tree plus those behind ``more`` stubs."""
    total = 0
    for comment in _walk(comments):
        is_more = comment.get("kind") == "more"
        total += (comment.get("more_count") or 0) if is_more else 1
    return total


def _walk(comments: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comment in comments:
        yield comment
        yield from _walk(comment.get("replies") or [])


def _comment_count(thread: dict[str, Any]) -> int:
    count = thread.get("comment_count")
    return _count(thread.get("comments") or []) if count is None else int(count)


def _comment_body(comment: dict[str, Any]) -> str | None:
    marker = MARKERS.get(comment.get("kind") or "")
    return marker or comment.get("body")


def _post_body(thread: dict[str, Any]) -> str | None:
    if thread.get("link_url"):
        return None
    return MARKERS.get(thread.get("body_status") or "") or thread.get("body")


# -- Reddit JSON --------------------------------------------------------------------------


def _r(text: str | None) -> str | None:
    """Reddit's escaping of string values (what ``raw_json=1`` turns off)."""
    if text is None:
        return None
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_html(text: str, post: bool = False) -> str:
    """``body_html`` / ``selftext_html``: rendered Markdown, escaped once more."""
    inner = "\n\n".join(f"<p>{p.replace('<br>', '<br/>' + chr(10))}</p>" for p in _paragraphs(text))
    html = f'<div class="md">{inner}\n</div>'
    if post:
        html = f"<!-- SC_OFF -->{html}<!-- SC_ON -->"
    return _r(html) or ""


def _listing(children: list[dict[str, Any]], dist: int | None) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {
            "after": None, "dist": dist, "modhash": "", "geo_filter": "",
            "children": children, "before": None,
        },
    }


def _author_fields(author: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"author": author or "[deleted]"}
    if author:
        fields["author_fullname"] = f"t2_{_b36('user:' + author, 8)}"
    return fields


def _post_data(thread: dict[str, Any], permalink: str) -> dict[str, Any]:
    post_id = str(thread["post_id"])
    sub = thread.get("subreddit") or SUBREDDIT
    link = thread.get("link_url")
    body = _post_body(thread) or ""
    created = _epoch(thread.get("posted_at"))
    score = thread.get("upvotes")
    host = urlsplit(link).hostname if link else None
    data: dict[str, Any] = {
        "approved_at_utc": None, "subreddit": sub, "selftext": _r(body),
        **_author_fields(thread.get("author")),
        "saved": False, "mod_reason_title": None, "gilded": 0, "clicked": False,
        "title": _r(thread.get("title")), "link_flair_richtext": [],
        "subreddit_name_prefixed": f"r/{sub}", "hidden": False, "pwls": 6,
        "link_flair_css_class": None, "downs": 0, "thumbnail_height": None,
        "top_awarded_type": None, "hide_score": False, "name": f"t3_{post_id}",
        "quarantine": False, "link_flair_text_color": "dark", "upvote_ratio": 0.94,
        "author_flair_background_color": None, "subreddit_type": "public", "ups": score,
        "total_awards_received": 0, "media_embed": {}, "thumbnail_width": None,
        "author_flair_template_id": None, "is_original_content": False, "user_reports": [],
        "secure_media": None, "is_reddit_media_domain": False, "is_meta": False,
        "category": None, "secure_media_embed": {}, "link_flair_text": _r(thread.get("category")),
        "can_mod_post": False, "score": score, "approved_by": None,
        "is_created_from_ads_ui": False, "author_premium": False,
        "thumbnail": "default" if link else "self",
        "edited": _edited(thread.get("edited"), created),
        "author_flair_css_class": None, "author_flair_richtext": [], "gildings": {},
        "content_categories": None, "is_self": not link, "mod_note": None, "created": created,
        "link_flair_type": "text", "wls": 6,
        "removed_by_category": _removed_by(thread.get("body_status")),
        "banned_by": None, "author_flair_type": "text",
        "domain": (host or "") if link else f"self.{sub}", "allow_live_comments": False,
        "selftext_html": _md_html(body, post=True) if body else None, "likes": None,
        "suggested_sort": None, "banned_at_utc": None, "view_count": None, "archived": False,
        "no_follow": False, "is_crosspostable": True, "pinned": False, "over_18": False,
        "all_awardings": [], "awarders": [], "media_only": False,
        "link_flair_template_id": _b36("flair:" + str(thread.get("category")), 8)
        if thread.get("category") else None,
        "can_gild": False, "spoiler": False, "locked": False, "author_flair_text": None,
        "treatment_tags": [], "visited": False, "removed_by": None, "num_reports": None,
        "distinguished": None, "subreddit_id": SUBREDDIT_ID, "author_is_blocked": False,
        "mod_reason_by": None, "removal_reason": None,
        "link_flair_background_color": "#ffd635" if thread.get("category") else "",
        "id": post_id, "is_robot_indexable": not thread.get("body_status"),
        "report_reasons": None, "discussion_type": None,
        "num_comments": _comment_count(thread), "send_replies": True, "contest_mode": False,
        "mod_reports": [], "author_patreon_flair": False, "author_flair_text_color": None,
        "permalink": permalink, "stickied": bool(thread.get("stickied")),
        "url": _r(link) if link else f"https://www.reddit.com{permalink}",
        "subreddit_subscribers": 412873, "created_utc": created, "num_crossposts": 0,
        "media": None, "is_video": False,
    }
    if link:
        data["post_hint"] = "link"
        data["url_overridden_by_dest"] = _r(link)
    return data


def _edited(edited: Any, created: float | None) -> float | bool:
    """Reddit's ``edited``: false or the edit's timestamp (invented, after ``created``)."""
    if not edited:
        return False
    return True if created is None else created + EDIT_DELAY


def _removed_by(status: str | None) -> str | None:
    return {"removed": "moderator", "deleted": "deleted"}.get(status or "")


def _comment_thing(
    comment: dict[str, Any], thread: dict[str, Any], permalink: str, parent: str, depth: int
) -> dict[str, Any]:
    if comment.get("kind") == "more":
        return _more_thing(comment, parent, depth)
    cid = str(comment["comment_id"])
    replies = [
        _comment_thing(r, thread, permalink, parent=f"t1_{cid}", depth=depth + 1)
        for r in comment.get("replies") or []
    ]
    body = _comment_body(comment) or ""
    created = _epoch(comment.get("posted_at"))
    author = comment.get("author")
    sub = thread.get("subreddit") or SUBREDDIT
    gone = comment.get("kind") in MARKERS
    data: dict[str, Any] = {
        "subreddit_id": SUBREDDIT_ID, "approved_at_utc": None, "author_is_blocked": False,
        "comment_type": None, "awarders": [], "mod_reason_by": None, "banned_by": None,
        "author_flair_type": "text", "total_awards_received": 0, "subreddit": sub,
        "author_flair_template_id": None, "likes": None,
        "replies": _listing(replies, dist=None) if replies else "",
        "user_reports": [], "saved": False, "id": cid, "banned_at_utc": None,
        "mod_reason_title": None, "gilded": 0, "archived": False,
        "collapsed_reason_code": "DELETED" if gone else None, "no_follow": gone,
        **_author_fields(author), "can_mod_post": False, "created_utc": created,
        "send_replies": True, "parent_id": parent, "score": comment.get("upvotes"),
        "approved_by": None, "mod_note": None, "all_awardings": [], "collapsed": gone,
        "body": _r(body),
        "edited": _edited(comment.get("edited"), created),
        "top_awarded_type": None, "author_flair_css_class": None, "name": f"t1_{cid}",
        "is_submitter": bool(author) and author == thread.get("author"), "downs": 0,
        "author_flair_richtext": [], "author_patreon_flair": False,
        "body_html": _md_html(body), "removal_reason": None, "collapsed_reason": None,
        "distinguished": comment.get("distinguished"), "associated_award": None,
        "stickied": bool(comment.get("stickied")), "author_premium": False, "can_gild": True,
        "gildings": {}, "unrepliable_reason": None, "author_flair_text_color": None,
        "score_hidden": False, "permalink": f"{permalink}{cid}/", "subreddit_type": "public",
        "locked": False, "report_reasons": None, "created": created, "author_flair_text": None,
        "treatment_tags": [], "link_id": f"t3_{thread['post_id']}",
        "subreddit_name_prefixed": f"r/{sub}", "controversiality": 0, "depth": depth,
        "author_flair_background_color": None, "collapsed_because_crowd_control": None,
        "mod_reports": [], "num_reports": None, "ups": comment.get("upvotes"),
    }
    return {"kind": "t1", "data": data}


def _more_thing(comment: dict[str, Any], parent: str, depth: int) -> dict[str, Any]:
    count = comment.get("more_count") or 0
    more_id = str(comment.get("comment_id") or ("_" if count == 0 else _b36(f"{parent}:{count}")))
    children = comment.get("children")
    if children is None:
        children = [_b36(f"{more_id}:{i}") for i in range(min(count, 100))] if count else []
    return {
        "kind": "more",
        "data": {
            "count": count, "name": f"t1_{more_id}", "id": more_id, "parent_id": parent,
            "depth": depth, "children": list(children),
        },
    }


# -- HTML ---------------------------------------------------------------------------------


def _date_text(moment: datetime) -> str:
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def _time_html(iso: str | None, style: str) -> str:
    moment = _moment(iso)
    if moment is None:
        return ""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    full = f"{_date_text(moment)}, {moment:%H:%M} UTC"
    shown = _date_text(moment) if style == "cards" else f"{moment:%Y-%m-%d %H:%M} UTC"
    return f'<time datetime="{stamp}" title="{full}">{shown}</time>'


def _more_text(count: int | None) -> str:
    if count == 0:
        return "continue this thread →"
    if count is None:
        return "load more comments"
    return f"load more comments ({count} {'reply' if count == 1 else 'replies'})"


def _score_text(score: int, word: str) -> str:
    return f"{score} {word if score == 1 else word + 's'}"


class _Page:
    """Markup shared by the templates; subclasses decide the layout."""

    template = ""

    def __init__(self, thread: dict[str, Any]) -> None:
        self.t = thread
        self.path = thread_site_path(thread)
        url = thread.get("url") or ""
        parts = urlsplit(url)
        if parts.netloc:
            own = SITE_THREAD_RE.match(parts.path)
            origin = f"{parts.scheme}://{parts.netloc}" if own else SITE_ORIGIN
            self.canonical = origin + self.path
        else:  # a root-relative URL: the page works on any host and port
            self.canonical = self.path

    def c(self, role: str) -> str:
        """A stable generated class name, as a CSS-in-JS build would emit."""
        if self.template == "cards":
            return "css-" + _b36(f"{self.template}:{role}", 6)
        return "sc-" + _digest(f"{self.template}:{role}", "abcdefghijklmnopqrstuvwxyzABCDEF", 6)

    def comment_href(self, cid: str) -> str:
        return f"{self.path}/comment/{cid}"

    def more_href(self, comment: dict[str, Any]) -> str:
        more_id = comment.get("comment_id")
        return f"{self.path}?more={_a(more_id)}" if more_id else self.path

    def author_html(self, author: str | None, prefix: str = "") -> str:
        if not author:
            return f'<span class="{self.c("gone")}">[deleted]</span>'
        return f'<a class="{self.c("user")}" href="/user/{_a(author)}">{prefix}{_e(author)}</a>'

    def badges(self, comment: dict[str, Any]) -> list[str]:
        out = []
        badge = BADGES[self.template].get(comment.get("distinguished") or "")
        if badge:
            title = _a(comment["distinguished"])
            out.append(f'<span class="{self.c("badge")}" title="{title}">{badge}</span>')
        if comment.get("stickied"):
            text = "Pinned" if self.template == "cards" else "stickied comment"
            out.append(f'<span class="{self.c("pin")}">{text}</span>')
        return out

    def body_html(self, text: str | None, role: str) -> str:
        paragraphs = "".join(f"<p>{p}</p>" for p in _paragraphs(text or ""))
        return f'<div class="{self.c(role)}">{paragraphs}</div>'

    def head(self) -> str:
        title = self.t.get("title") or "Community"
        description = self.t.get("summary") or title
        return "".join([
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)} : Tressless Community</title>",
            f'<meta name="description" content="{_a(description)}">',
            f'<meta property="og:title" content="{_a(title)}">',
            '<meta property="og:type" content="article">',
            f'<link rel="canonical" href="{_a(self.canonical)}">',
            f"<style>.{self.c('root')}{{display:flex}}.{self.c('h1')}{{font-size:1.6rem}}"
            f".{self.c('tree')}{{margin-left:1rem}}</style>",
            "</head>",
        ])

    def scripts(self) -> str:
        """Inline state that repeats page text wrongly, to catch parsers that read scripts."""
        state = {
            "buildId": f"{self.template}-threads",
            "page": "/community/[slug]",
            "props": {"pageProps": {"post": {
                "id": self.t.get("post_id"), "title": self.t.get("title"),
                "author": "[deleted]", "score": 0, "body": "[removed]",
                "labels": {"summary": "Summary", "comments": "0 Comments"},
            }}},
        }
        blob = json.dumps(state, ensure_ascii=False, sort_keys=True)
        blob = blob.replace("</", "<\\/").replace("<!--", "<\\!--")
        return (
            f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>'
            "<script>window.dataLayer=window.dataLayer||[];"
            "dataLayer.push({event:'thread_view',upvotes:'1 upvote'});</script>"
            '<script src="/_next/static/chunks/pages/community-3f9c.js" async></script>'
        )

    def sidebar(self) -> str:
        """Related-post cards: articles with authors and labels outside the thread."""
        return "".join([
            f'<aside class="{self.c("side")}" aria-label="Related posts">',
            "<h3>Related Community Posts</h3>",
            f'<article class="{self.c("card")}"><a href="/community/finasteride-week-one-q8w2er">'
            "<h4>Finasteride week one</h4></a><span>in Treatment</span> <span>12 upvotes</span>"
            ' <span>by <a href="/user/hairhopeful">u/hairhopeful</a></span>'
            "<p>A user asks what to expect during the first week.</p></article>",
            "</aside>",
        ])

    def render(self) -> str:
        raise NotImplementedError


class _CardsPage(_Page):
    """The newer template: indented markup, comments as cards in nested lists."""

    template = "cards"

    def render(self) -> str:
        return "\n".join([
            "<!DOCTYPE html>",
            '<html lang="en">',
            self.head(),
            "<body>",
            f'<div id="__next" class="{self.c("root")}">',
            self.header(),
            f'  <main class="{self.c("main")}">',
            self.breadcrumb(),
            f'    <div class="{self.c("layout")}">',
            self.post(),
            self.comments(),
            "    </div>",
            "    " + self.sidebar(),
            "  </main>",
            self.footer(),
            "</div>",
            self.scripts(),
            "</body>",
            "</html>",
            "",
        ])

    def header(self) -> str:
        links = "".join(
            f'<li><a class="{self.c("navlink")}" href="{href}">{text}</a></li>'
            for href, text in NAV_LINKS
        )
        return "\n".join([
            f'  <header class="{self.c("header")}">',
            f'    <a class="{self.c("logo")}" href="/">Tressless</a>',
            f'    <nav class="{self.c("nav")}" aria-label="Main"><ul>{links}</ul></nav>',
            "  </header>",
        ])

    def footer(self) -> str:
        links = " ".join(f'<a href="{href}">{text}</a>' for href, text in FOOTER_LINKS)
        return "\n".join([
            f'  <footer class="{self.c("footer")}">',
            f"    <div>{links}</div>",
            "    <p>© 2025 Tressless. Community posts are not medical advice.</p>",
            "  </footer>",
        ])

    def breadcrumb(self) -> str:
        crumbs = ['<a href="/community">Community</a>']
        if self.t.get("category"):
            cat = self.t["category"]
            crumbs.append(f'<a href="/community?category={_a(cat)}">{_e(cat)}</a>')
        sep = '<span aria-hidden="true">›</span>'
        nav = f'<nav class="{self.c("crumbs")}" aria-label="Breadcrumb">{sep.join(crumbs)}</nav>'
        return "    " + nav

    def post(self) -> str:
        t = self.t
        meta = []
        if t.get("category"):
            cat = t["category"]
            meta.append(f'<span class="{self.c("flair")}">in '
                        f'<a href="/community?category={_a(cat)}">{_e(cat)}</a></span>')
        meta.append(f"<span>Posted by {self.author_html(t.get('author'), 'u/')}</span>")
        meta.append(_time_html(t.get("posted_at"), "cards"))
        if t.get("edited"):
            meta.append(f'<span class="{self.c("edited")}">(edited)</span>')
        dot = ' <span aria-hidden="true">·</span> '
        stats = []
        if t.get("upvotes") is not None:
            stats.append(f"<span>{_score_text(t['upvotes'], 'upvote')}</span>")
        count = _comment_count(t)
        stats.append(f"<span>{count} {'comment' if count == 1 else 'comments'}</span>")
        lines = [
            f'      <article class="{self.c("post")}">',
            f'        <header class="{self.c("posthead")}">',
            f'          <div class="{self.c("meta")}">{dot.join(m for m in meta if m)}</div>',
        ]
        if t.get("title") is not None:
            lines.append(f'          <h1 class="{self.c("h1")}">{_e(t["title"])}</h1>')
        lines += [
            f'          <div class="{self.c("stats")}">{"".join(stats)}</div>',
            "        </header>",
        ]
        if t.get("summary"):
            sid = f"summary-{_a(t['post_id'])}"
            lines += [
                f'        <section class="{self.c("summary")}" aria-labelledby="{sid}">',
                f'          <h2 id="{sid}" class="{self.c("label")}">Summary</h2>',
                f"          <p>{_e(t['summary'])}</p>",
                "        </section>",
            ]
        if t.get("link_url"):
            link = t["link_url"]
            lines.append(
                f'        <div class="{self.c("linkbox")}"><span class="{self.c("label")}">Link'
                f'</span> <a href="{_a(link)}" rel="nofollow ugc noopener" target="_blank">'
                f"{_e(link)} ↗</a></div>"
            )
        lines += [
            "        " + self.body_html(_post_body(t), "postbody"),
            f'        <footer class="{self.c("postfoot")}"><button type="button">Share</button>'
            '<button type="button">Save</button><button type="button">Report</button></footer>',
            "      </article>",
        ]
        return "\n".join(lines)

    def comments(self) -> str:
        count = _comment_count(self.t)
        hid = f"comments-{_a(self.t['post_id'])}"
        word = "Comment" if count == 1 else "Comments"
        lines = [
            f'      <section class="{self.c("comments")}" aria-labelledby="{hid}">',
            f'        <h2 id="{hid}">{count} {word}</h2>',
            f'        <form class="{self.c("form")}"><textarea aria-label="Add a comment"'
            ' placeholder="What are your thoughts?"></textarea>'
            '<button type="submit">Comment</button></form>',
        ]
        tree = self.t.get("comments") or []
        if tree:
            lines.append(self.tree(tree, 4))
        else:
            lines.append("        <p>No comments yet. Be the first to share what you think.</p>")
        lines.append("      </section>")
        return "\n".join(lines)

    def tree(self, comments: list[dict[str, Any]], indent: int) -> str:
        pad = "  " * indent
        items = [self.item(c, indent + 1) for c in comments]
        return "\n".join([f'{pad}<ul class="{self.c("tree")}">', *items, f"{pad}</ul>"])

    def item(self, comment: dict[str, Any], indent: int) -> str:
        pad = "  " * indent
        if comment.get("kind") == "more":
            return (
                f'{pad}<li class="{self.c("more")}"><a href="{self.more_href(comment)}"'
                f' rel="nofollow">{_e(_more_text(comment.get("more_count")))}</a></li>'
            )
        cid = str(comment["comment_id"])
        author = comment.get("author")
        time = _time_html(comment.get("posted_at"), "cards") or "permalink"
        head = [self.author_html(author), *self.badges(comment),
                f'<a class="{self.c("ctime")}" href="{self.comment_href(_a(cid))}">{time}</a>']
        if comment.get("edited"):
            head.append("<span>(edited)</span>")
        foot = []
        if comment.get("upvotes") is not None:
            foot.append(f"<span>{_score_text(comment['upvotes'], 'upvote')}</span>")
        foot.append('<button type="button">Reply</button><button type="button">Share</button>')
        lines = [
            f'{pad}<li class="{self.c("node")}">',
            f'{pad}  <article class="{self.c("comment")}" aria-label="Comment by '
            f'{_a(author or "[deleted]")}">',
            f'{pad}    <header class="{self.c("chead")}">{" ".join(head)}</header>',
            f"{pad}    {self.body_html(_comment_body(comment), 'cbody')}",
            f'{pad}    <footer class="{self.c("cfoot")}">{"".join(foot)}</footer>',
            f"{pad}  </article>",
        ]
        if comment.get("replies"):
            lines.append(self.tree(comment["replies"], indent + 1))
        lines.append(f"{pad}</li>")
        return "\n".join(lines)


class _FlatPage(_Page):
    """The older template: minified, comments nested inside their parent's article."""

    template = "flat"

    def render(self) -> str:
        links = "".join(f'<a href="{href}">{text}</a>' for href, text in NAV_LINKS)
        foot = "".join(f'<a href="{href}">{text}</a>' for href, text in FOOTER_LINKS)
        return "".join([
            '<!DOCTYPE html><html lang="en">',
            self.head(),
            f'<body><div id="root"><div class="{self.c("app")}">',
            f'<div class="{self.c("top")}"><div class="{self.c("brand")}">TRESSLESS</div>'
            f"<div>{links}</div></div>",
            f'<div class="{self.c("content")}">',
            self.post(),
            self.sidebar(),
            "</div>",
            f'<div class="{self.c("foot")}"><div>{foot}</div><div>© 2025 Tressless</div></div>',
            "</div></div>",
            self.scripts(),
            "</body></html>\n",
        ])

    def post(self) -> str:
        t = self.t
        out = [f'<article class="{self.c("post")}">']
        if t.get("title") is not None:
            out.append(f'<h1 class="{self.c("h1")}">{_e(t["title"])}</h1>')
        meta = [f"Posted by {self.author_html(t.get('author'))}"]
        if t.get("posted_at"):
            meta.append(_time_html(t["posted_at"], "flat"))
        if t.get("edited"):
            meta.append("<span>edited</span>")
        if t.get("category"):
            meta.append(f"· <span>in {_e(t['category'])}</span>")
        out.append(f'<div class="{self.c("meta")}">{" ".join(meta)}</div>')
        if t.get("summary"):
            out.append(f'<div class="{self.c("summary")}"><strong>Summary</strong> '
                       f"{_e(t['summary'])}</div>")
        if t.get("link_url"):
            link = t["link_url"]
            out.append(f'<div class="{self.c("link")}"><b>Link:</b> '
                       f'<a href="{_a(link)}" rel="nofollow">{_e(link)}</a></div>')
        out.append(self.body_html(_post_body(t), "body"))
        count = _comment_count(t)
        stats = []
        if t.get("upvotes") is not None:
            stats.append(f"<span>{_score_text(t['upvotes'], 'point')}</span>")
        stats.append(f"<span>{count} {'comment' if count == 1 else 'comments'}</span>")
        stats.append('<a href="#">share</a>')
        out.append(f'<div class="{self.c("stats")}">{" · ".join(stats)}</div>')
        out.append(self.comments(count))
        out.append("</article>")
        return "".join(out)

    def comments(self, count: int) -> str:
        out = [f'<section class="{self.c("comments")}"><h3>Comments ({count})</h3>']
        tree = self.t.get("comments") or []
        if not tree:
            out.append("<div>there doesn't seem to be anything here</div>")
        out.append(f'<div class="{self.c("tree")}">')
        out += [self.node(c) for c in tree]
        out.append("</div></section>")
        return "".join(out)

    def node(self, comment: dict[str, Any]) -> str:
        if comment.get("kind") == "more":
            return (f'<div class="{self.c("more")}"><a href="{self.more_href(comment)}">'
                    f"{_e(_more_text(comment.get('more_count')))}</a></div>")
        cid = _a(comment["comment_id"])
        head = [self.author_html(comment.get("author")), *self.badges(comment)]
        if comment.get("upvotes") is not None:
            head.append(f"<span>{_score_text(comment['upvotes'], 'point')}</span>")
        time = _time_html(comment.get("posted_at"), "flat")
        if time:
            head.append(time)
        if comment.get("edited"):
            head.append("<span>edited</span>")
        replies = "".join(self.node(r) for r in comment.get("replies") or [])
        return "".join([
            f'<article id="t1_{cid}" class="{self.c("comment")}">',
            f'<div class="{self.c("chead")}">{" ".join(head)}</div>',
            self.body_html(_comment_body(comment), "cbody"),
            f'<div class="{self.c("cfoot")}"><a href="{self.comment_href(cid)}">permalink</a>'
            ' <a href="#">reply</a></div>',
            f'<div class="{self.c("children")}">{replies}</div>' if replies else "",
            "</article>",
        ])
