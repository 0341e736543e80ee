"""Where drafts, revisions and conflicts live on disk, and why.

A new case is a draft in the collection itself (`cases/<id>.yaml`, `status: draft`). An edit of a
published case is a revision in `cases/.revisions/<id>.yaml`: the published version stays searchable,
unchanged, until the revision is published and replaces it, because officers expect a typo fix not to
take a case offline for days. A save that lost a race is kept in `cases/.conflicts/`, so no officer's
text is ever lost. The loader reads only `cases/*.yaml`, so revisions and conflicts never show in
search. A withdrawn case moves to `cases/.withdrawn/<id>.yaml` (withdrawal.py), out of search for
good, its title still at hand for links to it. A draft sent back is copied to `cases/.sent-back/<id>.yaml`
before its author edits it, so its reviewer can see what changed when it comes back (changes.py); one
copy per case, the last one sent back, removed when the case is published or withdrawn. Ids become
file names: every id is checked before it touches the disk.

Naming and reading happen here, and keeping a conflict copy; CaseStore (store.py) decides when, and
the file store (storage/files.py) does every write under its lock. This is the file store's layout;
a PostgreSQL store keeps the same places as rows (storage/postgres.py).
"""

from __future__ import annotations

import re
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from moresprudentie.cases.collection import WITHDRAWN, case_files
from moresprudentie.cases.loading import CASE_SUFFIX, MAX_FILE_BYTES, Problem, file_hash, parse_case
from moresprudentie.cases.model import ID_PATTERN, Case
from moresprudentie.errors import CaseFileError, CaseNotFoundError, ConflictError, StorageError, UsageError
from moresprudentie.files import atomic_write, create_exclusive

REVISIONS = ".revisions"
CONFLICTS = ".conflicts"
SENT_BACK = ".sent-back"


@dataclass(frozen=True)
class Version:
    """One case file as read: its bytes' hash (for conflicts and approvals) and the case, if valid."""

    case_id: str
    path: Path
    hash: str
    case: Case | None
    problems: list[Problem]
    is_revision: bool = False

    @property
    def is_published(self) -> bool:
        """The published case file itself (not a revision of it): there is no draft to review."""
        return not self.is_revision and self.case is not None and self.case.is_published

    def unchanged_bytes(self, step: str) -> bytes:
        """The file's bytes, if they are still the ones read (its hash); a step that copies or moves a
        file (`step`: "sent back", "withdrawn") must copy what the officer judged, nothing newer."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise StorageError(f"{self.path}: cannot read ({exc.strerror or exc}); nothing was {step}") from exc
        if file_hash(data) != self.hash:
            raise ConflictError(f"{self.path}: changed a moment ago; open it again and read the version on disk now")
        return data


def checked_id(case_id: str) -> str:
    """Ids become file names: refuse anything else (no '../', no slashes) before touching the disk."""
    if not re.match(ID_PATTERN, case_id):
        raise UsageError(
            f"'{case_id}' is not a valid case id: use 3–80 lower-case letters, digits and hyphens, "
            "e.g. geschenk-van-leverancier"
        )
    return case_id


def read_version(path: Path, case_id: str, is_revision: bool) -> Version:
    """Read one case file (or revision) as a Version; a missing or unreadable file says what to check."""
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


@dataclass(frozen=True)
class Layout:
    """The folders of one collection: the cases, their revisions and the conflict copies."""

    root: Path

    @property
    def revisions(self) -> Path:
        return self.root / REVISIONS

    @property
    def conflicts(self) -> Path:
        return self.root / CONFLICTS

    @property
    def withdrawn(self) -> Path:
        return self.root / WITHDRAWN

    @property
    def sent_back(self) -> Path:
        return self.root / SENT_BACK

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every folder a writer writes into (where a killed writer may have left a temp file)."""
        return self.root, self.revisions, self.conflicts, self.withdrawn, self.sent_back

    def place_folder(self, place: str) -> Path:
        """Where the documents of a store place lie as files: the collection itself, its revisions, or its
        archive of withdrawn cases (the places are named in storage/base.py)."""
        return {"collection": self.root, "revision": self.revisions, "withdrawn": self.withdrawn}[place]

    def case_paths(self, case_id: str) -> tuple[Path, Path]:
        """The case file and the revision file of an id (checked first: ids become file names)."""
        name = f"{checked_id(case_id)}{CASE_SUFFIX}"
        return self.root / name, self.revisions / name

    def editable(self, case_id: str) -> Version:
        """The version an edit starts from: the revision if there is one, else the case file itself."""
        main, revision = self.case_paths(case_id)
        return read_version(revision, case_id, True) if revision.exists() else read_version(main, case_id, False)

    def drafts(self) -> list[Version]:
        """Every revision, and every case file that is not published (or cannot be read as a case)."""
        revisions = {path.stem: path for path in case_files(self.revisions)} if self.revisions.is_dir() else {}
        versions = [read_version(path, path.stem, True) for path in revisions.values()]
        for path in case_files(self.root):
            if path.stem not in revisions:
                version = read_version(path, path.stem, False)
                if not version.is_published:
                    versions.append(version)
        return versions

    def keep_conflict(self, case_id: str, data: bytes) -> Path:
        """Keep the text of a save that lost a race in the conflicts folder, under a unique name."""
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
        path = self.conflicts / f"{case_id}.conflict-{stamp}{CASE_SUFFIX}"
        create_exclusive(path, data)
        return path

    def keep_sent_back(self, version: Version) -> None:
        """Copy the draft being sent back (the bytes of `version`, checked) to .sent-back/, over the
        copy of an earlier send-back: the last text sent back is the one its reviewer compares with."""
        atomic_write(self.sent_back / version.path.name, version.unchanged_bytes("sent back"))

    def sent_back_text(self, case_id: str, version_hash: str) -> bytes | None:
        """The copy of the draft sent back, if it is the version with this hash (else None)."""
        path = self.sent_back / f"{checked_id(case_id)}{CASE_SUFFIX}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"{path}: cannot read ({exc.strerror or exc}); check the file's permissions") from exc
        return data if file_hash(data) == version_hash else None

    def forget_sent_back(self, case_id: str) -> None:
        """Remove the copy once the case is published or withdrawn: the comparison is over, and a text kept
        for it should not outlive it. Best effort: a copy left behind is never shown (its hash belongs to a
        round that ended), so a failure here must not undo the publication."""
        with suppress(OSError):
            (self.sent_back / f"{case_id}{CASE_SUFFIX}").unlink(missing_ok=True)
