"""A replica's local copy of a PostgreSQL store: the case files its search engine reads.

Why files: the search engine reads a folder of case files, incrementally (only changed files are parsed
and embedded), and notices changes by their stat keys (SearchEngine.is_stale). A replica keeps the
store's published cases and drafts as `<index folder>/collection/<id>.yaml`, and the withdrawn ones in
its `.withdrawn/` (for the titles of links to them), so everything that serves search stays exactly
as with the file store, and each replica has its own in-memory index built from the store.

sync() asks the store's change counter (one small query) and, only when it moved, compares document
hashes with those it last wrote (the files are read once, at the first sync) and rewrites just the
files that changed. The app does that at most every few seconds
(ui/components/resources.py), so a change made in any replica is served by every other within 5 s.
When the database is down, sync() raises StoreUnavailableError and the local copy stays as it was:
search keeps answering from it, read-only.
"""

from __future__ import annotations

import threading
from pathlib import Path

from moresprudentie.cases.collection import case_files
from moresprudentie.cases.loading import CASE_SUFFIX, file_hash
from moresprudentie.files import atomic_write
from moresprudentie.review.layout import Layout
from moresprudentie.storage.base import Place
from moresprudentie.storage.postgres import PostgresStorage

MIRRORED: tuple[Place, ...] = ("collection", "withdrawn")


class Replica:
    """The local copy of one store's collection in `folder`; sync() brings it up to date."""

    def __init__(self, storage: PostgresStorage, folder: Path) -> None:
        self.storage = storage
        self.layout = Layout(Path(folder))  # the places as folders, as the file store lays them out
        self._seen: int | None = None  # the change counter the copy matches
        self._known: dict[tuple[Place, str], str] | None = None  # the copy's hashes as last written (None: read)
        self._lock = threading.Lock()  # one sync at a time in this process

    def _path(self, place: Place, case_id: str) -> Path:
        return self.layout.place_folder(place) / f"{case_id}{CASE_SUFFIX}"

    def _local(self) -> dict[tuple[Place, str], str]:
        """The hash of every file in the local copy (read from disk: another process may share it)."""
        found: dict[tuple[Place, str], str] = {}
        for place in MIRRORED:
            for path in case_files(self.layout.place_folder(place)):
                found[(place, path.stem)] = file_hash(path.read_bytes())
        return found

    def sync(self) -> bool:
        """Bring the local copy up to date; True when anything changed. StoreUnavailableError when the
        database cannot be reached (the copy is left as it was)."""
        with self._lock:
            counter = self.storage.changes()  # first: a change after this read moves it again
            if counter == self._seen:
                return False
            wanted = self.storage.hashes(MIRRORED)
            local = self._known if self._known is not None else self._local()  # disk read once per process
            stale = [key for key, digest in wanted.items() if local.get(key) != digest]
            bodies = self.storage.bodies(stale) if stale else {}
            for key, body in bodies.items():
                atomic_write(self._path(*key), body)
            gone = [key for key in local if key not in wanted]
            for key in gone:
                self._path(*key).unlink(missing_ok=True)
            known = {key: digest for key, digest in local.items() if key in wanted}
            known.update({key: file_hash(body) for key, body in bodies.items()})  # exactly what was written
            self._seen, self._known = counter, known
            return bool(bodies or gone)
