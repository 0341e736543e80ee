"""The review page ("Beoordelen") finished (issue 14): whole button labels in a stack, states that
follow the last step, Dutch clock times, the reviewer's remark for the author (and the remark box
only for the reviewer), and a reason next to every disabled button, in trial mode how to switch name.

The name detector is replaced by a fake that flags one surname (as in test_app_officer.py), so these
run in seconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import SURNAME, write_case
from streamlit.testing.v1 import AppTest

from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.anonymisation.patterns import Hit
from moresprudentie.cases.collection import load_cases
from moresprudentie.review import store as store_module
from moresprudentie.review.changes import FIELDS
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components import auth, nav
from moresprudentie.ui.components.i18n import text
from moresprudentie.ui.components.widgets import md_inline, moment

ANNA_LOGIN = {"is_logged_in": True, "email": "anna@example.nl"}
BRAM_LOGIN = {"is_logged_in": True, "email": "bram@example.nl"}
ANNA = actor_for("anna@example.nl", frozenset({"anna@example.nl"}))
BRAM = actor_for("bram@example.nl", frozenset({"bram@example.nl"}))
DRAFT = "fles-wijn-concept"  # the one draft in the search collection (conftest)
TITLE = "Een fles wijn van een burger"
AT = "2026-12-04T20:45:00+00:00"
AT_DUTCH = "4 december 2026, 21:45"
REMARK = "Haal de functietitel uit de situatie."
PICK, COMMENT = "review_pick", "review_comment"  # the page's widget keys (a page script is not imported)
STEPS = ("review.submit", "review.approve", "review.send_back", "review.publish")


def stricter_names(value: str, language: str = "nl", context: str | None = None) -> list[Hit]:
    """A later, stricter detector: it also flags "wethouder"."""
    return [Hit("name", m.start(), m.end()) for m in re.finditer(f"{SURNAME}|wethouder", value)]


@pytest.fixture
def cases(search_cases: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small search collection; every audit event is stamped at AT (UTC)."""
    monkeypatch.setattr(store_module, "now", lambda: AT)
    return search_cases


@pytest.fixture
def app(cases: Path, officer_page) -> Callable[..., AppTest]:
    """make(user=None, secrets=True): the review page as a given user."""
    return lambda user=None, secrets=True: officer_page(cases, nav.REVIEW, user, secrets)


def run(target) -> AppTest:
    at = target.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def button(at: AppTest, label_key: str):
    matches = [b for b in at.button if b.label == text(label_key, "nl")]
    assert matches, f"no button '{label_key}' in {[b.label for b in at.button]}"
    return matches[0]


def walk(node, columns: int = 0) -> Iterator[tuple[object, list, int]]:
    """Every node with its siblings in order and how many columns it sits in."""
    children = [node.children[k] for k in sorted(node.children)] if hasattr(node, "children") else []
    for child in children:
        yield child, children, columns
        yield from walk(child, columns + (getattr(child, "type", "") == "column"))


def step_buttons(at: AppTest) -> list[tuple[object, list, int]]:
    labels = {text(key, "nl") for key in STEPS}
    return [
        (node, siblings, cols)
        for node, siblings, cols in walk(at.main)
        if getattr(node, "type", "") == "button" and node.label in labels
    ]


def reason_next_to(at: AppTest, label_key: str) -> str:
    """The caption right under a button (in its own little stack), or '' when there is none."""
    for node, siblings, _ in step_buttons(at):
        if node.label == text(label_key, "nl"):
            after = siblings[siblings.index(node) + 1 :]
            return str(after[0].value) if after and after[0].type == "caption" else ""
    raise AssertionError(f"no button {label_key}")


def assert_every_disabled_button_says_why(at: AppTest) -> None:
    for node, siblings, _ in walk(at.main):
        if getattr(node, "type", "") == "button" and node.disabled:
            after = siblings[siblings.index(node) + 1 :]
            assert after and after[0].type == "caption" and len(str(after[0].value)) > 20, node.label


def submitted_by_anna(cases: Path) -> str:
    store = CaseStore(cases)
    store.submit(DRAFT, ANNA)
    return store.editable_version(DRAFT).hash


# -- times ------------------------------------------------------------------------------------------


def test_moment_shows_a_utc_audit_time_on_dutch_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert moment(AT, "nl") == AT_DUTCH
    assert moment(AT, "en") == "4 December 2026, 21:45"
    assert moment("2026-07-04T20:45:00+00:00", "nl") == "4 juli 2026, 22:45"  # summer time
    assert moment("2026-12-04T20:45:00", "nl") == AT_DUTCH  # no offset: UTC, as the log writes
    assert moment("2027-01-01T08:05:00+01:00", "nl") == "1 januari 2027, 08:05"
    assert moment("gisteren", "nl") == "gisteren"  # not a time: shown as it is
    monkeypatch.setenv("TZ", "America/New_York")  # a server elsewhere still shows Dutch clock times
    time.tzset()
    try:
        assert moment(AT, "nl") == AT_DUTCH
    finally:
        monkeypatch.undo()
        time.tzset()


def test_history_and_remark_show_dutch_times_never_the_raw_timestamp(app, cases: Path) -> None:
    shown_hash = submitted_by_anna(cases)
    CaseStore(cases).send_back(DRAFT, BRAM, REMARK, seen_hash=shown_hash)
    at = app(ANNA_LOGIN)
    (expander,) = [e for e in at.expander if e.label == text("review.history", "nl")]
    history = [str(c.value) for c in expander.caption]
    assert len(history) == 2 and all(line.startswith(AT_DUTCH) for line in history)
    assert AT_DUTCH in shown(at)
    assert "2026-12-04" not in shown(at) and "+00:00" not in shown(at)


# -- states -----------------------------------------------------------------------------------------


def test_the_picker_shows_the_state_after_submitting(app) -> None:
    at = app(ANNA_LOGIN)
    picker = at.selectbox(key=PICK)
    assert picker.options[picker.index] == f"{text('review.states.draft', 'nl')} · {TITLE}"
    run(button(at, "review.submit").click())
    picker = at.selectbox(key=PICK)
    now = f"{text('review.states.submitted', 'nl')} · {TITLE}"
    assert picker.options[picker.index] == now
    # A keyed selectbox keeps the label the browser last got unless it is sent again: it must be.
    assert picker.proto.set_value and picker.proto.raw_value == now
    assert "nog niet aangeboden" not in shown(at)
    assert text("review.states.submitted", "nl") in shown(at)  # the badge too


# -- the author and the reviewer --------------------------------------------------------------------


def test_the_author_reads_the_remark_and_gets_no_remark_box(app, cases: Path) -> None:
    CaseStore(cases).send_back(DRAFT, BRAM, REMARK, seen_hash=submitted_by_anna(cases))
    at = app(ANNA_LOGIN)
    remark = [str(w.value) for w in at.warning if REMARK in str(w.value)]
    assert remark and md_inline("bram@example.nl") in remark[0] and AT_DUTCH in remark[0]
    assert text("review.remark_next", "nl") in remark[0]
    assert not [area for area in at.text_area if area.key == COMMENT]
    run(button(at, "review.submit").click())  # resubmitted: still no box, the remark stays in view
    assert not [area for area in at.text_area if area.key == COMMENT]
    assert any(REMARK in str(w.value) for w in at.warning)
    assert button(at, "review.send_back").disabled
    assert reason_next_to(at, "review.send_back").endswith(text("review.why.author_send_back", "nl"))


def test_the_reviewer_gets_the_remark_box(app, cases: Path) -> None:
    submitted_by_anna(cases)
    at = app(BRAM_LOGIN)
    assert at.text_area(key=COMMENT).label == text("review.comment", "nl")
    assert not button(at, "review.approve").disabled and not button(at, "review.send_back").disabled


def test_the_reviewer_sees_what_changed_since_sending_it_back(app, cases: Path) -> None:
    """Back after a send-back: the changed fields with their words marked, the rest folded away."""
    store = CaseStore(cases)
    sent = submitted_by_anna(cases)
    at = app(BRAM_LOGIN)
    assert text("review.changes.title", "nl") not in shown(at)  # never sent back: nothing to compare
    at.text_area(key=COMMENT).input(REMARK)
    run(button(at, "review.send_back").click())
    draft = store.editable_version(DRAFT).case
    edited = draft.model_copy(update={"situation": draft.situation + " Hij schreef er <b>dank</b> bij."})
    store.save_draft(edited, ANNA, sent)
    store.submit(DRAFT, ANNA)

    at = app(BRAM_LOGIN)
    assert text("review.changes.title", "nl") in shown(at)
    assert text("review.changes.sent_back_by", "nl", name=md_inline(BRAM.name), when=AT_DUTCH) in shown(at)
    marked = [str(m.value) for m in at.markdown if ":green-background[**" in str(m.value)]
    assert marked == [
        f"{md_inline(draft.situation)} :green-background[**{md_inline('Hij schreef er <b>dank</b> bij.')}**]"
    ]
    assert "<b>" not in marked[0]  # case text is escaped before it is marked
    folded = text("review.changes.unchanged", "nl", count=len(FIELDS) - 1)  # all but the situation
    unchanged = [expander for expander in at.expander if expander.label == folded]
    assert unchanged and text("fields.dilemma", "nl") in str(unchanged[0].markdown[0].value)
    assert not button(at, "review.approve").disabled  # the comparison takes nothing away from the steps


# -- buttons ----------------------------------------------------------------------------------------


def test_step_buttons_stand_one_under_the_other_with_whole_labels(app, cases: Path) -> None:
    """Three side by side in the side column were cut to "Goedk…"; in one stack each has the full width."""
    submitted_by_anna(cases)
    at = app(BRAM_LOGIN)
    buttons = step_buttons(at)
    assert {node.label for node, _, _ in buttons} == {text(k, "nl") for k in STEPS[1:]}
    assert all(cols == 1 for _, _, cols in buttons)  # in the side column only, not in columns of their own


def test_each_disabled_button_says_why_next_to_it(app, cases: Path) -> None:
    submitted_by_anna(cases)
    at = app(ANNA_LOGIN)  # the author: approve, send back and publish disabled
    assert [b.label for b in at.button if b.disabled] == [text(k, "nl") for k in STEPS[1:]]
    assert_every_disabled_button_says_why(at)
    assert reason_next_to(at, "review.approve").endswith(text("review.own_draft", "nl"))
    assert reason_next_to(at, "review.publish").endswith(text("review.why.needs_approval", "nl"))

    at = app(BRAM_LOGIN)
    run(button(at, "review.approve").click())  # approved: Bram may not approve again, but may publish
    assert button(at, "review.approve").disabled and not button(at, "review.publish").disabled
    assert reason_next_to(at, "review.approve").endswith(text("review.why.already_approved", "nl"))
    assert_every_disabled_button_says_why(at)


def test_red_findings_after_submitting_disable_approving_with_the_reason(app, cases: Path, monkeypatch) -> None:
    """Submitting is refused with red findings; a better detector may still find one in a submitted text."""
    write_case(cases, "een-gunst", status="draft", situation="Een wethouder vroeg om een gunst.")
    CaseStore(cases).submit("een-gunst", ANNA)
    monkeypatch.setattr(anonymisation, "find_names", stricter_names)
    at = app(BRAM_LOGIN)
    run(at.selectbox(key=PICK).set_value("een-gunst"))
    assert button(at, "review.approve").disabled
    assert reason_next_to(at, "review.approve").endswith(text("review.blocked", "nl"))
    assert_every_disabled_button_says_why(at)


def test_the_reviewer_reads_each_place_an_allowed_term_silences(app, cases: Path) -> None:
    """The allow-list silences a term wherever it stands: the reviewer approving it sees every place,
    in its sentence, marked (not only the list)."""
    situation = f"De voetbalclub {SURNAME} sponsort het toernooi. Later belde {SURNAME.lower()} opnieuw."
    write_case(cases, "een-club", status="draft", situation=situation, allowed_terms=[SURNAME])
    CaseStore(cases).submit("een-club", ANNA)
    at = app(BRAM_LOGIN)
    run(at.selectbox(key=PICK).set_value("een-club"))
    places = [e.label for e in at.expander if text("review.allowed_places", "nl").split(" (")[0] in e.label]
    assert places and "(2×)" in places[0], [e.label for e in at.expander]
    marked = [str(m.value) for m in at.markdown if ":blue-background[" in str(m.value)]
    assert len(marked) == 2 and all(m.startswith(":material/check: **Situatie**") for m in marked)
    assert f":blue-background[{SURNAME}]" in marked[0] and f":blue-background[{SURNAME.lower()}]" in marked[1]


def test_a_draft_without_its_force_field_says_why_it_cannot_be_submitted(app, cases: Path) -> None:
    empty = {"role": None, "tensions": None, "norms": None, "decisive_facts": None}
    write_case(cases, "aaa-zonder-krachtenveld", status="draft", **empty)
    at = app(ANNA_LOGIN)
    run(at.selectbox(key=PICK).set_value("aaa-zonder-krachtenveld"))
    assert button(at, "review.submit").disabled
    assert reason_next_to(at, "review.submit").endswith(text("review.why.force_field", "nl"))
    assert_every_disabled_button_says_why(at)


def trial_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial mode for the local browser that opened the start-up link (AppTest sends no headers)."""
    token = "t" * 43
    monkeypatch.setenv(auth.TRIAL_ENV, "1")
    monkeypatch.setenv(auth.TRIAL_TOKEN_ENV, token)
    monkeypatch.setattr(auth, "server_port", lambda: 8501)
    monkeypatch.setattr(auth, "server_is_local", lambda: True)
    monkeypatch.setattr(auth, "_request_headers", lambda: {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501"})
    monkeypatch.setattr(auth, "_session_token", lambda: token)


def test_in_trial_mode_the_disabled_approve_says_how_to_switch_name(app, cases: Path, monkeypatch) -> None:
    first, second = auth.TRIAL_NAMES
    CaseStore(cases).submit(DRAFT, actor_for(first, frozenset(auth.TRIAL_NAMES)))
    trial_proved(monkeypatch)
    at = app(secrets=False)
    assert button(at, "review.approve").disabled
    why = reason_next_to(at, "review.approve")
    assert why.endswith(text("review.why.own_draft_trial", "nl", control=text("auth.trial_name", "nl"), other=second))
    assert at.sidebar.selectbox(key=auth.TRIAL_KEY).label == text("auth.trial_name", "nl")  # the control it names
    assert_every_disabled_button_says_why(at)
    run(at.sidebar.selectbox(key=auth.TRIAL_KEY).set_value(second))
    assert not button(at, "review.approve").disabled
    assert "proefmodus" not in reason_next_to(at, "review.approve")  # no caption: nothing is disabled


def test_outside_trial_mode_the_author_is_not_told_to_switch_name(app, cases: Path) -> None:
    submitted_by_anna(cases)
    at = app(ANNA_LOGIN)
    assert "proefmodus" not in reason_next_to(at, "review.approve")
    assert reason_next_to(at, "review.approve").endswith(text("review.own_draft", "nl"))


def test_in_trial_mode_the_disabled_withdrawal_approval_says_how_to_switch_name(app, cases: Path, monkeypatch) -> None:
    first, second = auth.TRIAL_NAMES
    store = CaseStore(cases)
    published = next(case.id for case in load_cases(cases).cases.values() if case.is_published)
    proposer = actor_for(first, frozenset(auth.TRIAL_NAMES))
    store.propose_withdrawal(published, proposer, "Achterhaald", store.withdrawal_of(published)[0].hash)
    trial_proved(monkeypatch)
    at = app(secrets=False)
    assert button(at, "review.withdraw.approve").disabled
    why = text("review.withdraw.why_own_trial", "nl", control=text("auth.trial_name", "nl"), other=second)
    assert why in shown(at)
