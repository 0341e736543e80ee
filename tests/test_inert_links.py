"""Bare URLs and e-mail addresses in case text show as text in the app, never as live links.

Streamlit renders Markdown with remark-gfm, whose autolink-literal pass looks for URLs and e-mail
addresses inside each text node of the parsed tree, after backslash escapes are resolved. So these
tests parse the app's Markdown the way that pass sees it (escapes resolved, a text directive such
as `:color[…]` starting a node of its own) and run its two patterns over every node. The patterns
are taken from mdast-util-gfm-autolink-literal, without its extra context checks, so they flag
more than the browser would. tests/e2e/test_browser.py checks the same in a real browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import write_case
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from moresprudentie.handout import escape_markdown
from moresprudentie.ui.components import nav, widgets

# mdast-util-gfm-autolink-literal's find-and-replace patterns (JavaScript's \w is ASCII).
_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)
_TOKEN = re.compile(r"\\([!-/:-@\[-`{-~])|(:[a-zA-Z][\w-]*\[)|(\])|(.)", re.DOTALL)

URLS = ["https://voorbeeld.nl/pad?x=1", "http://WWW.Voorbeeld.NL", "www.voorbeeld.nl", "jan.de-vries+a@voorbeeld.nl"]
TEXT = "Zie " + ", ".join(URLS) + " en mail naar info@gemeente.example.nl: klaar."


def text_nodes(markdown: str) -> list[str]:
    """The text nodes of inline Markdown as the autolink pass sees them (escapes resolved)."""
    nodes, current = [], []
    for escaped, directive, close, char in _TOKEN.findall(markdown):
        if directive or close:
            nodes.append("".join(current))
            current = []
        else:
            current.append(escaped or char)
    return [*nodes, "".join(current)]


def autolinks(markdown: str) -> list[str]:
    """Every piece of `markdown` that remark-gfm could turn into a link."""
    return [m.group() for node in text_nodes(markdown) for pattern in (_URL, _EMAIL) for m in pattern.finditer(node)]


def shown(markdown: str) -> str:
    return "".join(text_nodes(markdown))


def test_escaping_alone_still_leaves_links() -> None:
    """Why inert_links exists, and proof that the check above can see a link at all."""
    escaped = escape_markdown(TEXT)
    assert r"https\://" in escaped and r"\@" in escaped  # escaped, yet:
    assert len(autolinks(escaped)) == len(URLS) + 1


@pytest.mark.parametrize("to_markdown", [widgets.md, widgets.md_inline])
def test_case_text_has_no_autolinks_and_reads_the_same(to_markdown) -> None:
    markdown = to_markdown(TEXT)
    assert autolinks(markdown) == []
    assert shown(markdown) == TEXT
    assert widgets.inert_links(markdown) == markdown  # a second pass changes nothing


def test_links_stay_inert_inside_a_coloured_directive() -> None:
    """Pages wrap case text in `:orange[…]` or a highlight; a link must not come back there."""
    markdown = f":orange-background[{widgets.md_inline(TEXT)}]"
    assert autolinks(markdown) == []
    assert shown(markdown) == TEXT


def test_search_excerpt_has_no_autolinks() -> None:
    """The excerpt escapes word by word, so 'www' and its '.' only meet in the finished string."""
    text = "Een geschenk, zie www.voorbeeld.nl of https://voorbeeld.nl en mail jan@voorbeeld.nl."
    markdown = widgets.excerpt(text, "geschenk", "nl")
    assert ":orange-background[geschenk]" in markdown
    assert autolinks(markdown) == []
    assert shown(markdown).replace("geschenk", "", 1).endswith("jan@voorbeeld.nl.")


def test_escaped_backslashes_do_not_confuse_the_pass() -> None:
    for text in ("C:\\\\www.x.nl", "a\\@b.nl", "\\https://x.nl", "www\\.x.nl"):
        markdown = widgets.md(text)
        assert autolinks(markdown) == [], text
        assert shown(markdown) == text


_PIECES = [*"ab1 .-:/\\@[]+_", "www", "WWW.", "http://", "https://", "x.nl", "@b.nl", ":color[", "\\@"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_no_text_ever_autolinks(text: str) -> None:
    markdown = widgets.md_inline(text)
    assert autolinks(markdown) == []
    assert shown(markdown) == " ".join(text.split())


# -- in the app ------------------------------------------------------------------------------------


def _markdown_shown(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error")
    return [str(e.value) for kind in kinds for e in at.get(kind)] + [e.proto.label for e in at.get("page_link")]


@pytest.fixture
def link_cases(tmp_path: Path) -> Path:
    folder = tmp_path / "link-cases"
    write_case(
        folder,
        "links-in-de-tekst",
        title="Een geschenk via www.voorbeeld.nl",
        themes=["geschenken"],
        values=["transparantie"],
        situation=f"Een leverancier stuurt een geschenk. {TEXT}",
        dilemma="Moet ik het geschenk melden bij integriteit@gemeente.example.nl?",
        judgement="Melden via https://intranet.example.nl/melden.",
        lessons=["Kijk op www.voorbeeld.nl/regels."],
    )
    return folder


def test_case_page_shows_urls_as_text(open_app, link_cases: Path) -> None:
    at = open_app(link_cases, nav.CASE, lambda at: at.query_params.update(case="links-in-de-tekst"))
    pieces = _markdown_shown(at)
    assert any(TEXT in shown(piece) for piece in pieces)
    assert [link for piece in pieces for link in autolinks(piece)] == []


def test_search_results_show_urls_as_text(open_app, link_cases: Path) -> None:
    at = open_app(link_cases)
    at.text_area[0].input("Een leverancier stuurt mij een geschenk")
    at.button[0].click().run()
    assert not at.exception
    pieces = _markdown_shown(at)
    assert any("www.voorbeeld.nl" in shown(piece) for piece in pieces)
    assert [link for piece in pieces for link in autolinks(piece)] == []
