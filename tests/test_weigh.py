"""Weeg je eigen dilemma: the walk through the six steps, the precedents, privacy and the document.

The page runs in AppTest on a private copy of the shipped collection (FakeEmbedder), so the
precedents come from real cases; the document builder is also tested on its own with hostile text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from moresprudentie import load_cases, weighing
from moresprudentie.cases.forcefield import tension_pairs
from moresprudentie.cases.model import BALANCED, Case
from moresprudentie.ui.components import nav

DILEMMA = "Mag ik een cadeau van een leverancier aannemen tijdens een lopende aanbesteding?"
SITUATION = "Een leverancier stuurt mij een dure kerstattentie terwijl de aanbesteding nog loopt."
HOSTILE = "<script>alert(1)</script> [klik](javascript:alert(1)) **vet**"


def _published(folder: Path) -> list[Case]:
    return [case for case in load_cases(folder).cases.values() if case.is_published]


def _button(at: AppTest, label: str):
    return next(button for button in at.button if button.label == label)


def _next(at: AppTest, label: str = "Volgende") -> None:
    _button(at, label).click().run()
    assert not at.exception, at.exception


def _shown(at: AppTest) -> str:
    """Every text a person reads on the page: Markdown, captions, headings, alerts and widget labels."""
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error")
    parts = [str(element.value) for kind in kinds for element in at.get(kind)]
    widgets = ("button", "download_button", "text_area", "text_input", "selectbox", "checkbox", "radio")
    parts += [element.label for kind in widgets for element in at.get(kind)]
    parts += [str(element.help or "") for kind in widgets for element in at.get(kind)]
    parts += [str(option) for kind in ("selectbox", "radio") for element in at.get(kind) for option in element.options]
    for group in at.get("button_group"):
        parts += [option.content for option in group.proto.options]
    return "\n".join(parts)


def _linked_cases(at: AppTest) -> list[str]:
    """The ids of the cases linked from the page (hit cards link with ?case=<id>)."""
    return [link.proto.query_string.removeprefix("case=") for link in at.get("page_link") if link.proto.query_string]


def _walk(
    at: AppTest,
    pair: tuple[str, str],
    dilemma: str = DILEMMA,
    involve: tuple[str, ...] = ("leidinggevende", "integriteitsfunctionaris"),
) -> None:
    """Fill in every step as an employee would, ending on step 6; `involve` are the people ticked in step 5."""
    at.text_area(key="weigh_dilemma").input(dilemma)
    at.text_area(key="weigh_situation").input(SITUATION)
    at.text_input(key="weigh_option_0").input("Aannemen en melden")
    at.text_input(key="weigh_option_1").input("Beleefd terugsturen")
    at.run()
    _next(at)
    at.selectbox(key="weigh_pair_0_a").set_value(pair[0]).run()
    at.selectbox(key="weigh_pair_0_b").set_value(pair[1]).run()
    at.radio(key="weigh_pair_0_lean").set_value("second").run()
    _next(at)
    at.text_area(key="weigh_norm_organisatorisch").input("De gedragscode verbiedt geschenken boven 50 euro.")
    at.text_area(key="weigh_norm_persoonlijk").input("Ik wil niet afhankelijk lijken.")
    at.run()
    _next(at)
    at.text_area(key="weigh_own_decision").input("Ik mag zelf een kleine attentie weigeren.")
    at.text_area(key="weigh_beyond_me").input("Het contract met de leverancier.")
    at.text_area(key="weigh_needs").input("Rugdekking van mijn teamleider.")
    at.run()
    _next(at)
    for person in involve:
        at.checkbox(key=f"weigh_involve_{person}").check()
    at.text_area(key="weigh_involve_note").input("Eerst even sparren met mijn teamleider.")
    at.run()
    _next(at)


@pytest.fixture
def common_pair(shipped_cases: Path) -> tuple[str, str]:
    """The tension the shipped collection weighs most often."""
    return tension_pairs(_published(shipped_cases))[0].values


# -- the walk ------------------------------------------------------------------------------------


def test_walk_through_every_step_gets_precedents_with_the_chosen_tension(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str]
) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    assert at.subheader[0].value == "Wat is je dilemma?"
    _walk(at, common_pair)
    assert at.session_state["weigh_step"] == 5
    assert "Wat zeggen eerdere casussen?" in _shown(at)
    assert at.checkbox(key="weigh_use_tension").value  # the tension filter is on: some case has it
    by_id = {case.id: case for case in _published(shipped_cases)}
    linked = _linked_cases(at)
    assert linked, "no precedents shown"
    assert all(by_id[case_id].has_tension(*common_pair) for case_id in linked)
    assert len(at.get("download_button")) == 2


def test_without_the_tension_filter_precedents_come_from_the_whole_collection(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str]
) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    _walk(at, common_pair)
    at.checkbox(key="weigh_use_tension").uncheck().run()
    by_id = {case.id: case for case in _published(shipped_cases)}
    linked = _linked_cases(at)
    assert linked and not all(by_id[case_id].has_tension(*common_pair) for case_id in linked)


def test_a_tension_no_case_weighed_falls_back_to_all_cases_and_says_so(
    open_app: Callable[..., AppTest], shipped_cases: Path
) -> None:
    published = _published(shipped_cases)
    weighed = {pair.values for pair in tension_pairs(published)}
    values = ["durf", "zuinigheid", "privacy", "moed", "verbinding", "voorspelbaarheid", "veiligheid"]
    unweighed = next((a, b) for a in values for b in values if a < b and (a, b) not in weighed)
    at = open_app(shipped_cases, nav.WEIGH)
    _walk(at, unweighed)
    assert "Geen gepubliceerde casus woog precies de spanning die jij koos" in _shown(at)
    assert not at.get("checkbox") or all(box.key != "weigh_use_tension" for box in at.checkbox)
    assert _linked_cases(at)


def test_no_good_match_is_said_plainly(open_app: Callable[..., AppTest], search_cases: Path) -> None:
    """An off-topic dilemma (on the small search collection, where no case is about it): said plainly."""
    at = open_app(search_cases, nav.WEIGH)
    at.text_area(key="weigh_dilemma").input("recept voor appeltaart met kaneel").run()
    at.session_state["weigh_step"] = 5
    at.run()
    shown = _shown(at)
    assert "Geen goede overeenkomst gevonden" in shown and "Zwakke overeenkomst" in shown
    assert "eerdere casussen die op jouw dilemma lijken" not in shown


def test_step_six_without_a_dilemma_asks_for_one(open_app: Callable[..., AppTest], shipped_cases: Path) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    at.session_state["weigh_step"] = 5
    at.run()
    assert "Vul eerst bij stap 1 je dilemma in" in _shown(at)
    assert not at.get("download_button")
    _next(at, "Naar stap 1")
    assert at.session_state["weigh_step"] == 0


def test_values_are_marked_by_value_system(open_app: Callable[..., AppTest], shipped_cases: Path) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    _next(at)
    shown = at.selectbox(key="weigh_pair_0_a").options
    assert "Durf · ondernemend" in shown and "Regelgetrouwheid · bureaucratisch" in shown
    assert "Zorg" in shown  # a value of neither system carries no mark
    assert shown.index("Durf · ondernemend") < shown.index("Regelgetrouwheid · bureaucratisch") < shown.index("Zorg")


def test_answers_survive_moving_between_steps_and_restart_clears_them(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str]
) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    _walk(at, common_pair)
    at.session_state["weigh_step"] = 0
    at.run()
    assert at.text_area(key="weigh_dilemma").value == DILEMMA
    _next(at)
    assert at.selectbox(key="weigh_pair_0_a").value == common_pair[0]
    _next(at, "Begin opnieuw")
    assert at.session_state["weigh_step"] == 0
    assert at.text_area(key="weigh_dilemma").value == ""
    _next(at)
    assert at.selectbox(key="weigh_pair_0_a").value is None


# -- privacy -------------------------------------------------------------------------------------


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*")}


def test_nothing_is_stored(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str], tmp_path: Path
) -> None:
    """After the whole walk, search and download, no file under the cases or index folder is new or changed."""
    at = open_app(shipped_cases, nav.WEIGH)  # opens the engine: the index is built now
    index = tmp_path / "index"
    assert index.is_dir()
    before = {"cases": _listing(shipped_cases), "index": _listing(index), "all": _listing(tmp_path)}
    _walk(at, common_pair)
    next(b for b in at.get("download_button") if b.label == "Download om te printen (HTML)").click().run()
    assert _linked_cases(at)
    after = {"cases": _listing(shipped_cases), "index": _listing(index), "all": _listing(tmp_path)}
    assert after == before
    assert "niet gelogd" in _shown(at)  # the page says so


# -- the document --------------------------------------------------------------------------------


def test_downloaded_document_holds_the_answers(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str], downloads: dict[str, str]
) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    _walk(at, common_pair, dilemma=f"Mag ik dit? {HOSTILE}")
    markdown, page = downloads["mijn-afweging.md"], downloads["mijn-afweging.html"]
    for text in (
        "Beleefd terugsturen",
        "De gedragscode verbiedt geschenken boven 50 euro",
        "Rugdekking van mijn teamleider",
    ):
        assert text in markdown and text in page
    assert "Mijn leidinggevende" in markdown and "De integriteitsfunctionaris" in markdown
    assert "De vertrouwenspersoon" not in markdown  # not ticked
    assert "ik neig naar" in markdown
    linked = {case.id: case.title for case in _published(shipped_cases) if case.id in _linked_cases(at)}
    readable = html.unescape(page)
    assert any(f"“{title}”" in readable for title in linked.values())  # the closest precedents go along
    assert not any(case_id in markdown or case_id in page for case_id in linked)  # by title, not by id
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # markup is escaped where it would start (no tag, link or emphasis opens); plain text stays as typed
    assert r"\<script>" in markdown and r"\[klik](javascript:alert(1))" in markdown and r"\*\*vet" in markdown


def test_the_document_speaks_to_whom_the_employee_chose_not_to_the_manager(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str], downloads: dict[str, str]
) -> None:
    """A dilemma about one's own manager, taken to the confidential adviser: neither the heading nor the
    questions may address the manager, and the page says whom the document is for."""
    at = open_app(shipped_cases, nav.WEIGH)
    _walk(
        at,
        common_pair,
        dilemma="Mijn leidinggevende vraagt me een fout niet te melden",
        involve=("vertrouwenspersoon",),
    )
    assert "Voorbereiding op een gesprek met de vertrouwenspersoon" in _shown(at)
    for document in (downloads["mijn-afweging.md"], html.unescape(downloads["mijn-afweging.html"])):
        assert "Voorbereiding op een gesprek met de vertrouwenspersoon" in document
        assert "Wat blijft tussen ons, en wat gebeurt er alleen met mijn toestemming?" in document
        assert "met mijn leidinggevende" not in document and "Wat heb ik van jou nodig" not in document


AUDIENCES = [
    (("vertrouwenspersoon",), "Voorbereiding op een gesprek met de vertrouwenspersoon", "Wat blijft tussen ons"),
    (("integriteitsfunctionaris",), "Voorbereiding op een gesprek met de integriteitsfunctionaris", "Moet of mag ik"),
    (("collega",), "Voorbereiding op een gesprek met een collega", "Wat zie ik over het hoofd?"),
    (("leidinggevende",), "Voorbereiding op een gesprek met mijn leidinggevende", "Wat heb ik van jou nodig"),
    (
        ("vertrouwenspersoon", "collega", "leidinggevende"),
        "Voorbereiding op mijn gesprekken met mijn leidinggevende, een collega en de vertrouwenspersoon",
        "Wat zou een verstandige volgende stap zijn, en met wie?",
    ),
    ((), "Voorbereiding op een gesprek over mijn dilemma", "Wat zou een verstandige volgende stap zijn, en met wie?"),
]


@pytest.mark.parametrize(("involve", "heading", "question"), AUDIENCES, ids=lambda v: str(v)[:30])
def test_heading_and_questions_follow_whom_the_employee_involves(involve, heading: str, question: str) -> None:
    answers = weighing.Answers(dilemma="Mag ik dit?", involve=involve)
    for document in (weighing.to_markdown(answers), weighing.to_html(answers)):
        assert heading in document and question in document
    if involve != ("leidinggevende",):  # only a page for the manager asks the manager for something
        assert "Wat heb ik van jou nodig" not in weighing.to_markdown(answers)
    if "leidinggevende" not in involve:
        assert "leidinggevende" not in weighing.to_markdown(answers)


@pytest.mark.parametrize(
    ("involve", "heading", "question"),
    [
        (("vertrouwenspersoon",), "Preparing a conversation with the confidential adviser", "What stays between us"),
        (("integriteitsfunctionaris",), "Preparing a conversation with the integrity officer", "Must or may I report"),
        (("collega",), "Preparing a conversation with a colleague", "What am I overlooking?"),
        (("leidinggevende",), "Preparing a conversation with my manager", "What do I need from you"),
        (
            ("collega", "integriteitsfunctionaris"),
            "Preparing my conversations with a colleague and the integrity officer",
            "What would be a sensible next step",
        ),
        ((), "Preparing a conversation about my dilemma", "What would be a sensible next step"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_heading_and_questions_follow_whom_the_employee_involves_in_english(
    involve, heading: str, question: str
) -> None:
    answers = weighing.Answers(language="en", dilemma="May I?", involve=involve)
    for document in (weighing.to_markdown(answers), weighing.to_html(answers)):
        assert heading in document and question in document
        assert "Voorbereiding" not in document and "Wat " not in document


def test_the_page_says_a_document_without_anyone_chosen_is_worded_for_anyone(
    open_app: Callable[..., AppTest], shipped_cases: Path, common_pair: tuple[str, str], downloads: dict[str, str]
) -> None:
    at = open_app(shipped_cases, nav.WEIGH)
    _walk(at, common_pair, involve=())
    assert "Je vinkte bij stap 5 nog niemand aan" in _shown(at)
    assert "Voorbereiding op een gesprek over mijn dilemma" in downloads["mijn-afweging.md"]


def test_document_escapes_markup_in_every_answer() -> None:
    answers = weighing.Answers(
        dilemma=HOSTILE,
        situation=f"Eerste regel\n{HOSTILE}\n\n# kop",
        options=(HOSTILE, "- lijst"),
        pairs=(weighing.ValuePair("durf", "regelgetrouwheid", BALANCED),),
        norms=(("maatschappelijk", HOSTILE),),
        own_decision=HOSTILE,
        involve=("collega",),
        involve_note=HOSTILE,
        precedents=("<b>Titel</b>",),
    )
    markdown, page = weighing.to_markdown(answers), weighing.to_html(answers)
    assert not re.search(r"(?<!\\)<", markdown)  # every angle bracket escaped
    assert r"\*\*vet\*\*" in markdown and r"\# kop" in markdown and r"\- lijst" in markdown
    assert "<script>" not in page and "<b>Titel</b>" not in page and "&lt;b&gt;Titel&lt;/b&gt;" in page
    assert "default-src 'none'" in page and "<a " not in page
    assert "Durf (ondernemend) ↔ Regelgetrouwheid (bureaucratisch)" in page
    assert "ik zoek een derde weg die beide recht doet" in page


def test_document_leaves_out_what_was_not_filled_in_and_speaks_english() -> None:
    english = weighing.to_markdown(weighing.Answers(language="en", dilemma="May I?", own_decision="Little"))
    assert "The dilemma" in english and "What I may decide myself" in english
    assert "Values in tension" not in english and "Het dilemma" not in english
    assert "(not filled in yet)" in weighing.to_markdown(weighing.Answers(language="en"))  # no needless escapes


# -- languages -----------------------------------------------------------------------------------

DUTCH = ("Volgende", "Vorige", "Begin opnieuw", "Je dilemma in één zin", "Stap 1 van 6", "Welke keuzes zie je")
ENGLISH = ("Next", "Previous", "Start again", "Your dilemma in one sentence", "Step 1 of 6", "Which choices do you see")


def _every_step(at: AppTest) -> str:
    seen = []
    for step in range(6):
        at.session_state["weigh_step"] = step
        at.run()
        assert not at.exception, at.exception
        seen.append(_shown(at))
    return "\n".join(seen)


def test_english_page_shows_no_dutch_and_dutch_page_no_english(
    open_app: Callable[..., AppTest], shipped_cases: Path
) -> None:
    english = open_app(shipped_cases, nav.WEIGH, lambda at: at.query_params.update(lang="en"))
    english.text_area(key="weigh_dilemma").input("May I accept a gift from a supplier?").run()
    shown = _every_step(english)
    assert all(text in shown for text in ENGLISH)
    dutch_only = (*DUTCH, "Welke waarden staan", "Naar welke kant neig je", "Mijn leidinggevende", "Maatschappelijk")
    assert not [text for text in dutch_only if text in shown]
    assert "Daring · entrepreneurial" in shown and "Durf" not in shown

    dutch = open_app(shipped_cases, nav.WEIGH)
    dutch.text_area(key="weigh_dilemma").input("Mag ik een cadeau aannemen?").run()
    shown = _every_step(dutch)
    assert all(text in shown for text in DUTCH)
    english_only = (*ENGLISH, "Which way do you lean", "My manager", "Societal", "Take your weighing along")
    assert not [text for text in english_only if text in shown]
