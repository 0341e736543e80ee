"""The default store: the collection folder itself, its hidden subfolders, and an audit log file beside it.

Nothing to run or install: the cases are the YAML files in `cases/` that git tracks, a revision of a
published case waits in `cases/.revisions/`, a withdrawn case moves to `cases/.withdrawn/`, a draft sent
back is copied to `cases/.sent-back/` for its reviewer's comparison, and the audit log is a JSON-lines
file (review/audit.py). Where each file lives, and why: review/layout.py.
One file lock per collection serialises the workflow steps of every process on this machine; it is not
safe on network file systems, which is why several replicas share a PostgreSQL store instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as LockTimeout

from moresprudentie import settings
from moresprudentie.cases.collection import case_files
from moresprudentie.cases.loading import CASE_SUFFIX
from moresprudentie.errors import ConflictError, IdTakenError, StorageError
from moresprudentie.files import atomic_write, create_exclusive, remove_stale_temps
from moresprudentie.review import archive
from moresprudentie.review.audit import Event, append_event, read_events, retract_event
from moresprudentie.review.layout import Layout, Version, read_version
from moresprudentie.storage.base import PLACES, Place, withdrawn_id_message

LOCK_TIMEOUT_S = 30.0


class FileStorage:
    """One collection folder and its audit log (the given one, else MORESPRUDENTIE_AUDIT_LOG, else
    `.<cases-folder>-audit.jsonl` beside the collection)."""

    def __init__(self, cases_dir: Path | str, audit_log: Path | str | None = None) -> None:
        self.cases_dir = Path(cases_dir)
        self.audit_log = settings.audit_log_path(self.cases_dir, audit_log)
        self.layout = Layout(self.cases_dir)

    def __repr__(self) -> str:
        return f"FileStorage({str(self.cases_dir)!r}, audit_log={str(self.audit_log)!r})"

    def describe(self) -> str:
        return str(self.cases_dir)

    @contextmanager
    def locked(self) -> Iterator[None]:
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

    @contextmanager
    def recorded(self, event: Event) -> Iterator[None]:
        """Log the event, then make the change (the with-body); if the change fails, take the event back.

        So the log never misses a change that happened, and a failed step leaves log and files as they were.
        """
        offset = append_event(self.audit_log, event)
        try:
            yield
        except BaseException:
            with suppress(OSError, StorageError):
                retract_event(self.audit_log, offset)
            raise

    def events(self, case_id: str | None = None) -> list[Event]:
        return read_events(self.audit_log, case_id)

    def event_count(self) -> int:
        """Every line is parsed: a torn or hand-edited line is skipped here as events() skips it."""
        return len(self.events())

    def editable(self, case_id: str) -> Version:
        return self.layout.editable(case_id)

    def drafts(self) -> list[Version]:
        return self.layout.drafts()

    def published(self, case_id: str) -> Version:
        return archive.published_version(self.layout, case_id)

    def published_or_none(self, case_id: str) -> Version | None:
        main, _ = self.layout.case_paths(case_id)
        return read_version(main, case_id, False) if main.exists() else None

    def create(self, case_id: str, data: bytes) -> Path:
        main, revision = self.layout.case_paths(case_id)
        taken = IdTakenError(f"{main}: a case with this id already exists; choose another id or edit that case")
        if revision.exists():
            raise taken
        if (self.layout.withdrawn / main.name).exists():
            raise IdTakenError(withdrawn_id_message(case_id))
        try:
            create_exclusive(main, data)
        except ConflictError:
            raise taken from None
        return main

    def write_draft(self, version: Version, data: bytes) -> Path:
        target = self.layout.case_paths(version.case_id)[1] if version.is_published else version.path
        atomic_write(target, data)
        return target

    def keep_conflict(self, case_id: str, data: bytes) -> Path:
        return self.layout.keep_conflict(case_id, data)

    def publish(self, version: Version, data: bytes) -> None:
        atomic_write(self.layout.case_paths(version.case_id)[0], data)
        self.layout.forget_sent_back(version.case_id)

    def keep_sent_back(self, version: Version) -> None:
        self.layout.keep_sent_back(version)

    def sent_back_text(self, case_id: str, version_hash: str) -> bytes | None:
        return self.layout.sent_back_text(case_id, version_hash)

    def remove_revision(self, case_id: str) -> None:
        revision = self.layout.case_paths(case_id)[1]
        if revision.exists():
            try:
                revision.unlink()
            except OSError as exc:
                raise StorageError(
                    f"{revision}: published, but the old revision could not be removed ({exc.strerror}); delete it"
                ) from exc

    def archive(self, version: Version) -> Path:
        """Move the case file to .withdrawn/; a revision still waiting for review goes to .conflicts/
        (kept, never published: publishing it would bring the withdrawn case back)."""
        target = archive.archive(self.layout, version)
        _, revision = self.layout.case_paths(version.case_id)
        if revision.exists():
            self.layout.keep_conflict(version.case_id, revision.read_bytes())
            revision.unlink()
        self.layout.forget_sent_back(version.case_id)
        return target

    def documents(self) -> Iterator[tuple[Place, str, bytes]]:
        for place in PLACES:
            for path in case_files(self.layout.place_folder(place)):
                yield place, path.stem, path.read_bytes()

    def counts(self) -> dict[Place, int]:
        found = {place: len(case_files(self.layout.place_folder(place))) for place in PLACES}
        return {place: count for place, count in found.items() if count}

    def put(self, place: Place, case_id: str, data: bytes) -> None:
        self.layout.case_paths(case_id)  # checks the id: it becomes a file name
        atomic_write(self.layout.place_folder(place) / f"{case_id}{CASE_SUFFIX}", data)
