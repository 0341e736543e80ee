"""The few exception types a user can meet.

Every message names the file, field or setting involved and says how to fix it; the CLI and the app
turn these into plain words (never a traceback). Anything else escaping the library is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class MoresprudentieError(Exception):
    """Base class: the message is written for the person at the keyboard."""


class CaseFileError(MoresprudentieError):
    """A case file cannot be read or is not a valid case."""


class UsageError(MoresprudentieError):
    """A setting, option or argument is wrong (the CLI exits 2)."""


class ModelError(MoresprudentieError):
    """An embedding model cannot be loaded or used."""


class IndexCorruptError(MoresprudentieError):
    """The index directory is damaged; it can be rebuilt from the case files."""


class CaseNotFoundError(MoresprudentieError):
    """No case with the given id exists in the collection."""


class PermissionDeniedError(MoresprudentieError):
    """The acting user lacks the role this write needs."""


class ConflictError(MoresprudentieError):
    """The case changed on disk since it was opened, or the id is already taken."""


class IdTakenError(ConflictError):
    """A new case's id is in use: by a case or its revision, or by a withdrawn case. A withdrawn id stays
    taken because other cases' links and the audit log still mean the withdrawn case by it."""


class WorkflowError(MoresprudentieError):
    """A draft is not ready for this step (not submitted, no second-officer approval, open findings)."""


class FoundPersonalData(Protocol):
    """What a finding of the anonymisation check (anonymisation.check.Finding) tells about itself."""

    @property
    def field(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def replacement(self) -> str: ...


ADVICE = "Replace them, or add a term that is not personal data to allowed_terms,"
REFUSALS = {  # per step: what happened, and what to do once the findings are fixed
    "edit": "'{case}' was not saved: it contains personal data ({found}). Nothing was written. {advice} then save again",
    "submit": "'{case}' cannot be submitted: it still contains personal data ({found}). {advice} then submit it",
}
REFUSED = "'{case}' still contains personal data ({found}). {advice} and resubmit"  # approve, publish
LISTED = 10  # findings named in the message; all of them are in `findings`


class PersonalDataError(WorkflowError):
    """A text still holds personal data (blocking anonymisation findings): the step (`step`: edit, submit,
    approve or publish) was refused before anything was written or recorded.

    `findings` are those findings (field, kind, text, replacement), so a page can list them in its own
    language; the message names them for the command line. It holds the personal data it found: show it
    to the officer who wrote it, never log it.
    """

    def __init__(self, case_id: str, findings: Iterable[FoundPersonalData], step: str = "approve") -> None:
        self.case_id, self.findings, self.step = case_id, tuple(findings), step
        found = "; ".join(
            f"{f.field}: {f.kind} '{' '.join(f.text.split())}' → {f.replacement}" for f in self.findings[:LISTED]
        )
        more = f"; and {len(self.findings) - LISTED} more" if len(self.findings) > LISTED else ""
        found = f"{len(self.findings)} finding(s): {found}{more}"
        super().__init__(REFUSALS.get(step, REFUSED).format(case=case_id, found=found, advice=ADVICE))

    def __reduce__(self) -> tuple[type, tuple[str, tuple[FoundPersonalData, ...], str]]:
        """Pickle by the fields (the default would call __init__ with the message alone)."""
        return type(self), (self.case_id, self.findings, self.step)


class StorageError(MoresprudentieError):
    """A write failed (disk full, no permission); the previous state is intact."""


class StoreUnavailableError(StorageError):
    """The shared store (a PostgreSQL server) cannot be reached: nothing was written; search keeps
    answering from the last index, and writes work again once the server is back (no restart)."""
