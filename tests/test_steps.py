"""Which step is allowed: the rules of review/steps.py, and proof that the store takes exactly those steps.

The officer pages offer the steps allowed_steps returns and CaseStore checks the same rules when a step
is taken, so one table of states × officers × steps covers both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import make_case as shared_case

from moresprudentie import settings
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseFileError, PermissionDeniedError, WorkflowError
from moresprudentie.review import store as workflow
from moresprudentie.review.layout import Version
from moresprudentie.review.roles import Actor, actor_for
from moresprudentie.review.steps import Review, allowed_steps
from moresprudentie.review.store import CaseStore

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl", "carla@example.nl"})
ANNA = actor_for("anna@example.nl", OFFICERS)
BRAM = actor_for("Bram@Example.nl", OFFICERS)
CARLA = actor_for("carla@example.nl", OFFICERS)
EMPLOYEE = actor_for("piet@example.nl", OFFICERS)
CASE_ID = "taart-van-aanvrager"
SUBMITTED_BY_ANNA = Review("submitted", frozenset({"anna@example.nl"}))
APPROVED_BY_BRAM = Review("approved", frozenset({"anna@example.nl"}), ("bram@example.nl",))


@dataclass(frozen=True)
class FakeFinding:
    kind: str = "naam"
    text: str = "Jansen"
    field: str = "situation"
    replacement: str = "[naam]"
    severity: str = "block"


def make_case(**fields: object) -> Case:
    """The shared test case, as a draft unless `fields` say otherwise."""
    return shared_case(CASE_ID, **({"status": "draft"} | fields))


def version(case: Case | None, is_revision: bool = False) -> Version:
    return Version(CASE_ID, Path(f"{CASE_ID}.yaml"), "a" * 64, case, [], is_revision)


DRAFT = version(make_case())


# -- the rules, without a disk -------------------------------------------------------------------------


def test_the_author_may_not_approve_own_version_a_second_officer_may() -> None:
    assert allowed_steps(ANNA, DRAFT, SUBMITTED_BY_ANNA) == {"send_back", "edit"}
    assert allowed_steps(BRAM, DRAFT, SUBMITTED_BY_ANNA) == {"approve", "send_back", "edit"}


@pytest.mark.parametrize(
    ("review", "expected"),
    [
        (Review("draft", frozenset({"anna@example.nl"})), {"submit", "edit"}),
        (Review("sent_back", frozenset({"anna@example.nl"})), {"submit", "edit"}),
        (SUBMITTED_BY_ANNA, {"approve", "send_back", "edit"}),
        (APPROVED_BY_BRAM, {"publish", "send_back", "edit"}),  # Bram approved already: once is enough
    ],
    ids=lambda value: value.state if isinstance(value, Review) else "",
)
def test_approve_needs_a_submission_publish_an_approval_send_back_a_review(review: Review, expected: set) -> None:
    assert allowed_steps(BRAM, DRAFT, review) == expected


def test_publish_needs_the_approval_of_a_second_officer_and_a_third_may_add_one() -> None:
    approved_by_author = Review("approved", frozenset({"anna@example.nl"}), ("Anna@example.nl",))
    assert "publish" not in allowed_steps(BRAM, DRAFT, approved_by_author)
    assert allowed_steps(CARLA, DRAFT, APPROVED_BY_BRAM) == {"approve", "publish", "send_back", "edit"}
    assert "publish" in allowed_steps(ANNA, DRAFT, APPROVED_BY_BRAM)  # any officer publishes, the author too


def test_send_back_needs_a_draft_under_review() -> None:
    for state in ("draft", "sent_back"):
        assert "send_back" not in allowed_steps(BRAM, DRAFT, Review(state, frozenset({"anna@example.nl"})))
    assert "send_back" in allowed_steps(ANNA, DRAFT, SUBMITTED_BY_ANNA)  # withdrawing one's own submission


@pytest.mark.parametrize("actor", [EMPLOYEE, Actor("", frozenset({"officer"})), Actor("anna@example.nl")])
def test_a_non_officer_may_take_no_step(actor: Actor) -> None:
    for review in (Review(), SUBMITTED_BY_ANNA, APPROVED_BY_BRAM):
        assert allowed_steps(actor, DRAFT, review) == frozenset()


def test_blocking_findings_stop_approve_and_publish_warnings_do_not() -> None:
    blocking, warning = FakeFinding(), FakeFinding(severity="warn")
    assert allowed_steps(BRAM, DRAFT, SUBMITTED_BY_ANNA, [blocking, warning]) == {"send_back", "edit"}
    assert allowed_steps(CARLA, DRAFT, APPROVED_BY_BRAM, [blocking]) == {"send_back", "edit"}
    assert allowed_steps(BRAM, DRAFT, SUBMITTED_BY_ANNA, [warning]) == {"approve", "send_back", "edit"}


def test_an_invalid_file_or_a_published_case_can_only_be_edited() -> None:
    assert allowed_steps(BRAM, version(None), Review("draft", frozenset({"anna@example.nl"}))) == {"edit"}
    published = version(make_case(status="published"))
    assert allowed_steps(BRAM, published, APPROVED_BY_BRAM) == {"edit"}
    assert "publish" in allowed_steps(BRAM, version(make_case(status="published"), True), APPROVED_BY_BRAM)


# -- the store takes exactly the allowed steps ----------------------------------------------------------


def _submitted(store: CaseStore) -> None:
    store.save_draft(make_case(), ANNA)
    store.submit(CASE_ID, ANNA)


def _approved(store: CaseStore) -> None:
    _submitted(store)
    store.approve(CASE_ID, BRAM)


def _sent_back(store: CaseStore) -> None:
    _submitted(store)
    store.send_back(CASE_ID, BRAM, "Haal de functietitel weg.")


def _published(store: CaseStore) -> None:
    _approved(store)
    store.publish(CASE_ID, CARLA)


def _revision(store: CaseStore) -> None:
    _published(store)
    store.save_draft(make_case(title="Herzien"), BRAM, store.editable_version(CASE_ID).hash)
    store.submit(CASE_ID, BRAM)


SETUPS: dict[str, Callable[[CaseStore], object]] = {
    "draft": lambda store: store.save_draft(make_case(), ANNA),
    "submitted": _submitted,
    "approved": _approved,
    "sent back": _sent_back,
    "published": _published,
    "revision submitted": _revision,
    "invalid": lambda store: (store.cases_dir / f"{CASE_ID}.yaml").write_text(f"id: {CASE_ID}\ntitle: [\n"),
}
STEPS: dict[str, Callable[[CaseStore, Actor], object]] = {
    "submit": lambda store, actor: store.submit(CASE_ID, actor),
    "approve": lambda store, actor: store.approve(CASE_ID, actor),
    "send_back": lambda store, actor: store.send_back(CASE_ID, actor, "Graag aanpassen."),
    "publish": lambda store, actor: store.publish(CASE_ID, actor),
    "edit": lambda store, actor: store.save_draft(
        make_case(title="Bijgewerkt"), actor, store.editable_version(CASE_ID).hash
    ),
}


@pytest.mark.parametrize("blocked", [False, True], ids=["clean", "blocked"])
@pytest.mark.parametrize("actor", [ANNA, BRAM, CARLA, EMPLOYEE], ids=lambda actor: actor.name.split("@")[0])
@pytest.mark.parametrize("state", SETUPS)
def test_the_store_takes_exactly_the_steps_allowed_steps_offers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str, actor: Actor, blocked: bool
) -> None:
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    findings: list[FakeFinding] = []
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: list(findings))
    for step, take in STEPS.items():
        folder = tmp_path / step / "cases"
        folder.mkdir(parents=True)
        store = CaseStore(folder)
        findings.clear()
        SETUPS[state](store)
        findings.extend([FakeFinding()] if blocked else [])  # found after the setup's approvals
        allowed = store.allowed_steps(actor, CASE_ID)
        try:
            take(store, actor)
        except (WorkflowError, PermissionDeniedError, CaseFileError):
            taken = False
        else:
            taken = True
        assert taken == (step in allowed), f"{state}: {step} by {actor.name} (allowed: {sorted(allowed)})"
