"""The near-copy check in "Casus toevoegen" (issue 15) with AppTest and the fake embedder: a draft whose
closest published case is at or above the threshold is saved but not submitted until the officer says
it is a new case or links it (volgt / nuanceert / wijkt af van); the choice reaches the audit log as
`review submit --new-case / --links` records it. The fake embedder's scale differs from USE-m3's, so
the threshold is set between the near-copy's score and the distinct case's, as the calibration does."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import make_case, write_case
from streamlit.testing.v1 import AppTest
from test_near_duplicates import ORIGINAL  # the same published case the near-copy tests use

from moresprudentie import dump_case, settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.model import Case
from moresprudentie.review.audit import read_events
from moresprudentie.search import duplicates
from moresprudentie.search.engine import SearchEngine
from moresprudentie.ui.components import duplicate_choice, nav
from moresprudentie.ui.components.i18n import text

ANNA = {"is_logged_in": True, "email": "anna@example.nl"}
# Its situation told again (a son, a district nurse, a bank transfer), its core copied with the names changed.
COPY = ORIGINAL.model_copy(
    update={
        "id": "geld-van-de-zoon",
        "title": "Geld van de zoon van een overleden cliënt",
        "situation": "Een wijkverpleegkundige krijgt weken na het overlijden driehonderd euro overgemaakt door de zoon.",
        "dilemma": "Neem ik het geld aan als dank, of weiger ik het terwijl de zoon erop aandringt?",
        "reasoning": "Geld van een cliënt maakt de zorg afhankelijk van geven; de zoon bedoelde het goed.",
    }
)
DISTINCT = make_case(
    "boa-en-buurman",
    title="Een handhaver betrapt zijn buurman op afval dumpen",
    situation="Een handhaver ziet zijn eigen buurman 's avonds bouwafval in de berm dumpen.",
    dilemma="Schrijf ik mijn buurman een boete, of draag ik de zaak over aan een collega?",
    judgement="De zaak overdragen aan een collega en de eigen betrokkenheid melden.",
    reasoning="Onpartijdigheid vraagt afstand; de overtreding laten lopen zou de buurman bevoordelen.",
)
OTHERS = {
    "fietsen-op-de-stoep": "Een handhaver ziet zijn buurman fietsen op de stoep en twijfelt over een boete.",
    "laptop-mee-op-vakantie": "Een ambtenaar neemt zijn werklaptop mee op vakantie naar het buitenland.",
}


@pytest.fixture
def cases(empty_cases: Path) -> Path:
    (empty_cases / f"{ORIGINAL.id}.yaml").write_text(dump_case(ORIGINAL), encoding="utf-8")
    for case_id, situation in OTHERS.items():
        write_case(empty_cases, case_id, situation=situation)
    return empty_cases


@pytest.fixture
def threshold(cases: Path, tmp_path: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch) -> float:
    engine = SearchEngine.open(cases, tmp_path / "threshold-index", embedder=fake_embedder)
    near = duplicates.closest_cases(engine, COPY, 1)[0][1]
    far = duplicates.closest_cases(engine, DISTINCT, 1)[0][1]
    assert near > far
    monkeypatch.setattr(duplicates, "DUPLICATE_THRESHOLD", (near + far) / 2)
    return (near + far) / 2


@pytest.fixture
def add_page(cases: Path, officer_page, threshold: float) -> Callable[..., AppTest]:
    return lambda: officer_page(cases, nav.ADD_CASE, ANNA)


def run(target) -> AppTest:
    at = target.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    links = [e.proto.label for e in at.get("page_link")]
    return "\n".join([*(str(e.value) for kind in kinds for e in at.get(kind)), *links])


def button(at: AppTest, key: str):
    label = text(key, "nl")
    [found] = [b for b in at.button if b.label == label]
    return found


def upload_and_submit(at: AppTest, case: Case) -> AppTest:
    run(at.segmented_control(key="add_mode").set_value("upload"))
    run(at.get("file_uploader")[0].set_value((f"{case.id}.yaml", dump_case(case).encode(), "application/x-yaml")))
    assert at.text_input(key="form.id").value == case.id
    return run(button(at, "add.save_submit").click())


def state(cases: Path, case_id: str) -> str:
    actions = [event.action for event in read_events(settings.audit_log_path(cases), case_id)]
    return "submitted" if "submitted" in actions else "draft"


def submit_comment(cases: Path, case_id: str) -> str:
    [event] = [e for e in read_events(settings.audit_log_path(cases), case_id) if e.action == "submitted"]
    return event.comment


def test_a_near_copy_is_saved_not_submitted_and_shows_the_closest_cases(add_page, cases: Path) -> None:
    at = upload_and_submit(add_page(), COPY)
    assert "lijkt sterk op een gepubliceerde casus" in shown(at)
    assert ORIGINAL.title in [link.proto.label for link in at.get("page_link")]  # the closest case, as a link
    assert "Overeenkomst in de kern" in shown(at) and "% · bijna gelijk" in shown(at)
    assert load_cases(cases).cases[COPY.id].status == "draft" and state(cases, COPY.id) == "draft"
    assert button(at, "add_duplicates.confirm").disabled  # a choice is demanded first
    labels = [text("add_duplicates.new_case", "nl"), text("add_duplicates.link", "nl", title=ORIGINAL.title)]
    assert [*at.radio(key=duplicate_choice.CHOICE).options] == [
        *labels,
        text("add_duplicates.link", "nl", title="Case fietsen-op-de-stoep"),
        text("add_duplicates.link", "nl", title="Case laptop-mee-op-vakantie"),
    ]


def test_linking_saves_the_relation_into_the_draft_and_the_audit_log_says_so(add_page, cases: Path) -> None:
    at = upload_and_submit(add_page(), COPY)
    run(at.radio(key=duplicate_choice.CHOICE).set_value(f"link:{ORIGINAL.id}"))
    relations = at.radio(key=duplicate_choice.RELATION)
    assert list(relations.options) == ["volgt", "nuanceert", "wijkt af van"]
    run(relations.set_value("nuances"))
    at = run(button(at, "add_duplicates.confirm").click())
    assert "aangeboden ter beoordeling" in shown(at) and "deze casus nuanceert" in shown(at)
    assert "lijkt sterk op" not in shown(at)
    saved = load_cases(cases).cases[COPY.id]
    assert [(link.id, link.relation.value) for link in saved.related] == [(ORIGINAL.id, "nuances")]
    comment = submit_comment(cases, COPY.id)  # exactly as `review submit --links` words it
    assert re.fullmatch(rf"near-duplicate of {ORIGINAL.id} \(\d\.\d\d\): linked nuances {ORIGINAL.id}", comment)
    assert ORIGINAL.id in at.text_area(key="form.related").value  # the form shows the saved link


def test_saying_it_is_a_new_case_submits_it_and_records_that(add_page, cases: Path) -> None:
    at = upload_and_submit(add_page(), COPY)
    run(at.radio(key=duplicate_choice.CHOICE).set_value(duplicate_choice.NEW))
    at = run(button(at, "add_duplicates.confirm").click())
    assert "aangeboden ter beoordeling" in shown(at) and "Vastgelegd als nieuwe casus" in shown(at)
    assert submit_comment(cases, COPY.id).startswith(f"near-duplicate of {ORIGINAL.id} (")
    assert submit_comment(cases, COPY.id).endswith(": new case")
    assert load_cases(cases).cases[COPY.id].related == []


def test_the_reviewer_reads_the_near_copy_note_in_the_pages_language(add_page, cases: Path, officer_page) -> None:
    """The log keeps the note in its own English ("near-duplicate of X (1.00): new case"), which the
    reviewer read as it was; the review page words it."""
    at = upload_and_submit(add_page(), COPY)
    run(at.radio(key=duplicate_choice.CHOICE).set_value(duplicate_choice.NEW))
    run(button(at, "add_duplicates.confirm").click())
    bram = {"is_logged_in": True, "email": "bram@example.nl"}
    review = officer_page(cases, nav.REVIEW, bram)
    assert f"Lijkt sterk op de gepubliceerde casus {ORIGINAL.id} (" in shown(review)
    assert "volgens de auteur toch een nieuwe casus" in shown(review) and "near-duplicate" not in shown(review)
    assert duplicates.parse_note("Haal de naam weg.") is None  # any other comment is shown as written


def test_not_submitting_yet_drops_the_question_and_keeps_the_draft(add_page, cases: Path) -> None:
    at = upload_and_submit(add_page(), COPY)
    at = run(button(at, "add_duplicates.cancel").click())
    assert "lijkt sterk op" not in shown(at) and state(cases, COPY.id) == "draft"


def test_a_distinct_case_is_submitted_without_a_warning(add_page, cases: Path) -> None:
    at = upload_and_submit(add_page(), DISTINCT)
    assert "lijkt sterk op" not in shown(at) and "aangeboden ter beoordeling" in shown(at)
    assert "near-duplicate" not in submit_comment(cases, DISTINCT.id)
