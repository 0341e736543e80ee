"""YAML stays the exchange format: a collection folder moves into a store and back out, byte for byte.

`moresprudentie store import DIR` reads a collection folder (the cases, `.revisions/` and `.withdrawn/`,
laid out as review/layout.py describes) into the configured store; `store export DIR` writes the store's
documents back as files. Documents are kept as the bytes that were read, so an import followed by an
export gives identical files, and every hash in the audit log still names its text.

Import is the administrator's door into a store, so it passes the same gates as the form: every case
must load (strict validation) and hold no personal data (the anonymisation check's blocking findings);
otherwise nothing is imported and each problem is named. It adds and updates, never deletes, and records
one `imported` event per document it writes, in the same step. Unchanged documents are skipped, so
importing the same folder twice changes nothing.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

from moresprudentie.cases.loading import CASE_SUFFIX, file_hash, parse_case
from moresprudentie.errors import CaseFileError, UsageError
from moresprudentie.review.audit import Event, now
from moresprudentie.review.layout import Layout
from moresprudentie.storage.base import Place, Storage
from moresprudentie.storage.files import FileStorage


@dataclass
class Exchanged:
    """What an import or export did: documents written and left as they were, by place."""

    written: dict[Place, int] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def total(self) -> int:
        return sum(self.written.values())


def read_folder(folder: Path) -> list[tuple[Place, str, bytes]]:
    """Every document of a collection folder, by place (read as the file store reads it); a UsageError
    when the folder is missing."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; give the collection folder to import (the one with <id>.yaml)")
    return list(FileStorage(folder).documents())


def refusals(documents: list[tuple[Place, str, bytes]], folder: Path) -> list[str]:
    """What stops an import: files that are not valid cases, and texts with personal data in them."""
    from moresprudentie.review.store import blocking_findings  # the name detector loads only when importing

    problems = []
    for place, case_id, data in documents:
        where = Layout(folder).place_folder(place) / f"{case_id}{CASE_SUFFIX}"
        case, found = parse_case(data, str(where), expected_id=case_id)
        problems.extend(str(problem) for problem in found if problem.severity == "error")
        if case is not None and place != "withdrawn":  # the archive is history: it is never shown again
            found_data = [f"{f.field}: {f.kind} → {f.replacement}" for f in blocking_findings(case)]
            if found_data:
                problems.append(f"{where}: personal data ({'; '.join(found_data)}); replace it, then import again")
    return problems


def import_folder(storage: Storage, folder: Path, actor: str | None = None) -> Exchanged:
    """Import a collection folder into `storage` as one step: all of it, or (on any refusal) none."""
    documents = read_folder(folder)
    problems = refusals(documents, folder)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise CaseFileError(f"{folder}: nothing was imported; fix these first:\n{listed}")
    name = actor or getpass.getuser()
    report = Exchanged()
    with storage.locked():
        stored = {(place, case_id): file_hash(data) for place, case_id, data in storage.documents()}
        for place, case_id, data in documents:
            digest = file_hash(data)
            if stored.get((place, case_id)) == digest:
                report.unchanged += 1
                continue
            comment = f"{place} from {folder.name or folder}"
            with storage.recorded(Event(now(), name, "imported", case_id, digest, comment)):
                storage.put(place, case_id, data)
            report.written[place] = report.written.get(place, 0) + 1
    return report


def export_folder(storage: Storage, folder: Path) -> Exchanged:
    """Write every document of `storage` into an empty (or new) folder, as the files they were (laid out
    as the file store lays them out, so the folder can be searched or imported again as it is)."""
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder}: not empty; export into a new or empty folder (nothing was written)")
    target, report = FileStorage(folder), Exchanged()
    for place, case_id, data in storage.documents():
        target.put(place, case_id, data)
        report.written[place] = report.written.get(place, 0) + 1
    return report
