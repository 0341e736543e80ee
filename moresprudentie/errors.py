"""The few exception types a user can meet.

Every message names the file, field or setting involved and says how to fix it; the CLI and the app
turn these into plain words (never a traceback). Anything else escaping the library is a bug.
"""

from __future__ import annotations


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


class WorkflowError(MoresprudentieError):
    """A draft is not ready for this step (not submitted, no second-officer approval, open findings)."""


class StorageError(MoresprudentieError):
    """A write failed (disk full, no permission); the previous state is intact."""
