"""The shared store under two replicas and under kill -9, against a real PostgreSQL server (no mocks).

Issue 16's "done when": 2 × 50 concurrent draft saves and approvals from two replicas lose nothing,
publish nothing twice and leave a complete, ordered audit log; a replica SIGKILLed in the middle of a
step leaves the database as it was before the step (or, killed after the commit, with the whole step).
The replicas are child processes (pg_children.py), each with its own PostgresStorage and connections,
released at the same moment. What the database holds is read back with plain SQL beside the store's
own methods, so a store that hid a half step from itself would still be caught.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from typing import Any

import pg_children as pg
import psycopg
import pytest
from conftest import make_case

from moresprudentie.cases.loading import dump_case, file_hash
from moresprudentie.errors import CaseNotFoundError
from moresprudentie.review import store as workflow
from moresprudentie.review.steps import StaleVersionError, review_of
from moresprudentie.review.store import CaseStore
from moresprudentie.storage import postgres
from moresprudentie.storage.postgres import PostgresStorage

ANNA, BRAM = pg.ANNA, pg.BRAM
CASE = "taart-van-aanvrager"
COUNT = 50  # cases per replica
ROUNDS = 8  # lock-step races over the shared draft
ROUND = ("drafted", "submitted", "approved", "published")
LOSING_PUBLISH = {"WorkflowError", "StaleVersionError", "ConflictError"}
WRITTEN = {"audit_events", "case_documents", "case_versions", "store_changes"}  # a step writes all four
PROMPT_S = 5.0  # "within a few seconds": the lock wait is cut to this, so a lock left held fails loudly


@pytest.fixture(autouse=True)
def clean_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """No name-detector model in the parent either (the children patch the same function)."""
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])


@pytest.fixture
def short_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step waits PROMPT_S for the lock, not 30 s: a lock a killed replica left behind is an error."""
    monkeypatch.setattr(postgres, "LOCK_TIMEOUT", f"{PROMPT_S:.0f}s")


def sql(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params or None).fetchall()  # type: ignore[arg-type]


def audit_rows(url: str) -> list[tuple[int, str, str, str, str, str]]:
    """(seq, time, actor, action, case, hash) of every audit event, in seq order."""
    return sql(url, "SELECT seq, time, actor, action, case_id, hash FROM audit_events ORDER BY seq")  # type: ignore[return-value]


def snapshot(url: str) -> dict[str, Any]:
    """Everything a step can change: documents, audit log, stored versions, conflict copies, the counter."""
    return {
        "documents": sql(url, "SELECT place, case_id, hash, status FROM case_documents ORDER BY case_id, place"),
        "events": audit_rows(url),
        "versions": sql(url, "SELECT hash FROM case_versions ORDER BY hash"),
        "conflicts": sql(url, "SELECT id, case_id FROM conflict_copies ORDER BY id"),
        "counter": sql(url, "SELECT counter FROM store_changes"),
    }


def assert_log_ordered(url: str, store: CaseStore) -> None:
    """seq strictly increasing; times never go back (each event is stamped under the lock); events() is it."""
    rows = audit_rows(url)
    seqs = [row[0] for row in rows]
    assert all(a < b for a, b in itertools.pairwise(seqs))
    times = [row[1] for row in rows]
    assert times == sorted(times), "an event stamped earlier was logged later"
    assert [(e.actor, e.action, e.case, e.hash) for e in store.storage.events()] == [row[2:] for row in rows]


def actions(store: CaseStore, case_id: str = CASE) -> list[str]:
    return [event.action for event in store.storage.events(case_id)]


# -- two replicas at once -----------------------------------------------------------------------------------


def test_two_replicas_drafting_approving_and_publishing_at_once_lose_nothing(pg_url: str) -> None:
    store = CaseStore.on(PostgresStorage(pg_url))
    start = store.save_draft(pg.shared_text("start", -1), ANNA)
    anna, bram = pg.run_replicas(pg_url, ROUNDS, COUNT)
    ids = {"a1": pg.own_ids("a1", COUNT), "a2": pg.own_ids("a2", COUNT)}

    # every save and every approval came through, each by the replica that made it
    assert list(anna["saved"]) == ids["a1"] and list(bram["saved"]) == ids["a2"]
    assert anna["approved"] == bram["saved"] and bram["approved"] == anna["saved"]

    # every case was published once: one of its two publish attempts won, the other was refused
    outcomes: dict[str, list[tuple[str, str]]] = {}
    for name, report in (("anna@example.nl", anna), ("bram@example.nl", bram)):
        for case_id, outcome in report["publish"]:
            outcomes.setdefault(case_id, []).append((outcome, name))
    assert sorted(outcomes) == sorted(ids["a1"] + ids["a2"])
    publisher = {}
    for case_id, attempts in outcomes.items():
        won = [name for outcome, name in attempts if outcome == "published"]
        lost = [outcome for outcome, _ in attempts if outcome != "published"]
        assert len(won) == 1 and len(lost) == 1 and lost[0] in LOSING_PUBLISH, (case_id, attempts)
        publisher[case_id] = won[0]
    published = sql(
        pg_url, "SELECT case_id, body FROM case_documents WHERE place = 'collection' AND status = 'published'"
    )
    assert len(published) == 2 * COUNT
    for case_id, body in published:  # the text approved, byte for byte, with status published
        author = "anna@example.nl" if case_id in anna["saved"] else "bram@example.nl"
        expected = make_case(case_id, title=f"Zaak {case_id} van {author}").model_copy(update={"status": "published"})
        assert bytes(body) == dump_case(expected).encode("utf-8")

    # the audit log: exactly the steps taken, by whom they were taken, each case's round in order
    rows = audit_rows(pg_url)
    by_case: dict[str, list[tuple[int, str, str, str]]] = {}
    for seq, _, actor, action, case_id, digest in rows:
        by_case.setdefault(case_id, []).append((seq, actor, action, digest))
    for case_id in ids["a1"] + ids["a2"]:
        author, approver = ("anna@example.nl", "bram@example.nl")[:: 1 if case_id in anna["saved"] else -1]
        draft = (anna["saved"] | bram["saved"])[case_id]
        assert [(actor, action, digest) for _, actor, action, digest in by_case[case_id]] == [
            (author, "drafted", draft),
            (author, "submitted", draft),
            (approver, "approved", draft),
            (publisher[case_id], "published", draft),
        ]
    counts = Counter(action for *_, action, _, _ in rows)
    assert counts == {
        "drafted": 2 * COUNT + 1 + ROUNDS,
        "submitted": 2 * COUNT,
        "approved": 2 * COUNT,
        "published": 2 * COUNT,
    }
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))  # no step was logged and then undone
    assert_log_ordered(pg_url, store)

    # the shared draft: one winner per round, the loser's text kept, the last winner's text in place
    assert_shared_draft(pg_url, store, start.hash, anna["edits"], bram["edits"])

    # replaying the log: every case went through a full round and the publication closed it
    events = store.storage.events()
    for case_id in ids["a1"] + ids["a2"]:
        own = [e for e in events if e.case == case_id]
        draft = own[0].hash
        before = review_of(own[:-1], draft)
        assert (before.state, before.second_officer_approved) == ("approved", True)
        assert review_of(own, draft).state == "draft" and review_of(own, draft).history == ()
    assert [(item.version.case_id, item.review.state) for item in store.review_queue()] == [(pg.SHARED, "draft")]


def assert_shared_draft(url: str, store: CaseStore, start: str, anna: list[Any], bram: list[Any]) -> None:
    """Each round of the same-draft race had one winner (logged) and one loser (its text kept)."""
    winners, losers = [start], []
    for (round_a, kind_a, hash_a), (round_b, kind_b, hash_b) in zip(anna, bram, strict=True):
        assert round_a == round_b and sorted((kind_a, kind_b)) == ["conflict", "saved"], (anna, bram)
        winners.append(hash_a if kind_a == "saved" else hash_b)
        losers.append(hash_b if kind_a == "saved" else hash_a)
    assert [e.hash for e in store.storage.events(pg.SHARED) if e.action == "drafted"] == winners
    kept = [
        bytes(body)
        for (body,) in sql(url, "SELECT body FROM conflict_copies WHERE case_id = %s ORDER BY id", (pg.SHARED,))
    ]
    expected = [
        pg.draft_bytes(pg.shared_text(writer, round_))
        for round_, loser in enumerate(losers)
        for writer in ("anna@example.nl", "bram@example.nl")
        if file_hash(pg.draft_bytes(pg.shared_text(writer, round_))) == loser
    ]
    assert kept == expected and len(kept) == ROUNDS  # nobody's text was lost
    final = store.editable_version(pg.SHARED)
    assert final.hash == winners[-1] and final.case is not None and final.case.status == "draft"


# -- a replica killed in the middle of a step ----------------------------------------------------------------


def approved_case(store: CaseStore, case_id: str = CASE) -> str:
    """Drafted by Anna, submitted, approved by Bram: the hash to publish with."""
    saved = store.save_draft(make_case(case_id), ANNA)
    store.submit(case_id, ANNA)
    store.approve(case_id, BRAM, seen_hash=saved.hash)
    return saved.hash


def in_transaction(url: str, backend: int | None) -> tuple[str | None, bool, set[str]]:
    """A server process: its state, whether it holds the workflow's advisory lock, and the tables its open
    transaction has written to (the proof that the step got as far as its event and its document)."""
    state = sql(url, "SELECT state FROM pg_stat_activity WHERE pid = %s", (backend,))
    locks = sql(
        url, "SELECT locktype, mode, relation::regclass::text FROM pg_locks WHERE granted AND pid = %s", (backend,)
    )
    holds = any(locktype == "advisory" for locktype, _, _ in locks)
    written = {table for _, mode, table in locks if mode == "RowExclusiveLock" and table in WRITTEN}
    return (state[0][0] if state else None), holds, written


def wait_gone(url: str, backend: int | None) -> None:
    """The server ends the killed replica's session by itself, promptly."""
    deadline = time.monotonic() + PROMPT_S
    while in_transaction(url, backend)[0] is not None:
        assert time.monotonic() < deadline, f"server process {backend} outlived its client"
        time.sleep(0.05)


def test_a_replica_killed_inside_publish_leaves_the_case_a_draft(pg_url: str, short_lock: None) -> None:
    store = CaseStore.on(PostgresStorage(pg_url))
    shown = approved_case(store)
    before = snapshot(pg_url)
    child, backend = pg.run_until_stopped(pg_url, "publish", CASE, shown)
    try:  # stopped with the event and the published text written, not committed, the lock held
        assert in_transaction(pg_url, backend) == ("idle in transaction", True, WRITTEN)
        assert snapshot(pg_url) == before  # nothing of an open step is seen by the other replicas
    finally:
        pg.kill(child)
    assert snapshot(pg_url) == before  # no half step: not the document, not the event, not the counter
    version = store.editable_version(CASE)
    assert not version.is_published and version.case is not None and version.case.status == "draft"
    assert actions(store) == ["drafted", "submitted", "approved"]
    assert review_of(store.storage.events(CASE), shown).state == "approved"  # ready to publish again
    started = time.monotonic()
    store.publish(CASE, BRAM, seen_hash=shown)  # the lock was released with the killed session
    assert time.monotonic() - started < PROMPT_S
    assert actions(store) == list(ROUND) and store.storage.published(CASE).case.status == "published"
    wait_gone(pg_url, backend)
    assert_log_ordered(pg_url, store)


def test_a_replica_killed_inside_saving_a_new_case_leaves_nothing(pg_url: str, short_lock: None) -> None:
    store = CaseStore.on(PostgresStorage(pg_url))
    approved_case(store, "een-andere-zaak")  # something else in the store, which must stay as it is
    before = snapshot(pg_url)
    child, backend = pg.run_until_stopped(pg_url, "create", CASE)
    try:
        assert in_transaction(pg_url, backend) == ("idle in transaction", True, WRITTEN)
    finally:
        pg.kill(child)
    assert snapshot(pg_url) == before
    with pytest.raises(CaseNotFoundError):
        store.editable_version(CASE)
    assert actions(store) == [] and sql(pg_url, "SELECT 1 FROM case_versions WHERE case_id = %s", (CASE,)) == []
    started = time.monotonic()
    saved = store.save_draft(make_case(CASE), ANNA)  # the id is free and the lock released
    assert time.monotonic() - started < PROMPT_S
    assert store.editable_version(CASE).hash == saved.hash and actions(store) == ["drafted"]
    wait_gone(pg_url, backend)
    assert_log_ordered(pg_url, store)


def test_a_replica_killed_after_the_commit_of_a_publish_leaves_it_whole(pg_url: str, short_lock: None) -> None:
    store = CaseStore.on(PostgresStorage(pg_url))
    shown = approved_case(store)
    child, backend = pg.run_until_stopped(pg_url, "committed", CASE, shown)
    assert backend is None  # its step's connection is already closed
    pg.kill(child)
    published = store.storage.published(CASE)
    assert published.case is not None and published.case.status == "published" and not published.is_revision
    assert actions(store) == list(ROUND)
    started = time.monotonic()
    with pytest.raises(StaleVersionError):  # a retry (say, the click repeated elsewhere) is refused, promptly
        store.publish(CASE, BRAM, seen_hash=shown)
    assert time.monotonic() - started < PROMPT_S
    assert actions(store).count("published") == 1 and store.review_queue() == []
    store.save_draft(make_case(CASE, title="Herziene titel"), ANNA, published.hash)  # the next round starts
    assert store.editable_version(CASE).is_revision
    assert_log_ordered(pg_url, store)
