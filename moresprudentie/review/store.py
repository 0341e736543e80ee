"""Adding cases safely: draft → submit → approve (by a second officer) → publish, through one CaseStore.

A CaseStore is one collection and its audit log, in a Storage (storage/base.py): the case folder
(storage/files.py, the default) or a PostgreSQL database (storage/postgres.py) shared by several app
replicas. It reads the drafts and their review state, and takes every step; it never knows which store
it has. Every step is a write, and every write:
- refuses a text with personal data in it (blocking anonymisation findings) before anything is written:
  no draft with a BSN, phone number or name is ever stored in the collection (see save_draft);
- checks the officer role itself (the shells only hide buttons), and the requirements of steps.py,
  the same rules the officer pages read to offer a step, before anything changes;
- approve, send back and publish name the version the officer was shown (seen_hash, its Version.hash)
  and are refused when the file changed since: checked under the lock, so no swap can slip between
  the check and the record; a text sent back is kept, so its reviewer sees what changed (changes.py);
- holds one lock per collection (Storage.locked), so check-then-write steps never race between officers;
- logs its event and makes its change as one (Storage.recorded), so a failed step leaves documents and
  log as they were, and no change that happened is missing;
- writes atomically: the old text or the new, never a mix.

Where drafts, revisions and conflict copies live in the file store: layout.py. Editing a published case writes a
revision beside it; the published version stays searchable, unchanged, until the revision is
published and replaces it. A published case is withdrawn by two officers too: proposed with a reason,
approved by another officer, then moved to an archive the loader never reads (withdrawal.py, archive.py);
a proposal can be cancelled instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from moresprudentie.cases.loading import dump_case, file_hash
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseNotFoundError, ConflictError, MoresprudentieError, PersonalDataError, UsageError
from moresprudentie.review import changes, steps, withdrawal
from moresprudentie.review.audit import Action, Event, now
from moresprudentie.review.authoring import scaffold
from moresprudentie.review.changes import Changes
from moresprudentie.review.layout import Version, checked_id
from moresprudentie.review.roles import Actor, require_officer
from moresprudentie.review.steps import STATE_ORDER, Review, Step, review_of
from moresprudentie.review.withdrawal import (
    WITHDRAWAL_DOING,
    PendingWithdrawal,
    Withdrawal,
    WithdrawalStep,
    pending_withdrawal,
)
from moresprudentie.storage.base import Storage
from moresprudentie.storage.files import FileStorage

if TYPE_CHECKING:
    from moresprudentie.anonymisation.check import Finding


def blocking_findings(case: Case) -> list[Finding]:
    """Anonymisation findings that stop saving and every review step ("block"); allowed_terms are honoured."""
    from moresprudentie.anonymisation.check import check_case  # deduce is heavy: load it only when a draft is checked

    return steps.blocking(check_case(case))


def _findings(version: Version) -> list[Finding]:
    return blocking_findings(version.case) if version.case is not None else []


@dataclass(frozen=True)
class QueueItem:
    """A draft waiting for work: the version on disk and its review state."""

    version: Version
    review: Review


@dataclass(frozen=True)
class Saved:
    """Where a draft was written and the hash to pass as expected_hash on the next save."""

    path: Path
    hash: str
    changed: bool = True


class CaseStore:
    """One collection and its audit log: the drafts, their review state, and every step.

    Open it once and ask it, as one would a database: `CaseStore(cases_dir)` for a case folder (the
    audit log is the one given, else MORESPRUDENTIE_AUDIT_LOG, else `.<cases-folder>-audit.jsonl` beside
    it), or `CaseStore.on(storage)` for any Storage; storage.open_store() picks one from the settings.
    """

    def __init__(self, cases_dir: Path | str, audit_log: Path | str | None = None) -> None:
        self.storage: Storage = FileStorage(cases_dir, audit_log)

    @classmethod
    def on(cls, storage: Storage) -> CaseStore:
        """A CaseStore over any Storage (a PostgreSQL database, say)."""
        store = cls.__new__(cls)
        store.storage = storage
        return store

    def __repr__(self) -> str:
        return f"CaseStore({self.storage!r})"

    # -- reading -----------------------------------------------------------------------------------

    def editable_version(self, case_id: str) -> Version:
        """The version an edit starts from: the revision if there is one, else the case file itself.

        Keep its `hash` and pass it to save_draft as expected_hash, so a concurrent change is caught.
        """
        return self.storage.editable(checked_id(case_id))

    def draft_version(self, case_id: str) -> Version:
        """The draft under review (revision or draft case file); WorkflowError when the case is published."""
        version = self.editable_version(case_id)
        error = steps.published_error(version)
        if error is not None:
            raise error
        return version

    def current_review(self, case_id: str) -> tuple[Version, Review]:
        """The draft under review and its state."""
        version = self.draft_version(case_id)
        return version, self._review(version)

    def review_queue(self) -> list[QueueItem]:
        """Every draft and revision (and unreadable case file) with its state; most urgent first."""
        by_case: dict[str, list[Event]] = {}
        for event in self.storage.events():
            by_case.setdefault(event.case, []).append(event)
        items = [
            QueueItem(version, review_of(by_case.get(version.case_id, []), version.hash))
            for version in self.storage.drafts()
        ]
        return sorted(items, key=lambda item: (STATE_ORDER.index(item.review.state), item.version.case_id))

    def changes_since_sent_back(self, version: Version, review: Review) -> Changes | None:
        """What changed in this draft since a reviewer last sent it back (changes.py); None if nobody did."""
        return changes.since_sent_back(version, review, partial(self.storage.sent_back_text, version.case_id))

    def allowed_steps(self, actor: Actor, case_id: str) -> frozenset[Step]:
        """The steps `actor` may take on the case now: exactly those the step methods would accept.

        A published case without a revision allows only "edit". The anonymisation check (slow to load)
        runs only when its answer matters: when submit, approve or publish is otherwise allowed. "edit"
        is judged by the text saved, not the one on disk: save_draft refuses personal data itself.
        """
        version = self.editable_version(case_id)
        review = self._review(version)
        allowed = steps.allowed_steps(actor, version, review)
        if allowed & steps.NEEDS_CLEAN:
            allowed = steps.allowed_steps(actor, version, review, _findings(version))
        return allowed

    def _review(self, version: Version) -> Review:
        return review_of(self.storage.events(version.case_id), version.hash)

    # -- writing drafts ----------------------------------------------------------------------------

    def save_draft(self, case: Case, actor: Actor, expected_hash: str | None = None) -> Saved:
        """Save a case as a draft: a new case when expected_hash is None, else an edit of what was opened.

        A text with personal data in it (blocking anonymisation findings: a name, BSN, phone number,
        e-mail or street address) is refused with a PersonalDataError that carries the findings, before
        anything is written: no case file, no revision, no copy in .conflicts/, no audit event. Data
        minimisation (AVG/GDPR): a collection folder is often in git and in backups, where a name once
        written stays; refusing is simpler and safer than a quarantine store that must be kept out of
        both and cleaned up. The officer fixes the text (the form shows the findings) and saves again.
        See docs/anonymisation.md; a file edited outside the app is caught by `moresprudentie check`
        and by submit.

        New cases are created exclusively (an existing id is a ConflictError). An edit must name the
        hash of the bytes it started from (editable_version().hash); if the file changed meanwhile the
        new text is kept in cases/.conflicts/ and ConflictError says where. Editing a published case
        writes a revision beside it (see layout.py).
        """
        steps.require_role("edit", actor)
        found = blocking_findings(case)  # outside the lock: the name detector may take seconds to load
        if found:
            raise PersonalDataError(case.id, found, "edit")
        data = dump_case(case.model_copy(update={"status": "draft"})).encode("utf-8")
        checked_id(case.id)
        with self.storage.locked():
            if expected_hash is None:
                with self._recorded("drafted", actor, case.id, file_hash(data)):
                    return Saved(self.storage.create(case.id, data), file_hash(data))
            current = self._edit_base(case.id, data, expected_hash)
            if current.hash == file_hash(data):
                return Saved(current.path, current.hash, changed=False)
            with self._recorded("drafted", actor, case.id, file_hash(data)):
                return Saved(self.storage.write_draft(current, data), file_hash(data))

    def _edit_base(self, case_id: str, data: bytes, expected_hash: str) -> Version:
        """The version an edit replaces; ConflictError (the text kept aside) when it moved on since opened."""
        try:
            current = self.storage.editable(case_id)
        except CaseNotFoundError:
            kept = self.storage.keep_conflict(case_id, data)
            raise ConflictError(
                f"'{case_id}' was removed since you opened it; your version is kept in {kept}. "
                "Save it as a new case if it should stay."
            ) from None
        if current.hash != expected_hash:
            kept = self.storage.keep_conflict(case_id, data)
            raise ConflictError(
                f"{current.path}: changed since you opened it (someone else saved it); your version is kept in "
                f"{kept}. Open the case again, carry your changes over and save."
            )
        return current

    def create_scaffold(self, case_id: str, actor: Actor, language: str = "nl") -> Path:
        """Write a new, empty case file with every field and Dutch hints (see authoring.py), as a draft."""
        steps.require_role("edit", actor, doing="create a case")
        data = scaffold(checked_id(case_id), language).encode("utf-8")
        with self.storage.locked(), self._recorded("drafted", actor, case_id, file_hash(data)):
            return self.storage.create(case_id, data)

    # -- review steps --------------------------------------------------------------------------------

    def submit(self, case_id: str, actor: Actor, comment: str = "") -> Review:
        """Offer the current draft for review. Files edited outside the app count as the submitter's.

        A draft with personal data in it (a file edited in git, or a text the check has since learnt to
        flag) is refused with a PersonalDataError before anything is recorded: a reviewer could only send
        it back, so offering it would promise an approval that cannot come.

        It names no version: submitting judges no text, it offers the one on disk, and whoever approves
        it must name the version they read (approve's seen_hash).
        """
        return self._review_step("submit", case_id, actor, comment, None)

    def approve(self, case_id: str, actor: Actor, comment: str = "", *, seen_hash: str) -> Review:
        """Approve the submitted draft as the second officer (never its author); it must be clean.

        `seen_hash` is the hash of the version the officer read (Version.hash, or a prefix: see
        steps.require_seen); a StaleVersionError when the file changed since, so nobody approves a text
        they never saw.
        """
        return self._review_step("approve", case_id, actor, comment, seen_hash)

    def send_back(self, case_id: str, actor: Actor, comment: str, *, seen_hash: str) -> Review:
        """Return a submitted draft to its author with a comment saying what to change.

        It names the version read, as approve does: the comment is about that text, and recorded against
        a newer one it would reject a text nobody read (and undo another officer's approval of it).
        """
        steps.require_role("send_back", actor)
        if not comment.strip():
            raise UsageError("say what should change: sending a case back needs a comment for its author")
        return self._review_step("send_back", case_id, actor, comment, seen_hash)

    def _review_step(self, step: Step, case_id: str, actor: Actor, comment: str, seen_hash: str | None) -> Review:
        """Check a step that changes only the review state (steps.py), record it; the state it leaves."""
        steps.require_role(step, actor)
        checked = self._check_before_locking(step, case_id)
        with self.storage.locked():
            version, _ = self._checked(step, case_id, actor, seen_hash, checked)
            with self._recorded(steps.RECORDED_AS[step], actor, case_id, version.hash, comment.strip()):
                if step == "send_back":  # the text its reviewer compares the next submission with
                    self.storage.keep_sent_back(version)
            return self._review(version)

    def _check_before_locking(self, step: Step, case_id: str) -> dict[str, list[Finding]]:
        """The anonymisation findings of the stored version, by its hash, found before the lock is taken.

        The name detector takes seconds to load in a fresh process (a CLI command, a new replica). Loaded
        while holding the collection's lock, it would hold up every other officer's step, in every
        replica, and a few at once would run into the lock timeout. Under the lock the check runs again
        only if the text changed meanwhile (a text's findings depend on its bytes alone).
        """
        if step not in steps.NEEDS_CLEAN:
            return {}
        try:
            version = self.storage.editable(checked_id(case_id))
        except MoresprudentieError:
            return {}  # said again, under the lock, by the step itself
        return {version.hash: _findings(version)}

    def _checked(
        self, step: Step, case_id: str, actor: Actor, seen_hash: str | None, checked: dict[str, list[Finding]]
    ) -> tuple[Version, Review]:
        """The version on disk and its review, once every requirement of `step` is met (call under the lock).

        First that it is the version the officer saw (when the step judges one), then the rules of steps.py;
        `checked`: findings already known by version hash (see _check_before_locking).
        """
        version = self.editable_version(case_id)
        events = self.storage.events(case_id)
        if step in steps.JUDGES_A_VERSION:
            if seen_hash is None:
                raise TypeError(f"{step} needs seen_hash: the hash of the version the officer was shown")
            steps.require_seen(version, seen_hash, (event.hash for event in events))
        review = review_of(events, version.hash)
        known = checked.get(version.hash)
        steps.require_step(step, actor, version, review, lambda: known if known is not None else _findings(version))
        return version, review

    def publish(self, case_id: str, actor: Actor, *, seen_hash: str) -> Case:
        """Publish an approved draft: valid, anonymisation-clean, approved by a second officer.

        `seen_hash` names the version the publishing officer was shown, as for approve: a text swapped
        in (and approved by someone else) since is not published on a click meant for another.
        The published file is written atomically; a revision replaces the published version and is then
        removed. Update the search index afterwards (SearchEngine.refresh() / SearchEngine.open()).
        """
        steps.require_role("publish", actor)
        checked = self._check_before_locking("publish", case_id)
        with self.storage.locked():
            version, _ = self._checked("publish", case_id, actor, seen_hash, checked)
            published = cast(Case, version.case).model_copy(update={"status": "published"})  # valid: checked
            with self._recorded("published", actor, case_id, version.hash):
                self.storage.publish(version, dump_case(published).encode("utf-8"))
            if version.is_revision:
                self.storage.remove_revision(case_id)
        return published

    # -- withdrawing a published case (withdrawal.py) ------------------------------------------------

    def withdrawal_of(self, case_id: str) -> tuple[Version, Withdrawal | None]:
        """The published version of a case and its open withdrawal proposal, if any."""
        case_id = checked_id(case_id)
        return self.storage.published(case_id), pending_withdrawal(self.storage.events(case_id))

    def pending_withdrawals(self) -> list[PendingWithdrawal]:
        """Every open withdrawal proposal, with the published case as it is now."""
        return withdrawal.pending_withdrawals(self.storage, self.storage.events())

    def propose_withdrawal(self, case_id: str, actor: Actor, reason: str, seen_hash: str) -> Withdrawal:
        """Propose to withdraw the published version read (seen_hash), with a reason for the audit log.

        Nothing leaves search yet: a second officer must approve it (withdraw).
        """
        with self._withdrawal_step("propose_withdrawal", actor, case_id, seen_hash, reason) as (version, _):
            self._record("withdrawal_proposed", actor, version.case_id, version.hash, reason.strip())
        return cast(Withdrawal, pending_withdrawal(self.storage.events(version.case_id)))

    def withdraw(self, case_id: str, actor: Actor, *, seen_hash: str) -> Path:
        """Approve a proposed withdrawal as a second officer: the case moves to the archive; returns where.

        Refused for the proposer (four eyes) and when the case changed since the proposal (it is stale).
        A revision waiting for review is set aside with it (kept, never published: it would bring the
        case back).
        Update the search index afterwards (SearchEngine.refresh()); a running app notices by itself.
        """
        with self._withdrawal_step("withdraw", actor, case_id, seen_hash) as (version, pending):
            reason = pending.reason if pending else ""
            with self._recorded("withdrawn", actor, version.case_id, version.hash, reason):
                return self.storage.archive(version)

    def cancel_withdrawal(
        self, case_id: str, actor: Actor, reason: str = "", *, seen_hash: str, seen: Withdrawal | None = None
    ) -> Withdrawal:
        """Cancel the open withdrawal proposal of the published version read (seen_hash); returns it.

        The case stays in search. Its proposer may cancel it, and so may any other officer, with a
        reason (withdrawal._reason_missing); a stale proposal too. The event names the version the
        proposal was for, and the reason is its comment. `seen`, the proposal as read: a cancel never
        ends a proposal made again since (withdrawal.require_same_proposal).
        """
        with self._withdrawal_step("cancel_withdrawal", actor, case_id, seen_hash, reason) as (_, pending):
            proposal = withdrawal.require_same_proposal(cast(Withdrawal, pending), seen)  # checked: there is one
            self._record("withdrawal_cancelled", actor, proposal.case_id, proposal.hash, reason.strip())
        return proposal

    @contextmanager
    def _withdrawal_step(
        self, step: WithdrawalStep, actor: Actor, case_id: str, seen_hash: str, reason: str | None = None
    ) -> Iterator[tuple[Version, Withdrawal | None]]:
        """Hold the lock, and give the published version and its open proposal once every requirement of
        `step` is met (withdrawal.checked); the with-body records the step."""
        require_officer(actor, WITHDRAWAL_DOING[step])
        case_id = checked_id(case_id)
        with self.storage.locked():
            yield withdrawal.checked(
                self.storage, self.storage.events(case_id), step, actor, case_id, seen_hash, reason
            )

    # -- the audit log ---------------------------------------------------------------------------------

    def _recorded(
        self, action: Action, actor: Actor, case_id: str, draft_hash: str, comment: str = ""
    ) -> AbstractContextManager[None]:
        """Log the event and make the change of the with-body, both or neither (Storage.recorded)."""
        return self.storage.recorded(Event(now(), actor.name, action, case_id, draft_hash, comment))

    def _record(self, action: Action, actor: Actor, case_id: str, draft_hash: str, comment: str = "") -> None:
        """Log a step that changes no document, only the review state (submit, approve, propose …)."""
        with self._recorded(action, actor, case_id, draft_hash, comment):
            pass
