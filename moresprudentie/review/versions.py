"""Drafts on disk and where they stand: the versions of a case, and its review state replayed
from the audit log. Read-only: every change goes through workflow.py.

A new case is a draft in the collection itself (`cases/<id>.yaml`, `status: draft`); an edit of a
published case is a revision in `cases/.revisions/<id>.yaml`; a save that lost a race is kept in
`cases/.conflicts/`. The loader reads only `cases/*.yaml`, so revisions and conflicts never show in
search. Every audit event names the sha256 of the draft bytes it is about, so the review state
belongs to exactly one text: an edit starts a new round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from moresprudentie import settings
from moresprudentie.cases.collection import case_files
from moresprudentie.cases.loading import CASE_SUFFIX, MAX_FILE_BYTES, Problem, file_hash, parse_case
from moresprudentie.cases.model import ID_PATTERN, Case
from moresprudentie.errors import CaseFileError, CaseNotFoundError, StorageError, UsageError, WorkflowError
from moresprudentie.review.audit import Event, read_events
from moresprudentie.review.roles import normalise_name

REVISIONS = ".revisions"
CONFLICTS = ".conflicts"
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


def _checked_id(case_id: str) -> str:
    """Ids become file names: refuse anything else (no '../', no slashes) before touching the disk."""
    if not re.match(ID_PATTERN, case_id):
        raise UsageError(
            f"'{case_id}' is not a valid case id: use 3–80 lower-case letters, digits and hyphens, "
            "e.g. geschenk-van-leverancier"
        )
    return case_id


def case_paths(cases_dir: Path, case_id: str) -> tuple[Path, Path]:
    """The case file and the revision file of an id (checked first: ids become file names)."""
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
    return Version(case_id, path, file_hash(data), case, problems, is_revision)


def editable_version(cases_dir: Path | str, case_id: str) -> Version:
    """The version an edit starts from: the revision if there is one, else the case file itself.

    Keep its `hash` and pass it to save_draft as expected_hash, so a concurrent change is caught.
    """
    main, revision = case_paths(Path(cases_dir), case_id)
    return _read(revision, case_id, True) if revision.exists() else _read(main, case_id, False)


def draft_version(cases_dir: Path | str, case_id: str) -> Version:
    """The draft under review (revision or draft case file); WorkflowError when the case is published."""
    version = editable_version(cases_dir, case_id)
    if not version.is_revision and version.case is not None and version.case.is_published:
        raise WorkflowError(f"'{case_id}' is published and has no draft; edit it first to start a revision")
    return version


def invalid_error(version: Version) -> CaseFileError:
    """The error for a draft file that is not a valid case, listing what to fix."""
    problems = "; ".join(str(p) for p in version.problems if p.severity == "error")
    return CaseFileError(f"{problems} (fix the case file, then try again)")


def review_of(events: list[Event], draft_hash: str) -> Review:
    """Replay the log of one case for the draft with this hash; a publication starts a new round.

    After a crash between a 'published' event and its write, the draft simply needs a new
    approval: replaying never grants more than was reviewed.
    """
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


def current_review(cases_dir: Path, case_id: str) -> tuple[Version, Review]:
    """The draft under review and its state."""
    version = draft_version(cases_dir, case_id)
    events = read_events(settings.audit_log_path(cases_dir), case_id)
    return version, review_of(events, version.hash)
