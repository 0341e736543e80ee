"""The discussion handout: what it holds, what it hides, and that case text can never become markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moresprudentie import handout
from moresprudentie.cases.model import Case, vocabulary

SCRIPT = "<script>alert(1)</script>"


def make_case(**fields: object) -> Case:
    data: dict[str, object] = {
        "id": "geschenk-met-script",
        "title": f"Een geschenk {SCRIPT}",
        "language": "nl",
        "date": "2024-03",
        "organisation": "gemeente",
        "method": "socratisch-gesprek",
        "duration_minutes": 60,
        "themes": ["geschenken"],
        "values": ["onpartijdigheid", "menselijkheid"],
        "situation": f"Een burger brengt een taart.\n\nTweede alinea met [link](javascript:alert(1)) en {SCRIPT}.",
        "dilemma": "Moet ik de taart aannemen of weigeren?",
        "options": ["Aannemen.", "Weigeren."],
        "judgement": "GEHEIM-OORDEEL: weigeren, vriendelijk.",
        "reasoning": "GEHEIME-AFWEGING: onpartijdigheid woog zwaarder.",
        "dissent": "GEHEIME-MINDERHEID: aannemen en delen.",
        "discussion_questions": ["Wat doet een geschenk met je onpartijdigheid?"],
        "variations": ["Maar wat als de aanvraag nog loopt?"],
    }
    data.update(fields)
    return Case.model_validate(data)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(document: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(document)
    return parser.tags


def plain(markdown: str) -> str:
    """Markdown with its backslash escapes removed (what a reader sees)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def test_outcome_is_left_out_unless_asked() -> None:
    case = make_case()
    hidden = handout.build(case)
    for text in (handout.to_markdown(hidden), handout.to_html(hidden)):
        assert "GEHEIM" not in text
        assert "Tweede alinea" in text and "Maar wat als de aanvraag nog loopt" in text
    shown = handout.build(case, include_outcome=True)
    for text in (handout.to_markdown(shown), handout.to_html(shown)):
        assert "GEHEIM-OORDEEL" in text and "GEHEIME-AFWEGING" in text and "GEHEIME-MINDERHEID" in text


def test_method_steps_follow_the_chosen_method() -> None:
    case = make_case()
    own = plain(handout.to_markdown(handout.build(case)))
    assert "Werkwijze: Socratisch gesprek" in own
    assert "Het kritieke moment" in own
    other = plain(handout.to_markdown(handout.build(case, method="dilemmamethode")))
    assert "Werkwijze: Dilemmamethode" in other and "Het kritieke moment" not in other
    general = plain(handout.to_markdown(handout.build(make_case(method=None))))
    assert "algemene gespreksopbouw" in general


def test_every_vocabulary_method_has_steps_in_both_languages() -> None:
    default_nl = handout.method_steps(None, "nl")
    for method in vocabulary()["methods"]:
        nl, en = handout.method_steps(method, "nl"), handout.method_steps(method, "en")
        assert nl != default_nl, f"handout.yaml: add steps for {method}"
        assert len(nl) == len(en) >= 4, method
    assert handout.method_steps("onbekende-methode", "en") == handout.method_steps(None, "en")


def test_english_handout() -> None:
    text = plain(handout.to_markdown(handout.build(make_case(), language="en")))
    assert "## Situation" in text and "Approach: Socratic dialogue" in text and "60 minutes" in text
    assert "Impartiality" in text


def test_html_is_escaped_printable_and_without_links_or_scripts() -> None:
    document = handout.to_html(handout.build(make_case(), include_outcome=True))
    names = {tag for tag, _ in tags_of(document)}
    assert names <= {"html", "head", "meta", "title", "style", "body", "p", "h1", "h2", "ul", "ol", "li", "br"} | {
        "strong",
        "div",
        "footer",
    }
    assert html.escape(SCRIPT) in document
    assert "default-src 'none'" in document  # even a browser bug could not load anything
    assert "@page" in document and "@media print" in document


_ALLOWED_MD_TAGS = {"p", "h1", "h2", "ul", "ol", "li", "em", "strong", "hr", "br"}


@pytest.fixture(scope="module")
def markdown_renderer():
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def test_markdown_renders_case_text_as_text(markdown_renderer) -> None:
    rendered = markdown_renderer.render(handout.to_markdown(handout.build(make_case(), include_outcome=True)))
    assert {tag for tag, _ in tags_of(rendered)} <= _ALLOWED_MD_TAGS
    assert html.escape(SCRIPT, quote=False) in rendered
    assert "[link](javascript:alert(1))" in html.unescape(rendered)


_PIECES = [*"ab 1.-*_`#<>[]()!:/\\&;'\"|~$=+{}^@\n", "www.", "http://", "javascript:", "<a href=", "&lt;", "    "]
_MARKUP_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MARKUP_TEXT)
def test_escaped_markdown_is_always_inert_and_faithful(markdown_renderer, text: str) -> None:
    rendered = markdown_renderer.render(handout.escape_markdown(text))
    assert {tag for tag, _ in tags_of(rendered)} <= {"p", "br"}
    shown = re.sub(r"<[^>]+>", " ", rendered)
    assert " ".join(html.unescape(shown).split()) == " ".join(text.split())


def test_autolink_bait_is_broken() -> None:
    assert handout.escape_markdown("zie www.voorbeeld.nl") == r"zie www\.voorbeeld.nl"
    assert handout.escape_markdown("mail a@b.nl of https://x.nl") == r"mail a\@b.nl of https\://x.nl"
