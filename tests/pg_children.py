"""Code that runs in child processes for the reliability tests of the PostgreSQL store.

Each child stands for one app replica: its own PostgresStorage, so its own connections and its own
transactions, exactly as two servers in front of one database would have. Children are forked from a
multiprocessing fork server (as in reliability_child.py), report through a pipe, and are released
together by a start signal (and a Barrier between phases), so the steps really race. A child that stops
inside a step (stop_inside) lets the parent SIGKILL it at a known moment: the transaction open, or just
committed.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Barrier
from typing import Any

import reliability_child as child
from conftest import make_case
from reliability_child import forkserver

from moresprudentie.cases.loading import dump_case, file_hash
from moresprudentie.cases.model import Case
from moresprudentie.errors import ConflictError, MoresprudentieError
from moresprudentie.review import store as workflow
from moresprudentie.review.roles import Actor, actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.storage.postgres import PostgresStorage

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl"})
ANNA = actor_for("anna@example.nl", OFFICERS)
BRAM = actor_for("bram@example.nl", OFFICERS)
SHARED = "gedeeld-concept"  # the draft both replicas edit at once
READY_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 90.0
BARRIER_TIMEOUT_S = 60.0


def officer(name: str) -> Actor:
    return actor_for(name, OFFICERS)


def own_ids(tag: str, count: int) -> list[str]:
    """The ids of the cases one replica creates: distinct per replica, so every create must succeed."""
    return [f"zaak-{tag}-{n:02d}" for n in range(count)]


def shared_text(writer: str, round_: int) -> Case:
    """A writer's text of the shared draft in one round; the situation names both, to tell them apart."""
    return make_case(SHARED, situation=f"Ronde {round_}: {writer} schrijft een geschenk van een leverancier op.")


def draft_bytes(case: Case) -> bytes:
    """The bytes save_draft stores for a case (what a conflict copy and the audit hash are about)."""
    return dump_case(case.model_copy(update={"status": "draft"})).encode("utf-8")


def _isolate() -> None:
    """The anonymisation check is tested elsewhere and loads a name-detector model: not in a replica."""
    workflow.blocking_findings = lambda case: []


# -- two replicas at once ----------------------------------------------------------------------------


def replica(url: str, me: str, tag: str, count: int, rounds: int, barrier: Barrier, parent: Connection) -> None:
    """One replica's day, from the start signal on: draft and submit `count` cases of its own while
    approving the other replica's as they come in; edit the shared draft in `rounds` lock-step races;
    then publish every approved case (the other replica tries the same ones at the same moment).

    Sends one report: what it saved, approved, won or lost, and how each publish attempt ended."""
    try:
        _isolate()
        store = CaseStore.on(PostgresStorage(url))
        store.storage.events()  # connected and migrated before the race starts
        parent.send("ready")
        if parent.recv() != "go":
            raise AssertionError("expected the start signal")
        report: dict[str, Any] = {"saved": {}, "approved": {}, "edits": [], "publish": []}
        actor = officer(me)
        for case_id in own_ids(tag, count):
            saved = store.save_draft(make_case(case_id, title=f"Zaak {case_id} van {me}"), actor)
            report["saved"][case_id] = saved.hash
            store.submit(case_id, actor)
            _approve_submitted(store, actor, tag, report["approved"])
        deadline = time.monotonic() + RUN_TIMEOUT_S / 2
        while len(report["approved"]) < count:  # the other replica may still be drafting
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(report['approved'])} of {count} cases came in to approve")
            _approve_submitted(store, actor, tag, report["approved"])
            time.sleep(0.02)
        for round_ in range(rounds):
            barrier.wait()  # both finished the previous round: both open the same version
            opened = store.editable_version(SHARED).hash
            barrier.wait()  # both opened it: now both save over it
            try:
                saved = store.save_draft(shared_text(me, round_), actor, expected_hash=opened)
                report["edits"].append((round_, "saved", saved.hash))
            except ConflictError:
                report["edits"].append((round_, "conflict", file_hash(draft_bytes(shared_text(me, round_)))))
        barrier.wait()  # every case approved by both: publish them all, both at once
        hashes = {**report["saved"], **report["approved"]}
        for case_id in sorted(hashes):
            try:
                store.publish(case_id, actor, seen_hash=hashes[case_id])
                report["publish"].append((case_id, "published"))
            except MoresprudentieError as exc:
                report["publish"].append((case_id, type(exc).__name__))
        parent.send(report)
    except BaseException:
        barrier.abort()  # the other replica must not wait for one that is gone
        parent.send(("error", traceback.format_exc()))


def _approve_submitted(store: CaseStore, actor: Actor, own_tag: str, approved: dict[str, str]) -> None:
    """Approve every case of the other replica that is submitted now (read from the review queue)."""
    for item in store.review_queue():
        case_id = item.version.case_id
        mine = case_id.startswith(f"zaak-{own_tag}-")
        if case_id.startswith("zaak-") and not mine and item.review.state == "submitted" and case_id not in approved:
            store.approve(case_id, actor, seen_hash=item.version.hash)
            approved[case_id] = item.version.hash


def run_replicas(url: str, rounds: int, count: int) -> list[dict[str, Any]]:
    """Start two replicas (Anna's as "a1", Bram's as "a2"), release them together, return their reports."""
    barrier = forkserver().Barrier(2, timeout=BARRIER_TIMEOUT_S)
    arguments = [
        (url, me, tag, count, rounds, barrier) for me, tag in (("anna@example.nl", "a1"), ("bram@example.nl", "a2"))
    ]
    reports = child.run_together(replica, arguments, timeout=RUN_TIMEOUT_S)
    for report in reports:
        assert not (isinstance(report, tuple) and report[0] == "error"), report[1]
    return reports


# -- stopped inside a step, to be killed there ---------------------------------------------------------


def _stop_here(parent: Connection, where: str, storage: PostgresStorage | None = None) -> None:
    """Tell the parent where we are (with the backend of the open transaction, if any), then wait for the kill."""
    backend = storage._conn.info.backend_pid if storage is not None and storage._conn is not None else None
    parent.send((where, backend))
    while True:
        time.sleep(60)


def stop_inside(url: str, step: str, case_id: str, seen_hash: str, parent: Connection) -> None:
    """Run one step and stop at a chosen moment, until SIGKILLed:

    - "publish": inside the publish transaction, its audit event and document written, not committed;
    - "create": inside save_draft of a new case, its event and document written, not committed;
    - "committed": publish committed, before CaseStore.publish returns.
    """
    try:
        _isolate()
        store = CaseStore.on(PostgresStorage(url))
        if step == "publish":
            original_publish = PostgresStorage.publish

            def publish_then_stop(self: PostgresStorage, version: Any, data: bytes) -> None:
                original_publish(self, version, data)
                _stop_here(parent, "inside", self)

            PostgresStorage.publish = publish_then_stop  # type: ignore[method-assign]
            store.publish(case_id, BRAM, seen_hash=seen_hash)
        elif step == "create":
            original_create = PostgresStorage.create

            def create_then_stop(self: PostgresStorage, new_id: str, data: bytes) -> Any:
                where = original_create(self, new_id, data)
                _stop_here(parent, "inside", self)
                return where

            PostgresStorage.create = create_then_stop  # type: ignore[method-assign]
            store.save_draft(make_case(case_id), ANNA)
        elif step == "committed":
            PostgresStorage.locked = _stopping_after_commit(PostgresStorage.locked, parent)  # type: ignore[method-assign]
            store.publish(case_id, BRAM, seen_hash=seen_hash)
        parent.send(("returned", None))  # never reached: the parent kills first
    except BaseException:
        parent.send(("error", traceback.format_exc()))


def _stopping_after_commit(
    locked: Callable[[PostgresStorage], Any], parent: Connection
) -> Callable[[PostgresStorage], Any]:
    """locked() that, once its transaction has committed (and its connection closed), stops."""

    @contextmanager
    def locked_then_stop(self: PostgresStorage) -> Iterator[None]:
        with locked(self):
            yield
        _stop_here(parent, "committed")

    return locked_then_stop


def run_until_stopped(url: str, step: str, case_id: str, seen_hash: str = "") -> tuple[BaseProcess, int | None]:
    """Start stop_inside in a child and wait until it reports where it stopped; returns the child (alive)
    and the server pid of its open transaction (None after the commit). The caller kills it: kill()."""
    context = forkserver()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=stop_inside, args=(url, step, case_id, seen_hash, send), daemon=True)
    process.start()
    send.close()
    try:
        assert receive.poll(READY_TIMEOUT_S), f"the child did not reach '{step}' within {READY_TIMEOUT_S} s"
        where, detail = receive.recv()
        assert where in ("inside", "committed"), detail
        return process, detail
    except BaseException:
        kill(process)
        raise
    finally:
        receive.close()


def kill(process: BaseProcess) -> None:
    """SIGKILL the child (no cleanup of any kind runs in it) and reap it."""
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(READY_TIMEOUT_S)
    assert process.exitcode == -signal.SIGKILL, f"the child ended by itself (exit {process.exitcode})"
