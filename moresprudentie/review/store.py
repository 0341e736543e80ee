"""Adding cases safely: draft → submit → approve (by a second officer) → publish, through one CaseStore.

A CaseStore is one collection on disk and its audit log, resolved once when it is made. It reads the
drafts and their review state, and takes every step. Every step is a write, and every write:
- refuses a text with personal data in it (blocking anonymisation findings) before anything is written:
  no draft with a BSN, phone number or name is ever stored in the collection (see save_draft);
- checks the officer role itself (the shells only hide buttons), and the requirements of steps.py,
  the same rules the officer pages read to offer a step, before anything changes;
- approve, send back and publish name the version the officer was shown (seen_hash, its Version.hash)
  and are refused when the file changed since: checked under the lock, so no swap can slip between
  the check and the record;
- holds one lock per collection, so check-then-write steps never race between officers;
- logs its event in the audit log just before the change and takes it back if the change fails, so
  a failed step leaves files and log as they were, and no change that happened is missing;
- writes atomically (files.atomic_write / create_exclusive): the old file or the new, never a mix.

Where drafts, revisions and conflict copies live: layout.py. Editing a published case writes a
revision beside it; the published version stays searchable, unchanged, until the revision is
published and replaces it. A published case is withdrawn by two officers too: proposed with a reason,
approved by another officer, then moved to an archive the loader never reads (withdrawal.py, archive.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from filelock import FileLock
from filelock import Timeout as LockTimeout

from moresprudentie import settings
from moresprudentie.cases.loading import dump_case, file_hash
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseNotFoundError, ConflictError, PersonalDataError, StorageError, UsageError
from moresprudentie.files import atomic_write, create_exclusive, remove_stale_temps
from moresprudentie.review import archive, steps
from moresprudentie.review.archive import PendingWithdrawal
from moresprudentie.review.audit import Action, Event, append_event, now, read_events, retract_event
from moresprudentie.review.authoring import scaffold
from moresprudentie.review.layout import Layout, Version
from moresprudentie.review.roles import Actor, require_officer
from moresprudentie.review.steps import STATE_ORDER, Review, Step, review_of
from moresprudentie.review.withdrawal import WITHDRAWAL_DOING, Withdrawal, pending_withdrawal

if TYPE_CHECKING:
    from moresprudentie.anonymisation.check import Finding

LOCK_TIMEOUT_S = 30.0


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
    """One collection of case files and its audit log: the drafts, their review state, and every step.

    Open it once (`CaseStore(cases_dir)`) and ask it, as one would a database. The audit log is the
    one given, else MORESPRUDENTIE_AUDIT_LOG, else `.<cases-folder>-audit.jsonl` beside the collection.
    """

    def __init__(self, cases_dir: Path | str, audit_log: Path | str | None = None) -> None:
        self.cases_dir = Path(cases_dir)
        self.audit_log = settings.audit_log_path(self.cases_dir, audit_log)
        self.layout = Layout(self.cases_dir)

    def __repr__(self) -> str:
        return f"CaseStore({str(self.cases_dir)!r}, audit_log={str(self.audit_log)!r})"

    # -- reading -----------------------------------------------------------------------------------

    def editable_version(self, case_id: str) -> Version:
        """The version an edit starts from: the revision if there is one, else the case file itself.

        Keep its `hash` and pass it to save_draft as expected_hash, so a concurrent change is caught.
        """
        return self.layout.editable(case_id)

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
        events = read_events(self.audit_log)
        items = [
            QueueItem(version, review_of([e for e in events if e.case == version.case_id], version.hash))
            for version in self.layout.drafts()
        ]
        return sorted(items, key=lambda item: (STATE_ORDER.index(item.review.state), item.version.case_id))

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
        return review_of(read_events(self.audit_log, version.case_id), version.hash)

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
        main, revision = self.layout.case_paths(case.id)
        with self._locked():
            if expected_hash is None:
                with self._recorded("drafted", actor, case.id, file_hash(data)):
                    target = _create_new(main, revision, data)
                return Saved(target, file_hash(data))
            target = self._edit_target(case.id, data, expected_hash)
            if target is None:
                return Saved(revision if revision.exists() else main, file_hash(data), changed=False)
            with self._recorded("drafted", actor, case.id, file_hash(data)):
                atomic_write(target, data)
        return Saved(target, file_hash(data))

    def _edit_target(self, case_id: str, data: bytes, expected_hash: str) -> Path | None:
        """The file an edit goes to, or None when nothing changed; ConflictError when the file moved on."""
        try:
            current = self.editable_version(case_id)
        except CaseNotFoundError:
            kept = self.layout.keep_conflict(case_id, data)
            raise ConflictError(
                f"'{case_id}' was removed since you opened it; your version is kept in {kept}. "
                "Save it as a new case if it should stay."
            ) from None
        if current.hash != expected_hash:
            kept = self.layout.keep_conflict(case_id, data)
            raise ConflictError(
                f"{current.path}: changed since you opened it (someone else saved it); your version is kept in "
                f"{kept}. Open the case again, carry your changes over and save."
            )
        if current.hash == file_hash(data):
            return None
        return self.layout.case_paths(case_id)[1] if current.is_published else current.path

    def create_scaffold(self, case_id: str, actor: Actor, language: str = "nl") -> Path:
        """Write a new, empty case file with every field and Dutch hints (see authoring.py), as a draft."""
        steps.require_role("edit", actor, doing="create a case")
        main, revision = self.layout.case_paths(case_id)
        data = scaffold(case_id, language).encode("utf-8")
        with self._locked(), self._recorded("drafted", actor, case_id, file_hash(data)):
            _create_new(main, revision, data)
        return main

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
        with self._locked():
            version, _ = self._checked(step, case_id, actor, seen_hash)
            self._record(steps.RECORDED_AS[step], actor, case_id, version.hash, comment.strip())
            return self._review(version)

    def _checked(self, step: Step, case_id: str, actor: Actor, seen_hash: str | None) -> tuple[Version, Review]:
        """The version on disk and its review, once every requirement of `step` is met (call under the lock).

        First that it is the version the officer saw (when the step judges one), then the rules of steps.py.
        """
        version = self.editable_version(case_id)
        events = read_events(self.audit_log, case_id)
        if step in steps.JUDGES_A_VERSION:
            if seen_hash is None:
                raise TypeError(f"{step} needs seen_hash: the hash of the version the officer was shown")
            steps.require_seen(version, seen_hash, (event.hash for event in events))
        review = review_of(events, version.hash)
        steps.require_step(step, actor, version, review, lambda: _findings(version))
        return version, review

    def publish(self, case_id: str, actor: Actor, *, seen_hash: str) -> Case:
        """Publish an approved draft: valid, anonymisation-clean, approved by a second officer.

        `seen_hash` names the version the publishing officer was shown, as for approve: a text swapped
        in (and approved by someone else) since is not published on a click meant for another.
        The published file is written atomically; a revision replaces the published version and is then
        removed. Update the search index afterwards (SearchEngine.refresh() / SearchEngine.open()).
        """
        steps.require_role("publish", actor)
        with self._locked():
            version, _ = self._checked("publish", case_id, actor, seen_hash)
            published = cast(Case, version.case).model_copy(update={"status": "published"})  # valid: checked
            main, revision = self.layout.case_paths(case_id)
            with self._recorded("published", actor, case_id, version.hash):
                atomic_write(main, dump_case(published))
            if version.is_revision:
                try:
                    revision.unlink()
                except OSError as exc:
                    raise StorageError(
                        f"{revision}: published, but the old revision could not be removed ({exc.strerror}); delete it"
                    ) from exc
        return published

    # -- withdrawing a published case (withdrawal.py, archive.py) ---------------------------------------

    def withdrawal_of(self, case_id: str) -> tuple[Version, Withdrawal | None]:
        """The published file of a case and its open withdrawal proposal, if any."""
        return archive.published_version(self.layout, case_id), pending_withdrawal(read_events(self.audit_log, case_id))

    def pending_withdrawals(self) -> list[PendingWithdrawal]:
        """Every open withdrawal proposal, with the published file as it is now."""
        return archive.pending_withdrawals(self.layout, read_events(self.audit_log))

    def propose_withdrawal(self, case_id: str, actor: Actor, reason: str, seen_hash: str) -> Withdrawal:
        """Propose to withdraw the published version read (seen_hash), with a reason for the audit log.

        Nothing leaves search yet: a second officer must approve it (withdraw).
        """
        require_officer(actor, WITHDRAWAL_DOING["propose_withdrawal"])
        with self._locked():
            events = read_events(self.audit_log, case_id)
            version, _ = archive.checked(self.layout, events, "propose_withdrawal", actor, case_id, seen_hash, reason)
            self._record("withdrawal_proposed", actor, case_id, version.hash, reason.strip())
        return cast(Withdrawal, pending_withdrawal(read_events(self.audit_log, case_id)))

    def withdraw(self, case_id: str, actor: Actor, *, seen_hash: str) -> Path:
        """Approve a proposed withdrawal as a second officer: the file moves to the archive; returns where.

        Refused for the proposer (four eyes) and when the file changed since the proposal (it is stale).
        Update the search index afterwards (SearchEngine.refresh()); a running app notices by itself.
        """
        require_officer(actor, WITHDRAWAL_DOING["withdraw"])
        with self._locked():
            events = read_events(self.audit_log, case_id)
            version, pending = archive.checked(self.layout, events, "withdraw", actor, case_id, seen_hash)
            reason = pending.reason if pending else ""
            with self._recorded("withdrawn", actor, case_id, version.hash, reason):
                return archive.archive(self.layout, version)

    # -- the lock and the audit log ------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One workflow step at a time per collection (between processes and threads alike).

        Holding it, temp files in the case folders can only be leftovers of a killed writer: removed.
        """
        lock_path = Path(f"{self.audit_log}.workflow.lock")
        lock = FileLock(lock_path, timeout=LOCK_TIMEOUT_S)
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except LockTimeout:
            raise StorageError(
                f"{lock_path}: another officer's save has held the lock for over {LOCK_TIMEOUT_S:.0f} s; try again"
            ) from None
        except OSError as exc:
            raise StorageError(
                f"{lock_path}: cannot create the lock file ({exc.strerror or exc}); fix the permissions"
            ) from exc
        try:
            for folder in self.layout.folders:
                remove_stale_temps(folder)  # left by a killed writer: every writer holds this lock
            yield
        finally:
            lock.release()

    def _record(self, action: Action, actor: Actor, case_id: str, draft_hash: str, comment: str = "") -> int:
        return append_event(self.audit_log, Event(now(), actor.name, action, case_id, draft_hash, comment))

    @contextmanager
    def _recorded(
        self, action: Action, actor: Actor, case_id: str, draft_hash: str, comment: str = ""
    ) -> Iterator[None]:
        """Log the event, then make the change (the with-body); if the change fails, take the event back.

        So the log never misses a change that happened, and a failed step leaves log and files as they were.
        """
        offset = self._record(action, actor, case_id, draft_hash, comment)
        try:
            yield
        except BaseException:
            with suppress(OSError, StorageError):
                retract_event(self.audit_log, offset)
            raise


def _create_new(main: Path, revision: Path, data: bytes) -> Path:
    if revision.exists():
        raise ConflictError(f"{main}: a case with this id already exists; choose another id or edit that case")
    try:
        create_exclusive(main, data)
    except ConflictError:
        raise ConflictError(
            f"{main}: a case with this id already exists; choose another id or edit that case"
        ) from None
    return main
