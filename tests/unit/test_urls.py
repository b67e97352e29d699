"""URL rules: the shortcut for plain links must give what ``urllib.parse.urlsplit`` gives."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tressless_crawler import urls

# Characters that steer urlsplit (scheme, netloc, query, fragment, brackets, blanks it strips
# or removes, controls), beside ordinary ones.
ALPHABET = st.sampled_from(list("/:?#[]@.-_%~ \t\r\n\x00\x1fahHpPsStT0123456789é\u00a0"))
PREFIXES = st.sampled_from(
    ["", "/", "//", "http://", "https://", "HTTPS://", "http:/", "https:", " /", "\t/", "mailto:"]
)


def _expected(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


@settings(max_examples=2000, deadline=None)
@given(PREFIXES, st.text(ALPHABET, max_size=40))
def test_path_is_what_urlsplit_finds(prefix: str, rest: str) -> None:
    url = prefix + rest
    assert urls._path(url) == _expected(url)


@pytest.mark.parametrize(
    "url",
    [
        "/research/alopecia-induced-by-sorafenib-ZpoR",
        "/research/alopecia-induced-by-sorafenib-ZpoR/",
        "https://tressless.com/research/x-ZpoR",
        "http://127.0.0.1:8000/research/x-ZpoR",
        "https://tressless.com",
        "https://tressless.com/research/x-ZpoR?ref=1#top",
        "//tressless.com/research/x-ZpoR",
        "http://[::1]/research/x-ZpoR",
        "http://[/research/x-ZpoR",
        "/research/x-Zp oR",
        "/research/x-\tZpoR",
    ],
)
def test_ids_of_usual_and_odd_links(url: str) -> None:
    assert urls._path(url) == _expected(url)
    match = urls.STUDY_PATH_RE.match(_expected(url))
    assert urls.study_id_from_url(url) == (match.group("id") if match else None)
