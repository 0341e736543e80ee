"""Where the collection, the drafts and the audit log live: a folder of files, or a PostgreSQL database.

One setting chooses (settings.STORE, MORESPRUDENTIE_STORE): `files` (the default, embedded, nothing to
run) or a `postgresql://…` URL for several app replicas sharing one collection. CaseStore (review/store.py)
takes every workflow step through the Storage interface (base.py) and never knows which one it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from moresprudentie import settings

if TYPE_CHECKING:
    from moresprudentie.review.store import CaseStore
    from moresprudentie.storage.base import Storage
    from moresprudentie.storage.replica import Replica


def open_storage(
    cases: str | Path | None = None, audit_log: str | Path | None = None, store: str | None = None
) -> Storage:
    """The Storage the settings name: the cases folder and its audit log, or the PostgreSQL database."""
    url = settings.store_url(store)
    if url is None:
        from moresprudentie.storage.files import FileStorage

        return FileStorage(settings.cases_dir(cases), audit_log)
    from moresprudentie.storage.postgres import PostgresStorage  # psycopg only where a database is used

    return PostgresStorage(url)


def open_store(
    cases: str | Path | None = None, audit_log: str | Path | None = None, store: str | None = None
) -> CaseStore:
    """The CaseStore the settings name (see open_storage): every workflow step goes through it."""
    from moresprudentie.review.store import CaseStore

    return CaseStore.on(open_storage(cases, audit_log, store))


@dataclass(frozen=True)
class SearchFolders:
    """Where a search engine reads its cases and keeps its index, for the configured store.

    The file store: the cases folder itself (index beside it, or the one given). A PostgreSQL store:
    this replica's local copy, `collection/` inside its index folder (MORESPRUDENTIE_INDEX), which
    sync() brings up to date from the database (storage/replica.py).
    """

    cases: Path
    index: Path | None
    replica: Replica | None = None

    def sync(self) -> bool:
        """Update the local copy from the store (True when anything changed); nothing to do for files.
        StoreUnavailableError when the database is down: the copy stays as it was."""
        return self.replica.sync() if self.replica is not None else False


def search_folders(
    cases: str | Path | None = None, index: str | Path | None = None, store: str | None = None
) -> SearchFolders:
    """The folders a search engine uses with these settings (see SearchFolders)."""
    url = settings.store_url(store)
    if url is None:
        return SearchFolders(settings.cases_dir(cases), Path(index) if index else None)
    from moresprudentie.storage.postgres import PostgresStorage
    from moresprudentie.storage.replica import Replica

    folder = settings.collection_dir(cases, index, store)
    return SearchFolders(folder, folder.parent, Replica(PostgresStorage(url), folder))
