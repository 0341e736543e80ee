"""One CaseStore, two stores: every workflow step behaves the same on the case folder and on PostgreSQL.

The PostgreSQL half runs against a real, throwaway server (tests/pg_server.py), skipped with the reason
where PostgreSQL is not installed. Only the store's public methods are used, so the same assertions hold
for both; what only the database adds (triggers, migrations, an unreachable server) is tested below.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from conftest import make_case

from moresprudentie.cases.loading import dump_case
from moresprudentie.errors import (
    ConflictError,
    IdTakenError,
    PermissionDeniedError,
    PersonalDataError,
    StoreUnavailableError,
    UsageError,
    WorkflowError,
)
from moresprudentie.review import store as workflow
from moresprudentie.review.roles import actor_for
from moresprudentie.review.steps import StaleVersionError
from moresprudentie.review.store import CaseStore
from moresprudentie.storage.files import FileStorage
from moresprudentie.storage.postgres import PostgresStorage, migrate

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl", "carla@example.nl"})
ANNA, BRAM, CARLA = (actor_for(name, OFFICERS) for name in sorted(OFFICERS))
CASE = "taart-van-aanvrager"


@pytest.fixture(autouse=True)
def clean_check(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The anonymisation check is a switch here (it is tested on its own, and loads a model)."""
    findings: list[object] = []
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: list(findings))
    return findings


@pytest.fixture(params=["files", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> CaseStore:
    if request.param == "files":
        return CaseStore.on(FileStorage(tmp_path / "cases"))
    return CaseStore.on(PostgresStorage(request.getfixturevalue("pg_url")))


def published_case(store: CaseStore, case_id: str = CASE) -> str:
    """Draft (Anna), submit, approve (Bram), publish: the hash of the published version."""
    store.save_draft(make_case(case_id), ANNA)
    store.submit(case_id, ANNA)
    shown = store.draft_version(case_id).hash
    store.approve(case_id, BRAM, seen_hash=shown)
    store.publish(case_id, BRAM, seen_hash=shown)
    return store.editable_version(case_id).hash


def actions(store: CaseStore, case_id: str = CASE) -> list[str]:
    return [event.action for event in store.storage.events(case_id)]


def test_the_whole_review_round(store: CaseStore) -> None:
    saved = store.save_draft(make_case(CASE), ANNA)
    assert [item.version.case_id for item in store.review_queue()] == [CASE]
    store.submit(CASE, ANNA)
    with pytest.raises(WorkflowError, match="four-eyes"):
        store.approve(CASE, ANNA, seen_hash=saved.hash)
    store.approve(CASE, BRAM, seen_hash=saved.hash)
    published = store.publish(CASE, BRAM, seen_hash=saved.hash)
    assert published.is_published and store.editable_version(CASE).is_published
    assert store.review_queue() == []
    assert actions(store) == ["drafted", "submitted", "approved", "published"]


def test_a_new_case_with_a_taken_id_is_refused(store: CaseStore) -> None:
    store.save_draft(make_case(CASE), ANNA)
    with pytest.raises(IdTakenError, match="already exists"):
        store.save_draft(make_case(CASE, title="Een andere"), BRAM)
    assert actions(store) == ["drafted"]


def test_a_withdrawn_case_keeps_its_id(store: CaseStore) -> None:
    """Other cases' links and the audit log mean the withdrawn case by its id: a new case under that id
    would silently take over the links (and lose their "withdrawn" mark)."""
    published = published_case(store)
    store.propose_withdrawal(CASE, ANNA, "Herkenbaar", published)
    store.withdraw(CASE, BRAM, seen_hash=published)
    with pytest.raises(IdTakenError, match="id of a withdrawn case"):
        store.save_draft(make_case(CASE, title="Iets heel anders"), ANNA)
    with pytest.raises(IdTakenError, match="id of a withdrawn case"):
        store.create_scaffold(CASE, ANNA)
    assert actions(store)[-1] == "withdrawn" and store.storage.published_or_none(CASE) is None


def test_an_edit_of_a_changed_text_is_kept_and_refused(store: CaseStore) -> None:
    first = store.save_draft(make_case(CASE), ANNA)
    store.save_draft(make_case(CASE, title="Bram was eerst"), BRAM, first.hash)
    with pytest.raises(ConflictError, match="changed since you opened it") as refused:
        store.save_draft(make_case(CASE, title="Anna te laat"), ANNA, first.hash)
    assert "kept in" in str(refused.value)
    assert store.editable_version(CASE).case.title == "Bram was eerst"


def test_an_unchanged_save_records_nothing(store: CaseStore) -> None:
    first = store.save_draft(make_case(CASE), ANNA)
    again = store.save_draft(make_case(CASE), ANNA, first.hash)
    assert not again.changed and actions(store) == ["drafted"]


def test_approving_a_text_swapped_in_since_is_refused(store: CaseStore) -> None:
    shown = store.save_draft(make_case(CASE), ANNA).hash
    store.submit(CASE, ANNA)
    store.save_draft(make_case(CASE, title="Stiekem anders"), ANNA, shown)
    store.submit(CASE, ANNA)
    with pytest.raises(StaleVersionError):
        store.approve(CASE, BRAM, seen_hash=shown)


def test_a_revision_waits_beside_the_published_case_until_it_is_published(store: CaseStore) -> None:
    published = published_case(store)
    revision = store.save_draft(make_case(CASE, title="Verbeterde titel"), ANNA, published)
    assert store.storage.published(CASE).case.title != "Verbeterde titel"  # still the published one
    store.submit(CASE, ANNA)
    store.approve(CASE, CARLA, seen_hash=revision.hash)
    store.publish(CASE, CARLA, seen_hash=revision.hash)
    assert store.editable_version(CASE).case.title == "Verbeterde titel"
    assert not store.editable_version(CASE).is_revision and store.review_queue() == []


def test_personal_data_is_never_stored(store: CaseStore, clean_check: list[object]) -> None:
    clean_check.append(type("F", (), {"field": "situation", "kind": "naam", "text": "Jan", "replacement": "[naam]"}))
    with pytest.raises(PersonalDataError):
        store.save_draft(make_case(CASE), ANNA)
    assert list(store.storage.documents()) == [] and actions(store) == []


def test_a_withdrawal_needs_a_second_officer_and_sets_a_pending_revision_aside(store: CaseStore) -> None:
    published = published_case(store)
    store.save_draft(make_case(CASE, title="Half af"), ANNA, published)  # a revision, not yet reviewed
    store.propose_withdrawal(CASE, ANNA, "Achterhaald door nieuwe wet", published)
    with pytest.raises(WorkflowError, match="four-eyes"):
        store.withdraw(CASE, ANNA, seen_hash=published)
    store.withdraw(CASE, BRAM, seen_hash=published)
    assert store.storage.published_or_none(CASE) is None
    with pytest.raises(WorkflowError, match="already withdrawn"):
        store.withdrawal_of(CASE)
    places = {(place, case_id) for place, case_id, _ in store.storage.documents()}
    assert ("withdrawn", CASE) in places and ("revision", CASE) not in places  # no way back through the revision
    assert actions(store)[-2:] == ["withdrawal_proposed", "withdrawn"]


def test_the_reviewer_sees_what_changed_since_sending_it_back(store: CaseStore) -> None:
    """The text sent back is kept, so the resubmitted one can be compared with it field by field."""
    sent = store.save_draft(make_case(CASE), ANNA).hash
    store.submit(CASE, ANNA)
    assert store.changes_since_sent_back(*store.current_review(CASE)) is None  # never sent back
    store.send_back(CASE, BRAM, "Noem de afdeling niet", seen_hash=sent)
    assert store.changes_since_sent_back(*store.current_review(CASE)) is None  # with its author, unchanged
    edited = make_case(CASE, situation="Een medewerker krijgt een grote taart.", options=["Delen"])
    store.save_draft(edited, ANNA, sent)
    store.submit(CASE, ANNA)
    found = store.changes_since_sent_back(*store.current_review(CASE))
    assert found is not None and (found.sent_back.actor, found.sent_back.hash) == (BRAM.name, sent)
    assert found.sent_back.comment == "Noem de afdeling niet"
    assert [field.field for field in found.changed] == ["situation", "options"]
    assert "dilemma" in [field.field for field in found.unchanged]
    situation = found.changed[0]
    assert ("removed", "vergunningen") in [(p.kind, p.text.strip()) for p in situation.pieces]
    assert ("added", "grote") in [(p.kind, p.text.strip()) for p in situation.pieces]

    now = store.editable_version(CASE).hash
    store.approve(CASE, CARLA, seen_hash=now)
    store.publish(CASE, CARLA, seen_hash=now)  # a publication ends the round: nothing to compare after it
    revision = store.save_draft(make_case(CASE, title="Een herziene titel"), ANNA, store.editable_version(CASE).hash)
    store.submit(CASE, ANNA)
    assert store.changes_since_sent_back(*store.current_review(CASE)) is None
    store.send_back(CASE, BRAM, "Nog niet", seen_hash=revision.hash)
    store.submit(CASE, ANNA)  # offered again unchanged: nothing changed, and the page says so
    again = store.changes_since_sent_back(*store.current_review(CASE))
    assert again is not None and again.fields is not None and again.changed == []


def test_a_withdrawal_proposal_can_be_cancelled_by_its_proposer_or_with_a_reason_by_another(store: CaseStore) -> None:
    published = published_case(store)
    store.propose_withdrawal(CASE, ANNA, "Herkenbaar", published)
    cancelled = store.cancel_withdrawal(CASE, ANNA, seen_hash=published)  # her own: no reason needed
    assert (cancelled.proposer, cancelled.hash) == (ANNA.name, published)
    assert store.pending_withdrawals() == [] and store.withdrawal_of(CASE)[1] is None
    with pytest.raises(WorkflowError, match="nobody proposed"):  # cancelled: nothing left to approve
        store.withdraw(CASE, BRAM, seen_hash=published)
    with pytest.raises(WorkflowError, match="no proposal to cancel"):
        store.cancel_withdrawal(CASE, ANNA, seen_hash=published)

    store.propose_withdrawal(CASE, ANNA, "Toch herkenbaar", published)
    with pytest.raises(UsageError, match="needs a reason"):  # Bram overrules Anna: he says why
        store.cancel_withdrawal(CASE, BRAM, "  ", seen_hash=published)
    store.cancel_withdrawal(CASE, BRAM, "  Niet herkenbaar na de herziening ", seen_hash=published)
    events = store.storage.events(CASE)[-4:]
    assert [(e.action, e.actor, e.comment, e.hash) for e in events] == [
        ("withdrawal_proposed", ANNA.name, "Herkenbaar", published),
        ("withdrawal_cancelled", ANNA.name, "", published),
        ("withdrawal_proposed", ANNA.name, "Toch herkenbaar", published),
        ("withdrawal_cancelled", BRAM.name, "Niet herkenbaar na de herziening", published),
    ]
    assert store.storage.published_or_none(CASE) is not None and store.review_queue() == []


def test_a_cancel_never_ends_a_proposal_made_again_since_it_was_read(store: CaseStore) -> None:
    """Bram reads Anna's proposal; meanwhile she cancels it and Carla proposes anew. Bram's cancel was
    about Anna's proposal, so it is refused, and Carla's stands until someone judges it."""
    published = published_case(store)
    read = store.propose_withdrawal(CASE, ANNA, "Herkenbaar", published)
    store.cancel_withdrawal(CASE, ANNA, seen_hash=published, seen=read)
    carla = actor_for("carla@example.nl", OFFICERS)
    anew = store.propose_withdrawal(CASE, carla, "Toch herkenbaar: de wijk staat erin", published)
    with pytest.raises(ConflictError, match="changed since you read it"):
        store.cancel_withdrawal(CASE, BRAM, "Niet herkenbaar", seen_hash=published, seen=read)
    assert store.withdrawal_of(CASE)[1] == anew
    store.cancel_withdrawal(CASE, BRAM, "Niet herkenbaar", seen_hash=published, seen=anew)
    assert store.withdrawal_of(CASE)[1] is None


def test_a_stale_proposal_can_be_cancelled_naming_the_published_version_read_now(store: CaseStore) -> None:
    """A proposal for a text changed since can never be approved; cancelling clears it from the list."""
    proposed = published_case(store)
    store.propose_withdrawal(CASE, ANNA, "Herkenbaar", proposed)
    with pytest.raises(PermissionDeniedError):
        store.cancel_withdrawal(CASE, actor_for("piet@example.nl", OFFICERS), seen_hash=proposed)
    with store.storage.locked():  # the published text changed outside the workflow: the proposal is stale
        store.storage.put("collection", CASE, dump_case(make_case(CASE, title="Met de hand herzien")).encode())
    [pending] = store.pending_withdrawals()
    now = pending.version.hash
    assert pending.stale and now != proposed
    with pytest.raises(StaleVersionError):  # the cancel names the text on disk now, as every step does
        store.cancel_withdrawal(CASE, ANNA, seen_hash=proposed)
    store.cancel_withdrawal(CASE, ANNA, seen_hash=now)
    assert store.pending_withdrawals() == []
    last = store.storage.events(CASE)[-1]
    assert (last.action, last.hash) == ("withdrawal_cancelled", proposed)  # about the proposal it ends


# -- what only the database adds ---------------------------------------------------------------------------


@pytest.fixture
def pg_store(pg_url: str) -> CaseStore:
    return CaseStore.on(PostgresStorage(pg_url))


def _sql(url: str, statement: str, params: tuple[str, ...] = ()) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, params or None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"]
)
def test_the_audit_log_is_append_only_in_the_database(pg_store: CaseStore, pg_url: str, statement: str) -> None:
    published_case(pg_store)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        _sql(pg_url, statement)
    assert actions(pg_store) == ["drafted", "submitted", "approved", "published"]


@pytest.mark.parametrize(
    "forged",
    [
        ("approved", "anna@example.nl", "four-eyes rule: anna@example.nl drafted this version"),
        ("published", "anna@example.nl", "no approval by a second officer"),
    ],
)
def test_the_database_refuses_a_step_around_the_four_eyes_rule(
    pg_store: CaseStore, pg_url: str, forged: tuple[str, str, str]
) -> None:
    """Even a client that skips the workflow (SQL by hand) cannot approve its own text or publish unapproved."""
    action, actor, message = forged
    draft = pg_store.save_draft(make_case(CASE), ANNA)
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        _sql(
            pg_url,
            "INSERT INTO audit_events (time, actor, action, case_id, hash) VALUES (%s, %s, %s, %s, %s)",
            ("2026-12-05T00:00:00+00:00", actor, action, CASE, draft.hash),
        )


def test_the_database_refuses_a_withdrawal_whose_proposal_was_cancelled(pg_store: CaseStore, pg_url: str) -> None:
    """The workflow refuses it first; SQL by hand cannot withdraw a case on a proposal taken back."""
    published = published_case(pg_store)
    pg_store.propose_withdrawal(CASE, ANNA, "Herkenbaar", published)
    pg_store.cancel_withdrawal(CASE, ANNA, seen_hash=published)
    with pytest.raises(psycopg.errors.CheckViolation, match="was not proposed by another officer"):
        _sql(
            pg_url,
            "INSERT INTO audit_events (time, actor, action, case_id, hash) VALUES (%s, %s, %s, %s, %s)",
            ("2026-12-05T00:00:00+00:00", BRAM.name, "withdrawn", CASE, published),
        )
    pg_store.propose_withdrawal(CASE, CARLA, "Toch herkenbaar", published)  # a new proposal counts again
    pg_store.withdraw(CASE, BRAM, seen_hash=published)
    assert actions(pg_store)[-3:] == ["withdrawal_cancelled", "withdrawal_proposed", "withdrawn"]


def test_migrations_are_applied_once(pg_url: str) -> None:
    PostgresStorage(pg_url).connect().close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn) == []  # a second replica starting finds nothing to do
        applied = conn.execute("SELECT name FROM schema_migrations ORDER BY version").fetchall()
        assert applied == [("0001_initial.sql",), ("0002_withdrawal_cancelled.sql",)]


def test_every_change_moves_the_counter(pg_store: CaseStore) -> None:
    storage = pg_store.storage
    assert isinstance(storage, PostgresStorage)
    before = storage.changes()
    pg_store.save_draft(make_case(CASE), ANNA)
    assert storage.changes() > before


def test_an_unreachable_database_fails_cleanly_and_writes_nothing(postgres_server, pg_url: str) -> None:
    store = CaseStore.on(PostgresStorage(pg_url.replace(str(postgres_server.port), "1")))  # nothing listens there
    steps: list[Callable[[], object]] = [
        lambda: store.save_draft(make_case(CASE), ANNA),
        store.review_queue,
        lambda: store.submit(CASE, ANNA),
    ]
    for step in steps:
        with pytest.raises(StoreUnavailableError, match=r"cannot be reached.*nothing was written"):
            step()


def test_the_stored_text_is_the_dumped_case_byte_for_byte(pg_store: CaseStore) -> None:
    pg_store.save_draft(make_case(CASE), ANNA)
    [(place, case_id, body)] = list(pg_store.storage.documents())
    expected = dump_case(make_case(CASE).model_copy(update={"status": "draft"})).encode("utf-8")
    assert (place, case_id, body) == ("collection", CASE, expected)


def test_the_anonymisation_check_runs_before_the_lock_is_taken(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name detector takes seconds to load in a fresh process: never while every other officer waits."""
    draft = store.save_draft(make_case(CASE), ANNA)
    locked = {"now": False}
    real_locked = store.storage.locked

    def watching():
        locked["now"] = True
        try:
            with real_locked():
                yield
        finally:
            locked["now"] = False

    checked_while_locked: list[bool] = []
    monkeypatch.setattr(store.storage, "locked", contextmanager(watching))
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: checked_while_locked.append(locked["now"]) or [])
    store.submit(CASE, ANNA)
    store.approve(CASE, BRAM, seen_hash=draft.hash)
    store.publish(CASE, BRAM, seen_hash=draft.hash)
    assert checked_while_locked == [False, False, False]  # once per step, each before the lock
