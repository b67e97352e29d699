"""The deterministic content of the fixture site that tests and the demo crawl.

Everything here is plain data, so the builder can render the same bytes every time and
tests can compute what a correct crawl must find. The content imitates tressless.com:
hair-loss research summaries in the site's two page templates and the other markup families
of ``tests.support.sitegen.families``, with the field variants seen on the
real site (missing fields, empty journal, heavy Unicode authors, debris in slugs), cross
links between studies, and community threads in both forms (site-hosted HTML and
Reddit-style JSON) with nested comment trees.

The traps a crawler must handle are named constants: one study id served under two
slugs, one dead link, one study disallowed by robots.txt, one study reachable only
through a link, and two ids that differ only by case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# "Today" of the site: relative ages ("4 years ago") are computed from page dates, not now.
SITE_NOW = "2025-11-01"
LISTING_PAGE_SIZE = 10
DISALLOWED_PREFIX = "/research/private-"

TOPICS: dict[str, str] = {
    "androgenetic-alopecia": "Androgenetic Alopecia",
    "alopecia-areata": "Alopecia Areata",
    "scarring-alopecia": "Scarring Alopecia",
    "natural-treatments": "Natural Treatments",
}
AGA, AA, SCAR, NAT = TOPICS

DUPLICATE_ID = "VW69"
# Appended to a reference (``"VW69" + ALT``) to link the study's alternate slug instead.
ALT = ":alt"
DISALLOWED_ID = "Pr1v"
LINK_ONLY_ID = "Pd2s"
CASE_PAIR = ("k7Qa", "K7Qa")
# Every "cards" study page links this study in its footer (see tests.support.sitegen.render), and
# every
# thread page links this thread in its sidebar (tests.support.sitegen.render_threads): both exist
# here
# so those links resolve like on the real site.
FOOTER_STUDY_ID = "Fin1"
FOOTER_THREAD_ID = "q8w2er"
# A cited entry points here; no page exists, so the server answers 404.
DEAD_LINK_ID = "Mz0w"
DEAD_LINK: dict[str, str | int] = {
    "id": DEAD_LINK_ID,
    "path": "/research/topical-melatonin-for-telogen-effluvium-a-pilot-trial-Mz0w",
    "title": "Topical Melatonin for Telogen Effluvium: A Pilot Trial",
    "citations": 4,
    "published": "2019-02",
    "journal": "Skin Pharmacology and Physiology",
    "tldr": "Melatonin solution may shorten telogen effluvium.",
}


@dataclass(frozen=True)
class Study:
    """One research summary; ``cited``/``related`` hold ids of other studies of the site."""

    id: str
    slug: str
    title: str | None
    published: str | None  # "YYYY-MM"
    journal: str | None  # "" renders the label with no journal after it
    authors: tuple[str, ...]
    tldr: str | None
    summary: str | None
    source_url: str | None
    lastmod: str  # sitemap <lastmod>, also the date relative ages are computed from
    # "cards" (newer) | "flat" (older), or another family of tests.support.sitegen.families
    template: str = "cards"
    topics: tuple[str, ...] = ()
    cited: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    community: tuple[str, ...] = ()  # thread post ids
    citations: int | None = None  # shown in entries that point at this study
    image: bool = True
    alt_slugs: tuple[str, ...] = ()  # further slugs serving the same page (canonical: slug)
    in_sitemap: bool = True
    listed: bool = True
    # Page variants: keys of tests.support.sitegen.render.render_study, passed as is, plus the
    # builder's own "debris_cited" (an "[object Object]" line first) and "title_twice".
    variant: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/research/{self.slug}-{self.id}"

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *(f"/research/{slug}-{self.id}" for slug in self.alt_slugs))


@dataclass(frozen=True)
class More:
    """A "load more comments" stub: ``count`` comments the thread does not expand."""

    id: str
    count: int
    children: tuple[str, ...]


@dataclass(frozen=True)
class Comment:
    """A comment; ``author=None`` is a deleted account, bodies ``[deleted]``/``[removed]``."""

    id: str
    author: str | None
    score: int | None
    minutes: int  # posted this many minutes after the thread
    body: str
    replies: tuple[Comment | More, ...] = ()
    edited: bool = False
    stickied: bool = False
    distinguished: str | None = None


@dataclass(frozen=True)
class Thread:
    """A community thread, hosted on the site (``/community/...``) or Reddit-style."""

    post_id: str
    slug: str
    title: str
    category: str | None
    author: str | None
    created: str  # UTC, ISO 8601
    score: int
    body: str
    summary: str | None
    hosted: str  # "site" | "reddit"
    comments: tuple[Comment | More, ...] = ()
    template: str = "cards"  # HTML template of site-hosted threads
    link_url: str | None = None
    edited: bool = False

    @property
    def path(self) -> str:
        if self.hosted == "site":
            return f"/community/{self.slug}-{self.post_id}"
        return f"/r/tressless/comments/{self.post_id}/{self.slug}/"

    @property
    def json_path(self) -> str | None:
        """Reddit serves a thread as JSON at its URL without the slash plus ``.json``."""
        return self.path.rstrip("/") + ".json" if self.hosted == "reddit" else None


def C(
    cid: str, author: str | None, score: int | None, minutes: int, body: str,
    *replies: Comment | More, **flags: Any,
) -> Comment:
    return Comment(cid, author, score, minutes, body, tuple(replies), **flags)


def walk_comments(nodes: tuple[Comment | More, ...]) -> list[Comment | More]:
    """All nodes of a comment tree in document (depth-first) order."""
    out: list[Comment | More] = []
    for node in nodes:
        out.append(node)
        if isinstance(node, Comment):
            out.extend(walk_comments(node.replies))
    return out


def comment_depth(nodes: tuple[Comment | More, ...]) -> int:
    return max((1 + comment_depth(n.replies) if isinstance(n, Comment) else 1 for n in nodes),
               default=0)


# --- Authors -----------------------------------------------------------------------------
FFA_MULTICENTER = (
    "Sergio Vañó‐Galván", "Ana María Molina‐Ruiz", "Cristina Serrano‐Falcón",
    "Salvador Arias‐Santiago", "Ana Rodrigues‐Barata", "Montserrat Garnacho‐Saucedo",
    "Antonio Martorell‐Calatayud", "Pablo Fernández‐Crehuet", "Ramon Grimalt",
    "Javier Aranegui", "Rosa María Grillo", "Rita Bernárdez", "Lidia Pérez‐Pérez",
    "Juan Ferrando", "David Saceda‐Corralo", "Óscar Muñoz‐Moreno‐Arrones", "Pedro Jaén",
    "Emilio de las Heras", "Francisco Camacho", "Marta Feito‐Rodríguez", "Mar Llamas‐Velasco",
    "Carmen Rodríguez‐Cerdeira", "Jorge Romaní", "Alba Gómez‐Zubiaur", "Eduardo López‐Bran",
    "Beatriz Núñez‐Hipólito", "Ángela Hermosa‐Gelbard", "Claudia Bernárdez‐Guerra",
    "Verónica Buendía‐Castaño", "Íñigo Gil‐Mosquera", "Elena Sendagorta", "Jesús Cuevas",
    "Daniel Ortega‐Quijano", "Xavier Bosch‐Amate", "Noelia Pérez‐González",
    "Ignacio García‐Doval", "Tomás Toledo‐Pastrana", "Ricardo Ruiz‐Villaverde",
    "Lorena Martín‐Saiz",
)
# "Bı́ró" is written with a dotless i and a combining acute accent, as the site prints it.
BIRO = "Tamás Bı\u0301ró"

# --- Studies -----------------------------------------------------------------------------
STUDIES: tuple[Study, ...] = (
    # Androgenetic alopecia ---------------------------------------------------------------
    Study(
        id=FOOTER_STUDY_ID, slug="finasteride-and-dutasteride-overview",
        title="Finasteride and Dutasteride: An Overview of 5-Alpha Reductase Inhibitors in "
        "Androgenetic Alopecia",
        published="2024-06", journal="Clinical dermatology review",
        authors=("Antonella Tosti", "Ralph M. Trüeb", "Nicole Rogers"),
        tldr="Finasteride and dutasteride slow or reverse male pattern hair loss in most men.",
        summary="In 2024, a narrative review summarised trials of finasteride and dutasteride "
        "in men and women. Both drugs lowered scalp dihydrotestosterone and kept hair counts "
        "above baseline for years; dutasteride was slightly more effective and sexual side "
        "effects were uncommon with either drug.",
        source_url="https://doi.org/10.4103/cdr.cdr_71_23", lastmod="2025-08-01",
        topics=(AGA,), cited=("Fn5k", "Du3s", "TfA2", "dM4q"), related=("Fn5k", "Du3s"),
        community=("j4h8ko", FOOTER_THREAD_ID), citations=11,
    ),
    Study(
        id="Mx7b", slug="low-dose-oral-minoxidil-for-male-androgenetic-alopecia",
        title="Low-Dose Oral Minoxidil for Male Androgenetic Alopecia: A Retrospective Study",
        published="2021-03", journal="Journal of the American Academy of Dermatology",
        authors=("Rodney Sinclair", "Nekma Meah", "Dmitri Wall", "Jane Sung"),
        tldr="Low-dose oral minoxidil improved hair density in most men with few side effects.",
        summary="In 2021, a retrospective review of 100 men taking 0.25 to 5 mg of oral "
        "minoxidil daily found that 90% showed improvement after six months. Hypertrichosis "
        "was the most common side effect and only two patients stopped because of "
        "lightheadedness.",
        source_url="https://doi.org/10.1016/j.jaad.2020.06.1009", lastmod="2025-03-14",
        template="react",
        topics=(AGA,), cited=("a9Tc", "Hz5r", "Rs1k"), related=("Cl4s", "k7Qa", "Mn2d"),
        community=("k3j9xz", "w2e5rt", "z9d33p"), citations=112,
    ),
    Study(
        id="a9Tc", slug="topical-minoxidil-5-versus-2-in-men-with-androgenetic-alopecia",
        title="A Randomized Clinical Trial of 5% Topical Minoxidil Versus 2% Topical "
        "Minoxidil and Placebo in Men With Androgenetic Alopecia",
        published="2002-09", journal="Journal of the American Academy of Dermatology",
        authors=("Elise A. Olsen", "Frank E. Dunlap", "Toni Funicella", "Jay A. Koperski"),
        tldr="5% minoxidil grew hair faster and better than 2% minoxidil in men.",
        summary="In 2002, a 48-week trial of 393 men compared 5% and 2% topical minoxidil with "
        "placebo. The 5% solution produced 45% more regrowth than the 2% solution at week 48 "
        "and the response appeared earlier; scalp itching was more frequent with the stronger "
        "solution.",
        source_url="https://doi.org/10.1067/mjd.2002.124605", lastmod="2024-11-02",
        template="flat", topics=(AGA,), cited=("Rs1k", "Hz5r"), related=("Mx7b", "Mn2d"),
        citations=489,
    ),
    Study(
        id="Fn5k", slug="long-term-5-year-efficacy-of-finasteride-in-men",
        title="Long-Term (5-Year) Multinational Experience With Finasteride 1 mg in the "
        "Treatment of Men With Androgenetic Alopecia",
        published="2002-01", journal="European Journal of Dermatology",
        authors=("Finasteride Male Pattern Hair Loss Study Group",),
        tldr="Finasteride 1 mg kept improving or maintaining hair for five years.",
        summary="In 2002, 1,553 men took finasteride 1 mg or placebo for up to five years. Hair "
        "counts stayed above baseline in the finasteride group while the placebo group lost "
        "hair steadily, and 90% of treated men kept or regained hair on photographs.",
        source_url="https://www.jle.com/fr/revues/ejd/e-docs/long_term_5_year.phtml",
        lastmod="2025-01-20", topics=(AGA,), cited=("Hz5r",), related=("TfA2", "Du3s", "Sx3f"),
        community=("j4h8ko", FOOTER_THREAD_ID), citations=398,
    ),
    Study(
        id="TfA2", slug="topical-finasteride-spray-in-male-androgenetic-alopecia-phase-iii",
        title="Efficacy and Safety of Topical Finasteride Spray Solution for Male Androgenetic "
        "Alopecia: A Phase III, Randomized, Controlled Clinical Trial",
        published="2022-02",
        journal="Journal of the European Academy of Dermatology and Venereology",
        authors=("Bianca Maria Piraccini", "Ulrike Blume‐Peytavi", "Federica Scarci",
                 "Jaime Jansat", "Marco Falqués", "Rosa Otero", "Ralph M. Trüeb"),
        tldr="Topical finasteride grew hair like oral finasteride with much lower blood levels.",
        summary="In 2022, 458 men applied a finasteride spray or placebo for 24 weeks. Target-area "
        "hair counts rose significantly more with the spray, and serum dihydrotestosterone "
        "fell far less than reported for the oral tablet, suggesting fewer systemic effects.",
        source_url="https://doi.org/10.1111/jdv.17738", lastmod="2025-06-30",
        topics=(AGA,), cited=("Fn5k", "Sx3f"), related=("Fn5k", "K7Qa", "Du3s"),
        community=("j4h8ko", "k3j9xz"), citations=87,
        variant={"cited_total": "NoResults", "related_total": ""},
    ),
    Study(
        id="Du3s", slug="dutasteride-versus-finasteride-in-men-with-androgenetic-alopecia",
        title="A Randomized, Active- and Placebo-Controlled Study of the Efficacy and Safety of "
        "Different Doses of Dutasteride Versus Placebo and Finasteride",
        published="2014-03", journal="Journal of the American Academy of Dermatology",
        authors=("Walter Gubelin Harcha", "José Barboza Martínez", "Tsen-Fang Tsai",
                 "Kaoru Katsuoka", "Fumihiro Kawashima", "Ritsuko Tsuboi", "Alejandro Barnes",
                 "Joseph A. Ferron-Brady", "Kathy Chetindzh"),
        tldr="Dutasteride 0.5 mg grew more hair than finasteride 1 mg.",
        summary="In 2014, 917 men aged 20 to 50 were randomised to dutasteride at four doses, "
        "finasteride 1 mg or placebo. After 24 weeks dutasteride 0.5 mg increased hair count "
        "and width more than finasteride, with a similar rate of adverse events.",
        source_url="https://doi.org/10.1016/j.jaad.2013.10.049", lastmod="2025-02-11",
        template="legacy", topics=(AGA,), cited=("Fn5k",), related=("dM4q", "Fn5k", "Ff5d"),
        community=("t5v7wa",), citations=203,
    ),
    Study(
        id="dM4q", slug="dutasteride-mesotherapy-in-androgenetic-alopecia",
        title="Mesotherapy With Dutasteride for Androgenetic Alopecia: A Retrospective Study "
        "in Real Clinical Practice",
        published="2019-11", journal="Journal of Drugs in Dermatology",
        authors=("David Saceda‐Corralo", "Ana Rodrigues‐Barata", "Sergio Vañó‐Galván",
                 "Pedro Jaén"),
        tldr="Dutasteride injections into the scalp helped most patients and were well "
        "tolerated.",
        summary="In 2019, 541 patients received intradermal dutasteride every three months. "
        "Trichoscopy showed improvement in 62% of them; pain during injection and mild "
        "headache were the main complaints.",
        source_url="https://doi.org/10.36849/JDD.2019.4504", lastmod="2025-04-08",
        topics=(AGA,), cited=("Du3s",), related=("Du3s", "Ff5d"), community=("t5v7wa",),
        citations=31,
    ),
    Study(
        id="PRp8", slug="platelet-rich-plasma-for-androgenetic-alopecia-a-meta-analysis",
        title="Platelet-Rich Plasma for Androgenetic Alopecia: A Systematic Review and "
        "Meta-Analysis",
        published="2020-05", journal="Journal of Cosmetic Dermatology",
        authors=("Aditya K. Gupta", "Jessie Carviel"),
        tldr="PRP increased hair density compared with placebo, but studies were small.",
        summary="In 2020, a meta-analysis of 13 controlled trials found that platelet-rich "
        "plasma injections increased hair density by about 30 hairs per square centimetre "
        "over placebo. Protocols varied widely and most trials had fewer than 30 patients.",
        source_url="https://doi.org/10.1111/jocd.13206", lastmod="2025-05-27",
        topics=(AGA, NAT), cited=("LL3t", "Mn2d"), related=("Mn2d", "LL3t"),
        community=("h3u6yp",), citations=64,
        variant={"community_total": "1000+"},
    ),
    Study(
        id="LL3t", slug="efficacy-and-safety-of-a-low-level-laser-device-in-aga",
        title="Efficacy and Safety of a Low-Level Laser Device in the Treatment of Male and "
        "Female Pattern Hair Loss: A Multicenter, Randomized, Sham Device-Controlled Study",
        published="2014-04", journal="American Journal of Clinical Dermatology",
        authors=("Joaquin J. Jimenez", "Tongyu C. Wikramanayake", "Wilma Bergfeld",
                 "Maria Hordinsky", "Janet G. Hickman", "Michael R. Hamblin",
                 "Lawrence A. Schachner"),
        tldr="A laser comb increased hair density in men and women compared with a sham "
        "device.",
        summary="In 2014, 334 men and women used a low-level laser comb or an identical sham "
        "device three times a week for 26 weeks. Terminal hair density rose significantly "
        "more with the active device and no serious side effects were reported.",
        source_url="https://doi.org/10.1007/s40257-013-0060-6", lastmod="2024-09-18",
        template="flat", topics=(AGA,), related=("PRp8", "Mn2d"), citations=95,
    ),
    Study(
        id="66Gn",
        slug="pthe-efficacy-of-ketoconazole-shampoo-in-androgenetic-alopecia-a-meta-analysisp",
        title="The Efficacy of Ketoconazole Shampoo in Androgenetic Alopecia: A Meta-Analysis",
        published="2023-08", journal="Dermatologic Therapy", authors=(),
        tldr="Ketoconazole shampoo may modestly improve hair density as an add-on treatment.",
        summary="In 2023, pooled data from seven studies suggested that 2% ketoconazole shampoo "
        "used two to four times a week improved hair density and shaft diameter, mostly "
        "when combined with minoxidil or finasteride.",
        source_url=None, lastmod="2025-07-04", topics=(AGA, NAT), cited=("Fn5k",),
        related=("Cf9e", "Sp4w"), community=("x7b3nd",), citations=6,
        variant={"cited_label": "", "debris_cited": True},
    ),
    Study(
        id="Cf9e", slug="caffeine-liquid-versus-minoxidil-5-in-men",
        title="Caffeine-Based Topical Liquid Versus Minoxidil 5%: A Non-Inferiority Trial in "
        "Men With Androgenetic Alopecia",
        published="2017-01", journal="Skin Pharmacology and Physiology",
        authors=("Ulrike Blume‐Peytavi", "Annika Vogt", "Adolf Kottner"),
        tldr="A caffeine liquid was not inferior to minoxidil 5% in men.",
        summary="In 2017, 210 men applied either a caffeine liquid or minoxidil 5% for six "
        "months. The proportion of anagen hairs rose similarly in both groups, meeting the "
        "trial's non-inferiority margin.",
        source_url="https://doi.org/10.1159/000455198", lastmod="2025-02-28",
        topics=(AGA, NAT), cited=("a9Tc",), related=("66Gn", "Ro5m", "Sp4w"),
        community=("c6z9lm",), citations=27,
    ),
    Study(
        id="Sp4w", slug="saw-palmetto-versus-finasteride-in-androgenetic-alopecia",
        title="Comparative Effectiveness of Finasteride Versus Serenoa repens in Male "
        "Androgenetic Alopecia: A Two-Year Study",
        published="2012-10",
        journal="International Journal of Immunopathology and Pharmacology",
        authors=("A. Rossi", "E. Mari", "M. Scarno", "V. Garelli", "C. Maxia", "G. Scali",
                 "F. Iorio", "M. Carlesimo"),
        tldr="Saw palmetto helped 38% of men compared with 68% on finasteride.",
        summary="In 2012, 100 men took finasteride 1 mg or Serenoa repens 320 mg daily for two "
        "years. Hair improved in 68% of the finasteride group and in 38% of the saw palmetto "
        "group, mostly at the vertex.",
        source_url="https://doi.org/10.1177/039463201202500424", lastmod="2024-12-12",
        template="reader", topics=(AGA, NAT), cited=("Fn5k",), related=("Pk1n", "Ro5m"),
        community=("c6z9lm",), citations=52,
    ),
    Study(
        id="Pk1n", slug="pumpkin-seed-oil-in-men-with-androgenetic-alopecia",
        title="Effect of Pumpkin Seed Oil on Hair Growth in Men With Androgenetic Alopecia: A "
        "Randomized, Double-Blind, Placebo-Controlled Trial",
        published="2014-04", journal="Evidence-based Complementary and Alternative Medicine",
        authors=("Young Hye Cho", "Sun Young Lee", "Dong Woo Jeong", "Eun Jung Choi"),
        tldr="Pumpkin seed oil capsules increased hair count by 40% versus 10% with placebo.",
        summary="In 2014, 76 Korean men took 400 mg of pumpkin seed oil or placebo daily for 24 "
        "weeks. Mean hair count rose 40% with the oil against 10% with placebo, with no "
        "difference in side effects.",
        source_url="https://doi.org/10.1155/2014/549721", lastmod="2025-01-09",
        template="table",
        topics=(AGA, NAT), related=("Sp4w", "Ro5m"), community=("c6z9lm",), citations=44,
    ),
    Study(
        id="Ro5m", slug="rosemary-oil-vs-minoxidil-2-for-androgenetic-alopecia",
        title="Rosemary Oil vs Minoxidil 2% for the Treatment of Androgenetic Alopecia: A "
        "Randomized Comparative Trial",
        published="2015-01", journal="Skinmed",
        authors=("Yunes Panahi", "Mohsen Taghizadeh", "Eisa Tahmasbpour Marzony",
                 "Amirhossein Sahebkar"),
        tldr="Rosemary oil and minoxidil 2% increased hair count similarly after six months.",
        summary="In 2015, 100 men used rosemary oil or minoxidil 2% for six months. Neither "
        "group improved at three months; both gained hair by six months, and scalp itching "
        "was less frequent with rosemary oil.",
        source_url=None, lastmod="2025-08-16", topics=(AGA, NAT), cited=("a9Tc",),
        template="legacy",
        related=("Pk1n", "Sp4w", "Cf9e"), community=("c6z9lm",), citations=38, image=False,
    ),
    Study(
        id="Mn2d", slug="microneedling-in-androgenetic-alopecia-a-randomized-evaluator-blinded",
        title="A Randomized Evaluator Blinded Study of Effect of Microneedling in Androgenetic "
        "Alopecia: A Pilot Study",
        published="2013-01", journal="International Journal of Trichology",
        authors=("Rachita Dhurat", "M. S. Sukesh", "Ganesh Avhad", "Ameet Dandale", "Aditi Pal",
                 "Poonam Pund"),
        tldr="Microneedling with minoxidil grew more hair than minoxidil alone.",
        summary="In 2013, 100 men used minoxidil 5% twice daily, half of them also receiving "
        "weekly microneedling. After 12 weeks the combined group had a mean gain of 91 hairs "
        "per square centimetre against 22 with minoxidil alone.",
        source_url="https://doi.org/10.4103/0974-7753.114700", lastmod="2025-03-03",
        template="table",
        topics=(AGA,), cited=("a9Tc",), related=("PRp8", "Mx7b"), community=("h3u6yp",),
        citations=176,
    ),
    Study(
        id="Cl4s", slug="oral-minoxidil-induced-hypertrichosis-a-case-series",
        title="Oral Minoxidil-Induced Hypertrichosis: A Case Series",
        published="2022-07", journal="Curēus",
        authors=("Priya Natarajan", "Oluwaseun Adeyemi‐Bello", "Hannah K. Larsen"),
        tldr="Low-dose oral minoxidil often causes unwanted facial and body hair.",
        summary="In 2022, a case series described 14 women who developed hypertrichosis on the "
        "face, arms or back within three months of starting 0.625 to 2.5 mg oral minoxidil. "
        "Most chose to continue treatment and managed the hair cosmetically.",
        source_url="https://doi.org/10.7759/cureus.27019", lastmod="2025-09-05",
        template="flat", topics=(AGA,), cited=("Mx7b",), related=("Mx7b", "Sv6o"),
        community=("k3j9xz",), citations=3,
        variant={"show_discuss": False, "source_host": ""},
    ),
    Study(
        id="Sx3f", slug="persistent-sexual-side-effects-of-finasteride-a-survey",
        title="Persistent Sexual Side Effects of Finasteride for Male Pattern Hair Loss",
        published="2011-06", journal="The Journal of Sexual Medicine",
        authors=("Michael S. Irwig", "Swapna Kolukula"),
        tldr="Some men reported sexual side effects lasting months after stopping finasteride.",
        summary="In 2011, 71 men who had sexual side effects while taking finasteride answered "
        "standardised interviews. Symptoms had lasted at least three months after stopping "
        "the drug in all of them; the authors called for larger prospective studies.",
        source_url="https://doi.org/10.1111/j.1743-6109.2011.02254.x", lastmod="2024-10-22",
        topics=(AGA,), related=("Fn5k", "TfA2", DISALLOWED_ID), community=("j4h8ko",),
        citations=245, variant={"related_label": "Similar Research"},
    ),
    Study(
        id="Sv6o", slug="spironolactone-for-female-pattern-hair-loss",
        title="Spironolactone in the Treatment of Female Pattern Hair Loss: A Retrospective "
        "Cohort",
        published="2018-09", journal="Australasian Journal of Dermatology",
        authors=("Kathryn Famenini", "Jane Sung", "Rodney Sinclair"),
        tldr="Spironolactone stopped or reversed hair loss in most women.",
        summary="In 2018, records of 166 women taking spironolactone 50 to 200 mg daily showed "
        "that 74% had stable or improved hair after a year. Breast tenderness and irregular "
        "periods were the usual reasons for lowering the dose.",
        source_url="https://doi.org/10.1111/ajd.12736", lastmod="2025-04-19",
        template="semantic",
        topics=(AGA,), related=("Mx7b", "Cl4s"), community=("f2n6ue",), citations=58,
    ),
    Study(
        id=CASE_PAIR[0], slug="minoxidil-sulfotransferase-activity-predicts-response",
        title="Minoxidil Sulfotransferase Activity in Plucked Hair Follicles Predicts Response "
        "to Topical Minoxidil",
        published="2018-05", journal="Dermatologic Therapy",
        authors=("Andy Goren", "Jerry Shapiro", "Rodney Sinclair", "Tomislav Naccarato"),
        tldr="Follicle enzyme activity can predict who responds to minoxidil.",
        summary="In 2018, researchers measured sulfotransferase activity in plucked hairs from "
        "men and women before treatment. High activity predicted response to minoxidil with "
        "a sensitivity of 95%, which could spare non-responders months of use.",
        source_url="https://doi.org/10.1111/dth.12573", lastmod="2025-05-05",
        topics=(AGA,), cited=("a9Tc",), related=("Mx7b", CASE_PAIR[1]), citations=49,
    ),
    Study(
        id=CASE_PAIR[1], slug="pyrilutamide-topical-androgen-receptor-antagonist-phase-ii",
        title="Pyrilutamide, a Topical Androgen Receptor Antagonist, in Male Androgenetic "
        "Alopecia: A Phase II Trial",
        published="2024-10", journal="Clinical dermatology review",
        authors=("Li Wei", "Zhang Min", "Chen Yu‐Ting", "Wang Hao"),
        tldr="A topical antiandrogen increased hair count in men over 24 weeks.",
        summary="In 2024, 120 men applied pyrilutamide 0.5% or vehicle twice daily. Non-vellus "
        "hair count rose by 15 hairs per square centimetre more than vehicle, and no "
        "systemic antiandrogen effects were detected.",
        source_url="https://doi.org/10.4103/cdr.cdr_33_24", lastmod="2025-10-12",
        template="flat", topics=(AGA,), related=(CASE_PAIR[0], "TfA2"),
        community=("j4h8ko",), citations=1,
    ),
    Study(
        id="Wn3a", slug="topical-valproic-acid-increases-the-hair-count-in-aga",
        title="Topical Valproic Acid Increases the Hair Count in Male Patients With "
        "Androgenetic Alopecia: A Randomized, Comparative, Clinical Feasibility Study",
        published="2013-05", journal="The Journal of Dermatology",
        authors=("Seong Jin Jo", "Soon-Jin Choi", "Sun-Young Yoon", "Ji Yeon Lee", "Won-Seok Park",
                 "Phil-June Park", "Kyu Han Kim", "Hee Chul Eun", "Oh Sang Kwon"),
        tldr="Valproic acid spray increased hair count compared with placebo.",
        summary="In 2013, 40 men used a valproic acid spray or placebo for 24 weeks. Hair count "
        "increased significantly more with valproic acid, which activates the Wnt/β-catenin "
        "pathway in dermal papilla cells.",
        source_url="https://doi.org/10.1111/1346-8138.12100", lastmod="2024-08-30",
        topics=(AGA,), related=(LINK_ONLY_ID, "Mx7b"), citations=41,
    ),
    Study(
        id="Hz5r", slug="topical-minoxidil-in-early-male-pattern-baldness",
        title="Topical Minoxidil in Early Male Pattern Baldness",
        published="1987-08", journal="Journal of the American Academy of Dermatology",
        authors=("Richard L. DeVillez",),
        tldr=None,
        summary="In 1987, men with early vertex balding applied minoxidil solution for one "
        "year. Those with smaller bald areas and shorter duration of hair loss regrew the "
        "most hair.",
        source_url=None, lastmod="2024-07-01", template="flat", topics=(AGA,),
        cited=("Rs1k",), related=("a9Tc", "Rs1k"), citations=33, image=False,
    ),
    Study(
        id="Rs1k", slug="topical-minoxidil-therapy-for-hereditary-male-pattern-alopecia",
        title="Topical Minoxidil Therapy for Hereditary Male Pattern Alopecia",
        published="1985-06", journal="Archives of Dermatology",
        authors=("Elise A. Olsen", "Mark S. Weiner", "Edward R. DeLong", "Sheldon R. Pinnell"),
        tldr="Minoxidil solution regrew terminal hair in about a third of men.",
        summary=None, source_url=None, lastmod="2024-06-15", template="flat", topics=(AGA,),
        related=("Hz5r", "a9Tc"), community=("p0q4rd",), citations=151, image=False,
    ),
    Study(
        id="Kz4h", slug="prevalence-of-androgenetic-alopecia-among-men-in-almaty",
        title="Prevalence of Androgenetic Alopecia Among Men in Almaty",
        published="2019-12", journal="Қазақстанның клиникалық медицинасы",
        authors=("Айгерим Б. Нурланова", "Ержан Т. Сейтқали", "Динара М. Әбдірахманова"),
        tldr="About a third of men in Almaty aged 18 to 50 had androgenetic alopecia.",
        summary="In 2019, 1,050 men were examined in Almaty outpatient clinics. Androgenetic "
        "alopecia of Norwood stage III or higher affected 31%, rising to 58% among men over 40.",
        source_url="https://doi.org/10.23950/jcmk/5210", lastmod="2024-12-01",
        topics=(AGA,), related=("Rv2b",), citations=0, variant={"cited_total": None},
    ),
    Study(
        id="Rv2b", slug="trichoscopy-of-diffuse-hair-loss-in-women",
        title="Trichoscopy of Diffuse Hair Loss in Women",
        published="2016-04", journal="Вестник дерматологии и венерологии",
        authors=("Ольга В. Смирнова", "Наталья Ю. Ёлкина", "Ирина А. Щербакова"),
        tldr="Hair shaft diameter variability separated female pattern hair loss from "
        "telogen effluvium.",
        summary="In 2016, trichoscopy of 212 women with diffuse hair loss showed that more than "
        "20% variability in shaft diameter identified female pattern hair loss with high "
        "accuracy.",
        source_url=None, lastmod="2024-11-25", template="flat", topics=(AGA,),
        related=("Kz4h", "Sv6o"), community=("f2n6ue",), citations=12,
        variant={"keywords": "Alopecia; Trichoscopy; Hair loss in women"},
    ),
    Study(
        id=LINK_ONLY_ID,
        slug="prostaglandin-d-sub2sub-is-elevated-in-bald-scalp-and-inhibits-hair-growth",
        title="Prostaglandin D2 Inhibits Hair Growth and Is Elevated in Bald Scalp of Men With "
        "Androgenetic Alopecia",
        published="2012-03", journal="Science Translational Medicine",
        authors=("Luis A. Garza", "Yaping Liu", "Zaixin Yang", "Brinda Alagesan", "John A. Lawson",
                 "Scott M. Norberg", "Dorothy E. Loy", "Tailun Zhao", "Hanz B. Blatt",
                 "David C. Stanton", "Lee Carrasco", "Gurpreet Ahluwalia", "Susan M. Fischer",
                 "Garret A. FitzGerald", "George Cotsarelis"),
        tldr="PGD2 is elevated in bald scalp and blocks hair growth.",
        summary="In 2012, prostaglandin D2 synthase was found elevated in bald compared with "
        "haired scalp of men. PGD2 inhibited hair lengthening through the GPR44 receptor, "
        "pointing to receptor antagonists as a possible treatment.",
        source_url="https://doi.org/10.1126/scitranslmed.3003122", lastmod="2025-02-02",
        cited=("Wn3a",), related=("Mx7b", "Fn5k"), citations=331,
        in_sitemap=False, listed=False,
    ),
    Study(
        id=DISALLOWED_ID, slug="private-cohort-finasteride-adverse-events-registry",
        title="Finasteride Adverse Events Registry: Interim Cohort Report",
        published="2025-09", journal="", authors=("Registry Steering Committee",),
        tldr="An interim report of a private registry.",
        summary="Interim data from a private registry of finasteride users.",
        source_url=None, lastmod="2025-10-01", topics=(), related=("Sx3f",), listed=False,
    ),
    # Alopecia areata ---------------------------------------------------------------------
    Study(
        id="Bx4k", slug="two-phase-3-trials-of-baricitinib-for-alopecia-areata",
        title="Two Phase 3 Trials of Baricitinib for Alopecia Areata",
        published="2022-05", journal="The New England Journal of Medicine",
        authors=("Brett King", "Manabu Ohyama", "Ohsang Kwon", "Abraham Zlotogorski", "Justin Ko",
                 "Natasha A. Mesinkovska", "Maria Hordinsky", "Yves Dutronc", "Wen-Shuo Wu",
                 "Jill McCollam", "Chiara Chiasserini", "Guanglei Yu", "Sherry Stanley",
                 "Fabio P. Nunes", "Rodney Sinclair"),
        tldr="Baricitinib regrew scalp hair in about a third of patients with severe alopecia "
        "areata.",
        summary="In 2022, the BRAVE-AA1 and BRAVE-AA2 trials randomised 1,200 adults with at "
        "least 50% scalp hair loss. At week 36, 35 to 39% of patients on 4 mg baricitinib had "
        "80% scalp coverage, against 3 to 6% on placebo.",
        source_url="https://doi.org/10.1056/NEJMoa2110343", lastmod="2025-06-02",
        topics=(AA,), cited=("To9f", "Il3c"), related=("Rt6l", "Dx1r", "To9f"),
        community=("r9w1ys", "m8c2pq"), citations=318,
        variant={"community_total": 404, "section_order": ["community", "related", "cited"]},
    ),
    Study(
        id="Rt6l", slug="efficacy-and-safety-of-ritlecitinib-in-alopecia-areata-allegro",
        title="Efficacy and Safety of Ritlecitinib in Adults and Adolescents With Alopecia "
        "Areata: A Randomised, Double-Blind, Multicentre, Phase 2b-3 Trial",
        published="2023-05", journal="The Lancet",
        authors=("Brett King", "Xingqi Zhang", "Wilson Guillermo Harcha", "Jerry Shapiro",
                 "Kevin J. McElwee", "Maryanne Senna", "Vanessa Roshchupkina", "Ina Gal‐Shaked"),
        tldr="Ritlecitinib 50 mg regrew hair in adults and adolescents with severe alopecia "
        "areata.",
        summary="In 2023, 718 patients aged 12 and over received ritlecitinib or placebo. At "
        "week 24, 23% of patients on 50 mg reached a SALT score of 20 or less, against 2% on "
        "placebo.",
        source_url="https://doi.org/10.1016/S0140-6736(23)00222-2", lastmod="2025-07-21",
        topics=(AA,), cited=("Bx4k", "To9f"), related=("Bx4k", "Dx1r"),
        community=("r9w1ys",), citations=121,
        variant={"community_total": "1000+", "community_counter_word": False},
    ),
    Study(
        id="To9f", slug="tofacitinib-for-the-treatment-of-severe-alopecia-areata",
        title="Tofacitinib for the Treatment of Severe Alopecia Areata and Variants: A Study of "
        "90 Patients",
        published="2017-01", journal="Journal of the American Academy of Dermatology",
        authors=("Lucy Y. Liu", "Brittany G. Craiglow", "Feng Dai", "Brett A. King"),
        tldr="Tofacitinib regrew hair in over half of patients with severe alopecia areata.",
        summary="In 2017, 90 adults with alopecia areata totalis or universalis took "
        "tofacitinib for four to 18 months. Hair regrowth occurred in 58%, and disease "
        "duration under ten years predicted a better response.",
        source_url="https://doi.org/10.1016/j.jaad.2016.09.007", lastmod="2024-10-10",
        template="flat", topics=(AA,), cited=("Il3c",), related=("Bx4k", "Lp1q"),
        community=("m8c2pq",), citations=412,
    ),
    Study(
        id="Dx1r", slug="deuruxolitinib-in-severe-alopecia-areata-thrive-aa2",
        title="Deuruxolitinib in Adults With Severe Alopecia Areata: Results From the THRIVE-AA2 "
        "Trial",
        published="2026-01", journal="JAMA Dermatology",
        authors=("Brett King", "Natasha A. Mesinkovska", "Rodney Sinclair", "P. Assouly"),
        tldr=None, summary=None,
        source_url="https://doi.org/10.1001/jamadermatol.2025.4021", lastmod="2025-10-28",
        topics=(AA,), cited=("Bx4k", "Rt6l"), related=("Bx4k", "Rt6l"), community=("r9w1ys",),
        citations=None, variant={"cited_total": "1000+"},
    ),
    Study(
        id="ZpoR", slug="alopecia-induced-by-sorafenib-mechanism-similar-to-aa",
        title="Case of Alopecia Induced by Sorafenib, Possible Mechanism Similar to Alopecia "
        "Areata",
        published="2017-11", journal="The Journal of Dermatology",
        authors=("Yasuyuki Tanaka", "Koji Sugawara", "Nami Shimizu", "Yukari Mizukami",
                 "Daisuke Tsuruta"),
        tldr="Sorafenib may cause hair loss in a way similar to alopecia areata.",
        summary="In 2017, a case was reported of a 21-year-old Japanese woman who developed "
        "patchy hair loss two weeks after starting sorafenib for thyroid cancer. Biopsy showed "
        "lymphocytes around the hair bulbs, as in alopecia areata, and hair regrew after the "
        "drug was stopped.",
        source_url="https://doi.org/10.1111/1346-8138.13994", lastmod="2025-01-31",
        topics=(AA,), cited=("Il3c", "Ad7p", "Il3c"), related=("Bx4k", "To9f", "Ad7p"),
        community=("m8c2pq",), citations=2,
        variant={"community_total": "1000+", "source_url": None, "title_twice": True},
    ),
    Study(
        id="Il3c", slug="intralesional-triamcinolone-2-5-vs-5-vs-10-mg-ml-in-alopecia-areata",
        title="Intralesional Triamcinolone Acetonide 2.5 vs 5 vs 10 mg/mL in Patchy Alopecia "
        "Areata: A Randomised Trial",
        published="2021-02", journal="Acta dermato-venereologica (Print)",
        authors=("Gizem İslamoğlu", "Zeynep Topkarcı", "Müge Güler Özden"),
        tldr="A 2.5 mg/mL dose of steroid injections worked as well as higher doses.",
        summary="In 2021, 60 patients with patchy alopecia areata had three rounds of "
        "intralesional triamcinolone at one of three strengths. Regrowth was similar in all "
        "arms while skin atrophy occurred only at 10 mg/mL.",
        source_url="https://doi.org/10.2340/00015555-3744", lastmod="2025-03-22",
        template="legacy",
        topics=(AA,), related=("Dp5c", "Vd2a"), community=("m8c2pq",), citations=19,
    ),
    Study(
        id="Dp5c", slug="diphenylcyclopropenone-contact-immunotherapy-for-alopecia-areata",
        title="Contact Immunotherapy With Diphenylcyclopropenone for Alopecia Areata: Experience "
        "in 148 Patients",
        published="1998-10", journal="British Journal of Dermatology",
        authors=("Rolf Hoffmann", "Rudolf Happle"),
        tldr="DPCP regrew cosmetically acceptable hair in about half of patients.",
        summary="In 1998, 148 patients with extensive alopecia areata were treated weekly with "
        "diphenylcyclopropenone. Half achieved cosmetically acceptable regrowth, though "
        "relapses were common after stopping.",
        source_url=None, lastmod="2024-08-08", template="flat", topics=(AA,),
        related=("Il3c", "Pd3a"), citations=88,
    ),
    Study(
        id="Ad7p", slug="alopecia-areata-and-atopic-comorbidity-a-population-study",
        title="Alopecia Areata and Atopic Comorbidity: A Population-Based Study",
        published="2019-07", journal="Clinical dermatology review",
        authors=("Natalie Kash", "Maria Hordinsky", "Angela M. Christiano"),
        tldr="People with alopecia areata more often have eczema, asthma and hay fever.",
        summary="In 2019, registry data on 8,000 patients showed that atopic dermatitis was "
        "three times as common in alopecia areata as in matched controls. Atopy was linked "
        "to earlier onset and more extensive disease.",
        source_url="https://doi.org/10.4103/CDR.CDR_12_19", lastmod="2024-12-19",
        topics=(AA,), related=("Pd3a", "ZpoR"), citations=22,
    ),
    Study(
        id="Vd2a", slug="serum-vitamin-d-levels-in-patients-with-alopecia-areata",
        title="Serum Vitamin D Levels in Patients With Alopecia Areata",
        published="2020-09", journal="Curēus", authors=("Gizem İslamoğlu", BIRO),
        tldr="Patients with alopecia areata had lower vitamin D levels than controls.",
        summary="In 2020, serum 25-hydroxyvitamin D was measured in 80 patients and 80 healthy "
        "controls. Levels were lower in patients and correlated inversely with the extent of "
        "hair loss.",
        source_url="https://doi.org/10.7759/cureus.10421", lastmod="2025-02-17",
        topics=(AA, NAT), related=("Il3c", "Ml5t"), citations=15,
        variant={"related_label": "Related"},
    ),
    Study(
        id="Pd3a", slug="long-term-outcome-of-alopecia-areata-in-children",
        title="Long-Term Outcome of Alopecia Areata in Children",
        published="2010-03", journal="Pediatric Dermatology",
        authors=("Maria K. Hordinsky", "Jerry Shapiro"),
        tldr="Most children with limited alopecia areata regrew their hair.",
        summary="In 2010, 191 children were followed for a mean of seven years. Patchy disease "
        "resolved in 70% while onset before age five and extensive loss predicted a chronic "
        "course.",
        source_url=None, lastmod="2024-09-02", topics=(AA,), related=("Ad7p", "Dp5c"),
        template="semantic",
        citations=27, image=False,
    ),
    Study(
        id="Sm1x", slug="simvastatin-ezetimibe-for-alopecia-areata",
        title="Simvastatin/Ezetimibe for the Treatment of Alopecia Areata",
        published="2012-07", journal="Journal of the American Academy of Dermatology",
        authors=("Dana Lattouf", "Kevin J. McElwee"),
        tldr="A cholesterol drug combination was followed by regrowth in some patients.",
        summary="In 2012, 29 patients with alopecia areata received simvastatin with ezetimibe "
        "for 24 weeks. Fourteen showed regrowth and most of them kept it while continuing "
        "the drugs.",
        source_url="https://doi.org/10.1016/j.jaad.2011.12.033", lastmod="2024-07-17",
        template="flat", topics=(AA,), related=("Il3c",), citations=36,
    ),
    Study(
        id="Ao7h", slug="ophiasis-pattern-alopecia-areata-treatment-response",
        title="Ophiasis-Pattern Alopecia Areata: Treatment Response in 64 Patients",
        published="2008-12", journal="Dermatologic Therapy",
        authors=("Antonella Tosti", "Bianca Maria Piraccini"),
        tldr="Ophiasis pattern responded poorly to most treatments.",
        summary="In 2008, 64 patients with band-like hair loss along the scalp margins were "
        "reviewed. Fewer than a quarter responded to topical or intralesional steroids.",
        source_url=None, lastmod="2024-05-06", topics=(AA,), related=("Dp5c", "Il3c"),
        template="reader",
        citations=9,
    ),
    # Scarring alopecia -------------------------------------------------------------------
    Study(
        id=DUPLICATE_ID,
        slug="frontal-fibrosing-alopecia-a-frontal-variant-of-lichen-planopilaris",
        alt_slugs=("frontal-fibrosing-alopecia-a-variant-of-lpp",),
        title="Frontal Fibrosing Alopecia: A Frontal Variant of Lichen Planopilaris",
        published="1997-06", journal="The journal of investigative dermatology/Journal of "
        "investigative dermatology",
        authors=("Steven Kossard", "P. Assouly"),
        tldr="Frontal fibrosing alopecia is a form of lichen planopilaris.",
        summary="In 1997, 16 women with receding frontal hairlines were examined. Biopsies "
        "showed the same inflammation and scarring as lichen planopilaris, suggesting that "
        "frontal fibrosing alopecia is a regional variant of it.",
        source_url=None, lastmod="2024-10-30", template="flat", topics=(SCAR,),
        related=("Lp8h", "Ff2s", "Ff5d"), community=("b8k1vz",), citations=142,
        variant={"keywords": "Lichen planopilaris; Scarring alopecia; Postmenopausal women"},
    ),
    Study(
        id="Ff2s", slug="frontal-fibrosing-alopecia-possible-association-with-sunscreens",
        title="Frontal Fibrosing Alopecia: Possible Association With Leave-On Facial Skin Care "
        "Products and Sunscreens",
        published="2016-03", journal="British Journal of Dermatology",
        authors=("N. Aldoori", "K. Dobson", "C. R. Holden", "A. J. McDonagh", "M. Harries",
                 "A. G. Messenger"),
        tldr="Women with frontal fibrosing alopecia used facial sunscreens more often.",
        summary="In 2016, a questionnaire study of 105 women with frontal fibrosing alopecia "
        "and 100 controls found that regular use of sunscreens and leave-on facial products "
        "was significantly more common among patients.",
        source_url="https://doi.org/10.1111/bjd.14402", lastmod="2025-04-27",
        topics=(SCAR,), cited=(DUPLICATE_ID,), related=("Ff5d", DUPLICATE_ID),
        community=("b8k1vz",), citations=167,
    ),
    Study(
        id="Ff5d", slug="frontal-fibrosing-alopecia-a-multicenter-review-of-355-patients",
        title="Frontal Fibrosing Alopecia: A Multicenter Review of 355 Patients",
        published="2014-04", journal="Journal of the American Academy of Dermatology",
        authors=FFA_MULTICENTER,
        tldr="Dutasteride stabilised frontal fibrosing alopecia in nearly all treated patients.",
        summary="In 2014, records of 355 patients from 17 Spanish centres were reviewed. Eyebrow "
        "loss was present in 83%; oral dutasteride led to stabilisation in 47% and "
        "improvement in the others treated, better than finasteride or hydroxychloroquine.",
        source_url="https://doi.org/10.1016/j.jaad.2013.12.003", lastmod="2025-05-15",
        template="react",
        topics=(SCAR,), cited=(DUPLICATE_ID, "Lp8h", DEAD_LINK_ID),
        related=("Ff2s", "dM4q", "Du3s"), community=("b8k1vz", "t5v7wa"), citations=298,
    ),
    Study(
        id="Lp8h", slug="hydroxychloroquine-and-lichen-planopilaris-efficacy",
        title="Hydroxychloroquine and Lichen Planopilaris: Efficacy and Introduction of "
        "Lichen Planopilaris Activity Index Scoring System",
        published="2010-03", journal="Journal of the American Academy of Dermatology",
        authors=("Cynthia Chiang", "David Sah", "Bryan K. Cho", "Paul Mirmirani"),
        tldr="Hydroxychloroquine reduced symptoms and signs of lichen planopilaris.",
        summary="In 2010, 40 patients with lichen planopilaris took hydroxychloroquine for up to "
        "12 months. Activity scores fell in 69% after six months and 83% after 12 months.",
        source_url="https://doi.org/10.1016/j.jaad.2009.05.050", lastmod="2024-11-11",
        template="flat", topics=(SCAR,), cited=("Lp4g",), related=("Lp4g", "Lp1q", DUPLICATE_ID),
        citations=190,
    ),
    Study(
        id="Lp4g", slug="pioglitazone-in-the-treatment-of-lichen-planopilaris",
        title="Pioglitazone in the Treatment of Lichen Planopilaris",
        published="2009-06", journal="Archives of Dermatology",
        authors=("Paul Mirmirani", "Pratima Karnik"),
        tldr="A diabetes drug calmed lichen planopilaris in a case report.",
        summary="In 2009, a man with lichen planopilaris unresponsive to other treatments took "
        "pioglitazone 15 mg daily. Inflammation and symptoms resolved within eight months.",
        source_url=None, lastmod="2024-06-21", topics=(SCAR,), related=("Lp8h",), citations=71,
    ),
    Study(
        id="Lp1q", slug="tofacitinib-for-the-treatment-of-lichen-planopilaris-a-case-series",
        title="Tofacitinib for the Treatment of Lichen Planopilaris: A Case Series",
        published="2018-08", journal="Dermatologic Therapy",
        authors=("Christine C. Yang", "Aakaash Khanna", "Rodney Sinclair", "Brett A. King"),
        tldr="Tofacitinib helped most patients whose lichen planopilaris resisted other drugs.",
        summary="In 2018, ten patients with refractory lichen planopilaris took tofacitinib. "
        "Eight improved clinically, with reduced redness, scaling and symptoms.",
        source_url="https://doi.org/10.1111/dth.12656", lastmod="2025-01-14",
        template="semantic",
        topics=(SCAR,), cited=("To9f", "Lp8h"), related=("Lp8h", "To9f"), citations=40,
    ),
    Study(
        id="Cc7a", slug="variant-padi3-in-central-centrifugal-cicatricial-alopecia",
        title="Variant PADI3 in Central Centrifugal Cicatricial Alopecia",
        published="2019-02", journal="The New England Journal of Medicine",
        authors=("Liron Malki", "Ofer Sarig", "Maria-Teresa Romano", "Mariya Miteva",
                 "Nicole Rogers", "Amy J. McMichael", "Eli Sprecher"),
        tldr="Mutations in PADI3 are linked to central centrifugal cicatricial alopecia.",
        summary="In 2019, exome sequencing of women of African descent with central "
        "centrifugal cicatricial alopecia found PADI3 variants in about a quarter of them. "
        "The gene encodes an enzyme that shapes the hair shaft.",
        source_url="https://doi.org/10.1056/NEJMoa1813614", lastmod="2025-03-09",
        topics=(SCAR,), related=("Tr3x",), citations=96,
    ),
    Study(
        id="Fd6b", slug="folliculitis-decalvans-treatment-review-of-82-patients",
        title="Folliculitis Decalvans: Effectiveness of Therapies in 82 Patients",
        published="2015-11", journal="Journal of the European Academy of Dermatology and "
        "Venereology",
        authors=("Laura Miguel‐Gómez", "Sergio Vañó‐Galván", "Pedro Jaén"),
        tldr="Oral antibiotics controlled folliculitis decalvans in most patients.",
        summary="In 2015, 82 patients with folliculitis decalvans were reviewed. Doxycycline "
        "and the combination of clindamycin and rifampicin gave the longest remissions.",
        source_url="https://doi.org/10.1111/jdv.13052", lastmod="2024-08-19",
        topics=(SCAR,), related=("Lp8h", "Tr3x"), citations=30,
    ),
    Study(
        id="Tr3x", slug="trichoscopy-of-primary-scarring-alopecias",
        title="Dermatoscopy of Primary Scarring Alopecias",
        published="2013-10", journal="Dermatologic Clinics",
        authors=("Mariya Miteva", "Antonella Tosti"),
        tldr="Dermatoscopy helps choose the biopsy site in scarring alopecia.",
        summary="In 2013, a review described the dermatoscopic signs of lichen planopilaris, "
        "frontal fibrosing alopecia, discoid lupus and central centrifugal alopecia.",
        source_url=None, lastmod="2024-09-27", template="flat", topics=(SCAR,),
        related=("Cc7a", "Fd6b", f"{DUPLICATE_ID}{ALT}"), citations=61,
    ),
    Study(
        id="Dl2e", slug="discoid-lupus-erythematosus-of-the-scalp",
        title="Discoid Lupus Erythematosus of the Scalp: Clinical Features in 50 Patients",
        published="1999-05", journal="", authors=(),
        tldr="Early treatment of scalp discoid lupus can prevent permanent hair loss.",
        summary=None, source_url=None, lastmod="2024-05-30", topics=(SCAR,),
        related=("Tr3x", "Lp8h"), citations=None, image=False,
    ),
    Study(
        id="Fm9k", slug="frontal-fibrosing-alopecia-in-men",
        title="Frontal Fibrosing Alopecia in Men: An Observational Study of 45 Patients",
        published="2016-08", journal="Journal of the American Academy of Dermatology",
        authors=("Sergio Vañó‐Galván", "Ana Rodrigues‐Barata", "David Saceda‐Corralo"),
        tldr="Frontal fibrosing alopecia in men often involves the beard and sideburns.",
        summary="In 2016, 45 men with frontal fibrosing alopecia were described. Sideburn loss "
        "and facial papules were frequent, and many used aftershave or facial sunscreen.",
        source_url="https://doi.org/10.1016/j.jaad.2016.03.010", lastmod="2025-06-18",
        template="reader",
        topics=(SCAR,), related=("Ff2s", "Ff5d"), community=("b8k1vz",), citations=47,
    ),
    # Natural and other treatments --------------------------------------------------------
    Study(
        id="Ml5t", slug="topical-melatonin-for-treatment-of-androgenetic-alopecia",
        title="Topical Melatonin for Treatment of Androgenetic Alopecia",
        published="2004-04", journal="British Journal of Dermatology",
        authors=("Tobias W. Fischer", "Ralph M. Trüeb", "Gabriele Hänggi", "Marco Innocenti",
                 "Peter Elsner"),
        tldr="Melatonin solution increased anagen hair in women with hair loss.",
        summary="In 2004, 40 women applied melatonin solution or placebo for six months. "
        "Anagen hair increased in the occipital area of those with androgenetic alopecia.",
        source_url="https://doi.org/10.1111/j.1365-2133.2004.05835.x", lastmod="2024-10-03",
        topics=(NAT,), cited=(DEAD_LINK_ID,), related=("Vd2a", "Cf9e"), citations=57,
    ),
    Study(
        id="Cp3i", slug="capsaicin-and-isoflavone-increase-igf-1-and-hair-growth",
        title="Administration of Capsaicin and Isoflavone Promotes Hair Growth by Increasing "
        "Insulin-Like Growth Factor-I Production in Mice and in Humans With Alopecia",
        published="2007-10", journal="Growth Hormone & IGF Research",
        authors=("Kenji Harada", "Naoaki Harada", "Kenichi Okajima"),
        tldr="Capsaicin with isoflavone increased IGF-1 and hair growth.",
        summary="In 2007, 48 volunteers with alopecia took capsaicin and isoflavone or placebo "
        "for five months. Hair growth was seen in 64% of the treated group against 11% "
        "with placebo.",
        source_url="https://doi.org/10.1016/j.ghir.2007.04.009", lastmod="2024-07-25",
        template="flat", topics=(NAT,), related=("Pk1n", "Gt4e"), citations=44,
    ),
    Study(
        id="Bi7o", slug="inhibition-of-human-hair-follicle-growth-by-endocannabinoids",
        title="Inhibition of Human Hair Follicle Growth by Endo- and Exocannabinoids",
        published="2007-11", journal="The FASEB Journal",
        authors=("Attila Telek", BIRO, "Ralf Paus"),
        tldr="Cannabinoids inhibited hair shaft growth in cultured follicles.",
        summary="In 2007, endocannabinoids and THC inhibited hair shaft elongation and induced "
        "catagen in cultured human hair follicles through the CB1 receptor.",
        source_url="https://doi.org/10.1096/fj.07-8290com", lastmod="2024-08-12",
        template="react",
        topics=(NAT,), related=("Gt4e", "Ph7l"), citations=118,
    ),
    Study(
        id="Gt4e", slug="egcg-from-green-tea-promotes-human-hair-growth",
        title="Human Hair Growth Enhancement in Vitro by Green Tea Epigallocatechin-3-Gallate",
        published="2007-01", journal="Phytomedicine",
        authors=("Oh Sang Kwon", "Ji Hyun Han", "Hyeon Gyeong Yoo", "Jin Ho Chung",
                 "Kwang Hyun Cho", "Hee Chul Eun", "Kyu Han Kim"),
        tldr="EGCG from green tea stimulated hair growth in cultured follicles.",
        summary="In 2007, epigallocatechin-3-gallate prolonged hair growth in cultured human "
        "follicles and protected dermal papilla cells from apoptosis.",
        source_url="https://doi.org/10.1016/j.phymed.2006.10.005", lastmod="2024-06-03",
        template="table",
        topics=(NAT,), related=("Bi7o", "Ph7l", "Cp3i"), citations=102,
    ),
    Study(
        id="Ph7l", slug="7-phloroeckol-from-brown-algae-promotes-hair-growth",
        title="Hair Growth-Promoting Effect of 7-Phloroeckol From the Brown Alga Ecklonia "
        "cava",
        published="2014-05", journal="Naunyn-Schmiedeberg's Archives of Pharmacology",
        authors=("Kyung Bae", "Sung Nam Kim", "Chang Hee Lee"),
        tldr="7-Phloroeckol from brown algae may help hair grow.",
        summary="In 2014, 7-phloroeckol increased the proliferation of dermal papilla cells and "
        "hair fibre length in cultured follicles, partly through IGF-1.",
        source_url="https://doi.org/10.1007/s00210-014-0968-9", lastmod="2024-09-09",
        topics=(NAT,), related=("Gt4e", "Bi7o"), citations=17,
        variant={"related_total": None},
    ),
)

# --- Threads -----------------------------------------------------------------------------
THREADS: tuple[Thread, ...] = (
    Thread(
        post_id=FOOTER_THREAD_ID, slug="finasteride-week-one", title="Finasteride week one",
        category="Treatment", author="hairhopeful", created="2024-09-14T10:02:33Z", score=12,
        body="Took my first 1mg pill on Monday. Slight headache day 2, otherwise nothing.\n\n"
        "What should I expect in the first month?",
        summary="A user asks what to expect during the first week.", hosted="site",
        template="flat",
        comments=(
            C("lq3b0a1", "big3_ben", 9, 35, "Nothing visible for 3-6 months. Take photos now.",
              C("lq3b1b2", "hairhopeful", 4, 70, "Will do, thanks."),
              C("lq3b2c3", "pharm_phil", 6, 95, "Some people shed around month 1, don't panic.")),
            C("lq3b3d4", "AutoModerator", 1, 0, "Please read the wiki before posting.",
              stickied=True, distinguished="moderator"),
        ),
    ),
    Thread(
        post_id="k3j9xz", slug="oral-minoxidil-25mg-6-month-update-pics",
        title="Oral minoxidil 2.5mg — 6 month update (pics)", category="Treatment",
        author="thinning_at_27", created="2023-02-11T14:32:10Z", score=412,
        body="Started 2.5mg oral minox in August after topical wrecked my scalp. Crown is "
        "visibly denser, temples about the same. Some shedding in month 2, resting HR went "
        "from 64 to 71. Happy to answer questions.",
        summary="A user reports visible crown regrowth after six months of 2.5 mg oral "
        "minoxidil, with an early shed and a slightly higher resting heart rate.",
        hosted="site",
        comments=(
            C("j8fk2a1", "hairpiece_harold", 58, 12, "Crown looks great man. Any body hair?",
              C("j8fk9c3", "thinning_at_27", 31, 40, "Forearms got darker, nothing crazy.",
                C("j8fmm01", "hairpiece_harold", 12, 65, "Same for me on 1.25mg.",
                  C("j8fq7z2", "derm_curious", 6, 120,
                    "Body hair usually plateaus around month 4 on low doses.",
                    C("j8fr0b8", "thinning_at_27", 3, 150, "Good to know, thanks!"))))),
            C("j8fl1d4", None, 4, 20, "[deleted]",
              C("j8fn4e5", "minox_mike", 9, 35,
                "Whoever deleted that: no, you don't need a beta blocker at 2.5mg.")),
            C("j8fo6x7", "AutoModerator", 1, 1,
              "Reminder: discuss dose changes with a doctor.", stickied=True,
              distinguished="moderator"),
            More("j8fz9k1", 4, ("j8fz9k1", "j8fz9k2", "j8fz9k3", "j8fz9k4")),
        ),
    ),
    Thread(
        post_id="m8c2pq", slug="alopecia-areata-question", title="Alopecia Areata Question",
        category="Treatment", author="patchy_in_ohio", created="2021-08-03T02:14:55Z", score=2,
        body="I have alopecia totalis, almost universalis. Steroid shots did nothing. Is it "
        "worth asking about JAK inhibitors or is that still experimental?",
        summary="A user with alopecia totalis, borderline universalis, seeks advice on "
        "treatments after steroid injections failed.",
        hosted="site",
        comments=(
            C("h7q1ab2", "aa_warrior", 5, 30,
              "Ask about baricitinib, it got approved for severe AA. Insurance is the hard part.",
              C("h7q3cd4", "patchy_in_ohio", 2, 95, "Thanks, I'll bring it up.")),
            C("h7q5ef6", "no_more_hats", 3, 240,
              "Tofacitinib worked for me off label after DPCP failed.", edited=True),
        ),
    ),
    Thread(
        post_id="t5v7wa", slug="dutasteride-mesotherapy-experiences",
        title="Dutasteride mesotherapy experiences?", category="Treatment",
        author="spain_hairline", created="2022-05-19T09:05:00Z", score=57,
        body="My derm in Madrid offers dutasteride mesotherapy every 3 months. Anyone done it? "
        "Does it hurt and did you notice anything?",
        summary="Users share experiences with scalp dutasteride injections every three months.",
        hosted="site", template="flat",
        comments=(
            C("i2m0aa1", "meso_guy", 22, 50, "4 sessions in. Stings for a minute, hairline held.",
              C("i2m1bb2", "spain_hairline", 8, 90, "Any sides?",
                C("i2m2cc3", "meso_guy", 7, 130, "None I noticed."))),
            C("i2m3dd4", "skeptic_sam", -3, 200, "Just take the pill, it's 10x cheaper."),
        ),
    ),
    Thread(
        post_id="p0q4rd", slug="finally-shaved-it-best-decision-ever",
        title="Finally shaved it. Best decision ever!!!", category="Shaved/buzzed",
        author="buzzed_bob", created="2017-09-30T18:45:12Z", score=934,
        body="Spent 3 years on every treatment. Took the clippers to it last night. I feel free.",
        summary="A user celebrates shaving his head after years of treatments.", hosted="site",
        template="flat",
        comments=(
            C("dn4x0a1", "cleanhead", 301, 15, "Welcome to the club, looks great."),
            C("dn4x1b2", "norwood7", 120, 22, "Head shape lottery winner right here.",
              C("dn4x2c3", "buzzed_bob", 40, 60, "Haha thanks!")),
        ),
    ),
    Thread(
        post_id="f2n6ue", slug="f24-diffuse-thinning-spiro-or-oral-minox",
        title="F24 — diffuse thinning, spiro or oral minox?", category="Female",
        author="curls_and_worries", created="2024-01-07T21:10:40Z", score=31,
        body="Diagnosed with FPHL last month. Derm offered spironolactone 100mg or oral minoxidil "
        "1.25mg. Which did you start with and why?",
        summary="A 24-year-old woman with female pattern hair loss asks whether to start "
        "spironolactone or oral minoxidil.",
        hosted="site",
        comments=(
            C("kf9a1b2", "ladylocks", 14, 45, "Both! Spiro stopped my shedding, minox regrew.",
              C("kf9b3c4", "curls_and_worries", 4, 80, "Did spiro mess with your cycle?",
                C("kf9c5d6", "ladylocks", 5, 110, "A bit for 2 months then it settled.",
                  C("kf9d7e8", "curls_and_worries", 2, 150, "Ok that's reassuring.")))),
        ),
    ),
    Thread(
        post_id="r9w1ys", slug="new-jak-inhibitor-data-for-aa-looks-insane",
        title="New JAK inhibitor data for AA looks insane", category="Research/Science",
        author="lab_rat_lou", created="2023-06-21T12:00:00Z", score=268,
        body="Ritlecitinib phase 3 is out in the Lancet and deuruxolitinib is coming. "
        "Full regrowth in a quarter of patients at 24 weeks.",
        summary="Users discuss phase 3 results of JAK inhibitors for alopecia areata.",
        hosted="site",
        comments=(
            C("jp2a0x1", "aa_warrior", 88, 20, "This is the first time I feel hopeful.",
              C("jp2b1y2", "lab_rat_lou", 40, 35, "Same. Relapse after stopping is the catch.",
                C("jp2c2z3", "skeptic_sam", 12, 70, "Lifelong immunosuppression for hair?",
                  C("jp2d3w4", "aa_warrior", 30, 95,
                    "For AA universalis it's not 'just hair'.",
                    C("jp2e4v5", "skeptic_sam", 15, 130, "Fair point."))))),
            C("jp2f5u6", None, 1, 300, "[removed]"),
        ),
    ),
    Thread(
        post_id="j4h8ko", slug="is_topical_finasteride_actually_safer_a_look_at_the",
        title="Is topical finasteride actually safer? A look at the phase III data",
        category="Research", author="evidence_pls", created="2022-10-02T16:20:00Z", score=189,
        body="The phase III spray trial measured serum DHT: about 35% reduction vs ~70% for the "
        "pill. Lower, not zero.",
        summary="A user reviews serum DHT data from the topical finasteride trial.",
        hosted="reddit",
        comments=(
            C("it0k1aa", "pharm_phil", 64, 25, "Dose matters a lot with topicals.",
              C("it0k2bb", "evidence_pls", 20, 60, "Yes, most people overapply."),
              C("it0k3cc", "worried_wes", 7, 75, "Does it still cause the sides though?",
                C("it0k4dd", "pharm_phil", 11, 100, "Less likely, not impossible."))),
        ),
    ),
    Thread(
        post_id="x7b3nd", slug="ketoconazole_shampoo_placebo_or_legit",
        title="Ketoconazole shampoo: placebo or legit?", category="Treatment",
        author="nizoral_ned", created="2020-04-15T07:55:30Z", score=1,
        body="Everyone says add nizoral to the big 3. Is there any real evidence?",
        summary=None, hosted="reddit",
        comments=(
            C("fny0aa1", "shampoo_sci", 3, 40, "Modest evidence, cheap and low risk."),
        ),
    ),
    Thread(
        post_id="c6z9lm", slug="pumpkin_seed_oil_and_rosemary_oil_what_does_the",
        title="Pumpkin seed oil and rosemary oil — what does the research actually say",
        category=None, author="herbal_hank", created="2019-12-01T11:11:11Z", score=74,
        body="", summary="A user links the pumpkin seed oil trial and asks about natural "
        "treatments.", hosted="reddit", link_url="https://doi.org/10.1155/2014/549721",
        comments=(
            C("f9x1aa1", "evidence_pls", 30, 30,
              "Small trials, short follow-up. Not a replacement for finasteride.",
              C("f9x2bb2", "herbal_hank", 8, 55, "Sure, but as an add-on?",
                C("f9x3cc3", "evidence_pls", 10, 80, "As an add-on, why not."))),
        ),
    ),
    Thread(
        post_id="w2e5rt", slug="fuck_this_22_and_nw3_already",
        title="FUCK THIS. 22 AND NW3 ALREADY???", category="Chat", author="angry_at_22",
        created="2025-03-09T23:59:59Z", score=1234,
        body="Dad has a full head of hair at 60. I'm 22 and my temples are gone. What the hell.",
        summary="A frustrated 22-year-old vents about early temple recession.", hosted="reddit",
        edited=True,
        comments=(
            C("mh1a0a1", "big3_ben", 402, 10, "Start finasteride now, it's about keeping what "
              "you have.",
              C("mh1b1b2", "angry_at_22", 120, 25, "Scared of the sides tbh.",
                C("mh1c2c3", "pharm_phil", 88, 40, "Most men have none. Topical is an option.",
                  C("mh1d3d4", "angry_at_22", 45, 70, "Ok booking a derm appointment."))),
              More("mh1z9z9", 17, ("mh1z9z9", "mh1z9z8", "mh1z9z7"))),
            C("mh1e4e5", None, 0, 33, "[removed]"),
            C("mh1f5f6", None, 7, 50, "[deleted]"),
            More("mh1y8y8", 212, ("mh1y8y8", "mh1y8y7", "mh1y8y6", "mh1y8y5")),
        ),
    ),
    Thread(
        post_id="b8k1vz", slug="frontal_fibrosing_alopecia_at_45_derm_wants_to",
        title="Frontal fibrosing alopecia at 45, derm wants to start dutasteride",
        category="Female", author="brows_gone", created="2024-07-22T08:30:00Z", score=16,
        body="Lost half my eyebrows and the hairline is creeping back. Derm says dutasteride "
        "0.5mg and stop facial sunscreen. Anyone with FFA tried this?",
        summary="A woman with frontal fibrosing alopecia asks about dutasteride.",
        hosted="reddit",
        comments=(
            C("lf0a1a1", "ffa_sister", 6, 120, "Dutasteride stopped my progression in a year.",
              C("lf0b2b2", "brows_gone", 3, 180, "Did your brows come back?",
                C("lf0c3c3", "ffa_sister", 4, 240, "Partially, with minoxidil on them."))),
        ),
    ),
    Thread(
        post_id="h3u6yp", slug="prp_3_sessions_in_is_it_worth_2k",
        title="PRP — 3 sessions in, is it worth $2k?", category="Treatment",
        author="needle_ned", created="2021-11-28T19:19:19Z", score=88,
        body="Did 3 PRP sessions a month apart. Hard to tell any difference. Should I keep going?",
        summary="A user doubts the value of platelet-rich plasma after three sessions.",
        hosted="reddit",
        comments=(
            C("hmw0aa1", "prp_paula", 25, 60, "Results show around month 6, not before."),
            C("hmw1bb2", "skeptic_sam", 19, 90, "Microneedling at home gets you most of it.",
              C("hmw2cc3", "needle_ned", 5, 130, "Dermaroller or pen?",
                C("hmw3dd4", "skeptic_sam", 4, 170, "Pen, 1.5mm, once a week."))),
        ),
    ),
)

# Busy threads, generated (hundreds of comments, nested past a page's depth).
from tests.support.sitegen.thread_trees import BUSY_THREADS  # noqa: E402 (it builds on the classes above)

THREADS = THREADS + BUSY_THREADS
