"""Withdrawing a published case on disk: the published file, the proposals still open, and the archive.

An officer proposes to withdraw a published case with a reason; a second officer approves it. Only
then does the file leave the collection: it moves to `cases/.withdrawn/<id>.yaml`, a hidden folder the
loader never reads, so the case drops out of search (the running app notices within seconds), while
its text stays on disk for links to it ("withdrawn") and its history stays in the audit log.

Why a move and not a delete: a withdrawn case was once cited in deliberations and linked from other
cases; the archive keeps what was withdrawn, and the audit log says who, when and why.

The rules are in withdrawal.py (WITHDRAWAL_RULES); CaseStore.propose_withdrawal and .withdraw take the
lock, record the events and call these helpers (store.py stays one class about one lock).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from moresprudentie.cases.loading import CASE_SUFFIX, file_hash
from moresprudentie.errors import ConflictError, StorageError, WorkflowError
from moresprudentie.files import create_exclusive
from moresprudentie.review.audit import Event
from moresprudentie.review.layout import Layout, Version, read_version
from moresprudentie.review.roles import Actor
from moresprudentie.review.steps import require_seen
from moresprudentie.review.withdrawal import Withdrawal, WithdrawalStep, pending_withdrawal, require_withdrawal_step


@dataclass(frozen=True)
class PendingWithdrawal:
    """An open proposal and the published file as it is now; stale when the file changed since."""

    version: Version
    proposal: Withdrawal

    @property
    def stale(self) -> bool:
        return self.proposal.hash != self.version.hash


def published_version(layout: Layout, case_id: str) -> Version:
    """The case file itself (never a revision): what employees find, and what a withdrawal is about."""
    main, _ = layout.case_paths(case_id)
    archived = layout.withdrawn / main.name
    if not main.exists() and archived.exists():
        raise WorkflowError(f"'{case_id}' is already withdrawn (its file is in {archived})")
    return read_version(main, case_id, False)


def checked(
    layout: Layout,
    events: list[Event],
    step: WithdrawalStep,
    actor: Actor,
    case_id: str,
    seen_hash: str,
    reason: str | None = None,
) -> tuple[Version, Withdrawal | None]:
    """The published version and its open proposal, once every requirement of `step` is met (under the lock).

    The rules first (so a draft hears "not published", not "changed"), then that `seen_hash` names the
    file on disk now: nobody proposes or approves withdrawing a text they did not read.
    """
    version = published_version(layout, case_id)
    pending = pending_withdrawal(events)
    require_withdrawal_step(step, actor, version, pending, reason)
    require_seen(version, seen_hash, (event.hash for event in events))
    return version, pending


def pending_withdrawals(layout: Layout, events: Iterable[Event]) -> list[PendingWithdrawal]:
    """Every open proposal whose case file is still there, by case id (stale ones included, marked)."""
    by_case: dict[str, list[Event]] = {}
    for event in events:
        by_case.setdefault(event.case, []).append(event)
    items = []
    for case_id, case_events in sorted(by_case.items()):
        proposal = pending_withdrawal(case_events)
        if proposal is None:
            continue
        main, _ = layout.case_paths(case_id)
        if main.exists():  # removed by hand meanwhile: nothing left to withdraw
            items.append(PendingWithdrawal(read_version(main, case_id, False), proposal))
    return items


def archive(layout: Layout, version: Version) -> Path:
    """Move the published file to the archive (call under the workflow lock); returns where it went.

    The copy is written (atomically, exclusively) before the original is removed, so a crash leaves the
    case in one place or both, never in neither. An earlier withdrawal of the same id is kept under a
    hidden, stamped name, so no withdrawn text is ever overwritten.
    """
    try:
        data = version.path.read_bytes()
    except OSError as exc:
        raise StorageError(f"{version.path}: cannot read ({exc.strerror or exc}); nothing was withdrawn") from exc
    if file_hash(data) != version.hash:
        raise ConflictError(f"{version.path}: changed a moment ago; open it again and read the version on disk now")
    target = layout.withdrawn / version.path.name
    if target.exists():
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
        os.replace(target, layout.withdrawn / f".{version.case_id}.{stamp}{CASE_SUFFIX}")
    create_exclusive(target, data)
    try:
        version.path.unlink()
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise StorageError(
            f"{version.path}: could not be removed ({exc.strerror or exc}); nothing was withdrawn. Fix the "
            "folder's permissions and approve again"
        ) from exc
    return target
