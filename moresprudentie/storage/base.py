"""The interface between the review workflow and where its documents and audit events are kept.

CaseStore (review/store.py) decides whether a step is allowed (the rules of review/steps.py and
review/withdrawal.py); a Storage only keeps documents and events, and makes a step all-or-nothing:
- `locked()` runs one workflow step at a time for the whole collection (a file lock, or a PostgreSQL
  transaction holding an advisory lock), so check-then-write never races between officers or replicas;
- `recorded(event)` logs the event and makes the change of its with-body both or neither.

A document is one case text, byte for byte as written (YAML), in one of three places: the collection
(published cases and new drafts), a revision of a published case, or the archive of withdrawn cases.
Bytes, not parsed cases, so every hash an officer approves names exactly what is stored, and a
collection moves in and out of a store unchanged (exchange.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal, Protocol

from moresprudentie.review.audit import Event
from moresprudentie.review.layout import Version

Place = Literal["collection", "revision", "withdrawn"]
PLACES: tuple[Place, ...] = ("collection", "revision", "withdrawn")


class Storage(Protocol):
    """What CaseStore needs from a store; FileStorage (files.py) and PostgresStorage (postgres.py)."""

    def describe(self) -> str:
        """Where this store is, for messages (a folder, or a database URL without its password)."""
        ...

    def locked(self) -> AbstractContextManager[None]:
        """One workflow step at a time: every check-then-write step runs inside it."""
        ...

    def recorded(self, event: Event) -> AbstractContextManager[None]:
        """Log `event`, then make the change of the with-body: both happen, or neither (call locked)."""
        ...

    def events(self, case_id: str | None = None) -> list[Event]:
        """The audit log (of one case, if given), in the order it was written."""
        ...

    def event_count(self) -> int:
        """How many events the audit log holds (for `store status`), the number events() would list."""
        ...

    def editable(self, case_id: str) -> Version:
        """The version an edit starts from: the revision if there is one, else the case itself."""
        ...

    def drafts(self) -> list[Version]:
        """Every revision, and every case in the collection that is not published (or not readable)."""
        ...

    def published(self, case_id: str) -> Version:
        """The case in the collection (never a revision): WorkflowError when it was withdrawn."""
        ...

    def published_or_none(self, case_id: str) -> Version | None:
        """The case in the collection, or None when there is none (removed or withdrawn meanwhile)."""
        ...

    def create(self, case_id: str, data: bytes) -> Path:
        """Add a new case to the collection; IdTakenError when a case, a revision or a withdrawn case has
        the id (withdrawn_id_message). Returns where it is."""
        ...

    def write_draft(self, version: Version, data: bytes) -> Path:
        """Save an edit of `version`: a revision beside a published case, else over the draft itself."""
        ...

    def keep_conflict(self, case_id: str, data: bytes) -> Path:
        """Keep the text of a save that lost a race (it survives the failed step); returns where."""
        ...

    def publish(self, version: Version, data: bytes) -> None:
        """Write the published text into the collection (over the version published before, if any)."""
        ...

    def remove_revision(self, case_id: str) -> None:
        """Remove the revision of a case just published from it (outside recorded(): the publication
        stands even if this fails, and the message says what is left to do)."""
        ...

    def keep_sent_back(self, version: Version) -> None:
        """Keep the text of a draft being sent back (call inside recorded()): when its author has edited
        it and offers it again, its reviewer sees what changed (sent_back_text, review/changes.py)."""
        ...

    def sent_back_text(self, case_id: str, version_hash: str) -> bytes | None:
        """The text of a draft sent back earlier, by its hash; None when it is not kept (any more)."""
        ...

    def archive(self, version: Version) -> Path:
        """Move a published case to the withdrawn archive (it leaves search); returns where it went."""
        ...

    def documents(self) -> Iterator[tuple[Place, str, bytes]]:
        """Every document, by place and case id, as stored (for `store export`)."""
        ...

    def counts(self) -> dict[Place, int]:
        """How many documents each place holds, places without any left out (for `store status`):
        counted without reading a single document, so a large store answers at once."""
        ...

    def put(self, place: Place, case_id: str, data: bytes) -> None:
        """Write a document as given (for `store import`; call inside recorded())."""
        ...


def withdrawn_id_message(case_id: str) -> str:
    """Why a withdrawn case's id cannot name a new case, in both stores' words."""
    return (
        f"'{case_id}' is the id of a withdrawn case, and other cases' links and the audit log still mean that "
        "case by it; choose another id"
    )
