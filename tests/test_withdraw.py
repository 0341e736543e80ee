"""Withdrawing a published case (issue 15): proposed with a reason, approved by a second officer, then
archived in cases/.withdrawn/ (out of search), its history in the audit log; links to it say "withdrawn".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_case
from typer.testing import CliRunner

from moresprudentie import settings
from moresprudentie.cases.collection import WITHDRAWN, load_cases, withdrawn_titles
from moresprudentie.errors import CaseNotFoundError, PermissionDeniedError, UsageError, WorkflowError
from moresprudentie.review.audit import read_events
from moresprudentie.review.roles import actor_for
from moresprudentie.review.steps import StaleVersionError
from moresprudentie.review.store import CaseStore
from moresprudentie.review.withdrawal import StaleProposalError
from moresprudentie.ui.components import nav, resources
from moresprudentie.ui.components.i18n import text
from moresprudentie.ui.components.widgets import md_inline

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl"})
ANNA = actor_for("anna@example.nl", OFFICERS)
BRAM = actor_for("Bram@Example.nl", OFFICERS)
EMPLOYEE = actor_for("piet@example.nl", OFFICERS)
ANNA_LOGIN = {"is_logged_in": True, "email": "anna@example.nl"}
BRAM_LOGIN = {"is_logged_in": True, "email": "bram@example.nl"}
CASE = "dienstauto-zaterdag"  # published, in the search collection (conftest)
TITLE = "De dienstauto op zaterdag"
REASON = "Herkenbaar voor de betrokken afdeling."


@pytest.fixture
def cases(search_cases: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    return search_cases


def seen(store: CaseStore, case_id: str = CASE) -> str:
    return store.withdrawal_of(case_id)[0].hash


def cli(*args: str):
    from moresprudentie.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=True)


# -- the library -------------------------------------------------------------------------------------


def test_proposed_and_approved_by_a_second_officer_the_case_leaves_search(cases: Path, store: CaseStore) -> None:
    shown = seen(store)
    original = (cases / f"{CASE}.yaml").read_bytes()
    proposal = store.propose_withdrawal(CASE, ANNA, f"  {REASON} ", shown)
    assert (proposal.proposer, proposal.reason, proposal.hash) == (ANNA.name, REASON, shown)
    assert CASE in load_cases(cases).cases  # nothing leaves search on a proposal alone
    assert [item.version.case_id for item in store.pending_withdrawals()] == [CASE]

    archived = store.withdraw(CASE, BRAM, seen_hash=shown[:12])
    assert archived == cases / WITHDRAWN / f"{CASE}.yaml" and archived.read_bytes() == original
    assert not (cases / f"{CASE}.yaml").exists()
    assert CASE not in load_cases(cases).cases and len(load_cases(cases).cases) == 5
    assert store.pending_withdrawals() == []
    events = [(e.action, e.actor, e.comment, e.hash) for e in read_events(store.storage.audit_log, CASE)]
    assert events == [("withdrawal_proposed", ANNA.name, REASON, shown), ("withdrawn", BRAM.name, REASON, shown)]
    assert withdrawn_titles(cases) == {CASE: TITLE}
    with pytest.raises(WorkflowError, match="already withdrawn"):
        store.propose_withdrawal(CASE, ANNA, REASON, shown)


def test_the_proposer_cannot_approve_four_eyes(store: CaseStore, cases: Path) -> None:
    shown = seen(store)
    store.propose_withdrawal(CASE, ANNA, REASON, shown)
    with pytest.raises(WorkflowError, match="four-eyes"):
        store.withdraw(CASE, actor_for("ANNA@example.nl ", OFFICERS), seen_hash=shown)
    assert (cases / f"{CASE}.yaml").exists()
    assert [e.action for e in read_events(store.storage.audit_log)] == ["withdrawal_proposed"]
    with pytest.raises(WorkflowError, match="already proposed"):
        store.propose_withdrawal(CASE, BRAM, "ook", shown)


def test_a_non_officer_cannot_propose_or_approve(store: CaseStore, cases: Path) -> None:
    with pytest.raises(PermissionDeniedError, match="only integrity officers"):
        store.propose_withdrawal(CASE, EMPLOYEE, REASON, seen(store))
    store.propose_withdrawal(CASE, ANNA, REASON, seen(store))
    with pytest.raises(PermissionDeniedError):
        store.withdraw(CASE, EMPLOYEE, seen_hash=seen(store))
    assert (cases / f"{CASE}.yaml").exists() and len(read_events(store.storage.audit_log)) == 1


def test_a_reason_is_required(store: CaseStore) -> None:
    with pytest.raises(UsageError, match="reason"):
        store.propose_withdrawal(CASE, ANNA, "   ", seen(store))
    assert read_events(store.storage.audit_log) == []


def test_a_draft_or_unknown_id_is_refused_with_a_clear_message(store: CaseStore, cases: Path) -> None:
    draft_hash = store.editable_version("fles-wijn-concept").hash
    with pytest.raises(WorkflowError, match=r"not published .*only a published case can be withdrawn"):
        store.propose_withdrawal("fles-wijn-concept", ANNA, REASON, draft_hash)
    with pytest.raises(CaseNotFoundError, match="no such case file; check the id"):
        store.propose_withdrawal("bestaat-niet", ANNA, REASON, "0" * 12)
    with pytest.raises(UsageError, match="not a valid case id"):
        store.propose_withdrawal("../buiten", ANNA, REASON, "0" * 12)
    with pytest.raises(WorkflowError, match="nobody proposed"):
        store.withdraw(CASE, BRAM, seen_hash=seen(store))
    assert read_events(store.storage.audit_log) == []


def test_a_proposal_for_an_older_version_is_stale(store: CaseStore, cases: Path) -> None:
    old = seen(store)
    store.propose_withdrawal(CASE, ANNA, REASON, old)
    write_case(cases, CASE, title="De dienstauto op zaterdag, herzien", values=["zuinigheid", "collegialiteit"])
    new = seen(store)
    assert new != old and store.pending_withdrawals()[0].stale
    with pytest.raises(StaleProposalError, match="stale"):
        store.withdraw(CASE, BRAM, seen_hash=new)
    with pytest.raises(StaleProposalError):
        store.withdraw(CASE, BRAM, seen_hash=old)
    assert (cases / f"{CASE}.yaml").exists()
    with pytest.raises(StaleVersionError):  # proposing again names the version on disk now
        store.propose_withdrawal(CASE, ANNA, REASON, old)
    store.propose_withdrawal(CASE, ANNA, REASON, new)
    store.withdraw(CASE, BRAM, seen_hash=new)
    assert CASE not in load_cases(cases).cases


def test_an_approver_who_read_another_version_is_refused(store: CaseStore, cases: Path) -> None:
    store.propose_withdrawal(CASE, ANNA, REASON, seen(store))
    with pytest.raises(StaleVersionError):
        store.withdraw(CASE, BRAM, seen_hash="ab" * 6)
    assert (cases / f"{CASE}.yaml").exists()


def test_validate_says_a_link_points_to_a_withdrawn_case(store: CaseStore, cases: Path) -> None:
    write_case(cases, "verwijzer", title="Verwijst", related=[{"id": CASE, "relation": "follows"}])
    store.propose_withdrawal(CASE, ANNA, REASON, seen(store))
    store.withdraw(CASE, BRAM, seen_hash=seen(store))
    messages = [p.message for p in load_cases(cases).problems if p.field == "related"]
    assert len(messages) == 1 and "was withdrawn" in messages[0] and "not a case" not in messages[0]
    result = cli("validate", "--cases", str(cases))
    assert "was withdrawn" in result.output and "not a case in this collection" not in result.output


# -- the command line --------------------------------------------------------------------------------


def test_cli_withdraw_flow(cases: Path, store: CaseStore, tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl", "bram@example.nl"]\n')
    common = ["--cases", str(cases), "--roles", str(roles)]
    version = ["--hash", seen(store)[:12]]
    result = cli("review", "withdraw", CASE, *version, *common, "--as", "anna@example.nl")
    assert isinstance(result.exception, UsageError)  # no reason
    result = cli("review", "withdraw", CASE, "--reason", REASON, *version, *common, "--as", "piet@example.nl")
    assert isinstance(result.exception, PermissionDeniedError)
    result = cli("review", "withdraw", CASE, "--reason", REASON, *version, *common, "--as", "anna@example.nl")
    assert result.exit_code == 0, result.output
    assert f"review withdraw {CASE} --approve --hash {seen(store)[:12]}" in result.stdout

    listing = json.loads(cli("review", "list", "--cases", str(cases), "--json").stdout)
    row = next(row for row in listing if row["id"] == CASE)
    assert (row["state"], row["comment"], row["hash"]) == ("withdrawal_proposed", REASON, seen(store))
    text_listing = cli("review", "list", "--cases", str(cases)).stdout
    assert f"withdrawal_proposed {seen(store)[:12]}  {CASE}" in text_listing and REASON in text_listing

    approve = ["review", "withdraw", CASE, "--approve", *version, *common, "--no-index"]
    assert isinstance(cli(*approve, "--as", "anna@example.nl").exception, WorkflowError)  # four eyes
    result = cli(*approve, "--as", "bram@example.nl")
    assert result.exit_code == 0, result.output
    assert "withdrawn" in result.stdout and CASE not in load_cases(cases).cases
    assert [e.action for e in read_events(store.storage.audit_log, CASE)] == ["withdrawal_proposed", "withdrawn"]
    assert CASE not in cli("review", "list", "--cases", str(cases)).stdout


def test_cli_withdraw_cancel(cases: Path, store: CaseStore, tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl", "bram@example.nl"]\n')
    common = [CASE, "--hash", seen(store)[:12], "--cases", str(cases), "--roles", str(roles)]
    assert cli("review", "withdraw", *common, "--reason", REASON, "--as", "anna@example.nl").exit_code == 0
    both = cli("review", "withdraw", *common, "--approve", "--cancel", "--no-index", "--as", "bram@example.nl")
    assert isinstance(both.exception, UsageError)
    result = cli("review", "withdraw", *common, "--cancel", "--as", "bram@example.nl")
    assert isinstance(result.exception, UsageError) and "needs a reason" in str(result.exception)
    result = cli("review", "withdraw", *common, "--cancel", "-m", "Niet herkenbaar", "--as", "bram@example.nl")
    assert result.exit_code == 0, result.output
    assert "cancelled" in result.stdout and "stays in search" in result.stdout
    assert CASE in load_cases(cases).cases and "withdrawal_proposed" not in cli("review", "list", *common[3:5]).stdout
    events = [(e.action, e.actor, e.comment) for e in read_events(store.storage.audit_log, CASE)]
    assert events[-1] == ("withdrawal_cancelled", "bram@example.nl", "Niet herkenbaar")
    result = cli("review", "withdraw", *common, "--cancel", "--as", "anna@example.nl")
    assert isinstance(result.exception, WorkflowError)  # nothing left to cancel


# -- the pages ---------------------------------------------------------------------------------------


def shown(at) -> str:
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def button(at, label_key: str):
    matches = [b for b in at.button if b.label == text(label_key, "nl")]
    assert matches, f"no button '{label_key}' in {[b.label for b in at.button]}"
    return matches[0]


def run(target):
    at = target.run()
    assert not at.exception, at.exception
    return at


def test_a_link_to_a_withdrawn_case_shows_ingetrokken_on_the_case_page(
    cases: Path, store: CaseStore, open_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)  # the running app looks for changes at every run
    write_case(cases, "verwijzer", title="Een verwijzende casus", related=[{"id": CASE, "relation": "follows"}])
    at = open_app(cases, nav.CASE, lambda at: at.query_params.update(case="verwijzer"))
    assert [link.label for link in at.get("page_link") if link.label == TITLE]  # a link while published
    store.propose_withdrawal(CASE, ANNA, REASON, seen(store))
    store.withdraw(CASE, BRAM, seen_hash=seen(store))

    at = open_app(cases, nav.CASE, lambda at: at.query_params.update(case="verwijzer"))
    assert f"{TITLE} *(ingetrokken)*" in shown(at)
    assert not [link for link in at.get("page_link") if link.label == TITLE]  # text, not a link
    at = open_app(cases, nav.CASE, lambda at: at.query_params.update(case=CASE))
    assert at.warning  # the withdrawn case itself is not found


def test_review_page_propose_then_a_second_officer_approves(cases: Path, officer_page) -> None:
    at = officer_page(cases, nav.REVIEW, ANNA_LOGIN)
    assert text("review.withdraw.title", "nl") in shown(at)
    assert text("review.withdraw.propose", "nl") not in [b.label for b in at.button]  # nothing picked yet
    run(at.selectbox(key="withdraw_pick").set_value(CASE))
    run(button(at, "review.withdraw.propose").click())  # no reason: refused on the page, nothing recorded
    assert text("review.withdraw.reason_missing", "nl") in shown(at)
    assert read_events(CaseStore(cases).storage.audit_log) == []
    at.text_area(key="withdraw_reason").input(REASON)
    run(button(at, "review.withdraw.propose").click())
    assert f"Intrekking van '{CASE}' voorgesteld" in shown(at) and REASON in shown(at)
    approve = button(at, "review.withdraw.approve")  # the proposer: disabled, with the reason next to it
    assert approve.disabled and text("review.withdraw.why_own", "nl") in shown(at)
    assert button(at, "review.withdraw.propose").disabled  # already proposed for this version

    at = officer_page(cases, nav.REVIEW, BRAM_LOGIN)
    assert REASON in shown(at) and not button(at, "review.withdraw.approve").disabled
    run(button(at, "review.withdraw.approve").click())
    assert f"'{CASE}' is ingetrokken" in shown(at)
    assert not (cases / f"{CASE}.yaml").exists() and (cases / WITHDRAWN / f"{CASE}.yaml").exists()
    assert text("review.withdraw.approve", "nl") not in [b.label for b in at.button]
    assert CASE not in at.selectbox(key="withdraw_pick").options  # the engine was refreshed: out of search
    events = read_events(CaseStore(cases).storage.audit_log, CASE)
    assert [(e.action, e.actor, e.comment) for e in events] == [
        ("withdrawal_proposed", "anna@example.nl", REASON),
        ("withdrawn", "bram@example.nl", REASON),
    ]


def test_review_page_the_proposer_cancels_and_another_officer_cancels_saying_why(cases: Path, officer_page) -> None:
    store = CaseStore(cases)
    store.propose_withdrawal(CASE, ANNA, REASON, seen(store))
    at = officer_page(cases, nav.REVIEW, ANNA_LOGIN)
    assert not _has_box(at)  # the proposer takes her own proposal back without a box to fill in
    run(button(at, "review.withdraw.cancel").click())
    assert f"Het voorstel om '{CASE}' in te trekken is geannuleerd" in shown(at)
    assert text("review.withdraw.approve", "nl") not in [b.label for b in at.button]
    assert (cases / f"{CASE}.yaml").exists() and store.pending_withdrawals() == []

    store.propose_withdrawal(CASE, ANNA, REASON, seen(store))
    at = officer_page(cases, nav.REVIEW, BRAM_LOGIN)
    run(button(at, "review.withdraw.cancel").click())  # Bram overrules Anna: not without saying why
    assert text("review.withdraw.cancel_reason_missing", "nl", name=md_inline(ANNA.name)) in shown(at)
    assert [e.action for e in read_events(store.storage.audit_log, CASE)][-1] == "withdrawal_proposed"
    at.text_area(key=f"withdraw_cancel_reason.{CASE}").input("Niet herkenbaar")
    run(button(at, "review.withdraw.cancel").click())
    assert f"Het voorstel om '{CASE}' in te trekken is geannuleerd" in shown(at) and not _has_box(at)
    events = read_events(store.storage.audit_log, CASE)
    assert (events[-1].action, events[-1].actor, events[-1].comment) == (
        "withdrawal_cancelled",
        "bram@example.nl",
        "Niet herkenbaar",
    )
    assert store.pending_withdrawals() == [] and CASE in load_cases(cases).cases


def _has_box(at) -> bool:
    return any(area.key == f"withdraw_cancel_reason.{CASE}" for area in at.text_area)
