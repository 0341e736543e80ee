"""The discussion handout: what it holds, what it hides, and that case text can never become markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moresprudentie import dates, handout
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
    assert "Methode: Socratisch gesprek" in own
    assert "Het kritieke moment" in own
    other = plain(handout.to_markdown(handout.build(case, method="dilemmamethode")))
    assert "Methode: Dilemmamethode" in other and "Het kritieke moment" not in other
    general = plain(handout.to_markdown(handout.build(make_case(method=None))))
    assert "algemene gespreksopbouw" in general


def test_the_heading_names_the_method_of_the_handout_and_the_month_in_words() -> None:
    """A leader who picks another method gets one method on the page, not the original one above it."""
    case = make_case(date="2025-08")
    other = handout.build(case, method="dilemmamethode")
    assert other.meta.split(" · ")[1:3] == ["augustus 2025", "Dilemmamethode"]
    assert "Socratisch gesprek" not in handout.to_html(other)
    assert handout.build(case, language="en").meta.split(" · ")[1:3] == ["August 2025", "Socratic dialogue"]


def test_the_duration_is_the_original_sessions_and_only_beside_its_own_method() -> None:
    """'Socratisch gesprek · 60 minuten' read as a Socratic dialogue planned for an hour, while the hour
    was the original group's: the handout says whose duration it is, and drops it beside another method."""
    case = make_case(method="dilemmamethode", duration_minutes=60)
    assert handout.build(case).meta.endswith("Dilemmamethode · oorspronkelijk beraad: 60 minuten")
    assert handout.build(case, language="en").meta.endswith("Dilemma method · original session: 60 minutes")
    other = handout.build(case, method="socratisch-gesprek")
    assert other.meta.endswith("Socratisch gesprek")
    for text in (handout.to_markdown(other), handout.to_html(other)):
        assert "60 minuten" not in text and "oorspronkelijk beraad" not in text
    general = handout.build(make_case(method=None, duration_minutes=45))  # the case has no method: still its own
    assert general.meta.endswith("oorspronkelijk beraad: 45 minuten")


def test_the_source_names_the_case_by_its_title_not_its_id() -> None:
    """'Casus bestelbus-voor-verhuizing' is the app's word; a reader finds a case again by its title."""
    case = make_case(title="Een taart aan de balie")
    for language, source in [
        ("nl", "Bron: moresprudentie, casus “Een taart aan de balie”"),
        ("en", "Source: moresprudentie, case “Een taart aan de balie”"),
    ]:
        sheet = handout.build(case, language=language, include_outcome=True)
        markdown, page = handout.to_markdown(sheet), handout.to_html(sheet)
        assert source in plain(markdown) and source in html.unescape(re.sub(r"<[^>]+>", "", page))
        assert case.id not in markdown and case.id not in page
    english = handout.to_html(handout.build(case, language="en"))
    assert 'case “<span lang="nl">Een taart aan de balie</span>”' in english  # the Dutch title, read as Dutch


def test_short_lists_are_kept_whole_in_print_and_long_ones_may_break() -> None:
    """Up to SHORT_LIST items a list (and a source's norms with its name) stays on one page; a longer
    list may break, or it would push a half-empty page before it. tests/e2e/test_print.py prints it."""
    case = make_case(
        method="dilemmamethode",  # seven steps
        stakeholders=[f"betrokkene {n}" for n in range(handout.SHORT_LIST)],
        variations=[f"Maar wat als {n}?" for n in range(handout.SHORT_LIST + 1)],
        norms=[{"text": "NORM-ORGANISATIE", "source": "organisatorisch"}],
    )
    page = handout.to_html(handout.build(case))
    assert '<h2>Betrokkenen</h2><ul class="keep">' in page and '<h2>Mogelijke keuzes</h2><ul class="keep">' in page
    assert '<div class="keep"><p><strong>Organisatorisch</strong></p><ul>' in page
    assert "<h2>Maar wat als …?</h2><ul>" in page and "<h2>Methode: Dilemmamethode</h2><ol>" in page
    assert ".keep { break-inside: avoid; }" in page


@pytest.mark.parametrize(
    ("date", "nl", "en"),
    [("2024", "2024", "2024"), ("2024-03", "maart 2024", "March 2024"), ("2024-03-04", "4 maart 2024", "4 March 2024")],
)
def test_a_period_reads_as_people_write_it(date: str, nl: str, en: str) -> None:
    assert (dates.period(date, "nl"), dates.period(date, "en")) == (nl, en)


def test_the_outcome_comes_after_the_notes_in_a_part_of_its_own() -> None:
    document = handout.to_html(handout.build(make_case(), include_outcome=True))
    notes, outcome = document.index("Aantekeningen"), document.index('<div class="outcome">')
    assert notes < outcome < document.index("GEHEIM-OORDEEL")
    assert '<div class="outcome">' not in handout.to_html(handout.build(make_case()))


def test_every_vocabulary_method_has_steps_in_both_languages() -> None:
    default_nl = handout.method_steps(None, "nl")
    for method in vocabulary()["methods"]:
        nl, en = handout.method_steps(method, "nl"), handout.method_steps(method, "en")
        assert nl != default_nl, f"handout.yaml: add steps for {method}"
        assert len(nl) == len(en) >= 4, method
    assert handout.method_steps("onbekende-methode", "en") == handout.method_steps(None, "en")


def test_english_handout() -> None:
    text = plain(handout.to_markdown(handout.build(make_case(), language="en")))
    assert "## Situation" in text and "Method: Socratic dialogue" in text and "60 minutes" in text
    assert "Impartiality" in text


def test_an_english_handout_of_a_dutch_case_marks_the_case_text_as_dutch() -> None:
    """A screen reader (and a browser's translate or hyphenation) reads each text in its language:
    the case's own words in Dutch, the handout's headings and the method's steps in English."""
    case = make_case(tensions=[{"between": ["onpartijdigheid", "menselijkheid"], "prevailed": "onpartijdigheid"}])
    english = tags_of(handout.to_html(handout.build(case, language="en", include_outcome=True)))
    assert english[0] == ("html", {"lang": "en"})
    assert ("h1", {"lang": "nl"}) in english and ("span", {"lang": "nl"}) in english  # the debrief's lead too
    marked = [tag for tag, attrs in english if attrs.get("lang") == "nl"]
    assert marked.count("p") >= 6  # situation (two paragraphs), dilemma, judgement, reasoning, dissent
    assert {"ul"} <= set(marked) and "ol" not in marked  # options and questions; not the method's steps
    dutch = tags_of(handout.to_html(handout.build(case, language="nl", include_outcome=True)))
    assert [attrs["lang"] for _, attrs in dutch if "lang" in attrs] == ["nl"]  # the document's own, once


def test_html_is_escaped_printable_and_without_links_or_scripts() -> None:
    document = handout.to_html(handout.build(make_case(), include_outcome=True))
    names = {tag for tag, _ in tags_of(document)}
    assert names <= {"html", "head", "meta", "title", "style", "body", "p", "h1", "h2", "ul", "ol", "li", "br"} | {
        "strong",
        "div",
        "span",
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


# -- the force field ----------------------------------------------------------------------------

FORCE_FIELD = {
    "role": "leidinggevende",
    "values": ["onpartijdigheid", "menselijkheid", "loyaliteit", "transparantie"],
    "tensions": [
        {"between": ["onpartijdigheid", "menselijkheid"], "prevailed": "onpartijdigheid"},
        {"between": ["loyaliteit", "transparantie"], "prevailed": "balanced"},
    ],
    "norms": [
        {"text": "NORM-PERSOONLIJK: ik wil de aanvrager niet kwetsen", "source": "persoonlijk"},
        {"text": f"NORM-ORGANISATIE: gedragscode artikel 4 {SCRIPT}", "source": "organisatorisch"},
        {"text": "NORM-MAATSCHAPPIJ: burgers verwachten onpartijdigheid", "source": "maatschappelijk"},
        {"text": "NORM-BEROEP: de vergunningverlener blijft op afstand", "source": "professioneel"},
        "NORM-ZONDER-BRON: een oude norm",
    ],
    "decisive_facts": ["FEIT: de aanvraag liep nog."],
    "lessons": ["LES: weiger vriendelijk en leg het uit."],
}
SOURCES_IN_ORDER = ["Maatschappelijk", "Organisatorisch", "Professioneel", "Persoonlijk", "Bron niet vastgelegd"]
NORMS_IN_ORDER = ["NORM-MAATSCHAPPIJ", "NORM-ORGANISATIE", "NORM-BEROEP", "NORM-PERSOONLIJK", "NORM-ZONDER-BRON"]


def _in_order(text: str, pieces: list[str]) -> bool:
    positions = [text.index(piece) for piece in pieces]
    return positions == sorted(positions)


def test_norms_by_source_tensions_and_role_in_markdown_and_html() -> None:
    sheet = handout.build(make_case(**FORCE_FIELD))
    markdown = plain(handout.to_markdown(sheet))
    document = html.unescape(handout.to_html(sheet))
    for text in (markdown, document):
        assert "Normen die meewogen, per bron" in text
        interleaved = [piece for pair in zip(SOURCES_IN_ORDER, NORMS_IN_ORDER, strict=True) for piece in pair]
        assert _in_order(text, interleaved), "each source heading is followed by its own norms"
        assert (
            "Welke waarden staan hier tegenover elkaar? In de oorspronkelijke casus: Onpartijdigheid ↔ Menselijkheid; "
            in text
        )
        assert "Loyaliteit ↔ Transparantie" in text
        assert "Wiens dilemma:" in text and "Leidinggevende" in text
        assert _in_order(text, ["Waarden in spanning", "Methode: Socratisch gesprek"])  # a step before the method
    assert "**Maatschappelijk**\n\n- NORM-MAATSCHAPPIJ" in markdown
    assert "<p><strong>Maatschappelijk</strong></p><ul><li>NORM-MAATSCHAPPIJ" in document


def test_what_prevailed_facts_and_lessons_only_with_the_outcome() -> None:
    case = make_case(**FORCE_FIELD)
    hidden = handout.build(case)
    for text in (plain(handout.to_markdown(hidden)), html.unescape(handout.to_html(hidden))):
        assert "woog zwaarder" not in text and "in evenwicht" not in text
        assert "FEIT" not in text and "LES" not in text and "Dit oordeel hing af van" not in text
    shown = handout.build(case, include_outcome=True)
    for text in (plain(handout.to_markdown(shown)), html.unescape(handout.to_html(shown))):
        assert "Wat woog het zwaarst" in text
        assert "Onpartijdigheid ↔ Menselijkheid: Onpartijdigheid woog zwaarder" in text
        assert "Loyaliteit ↔ Transparantie: in evenwicht (een derde weg)" in text
        assert _in_order(text, ["Dit oordeel hing af van …", "FEIT: de aanvraag liep nog.", "Lessen", "LES: weiger"])


def test_force_field_text_is_escaped_in_both_outputs(markdown_renderer) -> None:
    sheet = handout.build(make_case(**FORCE_FIELD), include_outcome=True)
    document = handout.to_html(sheet)
    assert html.escape(SCRIPT) in document and SCRIPT not in document
    rendered = markdown_renderer.render(handout.to_markdown(sheet))
    assert {tag for tag, _ in tags_of(rendered)} <= _ALLOWED_MD_TAGS
    assert html.escape(SCRIPT, quote=False) in rendered


def test_english_force_field_and_a_case_without_one() -> None:
    text = plain(handout.to_markdown(handout.build(make_case(**FORCE_FIELD), language="en", include_outcome=True)))
    assert "Whose dilemma:** Manager" in text and "**Societal**" in text and "**Source not recorded**" in text
    assert "In the original case: Impartiality ↔ Humanity" in text and "Impartiality prevailed" in text
    bare = handout.build(make_case(), include_outcome=True)
    for rendered in (plain(handout.to_markdown(bare)), handout.to_html(bare)):
        assert "per bron" not in rendered and "Waarden in spanning" not in rendered and "Wiens dilemma" not in rendered
        assert "Wat woog het zwaarst" not in rendered and "Lessen" not in rendered


# -- clean Markdown: escapes only where the text would otherwise be markup ------------------------------

_DOCUMENT_PIECES = [*_PIECES, "=", "&#65;", "1)", "~~", "$$", "***", "___", "---", "+ ", "# ", "> ", " #"]
_DOCUMENT_TEXT = st.lists(st.sampled_from(_DOCUMENT_PIECES), max_size=40).map("".join)


def _shown(rendered: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split())


@settings(max_examples=400, deadline=None)
@given(_DOCUMENT_TEXT)
def test_document_markdown_is_inert_and_faithful_as_paragraph_heading_and_list_item(markdown_renderer, text) -> None:
    """The handout's lighter escaping still turns any text into exactly that text: in running text
    (several lines), as a heading (a title) and as a list item (the handout's lists)."""
    line = " ".join(text.split())
    cases = [
        (handout.escape_document(text), {"p", "br"}),
        (f"# {handout.escape_document(line)}", {"h1"}),
        (f"- {handout.escape_document(line)}", {"ul", "li"}),
    ]
    for markdown, allowed in cases:
        rendered = markdown_renderer.render(markdown)
        assert {tag for tag, _ in tags_of(rendered)} <= allowed, (text, markdown, rendered)
        assert _shown(rendered) == " ".join(text.split()), (text, markdown, rendered)


def test_document_markdown_leaves_ordinary_prose_alone() -> None:
    prose = "Werkwijze: stap 1 (kort), daarna 2. Sterk: ja; 50% - niet 'alles'! Vraag? #3 en 10 = 10 + 0."
    assert handout.escape_document(prose) == prose
    assert (
        handout.escape_document("# kop\n1. punt\n- lijst\n> citaat\n---")
        == "\\# kop\n1\\. punt\n\\- lijst\n\\> citaat\n\\---"
    )
    assert handout.escape_document("<b>x</b> [a](b) *c* `d`") == "\\<b>x\\</b> \\[a](b) \\*c\\* \\`d\\`"


def test_document_markdown_breaks_autolinks() -> None:
    assert handout.escape_document("zie www.voorbeeld.nl") == r"zie www\.voorbeeld.nl"
    assert handout.escape_document("mail a@b.nl of https://x.nl") == r"mail a\@b.nl of https\://x.nl"


def test_the_handout_markdown_has_no_escapes_in_ordinary_prose() -> None:
    """'Werkwijze\\:', '\\(' and 'sterk\\:' were in every handout: plain prose now reads as typed."""
    case = make_case(
        title="Een geschenk (klein): aannemen?",
        situation="De aanvrager zei: dank je (echt). Sterk: een taart van 20 euro.",
        **FORCE_FIELD,
    )
    for language in ("nl", "en"):
        markdown = handout.to_markdown(handout.build(case, language=language, include_outcome=True))
        assert "\\:" not in markdown and "\\(" not in markdown and "\\)" not in markdown, markdown
        assert "\\-" not in markdown and "\\." not in markdown and "\\!" not in markdown
    markdown = handout.to_markdown(handout.build(case))
    assert "# Een geschenk (klein): aannemen?" in markdown
    assert "De aanvrager zei: dank je (echt). Sterk: een taart van 20 euro." in markdown
    assert "## Methode: Socratisch gesprek" in markdown
    assert "\\<script\\>" not in markdown and "\\<script>alert(1)\\</script>" in markdown  # still inert


def test_the_lessons_come_with_the_outcome(markdown_renderer) -> None:
    """The lessons belong to the debrief: in both files with the outcome, in neither without."""
    case = make_case(lessons=["LES-EEN: leg het uit.", "LES-TWEE: (vriendelijk) weigeren."])
    shown = handout.build(case, include_outcome=True)
    for text in (handout.to_markdown(shown), handout.to_html(shown)):
        assert "Lessen" in text and "LES-EEN: leg het uit." in text and "LES-TWEE: (vriendelijk) weigeren." in text
    assert "- LES-TWEE: (vriendelijk) weigeren." in handout.to_markdown(shown)
    hidden = handout.build(case)
    for text in (handout.to_markdown(hidden), handout.to_html(hidden)):
        assert "LES-" not in text and "Lessen" not in text
