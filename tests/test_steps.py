"""Which step is allowed: the rules of review/steps.py, and proof that the store takes exactly those steps.

The officer pages offer the steps allowed_steps returns and CaseStore checks the same rules when a step
is taken, so one table of states × officers × steps covers both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import make_case as shared_case

from moresprudentie import settings
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseFileError, ConflictError, PermissionDeniedError, UsageError, WorkflowError
from moresprudentie.review import store as workflow
from moresprudentie.review.audit import Event, append_event, now
from moresprudentie.review.layout import Version
from moresprudentie.review.roles import Actor, actor_for
from moresprudentie.review.steps import Review, StaleVersionError, allowed_steps, require_seen
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


def test_blocking_findings_stop_submit_approve_and_publish_warnings_do_not() -> None:
    blocking, warning = FakeFinding(), FakeFinding(severity="warn")
    drafted = Review("draft", frozenset({"anna@example.nl"}))
    assert allowed_steps(ANNA, DRAFT, drafted, [blocking, warning]) == {"edit"}  # fixing the text is what is left
    assert allowed_steps(ANNA, DRAFT, drafted, [warning]) == {"submit", "edit"}
    assert allowed_steps(BRAM, DRAFT, SUBMITTED_BY_ANNA, [blocking, warning]) == {"send_back", "edit"}
    assert allowed_steps(CARLA, DRAFT, APPROVED_BY_BRAM, [blocking]) == {"send_back", "edit"}
    assert allowed_steps(BRAM, DRAFT, SUBMITTED_BY_ANNA, [warning]) == {"approve", "send_back", "edit"}


def test_an_invalid_file_or_a_published_case_can_only_be_edited() -> None:
    assert allowed_steps(BRAM, version(None), Review("draft", frozenset({"anna@example.nl"}))) == {"edit"}
    published = version(make_case(status="published"))
    assert allowed_steps(BRAM, published, APPROVED_BY_BRAM) == {"edit"}
    assert "publish" in allowed_steps(BRAM, version(make_case(status="published"), True), APPROVED_BY_BRAM)


# -- the store takes exactly the allowed steps ----------------------------------------------------------


def seen(store: CaseStore) -> str:
    """The hash of the version on disk: what an officer who opens the case now is shown."""
    return store.editable_version(CASE_ID).hash


def _submitted(store: CaseStore) -> None:
    store.save_draft(make_case(), ANNA)
    store.submit(CASE_ID, ANNA)


def _approved(store: CaseStore) -> None:
    _submitted(store)
    store.approve(CASE_ID, BRAM, seen_hash=seen(store))


def _sent_back(store: CaseStore) -> None:
    _submitted(store)
    store.send_back(CASE_ID, BRAM, "Haal de functietitel weg.", seen_hash=seen(store))


def _published(store: CaseStore) -> None:
    _approved(store)
    store.publish(CASE_ID, CARLA, seen_hash=seen(store))


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
    "invalid": lambda store: (store.storage.cases_dir / f"{CASE_ID}.yaml").write_text(f"id: {CASE_ID}\ntitle: [\n"),
}
STEPS: dict[str, Callable[[CaseStore, Actor], object]] = {
    "submit": lambda store, actor: store.submit(CASE_ID, actor),
    "approve": lambda store, actor: store.approve(CASE_ID, actor, seen_hash=seen(store)),
    "send_back": lambda store, actor: store.send_back(CASE_ID, actor, "Graag aanpassen.", seen_hash=seen(store)),
    "publish": lambda store, actor: store.publish(CASE_ID, actor, seen_hash=seen(store)),
    "edit": lambda store, actor: store.save_draft(make_case(title=FIXED), actor, store.editable_version(CASE_ID).hash),
}
FIXED = "Bijgewerkt, zonder persoonsgegevens"  # the edit's text: an edit is judged by what it saves


@pytest.mark.parametrize("blocked", [False, True], ids=["clean", "blocked"])
@pytest.mark.parametrize("actor", [ANNA, BRAM, CARLA, EMPLOYEE], ids=lambda actor: actor.name.split("@")[0])
@pytest.mark.parametrize("state", SETUPS)
def test_the_store_takes_exactly_the_steps_allowed_steps_offers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str, actor: Actor, blocked: bool
) -> None:
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    findings: list[FakeFinding] = []  # found in the text on disk; the edit saves a text without them
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [] if case.title == FIXED else list(findings))
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


# -- the version seen: four eyes on the text that was read ------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CaseStore:
    """A collection whose anonymisation check finds nothing (the check is tested elsewhere)."""
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    return CaseStore(tmp_path / "cases")


def swap(store: CaseStore, title: str, author: Actor = ANNA) -> str:
    """Another text saved over the draft and resubmitted, as an author would between view and click."""
    store.save_draft(make_case(title=title), author, seen(store))
    store.submit(CASE_ID, author)
    return seen(store)


def audit(store: CaseStore) -> bytes:
    return store.storage.audit_log.read_bytes()


def test_an_approval_of_a_version_swapped_since_it_was_read_is_refused(store: CaseStore) -> None:
    _submitted(store)
    read_by_bram = seen(store)
    swapped = swap(store, "Een andere tekst dan Bram las")
    before = audit(store)
    refused = rf"changed since you opened it \(shown version {read_by_bram[:12]}…, now {swapped[:12]}…\); open it again"
    with pytest.raises(StaleVersionError, match=refused) as info:
        store.approve(CASE_ID, BRAM, seen_hash=read_by_bram)
    assert isinstance(info.value, ConflictError) and (info.value.shown, info.value.current) == (read_by_bram, swapped)
    assert audit(store) == before and store.current_review(CASE_ID)[1].state == "submitted"
    assert store.approve(CASE_ID, BRAM, seen_hash=swapped).approvers == ("Bram@Example.nl",)  # the text read now


def test_publishing_a_version_swapped_since_it_was_read_is_refused_even_when_it_is_approved(store: CaseStore) -> None:
    _approved(store)
    read_by_carla = seen(store)
    swapped = swap(store, "Door Bram herschreven", author=BRAM)
    store.approve(CASE_ID, ANNA, seen_hash=swapped)  # a second officer approved the new text: it may be published
    before, file = audit(store), (store.storage.cases_dir / f"{CASE_ID}.yaml").read_bytes()
    with pytest.raises(StaleVersionError, match="changed since you opened it"):
        store.publish(CASE_ID, CARLA, seen_hash=read_by_carla)  # but not on a click meant for the old one
    assert audit(store) == before and (store.storage.cases_dir / f"{CASE_ID}.yaml").read_bytes() == file
    assert store.publish(CASE_ID, CARLA, seen_hash=swapped).title == "Door Bram herschreven"


def test_a_send_back_of_a_version_swapped_since_it_was_read_is_refused(store: CaseStore) -> None:
    _submitted(store)
    read_by_bram = seen(store)
    swapped = swap(store, "Al aangepast")
    store.approve(CASE_ID, CARLA, seen_hash=swapped)
    before = audit(store)
    with pytest.raises(StaleVersionError):  # the comment is about the old text; Carla's approval stands
        store.send_back(CASE_ID, BRAM, "De functietitel moet eruit.", seen_hash=read_by_bram)
    assert audit(store) == before and store.current_review(CASE_ID)[1].state == "approved"


def test_a_version_is_named_by_its_hash_or_a_prefix_of_at_least_8_digits(store: CaseStore) -> None:
    _submitted(store)
    current = seen(store)
    for wrong in ("", current[:7], "zzzzzzzz", f"{current[:8]} extra"):
        with pytest.raises(UsageError, match="not a version hash"):
            store.approve(CASE_ID, BRAM, seen_hash=wrong)
    unknown = "0" * 8 if not current.startswith("0" * 8) else "1" * 8  # a typo, or a version never recorded
    with pytest.raises(StaleVersionError, match=f"no version of it has the hash {unknown}…"):
        store.approve(CASE_ID, BRAM, seen_hash=unknown)
    assert store.approve(CASE_ID, BRAM, seen_hash=f" {current[:8].upper()} ").state == "approved"


def test_a_prefix_that_fits_an_earlier_version_too_is_refused(store: CaseStore) -> None:
    """An author could craft a text whose hash starts like the one the reviewer read (2**32 tries for 8
    digits): a prefix must name one version of the case's history, else more digits are needed."""
    _submitted(store)
    current = seen(store)
    crafted = current[:8] + ("0" if current[8] != "0" else "1") + current[9:]
    append_event(store.storage.audit_log, Event(now(), ANNA.name, "drafted", CASE_ID, crafted))
    with pytest.raises(UsageError, match=r"fits more than one version.*give more digits"):
        store.approve(CASE_ID, BRAM, seen_hash=current[:8])
    assert store.approve(CASE_ID, BRAM, seen_hash=current[:12]).state == "approved"


def test_require_seen_without_a_disk() -> None:
    require_seen(DRAFT, "A" * 64)
    require_seen(DRAFT, "a" * 8, known=["a" * 64, "b" * 64])
    with pytest.raises(StaleVersionError, match=r"shown version bbbbbbbbbbbb…, now aaaaaaaaaaaa…"):
        require_seen(DRAFT, "b" * 10, known=["b" * 64])
    with pytest.raises(UsageError, match="more than one version"):
        require_seen(DRAFT, "a" * 8, known=["a" * 8 + "c" * 56])
    stale = StaleVersionError(CASE_ID, "b" * 64, "a" * 64)
    assert str(copy.deepcopy(stale)) == str(stale)  # rebuilt from its fields, as pickle does between processes
