"""A deterministic, full-weight site for benchmarks: N study pages, M threads, listings, sitemaps.

The fixture site of the tests (``tests.support.sitegen.build_site``) has 55 small pages; throughput
and
memory figures need thousands of pages that weigh what real ones do. This generator builds such
a site from a seeded RNG, so the same parameters always give the same bytes:

* ``N`` study pages rendered by :func:`tests.support.sitegen.render.render_study` in both templates
  (about 70 % "cards", 30 % "flat"), padded to 30-80 KB with what a server-rendered React app
  ships: a CSS-in-JS ``<style>`` block in the head and flight-data ``<script>`` chunks holding
  the page props (the study, its references and a list of recommended studies) at the end of
  the body;
* cross-links: every study cites and relates other studies of the site (with their titles,
  dates, journals and TLDRs as the site prints them); about 2 % of the studies are in no
  sitemap and reachable only through such links, and a few references point at studies that
  do not exist (404), like on the real site;
* "Related Community Posts" cards linking ``M`` site-hosted threads, whose pages are rendered
  by :func:`tests.support.sitegen.render_threads.render_thread_html`;
* research listings ``/search/research/<topic>/<page>`` with Previous/Next links, a home page;
* ``robots.txt`` naming ``{{SITE_URL}}/sitemap.xml``, a sitemap index and sitemaps of at most
  ``sitemap_size`` URLs (default 5,000; the protocol allows 50,000) with a ``<lastmod>`` per URL;
* ``lastmod.json`` (path -> lastmod) for the servers' ``Last-Modified``, and ``bench.json``
  with the parameters and counts (written last: a directory holding it is a complete build).

The layout is the one of ``tests.support.sitegen.build_site`` (``/x`` is served from
``x/index.html``),
so both :class:`tressless_crawler.demo.server.SiteServer` and ``benchmarks/server.py`` can serve it.

Run ``python benchmarks/sitegen.py --pages 10000 [--threads M] [--out DIR]``; without ``--out``
the site goes to ``/tmp/bench-site-<N>-<M>-<seed>`` and is reused when it is already there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import re
import shutil
import string
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.sitegen.render import month_year_text, render_study  # noqa: E402
from tests.support.sitegen.render_threads import render_thread_html  # noqa: E402

logger = logging.getLogger("benchmarks.sitegen")

# Bump when the output changes, so that cached builds in /tmp are rebuilt (a change of this file
# or of the renderers it uses rebuilds them too: see sources_digest).
GENERATOR_VERSION = 1
MARKER = "bench.json"
LASTMOD_FILE = "lastmod.json"
PLACEHOLDER = "{{SITE_URL}}"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITE_NOW = date(2025, 11, 1)
DISALLOWED_PREFIX = "/research/private-"
FOOTER_STUDY = ("finasteride-and-dutasteride-overview", "Fin1")  # linked by every cards footer
TOPICS = {
    "androgenetic-alopecia": "Androgenetic Alopecia",
    "alopecia-areata": "Alopecia Areata",
    "scarring-alopecia": "Scarring Alopecia",
    "natural-treatments": "Natural Treatments",
}
LISTING_PAGE_SIZE = 20
MIN_PAGE_BYTES = 30_000
MAX_PAGE_BYTES = 80_000

# --- Vocabulary -------------------------------------------------------------------------------
TREATMENTS = (
    "Finasteride",
    "Dutasteride",
    "Minoxidil",
    "Oral Minoxidil",
    "Topical Finasteride",
    "Ketoconazole Shampoo",
    "Platelet-Rich Plasma",
    "Low-Level Laser Therapy",
    "Microneedling",
    "Spironolactone",
    "Bicalutamide",
    "Clascoterone",
    "Pyrilutamide",
    "Baricitinib",
    "Tofacitinib",
    "Ruxolitinib",
    "Ritlecitinib",
    "Pumpkin Seed Oil",
    "Rosemary Oil",
    "Caffeine Solution",
    "Saw Palmetto",
    "Latanoprost",
    "Bimatoprost",
    "Valproic Acid",
    "Exosome Therapy",
    "Stem Cell Conditioned Media",
    "Melatonin",
    "Biotin",
    "Vitamin D",
    "Zinc",
    "Iron",
    "Setipiprant",
    "Cetirizine",
    "Botulinum Toxin",
    "Hair Transplantation",
    "Dermal Papilla Cells",
)
CONDITIONS = (
    "Androgenetic Alopecia",
    "Male Pattern Hair Loss",
    "Female Pattern Hair Loss",
    "Alopecia Areata",
    "Telogen Effluvium",
    "Frontal Fibrosing Alopecia",
    "Lichen Planopilaris",
    "Central Centrifugal Cicatricial Alopecia",
    "Chemotherapy-Induced Alopecia",
    "Traction Alopecia",
    "Hair Follicle Miniaturisation",
    "Scalp Inflammation",
)
DESIGNS = (
    "A Randomised Controlled Trial",
    "A Double-Blind Placebo-Controlled Study",
    "A Systematic Review and Meta-Analysis",
    "A Retrospective Cohort Study",
    "A Pilot Study",
    "An Open-Label Trial",
    "A Case Series",
    "A Network Meta-Analysis",
    "An In Vitro Study",
    "A Murine Model",
    "A Multicentre Review",
    "A Prospective Observational Study",
)
TITLE_FORMS = (
    "{t} for {c}: {d}",
    "Efficacy and Safety of {t} in {c}",
    "{t} versus {t2} in {c}: {d}",
    "Long-Term Outcomes of {t} in {c}",
    "{t} Combined With {t2} for {c}",
    "Low-Dose {t} in {c}: {d}",
    "Effect of {t} on Hair Density in {c}",
    "Mechanisms of {t} in {c}",
    "{t} and {t2}: Comparative Effectiveness in {c}",
)
WORDS = (
    "hair",
    "density",
    "follicle",
    "scalp",
    "patients",
    "treatment",
    "placebo",
    "baseline",
    "improvement",
    "weeks",
    "months",
    "dose",
    "daily",
    "topical",
    "oral",
    "serum",
    "levels",
    "dihydrotestosterone",
    "androgen",
    "receptor",
    "growth",
    "phase",
    "anagen",
    "telogen",
    "shedding",
    "count",
    "thickness",
    "diameter",
    "photographs",
    "assessment",
    "investigators",
    "adverse",
    "events",
    "tolerated",
    "significant",
    "reduction",
    "increase",
    "compared",
    "group",
    "trial",
    "cohort",
    "women",
    "men",
    "participants",
    "response",
    "regrowth",
    "inflammation",
    "biopsy",
    "expression",
    "signalling",
    "pathway",
    "stem",
    "cells",
    "miniaturisation",
    "terminal",
    "vellus",
    "ratio",
    "outcome",
    "primary",
    "secondary",
    "endpoint",
    "efficacy",
    "safety",
    "study",
    "results",
    "suggest",
    "may",
    "and",
    "the",
    "of",
    "in",
    "with",
    "was",
    "were",
    "after",
    "than",
    "for",
    "a",
    "to",
    "by",
    "at",
    "on",
)
FIRST_NAMES = (
    "Antonella",
    "Ralph",
    "Nicole",
    "Maria",
    "Kazuto",
    "Yuki",
    "Wei",
    "Li",
    "Sergio",
    "Ana",
    "Pedro",
    "Rodney",
    "Paul",
    "Ulrike",
    "Jerry",
    "Angela",
    "Brett",
    "Rachita",
    "Gita",
    "Mariya",
    "Zoë",
    "Łukasz",
    "Søren",
    "José",
    "Chloé",
    "Jürgen",
    "Ömer",
    "Nuno",
    "Ilse",
    "Hiroshi",
    "Priya",
    "Arjun",
    "Fatima",
    "Youssef",
    "Olga",
    "Ivan",
    "Siobhán",
    "Dagny",
    "Tamás",
    "Eun-ji",
    "Minh",
    "Camila",
    "Lorenzo",
    "Giulia",
    "Henrik",
    "Anaïs",
    "Björn",
)
LAST_NAMES = (
    "Tosti",
    "Trüeb",
    "Rogers",
    "Hordinsky",
    "Kanti",
    "Blume-Peytavi",
    "Shapiro",
    "Sinclair",
    "Gupta",
    "Piraccini",
    "Vañó‐Galván",
    "Jaén",
    "Messenger",
    "Randall",
    "Christiano",
    "Paus",
    "Cotsarelis",
    "Ohyama",
    "Tsuboi",
    "Kim",
    "Park",
    "Nguyen",
    "Müller",
    "Novák",
    "Kowalski",
    "Sørensen",
    "García‐Doval",
    "Dhurat",
    "Rathnayake",
    "Olsen",
    "Bergfeld",
    "Mirmirani",
    "King",
    "Mesinkovska",
    "Goren",
    "Wambier",
    "McCoy",
    "Herskovitz",
    "Ramos",
    "Bı\u0301ró",
    "Yamauchi",
    "Chen",
    "Wang",
    "Zhang",
    "Liu",
    "Ferreira",
    "O’Neill",
    "Dubois",
)
JOURNAL_FORMS = (
    "Journal of {x}",
    "{x} Research",
    "International Journal of {x}",
    "Annals of {x}",
    "{x} and Therapy",
    "Clinical {x}",
    "Archives of {x}",
    "{x} Reports",
    "Experimental {x}",
)
JOURNAL_FIELDS = (
    "Dermatology",
    "Cosmetic Dermatology",
    "Investigative Dermatology",
    "Trichology",
    "Dermatological Treatment",
    "Clinical Medicine",
    "Endocrinology",
    "Pharmacology",
    "Skin Pharmacology",
    "Dermatologic Surgery",
    "Molecular Medicine",
    "Cell Biology",
    "Drugs in Dermatology",
    "Aesthetic Medicine",
    "Hair Science",
    "Skin Appendage Disorders",
)
CATEGORIES = ("Treatment", "Research", "Progress", "Question", "Discussion", "News")
CSS_PROPS = (
    "display:flex",
    "display:grid",
    "align-items:center",
    "justify-content:space-between",
    "margin:0 auto",
    "padding:8px 16px",
    "padding:0",
    "gap:12px",
    "font-size:0.875rem",
    "font-weight:600",
    "line-height:1.5",
    "color:#1f2937",
    "color:#6b7280",
    "background-color:#ffffff",
    "background-color:#f3f4f6",
    "border-radius:12px",
    "border:1px solid #e5e7eb",
    "box-shadow:0 1px 3px rgba(0,0,0,0.08)",
    "max-width:1200px",
    "width:100%",
    "overflow:hidden",
    "text-overflow:ellipsis",
    "white-space:nowrap",
    "transition:all 150ms ease-in-out",
    "cursor:pointer",
    "position:relative",
    "grid-template-columns:repeat(auto-fill,minmax(280px,1fr))",
    "letter-spacing:-0.01em",
)


@dataclass(frozen=True)
class Params:
    pages: int
    threads: int
    seed: int = 20251101
    sitemap_size: int = 5000

    def key(self) -> dict[str, Any]:
        return {
            "generator_version": GENERATOR_VERSION,
            "pages": self.pages,
            "threads": self.threads,
            "seed": self.seed,
            "sitemap_size": self.sitemap_size,
            "sources": sources_digest(),
        }


def sources_digest() -> str:
    """A hash of the code that renders the pages: a cached site is rebuilt when it changes."""
    digest = hashlib.sha256()
    for path in (
        Path(__file__),
        ROOT / "tests" / "support" / "sitegen" / "render.py",
        ROOT / "tests" / "support" / "sitegen" / "render_threads.py",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class GenStudy:
    index: int
    id: str
    slug: str
    title: str
    published: str
    journal: str
    authors: list[str]
    tldr: str
    summary: str
    source_url: str
    lastmod: str
    template: str
    topics: tuple[str, ...]
    citations: int
    in_sitemap: bool = True
    cited: list[str] = field(default_factory=list)  # study ids (or dead ids)
    related: list[str] = field(default_factory=list)
    community: list[int] = field(default_factory=list)  # thread indexes
    cited_extra: int = 0
    related_extra: int = 0

    @property
    def path(self) -> str:
        return f"/research/{self.slug}-{self.id}"


@dataclass
class GenThread:
    post_id: str
    slug: str
    title: str
    category: str
    author: str
    created: str  # ISO 8601 UTC
    score: int
    summary: str
    body: str
    comments: int

    @property
    def path(self) -> str:
        return f"/community/{self.slug}-{self.post_id}"


def default_threads(pages: int) -> int:
    return max(10, pages // 20)


def default_dir(params: Params) -> Path:
    return Path(f"/tmp/bench-site-{params.pages}-{params.threads}-{params.seed}")


# --- Data -------------------------------------------------------------------------------------
def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:90].rstrip("-")


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, 8, 22) for _ in range(sentences))


def _ids(rng: random.Random, count: int, length: int, alphabet: str, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        candidate = "".join(rng.choices(alphabet, k=length))
        if candidate.lower() in taken or not candidate[0].isalpha():
            continue
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def make_data(params: Params) -> tuple[list[GenStudy], list[GenThread], list[str]]:
    """Studies, threads and the ids of dead links, all from ``params.seed``."""
    rng = random.Random(params.seed)
    taken = {FOOTER_STUDY[1].lower()}
    letters = string.ascii_letters + string.digits
    ids = [FOOTER_STUDY[1], *_ids(rng, params.pages - 1, 4, letters, taken)]
    dead_ids = _ids(rng, max(1, params.pages // 500), 4, letters, taken)
    journals = sorted(
        {rng.choice(JOURNAL_FORMS).format(x=rng.choice(JOURNAL_FIELDS)) for _ in range(400)}
    )
    names = sorted({f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(6000)})

    threads: list[GenThread] = []
    post_ids = _ids(rng, params.threads, 6, string.ascii_lowercase + string.digits, set())
    for post_id in post_ids:
        topic = rng.choice(
            [
                "results",
                "question",
                "experience",
                "update",
                "progress after a year",
                "side effects?",
            ]
        )
        title = f"{rng.choice(TREATMENTS)} {topic}"
        created = _day(rng, date(2018, 1, 1), date(2025, 10, 1))
        threads.append(
            GenThread(
                post_id=post_id,
                slug=slugify(title),
                title=title,
                category=rng.choice(CATEGORIES),
                author=f"user{rng.randrange(10**6)}",
                created=f"{created.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                score=rng.choice([rng.randrange(1, 200), rng.randrange(200, 5000)]),
                summary=_sentence(rng, 12, 30),
                body=_paragraph(rng, rng.randint(2, 6)),
                comments=rng.randint(0, 8),
            )
        )

    studies: list[GenStudy] = []
    for index, study_id in enumerate(ids):
        treatment = rng.choice(TREATMENTS)
        title = rng.choice(TITLE_FORMS).format(
            t=treatment, t2=rng.choice(TREATMENTS), c=rng.choice(CONDITIONS), d=rng.choice(DESIGNS)
        )
        slug = slugify(title)
        if index == 0:
            slug = FOOTER_STUDY[0]
        topics = tuple(sorted(rng.sample(list(TOPICS), rng.choice([1, 1, 2]))))
        published = _day(rng, date(1995, 1, 1), date(2025, 9, 30))
        lastmod = _day(rng, date(2021, 1, 1), date(2025, 10, 31))
        studies.append(
            GenStudy(
                index=index,
                id=study_id,
                slug=slug,
                title=title,
                published=f"{published.year}-{published.month:02d}",
                journal=rng.choice(journals),
                authors=rng.sample(names, rng.randint(1, 12)),
                tldr=_sentence(rng, 14, 30),
                summary=_paragraph(rng, rng.randint(4, 12)),
                source_url=f"https://pubmed.ncbi.nlm.nih.gov/{rng.randrange(10**7, 4 * 10**7)}/",
                lastmod=lastmod.isoformat(),
                template="cards" if rng.random() < 0.7 else "flat",
                topics=topics,
                citations=rng.choice([rng.randrange(0, 30), rng.randrange(30, 900)]),
                in_sitemap=index == 0 or rng.random() >= 0.02,
            )
        )
    count = len(studies)
    for study in studies:
        others = lambda k: [studies[rng.randrange(count)].id for _ in range(k)]  # noqa: E731
        study.cited = list(dict.fromkeys(i for i in others(rng.randint(0, 8)) if i != study.id))
        study.related = list(dict.fromkeys(i for i in others(rng.randint(1, 6)) if i != study.id))
        if rng.random() < 0.3:
            study.cited_extra = rng.randrange(1, 300)
        if rng.random() < 0.3:
            study.related_extra = rng.randrange(1, 300)
        if threads and rng.random() < 0.6:
            study.community = sorted(
                set(rng.randrange(len(threads)) for _ in range(rng.randint(1, 4)))
            )
    # Every study outside the sitemaps is linked from one inside them; a few links are dead.
    in_map = [s for s in studies if s.in_sitemap]
    for study in studies:
        if not study.in_sitemap:
            rng.choice(in_map).related.append(study.id)
    for dead in dead_ids:
        rng.choice(in_map).cited.append(dead)
    return studies, threads, dead_ids


# --- Pages ------------------------------------------------------------------------------------
def _age(created: str, page_date: str) -> str:
    days = (date.fromisoformat(page_date) - date.fromisoformat(created[:10])).days
    for unit, length in (("year", 365), ("month", 30), ("day", 1)):
        if days >= length:
            n = days // length
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "today"


def _upvotes(score: int) -> int | str:
    return score if score < 1000 else f"{score / 1000:.1f}k"


def _ref(study_id: str, by_id: dict[str, GenStudy]) -> dict[str, Any]:
    target = by_id.get(study_id)
    if target is None:  # a dead link: the site still prints the entry
        return {
            "url": f"/research/withdrawn-study-{study_id}",
            "title": f"Withdrawn study {study_id}",
            "citations": 3,
            "published": "2019-02",
            "journal": "Journal of Dermatology",
            "tldr": "This summary is no longer available.",
        }
    return {
        "url": target.path,
        "title": target.title,
        "citations": target.citations,
        "published": target.published,
        "journal": target.journal,
        "tldr": target.tldr,
    }


def page_data(
    study: GenStudy, by_id: dict[str, GenStudy], threads: list[GenThread]
) -> dict[str, Any]:
    """The ``render_study`` input of a study page."""
    cards = []
    for index in study.community:
        thread = threads[index]
        cards.append(
            {
                "url": thread.path,
                "title": thread.title,
                "category": thread.category,
                "upvotes": _upvotes(thread.score),
                "age": _age(thread.created, study.lastmod),
                "summary": thread.summary,
            }
        )
    data: dict[str, Any] = {
        "title": study.title,
        "published": study.published,
        "journal": study.journal,
        "authors": list(study.authors),
        "image_url": f"/images/studies/{study.id}.jpg",
        "tldr": study.tldr,
        "summary": study.summary,
        "source_url": study.source_url,
        "show_discuss": bool(cards),
        "canonical_url": study.path,
        "cited": [_ref(i, by_id) for i in study.cited],
        "related": [_ref(i, by_id) for i in study.related],
        "community_posts": cards,
    }
    for kind, key, extra in (
        ("cited", "cited", study.cited_extra),
        ("related", "related", study.related_extra),
        ("community", "community_posts", 0),
    ):
        if data[key]:
            data[f"{kind}_total"] = len(data[key]) + extra
    return data


def _script_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def _css_block(rng: random.Random, size: int) -> str:
    rules = []
    total = 0
    while total < size:
        name = "css-" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=6))
        props = ";".join(rng.sample(CSS_PROPS, rng.randint(2, 7)))
        rule = f".{name}{{{props}}}"
        if rng.random() < 0.1:
            rule = f"@media (min-width:{rng.choice([640, 768, 1024, 1280])}px){{{rule}}}"
        rules.append(rule)
        total += len(rule)
    return '<style data-emotion="css" data-s="">' + "".join(rules) + "</style>\n"


def _flight_scripts(
    rng: random.Random, data: dict[str, Any], pool: list[dict[str, Any]], size: int
) -> str:
    """``self.__next_f.push`` chunks carrying the page props, like a Next.js app router page."""
    props: dict[str, Any] = {"study": data, "recommended": []}
    text = _script_text(props)
    while len(text) < size * 0.9 and pool:
        props["recommended"].extend(rng.sample(pool, min(len(pool), 8)))
        text = _script_text(props)
    text = text[: max(0, size)]
    chunks = [text[i : i + 8192] for i in range(0, len(text), 8192)]
    return "".join(
        f"<script>self.__next_f.push({_script_text([1, chunk])})</script>\n" for chunk in chunks
    )


def render_page(
    study: GenStudy,
    by_id: dict[str, GenStudy],
    threads: list[GenThread],
    pool: list[dict[str, Any]],
    seed: int,
) -> bytes:
    """A study page padded to its target weight (30-80 KB) with styles and scripts."""
    rng = random.Random(f"{seed}:page:{study.index}")
    data = page_data(study, by_id, threads)
    html = render_study(data, study.template)
    target = rng.randint(MIN_PAGE_BYTES, MAX_PAGE_BYTES)
    pad = max(0, target - len(html.encode("utf-8")))
    css = _css_block(rng, int(pad * 0.3))
    head, sep, tail = html.partition("</head>")
    html = head + css + sep + tail
    scripts_size = max(0, target - len(html.encode("utf-8")) - 200)
    scripts = _flight_scripts(rng, data, pool, scripts_size)
    body, sep, tail = html.rpartition("</body>")
    return (body + scripts + sep + tail).encode("utf-8")


def _thread_page(thread: GenThread, seed: int) -> bytes:
    rng = random.Random(f"{seed}:thread:{thread.post_id}")
    comments = [
        {
            "comment_id": f"{thread.post_id}c{n}",
            "author": f"user{rng.randrange(10**6)}",
            "body": _paragraph(rng, rng.randint(1, 3)),
            "upvotes": rng.randrange(0, 60),
            "posted_at": thread.created,
        }
        for n in range(thread.comments)
    ]
    data = {
        "post_id": thread.post_id,
        "url": thread.path,
        "slug": thread.slug,
        "title": thread.title,
        "category": thread.category,
        "author": thread.author,
        "posted_at": thread.created,
        "upvotes": thread.score,
        "body": thread.body,
        "summary": thread.summary,
        "comments": comments,
    }
    return render_thread_html(data).encode("utf-8")


def _simple_page(title: str, body: str, canonical: str | None) -> bytes:
    nav = '<a href="/">Home</a> <a href="/research">Research</a> <a href="/community">Community</a>'
    link = f'<link rel="canonical" href="{canonical}">\n' if canonical else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)} | Tressless</title>\n{link}</head>\n<body>\n"
        f"<header><nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    ).encode()


def listing_pages(studies: list[GenStudy]) -> dict[str, bytes]:
    pages: dict[str, bytes] = {}
    for topic, name in TOPICS.items():
        listed = [s for s in studies if topic in s.topics and s.in_sitemap]
        count = max(1, -(-len(listed) // LISTING_PAGE_SIZE))
        for page in range(1, count + 1):
            items = []
            for s in listed[(page - 1) * LISTING_PAGE_SIZE : page * LISTING_PAGE_SIZE]:
                when = month_year_text(s.published)
                meta = f"{s.citations} citations, {when} in “{escape(s.journal)}”"
                items.append(
                    f'<li><a href="{s.path}">{escape(s.title)}</a><div>{meta}</div>'
                    f"<p>{escape(s.tldr)}</p></li>"
                )
            nav = []
            if page > 1:
                nav.append(f'<a rel="prev" href="/search/research/{topic}/{page - 1}">Previous</a>')
            nav.append(f"<span>Page {page} of {count}</span>")
            if page < count:
                nav.append(f'<a rel="next" href="/search/research/{topic}/{page + 1}">Next</a>')
            body = (
                f"<h1>{escape(name)}</h1>\n<p>{len(listed)} results</p>\n"
                f'<ul class="results">\n{chr(10).join(items)}\n</ul>\n'
                f'<nav aria-label="Pagination">{" ".join(nav)}</nav>'
            )
            path = f"/search/research/{topic}/{page}"
            pages[path] = _simple_page(f"{name} research, page {page}", body, path)
    return pages


def sitemap_files(studies: list[GenStudy], size: int) -> tuple[dict[str, bytes], dict[str, str]]:
    """Sitemap index + urlsets of at most ``size`` URLs; and path -> lastmod for the server."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    urls = [(s.path, s.lastmod) for s in studies if s.in_sitemap]
    files: dict[str, bytes] = {}
    lastmod: dict[str, str] = {path: value for path, value in urls}
    entries = []
    for number, start in enumerate(range(0, len(urls), size), start=1):
        chunk = urls[start : start + size]
        name = f"sitemaps/research-{number}.xml"
        body = "".join(
            f"  <url>\n    <loc>{PLACEHOLDER}{path}</loc>\n"
            f"    <lastmod>{value}</lastmod>\n  </url>\n"
            for path, value in chunk
        )
        files[name] = f'{head}<urlset xmlns="{SITEMAP_NS}">\n{body}</urlset>\n'.encode()
        newest = max(value for _, value in chunk)
        lastmod["/" + name] = newest
        entries.append(
            f"  <sitemap>\n    <loc>{PLACEHOLDER}/{name}</loc>\n"
            f"    <lastmod>{newest}</lastmod>\n  </sitemap>\n"
        )
    files["sitemap.xml"] = (
        f'{head}<sitemapindex xmlns="{SITEMAP_NS}">\n{"".join(entries)}</sitemapindex>\n'.encode()
    )
    lastmod["/sitemap.xml"] = max(lastmod.values())
    # Studies reachable only through links have a Last-Modified too.
    for s in studies:
        lastmod.setdefault(s.path, s.lastmod)
    return files, lastmod


# --- Build ------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(params: Params) -> None:
    studies, threads, _ = make_data(params)
    by_id = {s.id: s for s in studies}
    pool = [
        {
            "id": s.id,
            "slug": s.slug,
            "title": s.title,
            "tldr": s.tldr,
            "journal": s.journal,
            "published": s.published,
            "authors": s.authors[:4],
            "citations": s.citations,
        }
        for s in studies[:2000]
    ]
    _WORKER.update(params=params, studies=studies, threads=threads, by_id=by_id, pool=pool)


def _write_range(out: str, start: int, stop: int) -> tuple[int, int]:
    """Render and write study pages [start, stop); returns (pages, bytes)."""
    params: Params = _WORKER["params"]
    studies: list[GenStudy] = _WORKER["studies"]
    written = 0
    for study in studies[start:stop]:
        html = render_page(
            study, _WORKER["by_id"], _WORKER["threads"], _WORKER["pool"], params.seed
        )
        _write(Path(out), study.path, html)
        written += len(html)
    return stop - start, written


def _write(out: Path, path: str, body: bytes, *, index: bool = True) -> None:
    target = out / path.strip("/") / "index.html" if index else out / path.strip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)


def is_built(out: Path, params: Params) -> bool:
    marker = out / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text())["params"] == params.key()
    except (ValueError, KeyError):
        return False


def build(
    params: Params, out: Path | None = None, *, workers: int | None = None, force: bool = False
) -> Path:
    """Build the site into ``out`` (default under /tmp) unless the same build is there."""
    out = Path(out or default_dir(params))
    if not force and is_built(out, params):
        logger.info("Reusing %s", out)
        return out
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).exists() and not (out / LASTMOD_FILE).exists():
            raise SystemExit(f"{out} is not empty and is not a generated site; not wiping it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    studies, threads, dead_ids = make_data(params)
    workers = workers or min(2, os.cpu_count() or 1)
    step = 500
    ranges = [(i, min(i + step, len(studies))) for i in range(0, len(studies), step)]
    total_bytes = 0
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(params,)
    ) as pool:
        for _, written in pool.map(
            _write_range, [str(out)] * len(ranges), [a for a, _ in ranges], [b for _, b in ranges]
        ):
            total_bytes += written
    for thread in threads:
        _write(out, thread.path, _thread_page(thread, params.seed))
    listings = listing_pages(studies)
    for path, body in listings.items():
        _write(out, path, body)
    topics = "\n".join(
        f'<li><a href="/search/research/{t}/1">{escape(n)}</a></li>' for t, n in TOPICS.items()
    )
    _write(out, "/", _simple_page("Tressless", f"<h1>Tressless</h1>\n<ul>\n{topics}\n</ul>", "/"))
    community = "\n".join(f'<li><a href="{t.path}">{escape(t.title)}</a></li>' for t in threads)
    _write(
        out,
        "/community",
        _simple_page("Community", f"<h1>Community</h1>\n<ul>\n{community}\n</ul>", "/community"),
    )
    for slug in ("research", "learn", "search", "about", "privacy", "terms"):
        _write(out, f"/{slug}", _simple_page(slug.title(), f"<h1>{slug.title()}</h1>", None))
    robots = f"User-agent: *\nDisallow: {DISALLOWED_PREFIX}\n\nSitemap: {PLACEHOLDER}/sitemap.xml\n"
    _write(out, "robots.txt", robots.encode(), index=False)
    sitemaps, lastmod = sitemap_files(studies, params.sitemap_size)
    for name, body in sitemaps.items():
        _write(out, name, body, index=False)
    (out / LASTMOD_FILE).write_text(json.dumps(dict(sorted(lastmod.items())), indent=0) + "\n")
    info = {
        "params": params.key(),
        "studies": len(studies),
        "studies_in_sitemap": sum(s.in_sitemap for s in studies),
        "link_only_studies": sum(not s.in_sitemap for s in studies),
        "dead_links": len(dead_ids),
        "threads": len(threads),
        "listing_pages": len(listings),
        "sitemaps": len(sitemaps) - 1,
        "study_bytes": total_bytes,
        "mean_study_kb": round(total_bytes / max(1, len(studies)) / 1024, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (out / MARKER).write_text(json.dumps(info, indent=2) + "\n")  # last: marks a complete build
    logger.info(
        "Built %d study pages (%.0f MB) into %s in %.0f s",
        len(studies),
        total_bytes / 1e6,
        out,
        info["build_seconds"],
    )
    return out


def site_info(out: Path) -> dict[str, Any]:
    return json.loads((Path(out) / MARKER).read_text())


def study_files(out: Path) -> list[Path]:
    return sorted((Path(out) / "research").glob("*/index.html"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=None, help="default: pages / 20")
    parser.add_argument("--seed", type=int, default=20251101)
    parser.add_argument("--sitemap-size", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--force", action="store_true", help="rebuild even when the same build exists"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = Params(
        args.pages, args.threads or default_threads(args.pages), args.seed, args.sitemap_size
    )
    out = build(params, args.out, force=args.force)
    print(json.dumps(site_info(out), indent=2))


if __name__ == "__main__":
    main()
