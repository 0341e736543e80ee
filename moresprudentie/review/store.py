"""Adding cases safely: draft → submit → approve (by a second officer) → publish.

Every step here is a write, and every write:
- checks the officer role itself (the shells only hide buttons);
- holds one lock per collection, so check-then-write steps never race between officers;
- logs its event in the audit log just before the change and takes it back if the change fails, so
  a failed step leaves files and log as they were, and no change that happened is missing;
- writes atomically (files.atomic_write / create_exclusive): the old file or the new, never a mix.

Where drafts live and how their state is read: drafts.py. Editing a published case writes a
revision beside it; the published version stays searchable, unchanged, until the revision is
published and replaces it, because officers expect a typo fix not to take a case offline for days.
(To withdraw a case at once, remove or edit its file in git; that is outside this workflow.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from filelock import Timeout as LockTimeout

from moresprudentie import settings
from moresprudentie.cases.loading import CASE_SUFFIX, dump_case, file_hash
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseNotFoundError, ConflictError, StorageError, UsageError, WorkflowError
from moresprudentie.files import atomic_write, create_exclusive, remove_stale_temps
from moresprudentie.review.audit import Action, Event, append_event, now, retract_event
from moresprudentie.review.authoring import scaffold
from moresprudentie.review.roles import Actor, normalise_name, require_officer
from moresprudentie.review.versions import (
    CONFLICTS,
    REVISIONS,
    Review,
    Version,
    case_paths,
    current_review,
    editable_version,
    invalid_error,
)

if TYPE_CHECKING:
    from moresprudentie.anonymisation.check import Finding

LOCK_TIMEOUT_S = 30.0


def blocking_findings(case: Case) -> list[Finding]:
    """Anonymisation findings that stop publication ("block"); allowed_terms are honoured by the check."""
    from moresprudentie.anonymisation.check import check_case  # deduce is heavy: load it only when a draft is checked

    return [finding for finding in check_case(case) if finding.severity == "block"]


# -- writing ---------------------------------------------------------------------------------------


@contextmanager
def _locked(cases_dir: Path) -> Iterator[None]:
    """One workflow step at a time per collection (between processes and threads alike).

    Holding it, temp files in the case folders can only be leftovers of a killed writer: removed.
    """
    lock_path = Path(f"{settings.audit_log_path(cases_dir)}.workflow.lock")
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
        for folder in (cases_dir, cases_dir / REVISIONS, cases_dir / CONFLICTS):
            remove_stale_temps(folder)  # left by a killed writer: every writer holds this lock
        yield
    finally:
        lock.release()


def _record(cases_dir: Path, action: Action, actor: Actor, case_id: str, draft_hash: str, comment: str = "") -> int:
    event = Event(now(), actor.name, action, case_id, draft_hash, comment)
    return append_event(settings.audit_log_path(cases_dir), event)


@contextmanager
def _recorded(cases_dir: Path, action: Action, actor: Actor, case_id: str, draft_hash: str) -> Iterator[None]:
    """Log the event, then make the change (the with-body); if the change fails, take the event back.

    So the log never misses a change that happened, and a failed step leaves log and files as they were.
    """
    offset = _record(cases_dir, action, actor, case_id, draft_hash)
    try:
        yield
    except BaseException:
        with suppress(OSError, StorageError):
            retract_event(settings.audit_log_path(cases_dir), offset)
        raise


def _keep_conflict(cases_dir: Path, case_id: str, data: bytes) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
    path = cases_dir / CONFLICTS / f"{case_id}.conflict-{stamp}{CASE_SUFFIX}"
    create_exclusive(path, data)
    return path


@dataclass(frozen=True)
class Saved:
    """Where a draft was written and the hash to pass as expected_hash on the next save."""

    path: Path
    hash: str
    changed: bool = True


def save_draft(cases_dir: Path | str, case: Case, actor: Actor, expected_hash: str | None = None) -> Saved:
    """Save a case as a draft: a new case when expected_hash is None, else an edit of what was opened.

    New cases are created exclusively (an existing id is a ConflictError). An edit must name the
    hash of the bytes it started from (editable_version().hash); if the file changed meanwhile the
    new text is kept in cases/.conflicts/ and ConflictError says where. Editing a published case
    writes a revision beside it (see the module docstring).
    """
    require_officer(actor, "save a draft")
    cases_dir = Path(cases_dir)
    data = dump_case(case.model_copy(update={"status": "draft"})).encode("utf-8")
    main, revision = case_paths(cases_dir, case.id)
    with _locked(cases_dir):
        if expected_hash is None:
            with _recorded(cases_dir, "drafted", actor, case.id, file_hash(data)):
                target = _create_new(main, revision, data)
            return Saved(target, file_hash(data))
        target = _edit_target(cases_dir, case.id, data, expected_hash)
        if target is None:
            return Saved(revision if revision.exists() else main, file_hash(data), changed=False)
        with _recorded(cases_dir, "drafted", actor, case.id, file_hash(data)):
            atomic_write(target, data)
    return Saved(target, file_hash(data))


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


def _edit_target(cases_dir: Path, case_id: str, data: bytes, expected_hash: str) -> Path | None:
    """The file an edit goes to, or None when nothing changed; ConflictError when the file moved on."""
    try:
        current = editable_version(cases_dir, case_id)
    except CaseNotFoundError:
        kept = _keep_conflict(cases_dir, case_id, data)
        raise ConflictError(
            f"'{case_id}' was removed since you opened it; your version is kept in {kept}. "
            "Save it as a new case if it should stay."
        ) from None
    if current.hash != expected_hash:
        kept = _keep_conflict(cases_dir, case_id, data)
        raise ConflictError(
            f"{current.path}: changed since you opened it (someone else saved it); your version is kept in "
            f"{kept}. Open the case again, carry your changes over and save."
        )
    if current.hash == file_hash(data):
        return None
    published = not current.is_revision and current.case is not None and current.case.is_published
    return case_paths(cases_dir, case_id)[1] if published else current.path


def create_scaffold(cases_dir: Path | str, case_id: str, actor: Actor, language: str = "nl") -> Path:
    """Write a new, empty case file with every field and Dutch hints (see authoring.py), as a draft."""
    require_officer(actor, "create a case")
    cases_dir = Path(cases_dir)
    main, revision = case_paths(cases_dir, case_id)
    data = scaffold(case_id, language).encode("utf-8")
    with _locked(cases_dir), _recorded(cases_dir, "drafted", actor, case_id, file_hash(data)):
        _create_new(main, revision, data)
    return main


def submit(cases_dir: Path | str, case_id: str, actor: Actor, comment: str = "") -> Review:
    """Offer the current draft for review. Files edited outside the app count as the submitter's."""
    require_officer(actor, "submit a case for review")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = current_review(cases_dir, case_id)
        if version.case is None:
            raise invalid_error(version)
        if review.state in ("submitted", "approved"):
            raise WorkflowError(f"'{case_id}' is already {review.state}; it is waiting for a second officer")
        _record(cases_dir, "submitted", actor, case_id, version.hash, comment.strip())
        return current_review(cases_dir, case_id)[1]


def approve(cases_dir: Path | str, case_id: str, actor: Actor, comment: str = "") -> Review:
    """Approve the submitted draft as the second officer (never its author); it must be clean."""
    require_officer(actor, "approve a case")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = current_review(cases_dir, case_id)
        _require_reviewable(version, review, actor)
        if normalise_name(actor.name) in {normalise_name(name) for name in review.approvers}:
            raise WorkflowError(f"you already approved '{case_id}'; it can be published now")
        _require_clean(version)
        _record(cases_dir, "approved", actor, case_id, version.hash, comment.strip())
        return current_review(cases_dir, case_id)[1]


def send_back(cases_dir: Path | str, case_id: str, actor: Actor, comment: str) -> Review:
    """Return a submitted draft to its author with a comment saying what to change."""
    require_officer(actor, "send a case back")
    if not comment.strip():
        raise UsageError("say what should change: sending a case back needs a comment for its author")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = current_review(cases_dir, case_id)
        if review.state not in ("submitted", "approved"):
            raise WorkflowError(f"'{case_id}' is not submitted for review (state: {review.state})")
        _record(cases_dir, "sent_back", actor, case_id, version.hash, comment.strip())
        return current_review(cases_dir, case_id)[1]


def publish(cases_dir: Path | str, case_id: str, actor: Actor) -> Case:
    """Publish an approved draft: valid, anonymisation-clean, approved by a second officer.

    The published file is written atomically; a revision replaces the published version and is then
    removed. Update the search index afterwards (SearchEngine.refresh() / SearchEngine.open()).
    """
    require_officer(actor, "publish a case")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = current_review(cases_dir, case_id)
        if version.case is None:
            raise invalid_error(version)
        if review.state != "approved" or not review.second_officer_approved:
            raise WorkflowError(
                f"'{case_id}' needs approval of this exact version by a second officer (not its author) "
                f"before it can be published (state: {review.state})"
            )
        _require_clean(version)
        published = version.case.model_copy(update={"status": "published"})
        main, revision = case_paths(cases_dir, case_id)
        with _recorded(cases_dir, "published", actor, case_id, version.hash):
            atomic_write(main, dump_case(published))
        if version.is_revision:
            try:
                revision.unlink()
            except OSError as exc:
                raise StorageError(
                    f"{revision}: published, but the old revision could not be removed ({exc.strerror}); delete it"
                ) from exc
    return published


def _require_reviewable(version: Version, review: Review, actor: Actor) -> None:
    if version.case is None:
        raise invalid_error(version)
    if review.state not in ("submitted", "approved"):
        hint = "submit it first" if review.state == "draft" else "it was sent back; its author must resubmit it"
        raise WorkflowError(f"'{version.case_id}' is not submitted for review (state: {review.state}); {hint}")
    if normalise_name(actor.name) in review.authors:
        raise WorkflowError(
            f"you wrote this version of '{version.case_id}'; a second officer must approve it (four-eyes rule)"
        )


def _require_clean(version: Version) -> None:
    findings = blocking_findings(version.case) if version.case is not None else []
    if findings:
        listed = "; ".join(f"{f.field}: {f.kind} '{f.text}' → {f.replacement}" for f in findings[:10])
        raise WorkflowError(
            f"'{version.case_id}' still contains personal data ({len(findings)} finding(s): {listed}). "
            "Replace them, or add a term that is not personal data to allowed_terms, and resubmit"
        )
