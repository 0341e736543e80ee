"""Adding cases safely: draft → submit → approve (by a second officer) → publish.

Where things live (so that a backup of `cases/` holds every case and draft):
- A new case is a draft in the collection itself: `cases/<id>.yaml` with `status: draft`; search
  leaves drafts out unless asked.
- Editing a published case makes a draft revision in `cases/.revisions/<id>.yaml`; the published
  version stays searchable, unchanged, until the revision is published and replaces it. Officers
  expect a typo fix not to take a case offline for days. (To withdraw a case at once, remove or
  edit its file in git; that is outside this workflow.)
- When a save loses a race (the file changed since it was opened) the new version is kept in
  `cases/.conflicts/` and the save fails with ConflictError: nothing is overwritten, nothing lost.
- Workflow state and who did what, when, go to the append-only audit log (see audit.py), never
  into the case files. Every event names the sha256 of the draft bytes it is about, so an approval
  covers exactly the text that was reviewed: any later edit needs a new submission and approval.

Every write checks the officer role itself (shells only hide buttons), holds one lock per audit log
so check-then-write steps do not race, and writes atomically (files.atomic_write / create_exclusive).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from filelock import FileLock
from filelock import Timeout as LockTimeout

from . import settings
from .audit import Action, Event, append_event, now, read_events
from .authoring import scaffold
from .case import ID_PATTERN, Case
from .errors import CaseFileError, CaseNotFoundError, ConflictError, StorageError, UsageError, WorkflowError
from .files import atomic_write, create_exclusive
from .loading import CASE_SUFFIX, MAX_FILE_BYTES, Problem, case_files, content_hash, dump_case, parse_case
from .roles import Actor, normalise_name, require_officer

if TYPE_CHECKING:
    from .anonymisation import Finding

REVISIONS = ".revisions"
CONFLICTS = ".conflicts"
LOCK_TIMEOUT_S = 30.0
State = Literal["draft", "submitted", "approved", "sent_back"]
STATE_ORDER: tuple[State, ...] = ("submitted", "approved", "sent_back", "draft")


@dataclass(frozen=True)
class Version:
    """One case file as read: its bytes' hash (for conflicts and approvals) and the case, if valid."""

    case_id: str
    path: Path
    hash: str
    case: Case | None
    problems: list[Problem]
    is_revision: bool = False


@dataclass(frozen=True)
class Review:
    """Where a draft version stands, derived from the audit log (events since the last publication)."""

    state: State = "draft"
    authors: frozenset[str] = frozenset()
    approvers: tuple[str, ...] = ()
    history: tuple[Event, ...] = field(default_factory=tuple)

    @property
    def second_officer_approved(self) -> bool:
        return any(normalise_name(name) not in self.authors for name in self.approvers)

    @property
    def last_comment(self) -> str:
        return next((e.comment for e in reversed(self.history) if e.comment), "")


@dataclass(frozen=True)
class QueueItem:
    """A draft waiting for work: the version on disk and its review state."""

    version: Version
    review: Review


# -- reading ---------------------------------------------------------------------------------------


def _checked_id(case_id: str) -> str:
    """Ids become file names: refuse anything else (no '../', no slashes) before touching the disk."""
    if not re.match(ID_PATTERN, case_id):
        raise UsageError(
            f"'{case_id}' is not a valid case id: use 3–80 lower-case letters, digits and hyphens, "
            "e.g. geschenk-van-leverancier"
        )
    return case_id


def _paths(cases_dir: Path, case_id: str) -> tuple[Path, Path]:
    name = f"{_checked_id(case_id)}{CASE_SUFFIX}"
    return Path(cases_dir) / name, Path(cases_dir) / REVISIONS / name


def _read(path: Path, case_id: str, is_revision: bool) -> Version:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CaseFileError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; shorten the text")
        data = path.read_bytes()
    except FileNotFoundError:
        raise CaseNotFoundError(f"{path}: no such case file; check the id (the file name without .yaml)") from None
    except OSError as exc:
        raise StorageError(f"{path}: cannot read ({exc.strerror or exc}); check the file's permissions") from exc
    case, problems = parse_case(data, str(path), expected_id=case_id)
    return Version(case_id, path, content_hash(data), case, problems, is_revision)


def editable_version(cases_dir: Path | str, case_id: str) -> Version:
    """The version an edit starts from: the revision if there is one, else the case file itself.

    Keep its `hash` and pass it to save_draft as expected_hash, so a concurrent change is caught.
    """
    main, revision = _paths(Path(cases_dir), case_id)
    return _read(revision, case_id, True) if revision.exists() else _read(main, case_id, False)


def draft_version(cases_dir: Path | str, case_id: str) -> Version:
    """The draft under review (revision or draft case file); WorkflowError when the case is published."""
    version = editable_version(cases_dir, case_id)
    if not version.is_revision and version.case is not None and version.case.is_published:
        raise WorkflowError(f"'{case_id}' is published and has no draft; edit it first to start a revision")
    return version


def _invalid(version: Version) -> CaseFileError:
    problems = "; ".join(str(p) for p in version.problems if p.severity == "error")
    return CaseFileError(f"{problems} (fix the case file, then try again)")


def review_of(events: list[Event], draft_hash: str) -> Review:
    """Replay the log of one case for the draft with this hash; a publication starts a new round."""
    drafters: set[str] = set()
    submitter: str | None = None
    approvers: list[str] = []
    history: list[Event] = []
    state: State = "draft"
    for event in events:
        if event.action == "published":
            drafters, submitter, approvers, history, state = set(), None, [], [], "draft"
            continue
        history.append(event)
        if event.hash != draft_hash:
            continue  # about an earlier version of the text
        if event.action == "drafted":
            drafters.add(normalise_name(event.actor))
            state = "draft"
        elif event.action == "submitted":
            submitter = submitter or normalise_name(event.actor)
            state = "submitted"
        elif event.action == "approved":
            approvers.append(event.actor)
            state = "approved"
        elif event.action == "sent_back":
            approvers, state = [], "sent_back"
    authors = frozenset(drafters or ({submitter} if submitter else set()))
    return Review(state, authors, tuple(approvers), tuple(history))


def review_queue(cases_dir: Path | str) -> list[QueueItem]:
    """Every draft and revision (and unreadable case file) with its state; most urgent first."""
    cases_dir = Path(cases_dir)
    events = read_events(settings.audit_log_path(cases_dir))
    revision_dir = cases_dir / REVISIONS
    revisions = {path.stem: path for path in case_files(revision_dir)} if revision_dir.is_dir() else {}
    versions = [_read(path, path.stem, True) for path in revisions.values()]
    for path in case_files(cases_dir):
        if path.stem not in revisions:
            version = _read(path, path.stem, False)
            if version.case is None or not version.case.is_published:
                versions.append(version)
    items = [
        QueueItem(version, review_of([e for e in events if e.case == version.case_id], version.hash))
        for version in versions
    ]
    return sorted(items, key=lambda item: (STATE_ORDER.index(item.review.state), item.version.case_id))


def blocking_findings(case: Case) -> list[Finding]:
    """Anonymisation findings that stop publication ("block"); allowed_terms are honoured by the check."""
    from .anonymisation import check_case  # deduce is heavy: load it only when a draft is checked

    return [finding for finding in check_case(case) if finding.severity == "block"]


# -- writing ---------------------------------------------------------------------------------------


@contextmanager
def _locked(cases_dir: Path) -> Iterator[None]:
    """One workflow step at a time per collection (between processes and threads alike)."""
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
        yield
    finally:
        lock.release()


def _record(cases_dir: Path, action: Action, actor: Actor, case_id: str, draft_hash: str, comment: str = "") -> None:
    append_event(settings.audit_log_path(cases_dir), Event(now(), actor.name, action, case_id, draft_hash, comment))


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
    main, revision = _paths(cases_dir, case.id)
    with _locked(cases_dir):
        if expected_hash is None:
            target = _create_new(main, revision, data)
        else:
            target = _edit_target(cases_dir, case.id, data, expected_hash)
            if target is None:
                return Saved(revision if revision.exists() else main, content_hash(data), changed=False)
            atomic_write(target, data)
        _record(cases_dir, "drafted", actor, case.id, content_hash(data))
    return Saved(target, content_hash(data))


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
    if current.hash == content_hash(data):
        return None
    published = not current.is_revision and current.case is not None and current.case.is_published
    return _paths(cases_dir, case_id)[1] if published else current.path


def create_scaffold(cases_dir: Path | str, case_id: str, actor: Actor, language: str = "nl") -> Path:
    """Write a new, empty case file with every field and Dutch hints (see authoring.py), as a draft."""
    require_officer(actor, "create a case")
    cases_dir = Path(cases_dir)
    main, revision = _paths(cases_dir, case_id)
    data = scaffold(case_id, language).encode("utf-8")
    with _locked(cases_dir):
        _create_new(main, revision, data)
        _record(cases_dir, "drafted", actor, case_id, content_hash(data))
    return main


def submit(cases_dir: Path | str, case_id: str, actor: Actor, comment: str = "") -> Review:
    """Offer the current draft for review. Files edited outside the app count as the submitter's."""
    require_officer(actor, "submit a case for review")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = _current(cases_dir, case_id)
        if version.case is None:
            raise _invalid(version)
        if review.state in ("submitted", "approved"):
            raise WorkflowError(f"'{case_id}' is already {review.state}; it is waiting for a second officer")
        _record(cases_dir, "submitted", actor, case_id, version.hash, comment.strip())
        return _current(cases_dir, case_id)[1]


def approve(cases_dir: Path | str, case_id: str, actor: Actor, comment: str = "") -> Review:
    """Approve the submitted draft as the second officer (never its author); it must be clean."""
    require_officer(actor, "approve a case")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = _current(cases_dir, case_id)
        _require_reviewable(version, review, actor)
        if normalise_name(actor.name) in {normalise_name(name) for name in review.approvers}:
            raise WorkflowError(f"you already approved '{case_id}'; it can be published now")
        _require_clean(version)
        _record(cases_dir, "approved", actor, case_id, version.hash, comment.strip())
        return _current(cases_dir, case_id)[1]


def send_back(cases_dir: Path | str, case_id: str, actor: Actor, comment: str) -> Review:
    """Return a submitted draft to its author with a comment saying what to change."""
    require_officer(actor, "send a case back")
    if not comment.strip():
        raise UsageError("say what should change: sending a case back needs a comment for its author")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = _current(cases_dir, case_id)
        if review.state not in ("submitted", "approved"):
            raise WorkflowError(f"'{case_id}' is not submitted for review (state: {review.state})")
        _record(cases_dir, "sent_back", actor, case_id, version.hash, comment.strip())
        return _current(cases_dir, case_id)[1]


def publish(cases_dir: Path | str, case_id: str, actor: Actor) -> Case:
    """Publish an approved draft: valid, anonymisation-clean, approved by a second officer.

    The published file is written atomically; a revision replaces the published version and is then
    removed. Update the search index afterwards (SearchEngine.refresh() / SearchEngine.open()).
    """
    require_officer(actor, "publish a case")
    cases_dir = Path(cases_dir)
    with _locked(cases_dir):
        version, review = _current(cases_dir, case_id)
        if version.case is None:
            raise _invalid(version)
        if review.state != "approved" or not review.second_officer_approved:
            raise WorkflowError(
                f"'{case_id}' needs approval of this exact version by a second officer (not its author) "
                f"before it can be published (state: {review.state})"
            )
        _require_clean(version)
        published = version.case.model_copy(update={"status": "published"})
        main, revision = _paths(cases_dir, case_id)
        atomic_write(main, dump_case(published))
        _record(cases_dir, "published", actor, case_id, version.hash)
        if version.is_revision:
            try:
                revision.unlink()
            except OSError as exc:
                raise StorageError(
                    f"{revision}: published, but the old revision could not be removed ({exc.strerror}); delete it"
                ) from exc
    return published


def _current(cases_dir: Path, case_id: str) -> tuple[Version, Review]:
    version = draft_version(cases_dir, case_id)
    events = read_events(settings.audit_log_path(cases_dir), case_id)
    return version, review_of(events, version.hash)


def _require_reviewable(version: Version, review: Review, actor: Actor) -> None:
    if version.case is None:
        raise _invalid(version)
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
