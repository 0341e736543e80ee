"""From session to case: a session's outcome becomes a draft linked to the case the group discussed,
through the same anonymisation gate and four-eyes review as any other draft.

The core (review/session_outcome.py) is tested without Streamlit; the session page's form with
AppTest, as an officer (save as a draft), as a session leader without the officer role (download the
draft for the integrity officer), with a name in the text (refused, nothing written), and in both
languages (no untranslated text).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SURNAME, write_case
from pydantic import ValidationError
from streamlit.testing.v1 import AppTest
from test_one_language import DUTCH, ENGLISH, NEUTRAL, _foreign, _texts

from moresprudentie import settings
from moresprudentie.cases.loading import dump_case, load_case_file, parse_case
from moresprudentie.cases.model import ID_PATTERN, RelatedCase, Relation, Tension, force_field_gaps
from moresprudentie.review.session_outcome import SessionOutcome, draft_from_session, session_case_id
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components import nav
from moresprudentie.ui.components import session_outcome as form
from moresprudentie.ui.components.i18n import text

ROOT = Path(__file__).resolve().parent.parent
DISCUSSED = "ademluchtcontrole-overgeslagen"  # a shipped case with a complete force field
DAY = dt.date(2026, 3, 14)
ANNA = {"is_logged_in": True, "email": "anna@example.nl"}
PIET = {"is_logged_in": True, "email": "piet@example.nl"}  # logged in, not an officer
PICKED = "kerstpakket-leverancier"  # the search collection's case the AppTests discuss
ARGUMENTS = "Onpartijdigheid weegt zwaarder dan beleefdheid."
DISSENT = "Een deelnemer vond een bedankbriefje genoeg."


def outcome(**fields: object) -> SessionOutcome:
    data: dict[str, object] = {
        "conclusion": "De groep vond dat melden nodig is, maar pas na een gesprek met de ploegchef.",
        "arguments": "Veiligheid weegt zwaarder dan de rust in de ploeg; aankondigen toont respect.",
        "dissent": "Een deelnemer wilde eerst de vertrouwenspersoon raadplegen.",
        "clashed_values": ["veiligheid", "loyaliteit"],
        "relation": "nuances",
        "session_date": DAY,
        "language": "nl",
    }
    data.update(fields)
    return SessionOutcome.model_validate(data)


@pytest.fixture(scope="module")
def discussed():
    case, problems = load_case_file(ROOT / "cases" / f"{DISCUSSED}.yaml")
    assert case is not None, problems
    return case


# -- the core: a complete, linked, valid draft ------------------------------------------------------


def test_a_session_outcome_becomes_a_complete_draft_linked_to_the_discussed_case(discussed) -> None:
    draft = draft_from_session(discussed, outcome())
    assert draft.status == "draft"
    assert draft.id == f"{DISCUSSED}-beraad-20260314"
    assert draft.title == f"Beraad over: {discussed.title}"
    assert draft.related == [RelatedCase(id=DISCUSSED, relation=Relation.NUANCES)]
    assert (draft.situation, draft.dilemma) == (discussed.situation, discussed.dilemma)
    assert draft.judgement == outcome().conclusion
    assert draft.reasoning == outcome().arguments
    assert draft.dissent == outcome().dissent
    assert draft.values == ["veiligheid", "loyaliteit"]
    assert draft.tensions == [Tension(between=("veiligheid", "loyaliteit"), prevailed="balanced")]
    assert (draft.role, draft.norms, draft.decisive_facts) == (
        discussed.role,
        discussed.norms,
        discussed.decisive_facts,
    )
    assert draft.themes == discussed.themes
    assert draft.date == "2026-03"
    assert force_field_gaps(draft) == []  # review would refuse a draft without its force field


def test_the_draft_survives_the_case_file_reader(discussed, tmp_path: Path) -> None:
    """What `validate` reads: the file written by dump_case loads back equal, without errors."""
    draft = draft_from_session(discussed, outcome(relation="departs", dissent=""))
    path = tmp_path / f"{draft.id}.yaml"
    path.write_text(dump_case(draft), encoding="utf-8")
    loaded, problems = load_case_file(path)
    assert loaded == draft, problems
    assert [p for p in problems if p.severity == "error"] == []
    assert loaded.dissent is None  # an empty dissent box: the group agreed
    assert loaded.related[0].relation == Relation.DEPARTS


def test_the_recorded_tensions_and_language_are_kept(discussed) -> None:
    chosen = [Tension(between=("veiligheid", "moed"), prevailed="moed")]
    draft = draft_from_session(
        discussed, outcome(clashed_values=["veiligheid", "moed", "loyaliteit"], tensions=chosen, language="en")
    )
    assert draft.tensions == chosen
    assert draft.title.startswith("Deliberation on: ")
    assert draft.language == "en"
    derived = draft_from_session(discussed, outcome(clashed_values=["veiligheid", "moed", "loyaliteit"]))
    assert len(derived.tensions) == 3  # every pair, none claimed to have prevailed


def test_the_new_id_is_unique_and_within_the_id_pattern(discussed) -> None:
    first = session_case_id(DISCUSSED, DAY)
    second = draft_from_session(discussed, outcome(), existing={first}).id
    assert second == f"{first}-2"
    assert session_case_id(DISCUSSED, DAY, {first, second}) == f"{first}-3"
    long_id = "a" + "-lange-titel" * 7
    made = session_case_id(long_id, DAY, {session_case_id(long_id, DAY)})
    assert len(made) <= 80 and re.match(ID_PATTERN, made)
    assert draft_from_session(discussed, outcome(), case_id="eigen-id").id == "eigen-id"


@pytest.mark.parametrize(
    "fields",
    [
        {"participants": ["iemand"]},  # there is no field for who took part
        {"clashed_values": ["veiligheid", "verzonnen-waarde"]},
        {"clashed_values": ["veiligheid"]},
        {"relation": "see-also"},
        {"tensions": [{"between": ["moed", "veiligheid"], "prevailed": "moed"}]},  # moed did not clash
        {"conclusion": ""},
    ],
)
def test_an_outcome_takes_only_what_it_should(fields: dict) -> None:
    with pytest.raises(ValidationError):
        outcome(**fields)


# -- the session page ---------------------------------------------------------------------------------


@pytest.fixture
def session(search_cases: Path, officer_page) -> Callable[..., AppTest]:
    """session(user, lang=None): the session page with a case chosen, as `user` (None: not logged in)."""

    def open_(user: dict | None, lang: str | None = None) -> AppTest:
        at = officer_page(search_cases, nav.SESSION, user, lang=lang)
        at.selectbox(key="session_case").select(PICKED).run()
        assert not at.exception, at.exception
        return at

    return open_


def fill(at: AppTest, conclusion: str = "De groep vond dat het pakket terug moet.", case_id: str = PICKED) -> AppTest:
    """Fill in the outcome of the chosen case: two clashed values, the group follows the case."""
    at.text_area(key=form.key("conclusion", case_id)).input(conclusion)
    at.text_area(key=form.key("arguments", case_id)).input("Zymblat trindor." if case_id != PICKED else ARGUMENTS)
    at.text_area(key=form.key("dissent", case_id)).input("Qorvex." if case_id != PICKED else DISSENT)
    at.multiselect(key=form.key("values", case_id)).set_value(["onpartijdigheid", "collegialiteit"])
    at.radio(key=form.key("relation", case_id)).set_value("follows")
    at = at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label_key: str, lang: str = "nl"):
    label = text(label_key, lang)
    return next((b for b in at.button if b.label == label), None)


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_officer_saves_the_outcome_as_a_linked_draft_for_review(session, search_cases: Path) -> None:
    at = fill(session(ANNA))
    at.selectbox(key=form.key("prevailed.onpartijdigheid.collegialiteit", PICKED)).select("onpartijdigheid").run()
    save = button(at, "session_outcome.save")
    assert save is not None, [b.label for b in at.button]
    at = save.click().run()
    assert not at.exception, at.exception
    queue = {item.version.case_id: item for item in CaseStore(search_cases).review_queue()}
    draft_id = session_case_id(PICKED, dt.date.today())
    assert draft_id in queue, list(queue)
    draft = queue[draft_id].version.case
    assert draft.related == [RelatedCase(id=PICKED, relation=Relation.FOLLOWS)]
    assert draft.tensions == [Tension(between=("onpartijdigheid", "collegialiteit"), prevailed="onpartijdigheid")]
    assert queue[draft_id].review.state == "draft"  # the author offers it on the review page next
    assert queue[draft_id].review.authors == frozenset({"anna@example.nl"})
    assert any(draft_id in str(s.value) for s in at.success)
    links = {(e.proto.label, e.proto.page) for e in at.get("page_link")}
    assert any(label == text("session_outcome.to_edit", "nl") for label, _ in links)
    assert button(at, "session_outcome.save") is None  # saved once: no second copy by a second click


def test_a_name_in_the_outcome_is_refused_and_nothing_is_written(session, search_cases: Path) -> None:
    before = files(search_cases)
    audit = settings.audit_log_path(search_cases)
    at = fill(session(ANNA), conclusion=f"Mevrouw {SURNAME} vond dat het pakket terug moet.")
    at = button(at, "session_outcome.save").click().run()
    assert not at.exception, at.exception
    assert files(search_cases) == before
    assert not audit.exists()  # not even a 'drafted' event
    refusal = text("session_outcome.refused", "nl", count=1)
    assert any(str(e.value) == refusal for e in at.error), [e.value for e in at.error]
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert text("session_outcome.conclusion", "nl") in shown and text("findings.kinds.name", "nl") in shown
    assert button(at, "session_outcome.save") is not None  # fix the text and save again


def test_a_session_leader_downloads_the_draft_for_the_officer(session, downloads: dict[str, str]) -> None:
    at = fill(session(PIET))
    assert button(at, "session_outcome.save") is None
    downloads.clear()
    at = at.run()
    name = f"{session_case_id(PICKED, dt.date.today())}.yaml"
    assert name in downloads, list(downloads)
    case, problems = parse_case(downloads[name], name)
    assert case is not None, problems
    assert case.status == "draft" and case.related == [RelatedCase(id=PICKED, relation=Relation.FOLLOWS)]
    shown = "\n".join(str(e.value) for e in at.info)
    assert text("nav.add_case", "nl") in shown and text("add.modes.upload", "nl") in shown


def test_the_download_is_refused_while_a_name_is_in_it(session, downloads: dict[str, str]) -> None:
    at = fill(session(None), conclusion=f"{SURNAME} vond dat het pakket terug moet.")
    assert not [d for d in at.get("download_button") if d.proto.label == text("session_outcome.download", "nl")]
    assert not any(name.endswith(".yaml") for name in downloads)
    refusal = text("session_outcome.download_refused", "nl", count=1)
    assert any(str(e.value) == refusal for e in at.error)


def test_the_form_says_what_is_missing_and_never_asks_for_names(session) -> None:
    at = session(PIET)
    labels = [e.label for e in (*at.text_area, *at.text_input)]
    assert labels == [text(f"session_outcome.{n}", "nl") for n in ("conclusion", "arguments", "dissent")]
    assert any(str(w.value) == text("session_outcome.no_names", "nl") for w in at.info)
    assert any(text("session_outcome.values_too_few", "nl") in str(c.value) for c in at.caption)


@pytest.mark.parametrize(("language", "foreign"), [("nl", ENGLISH), ("en", DUTCH)])
@pytest.mark.parametrize("user", [ANNA, PIET], ids=["officer", "leader"])
def test_the_page_speaks_one_language_with_the_form_filled_in(
    tmp_path: Path, officer_page, language: str, foreign: frozenset[str], user: dict
) -> None:
    """On a case of made-up words (as test_one_language walks), every word left on the page is the app's."""
    made_up = tmp_path / "made-up"
    write_case(
        made_up,
        "qorvex-1",
        title="Qorvex 1",
        values=["loyaliteit", "transparantie"],
        tensions=[{"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"}],
        norms=[{"text": "Zymblat 1", "source": "organisatorisch"}],
        decisive_facts=["Trindor 1."],
        situation=f"{NEUTRAL} 1.",
        dilemma="Qorvex zymblat 1?",
        judgement="Trindor 1.",
        reasoning="Zymblat trindor 1.",
        variations=["Zymblat?"],
        method="dilemmamethode",
    )
    at = officer_page(made_up, nav.SESSION, user, lang=language)
    at = at.selectbox(key="session_case").select("qorvex-1").run()
    at = fill(at, "Qorvex zymblat.", case_id="qorvex-1")
    if user is ANNA:
        at = button(at, "session_outcome.save", language).click().run()
        assert any("qorvex-1-beraad-" in str(s.value) for s in at.success)
    else:
        assert [d for d in at.get("download_button") if d.proto.label == text("session_outcome.download", language)]
    assert text("session_outcome.title", language) in [e.label for e in at.expander]
    assert sum(text("session_outcome.no_names", language)[:30] in shown for shown in _texts(at)) == 1  # walked
    assert not _foreign(_texts(at), foreign), "\n".join(_foreign(_texts(at), foreign))
