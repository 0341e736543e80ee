"""The shared store: the collection, drafts, every version, and the audit log in one PostgreSQL database.

For an organisation that runs several app replicas: file locks are not safe on network file systems,
and a publish in one replica must reach the others. PostgreSQL brings what a home-made sync would lack:
transactions, replication, backups and managed services. Through psycopg 3; the schema is plain SQL in
`migrations/`, applied in order, each once (migrate()).

The rules live in the database as well as in the workflow:
- every workflow step is one transaction that first takes one advisory lock for the whole collection
  (locked()): check-then-write never races between replicas, and the "changed since you opened it"
  check (optimistic concurrency) sees every write before it. A step's audit event and its change commit
  together or not at all, so a replica killed mid-step leaves the database as it was;
- the audit log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE;
- a trigger refuses an approval by the text's author, a publication without a second officer's
  approval, and a withdrawal approved by its proposer (the four-eyes rule, a second time);
- every change to the documents moves a counter (and notifies), which replicas compare to refresh.

When the server cannot be reached every call raises StoreUnavailableError (a StorageError): nothing was
written, and the next call connects afresh, so writes work again as soon as the server is back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg import errors as pg_errors

from moresprudentie.cases.loading import CASE_SUFFIX, file_hash, parse_case
from moresprudentie.errors import (
    CaseNotFoundError,
    ConflictError,
    IdTakenError,
    StorageError,
    StoreUnavailableError,
    WorkflowError,
)
from moresprudentie.review.audit import Event
from moresprudentie.review.layout import Version
from moresprudentie.storage.base import Place, withdrawn_id_message

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3
LOCK_TIMEOUT = "30s"  # waiting for another step's lock; as the file store's LOCK_TIMEOUT_S
WORKFLOW_LOCK = 7_314_552_901  # the advisory lock key of "one workflow step at a time"
MIGRATION_LOCK = 7_314_552_902
CHANNEL = "moresprudentie_changes"
MIGRATIONS = "migrations"
_migrated: set[str] = set()  # the databases this process has brought up to date (by URL)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def migration_files() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every migration shipped with the package, in order."""
    folder = resources.files("moresprudentie.storage").joinpath(MIGRATIONS)
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class PostgresStorage:
    """One PostgreSQL database as the store; see the module docstring for what it guarantees."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None  # the transaction of the step in progress

    def __repr__(self) -> str:
        return f"PostgresStorage({redacted(self.url)!r})"

    def describe(self) -> str:
        return redacted(self.url)

    # -- connections ---------------------------------------------------------------------------------

    @contextmanager
    def _translated(self, doing: str | None = None) -> Iterator[None]:
        """Database errors as the domain's: unreachable → StoreUnavailableError, a rule → WorkflowError.
        `doing` names the step that was cut off, if any (a plain connection or read names none)."""
        try:
            yield
        except psycopg.OperationalError as exc:
            if isinstance(exc, pg_errors.LockNotAvailable):
                raise StorageError(
                    f"{self.describe()}: another officer's step has held the lock for over {LOCK_TIMEOUT}; try again"
                ) from None
            cut_off = f"{doing} did not happen and " if doing else ""
            raise StoreUnavailableError(
                f"{self.describe()}: the database cannot be reached ({_first_line(exc)}); {cut_off}nothing was "
                "written. Try again when the database is back"
            ) from None
        except (pg_errors.CheckViolation, pg_errors.InsufficientPrivilege, pg_errors.RaiseException) as exc:
            raise WorkflowError(f"{self.describe()}: refused by the database: {_first_line(exc)}") from None

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection (the schema brought up to date first, once per process and database: pages
        open a store for every step, and the migration check takes a lock)."""
        with self._translated():
            conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
        if self.url not in _migrated:
            with self._translated("updating the schema"):
                migrate(conn)
            _migrated.add(self.url)
        return conn

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """The step's own transaction when inside locked() (so a step reads what it will change), else a
        short connection of its own."""
        if self._conn is not None:
            yield self._conn
            return
        conn = self.connect()
        try:
            with self._translated():
                yield conn
        finally:
            conn.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One transaction holding the collection's advisory lock: the step's checks and writes, all or nothing."""
        conn = self.connect()
        try:
            with self._translated("the step"), conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WORKFLOW_LOCK,))
                self._conn = conn
                try:
                    yield
                finally:
                    self._conn = None
        finally:
            conn.close()

    def _step(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise RuntimeError("a write outside locked(): every write is part of one workflow step")
        return self._conn

    # -- the audit log -------------------------------------------------------------------------------

    @contextmanager
    def recorded(self, event: Event) -> Iterator[None]:
        """Insert the event in the step's transaction: it commits with the change, or neither does."""
        with self._translated(f"the '{event.action}' of '{event.case}'"):
            self._step().execute(
                "INSERT INTO audit_events (time, actor, action, case_id, hash, comment) VALUES (%s, %s, %s, %s, %s, %s)",
                (event.time, event.actor, event.action, event.case, event.hash, event.comment),
            )
        yield

    def events(self, case_id: str | None = None) -> list[Event]:
        query = "SELECT time, actor, action, case_id, hash, comment FROM audit_events"
        with self._reading() as conn:
            if case_id is None:
                rows = conn.execute(query + " ORDER BY seq").fetchall()
            else:
                rows = conn.execute(query + " WHERE case_id = %s ORDER BY seq", (case_id,)).fetchall()
        return [Event(*row) for row in rows]

    def event_count(self) -> int:
        with self._reading() as conn:
            row = conn.execute("SELECT count(*) FROM audit_events").fetchone()
        return int(row[0]) if row else 0

    # -- reading documents ---------------------------------------------------------------------------

    def _where(self, place: Place | str, case_id: str) -> Path:
        """A document's name in messages: the database, its place and the case's file name."""
        return Path(self.describe().rsplit("/", 1)[-1] or "postgresql", place, f"{case_id}{CASE_SUFFIX}")

    def _version(self, place: Place, case_id: str, body: bytes) -> Version:
        where = self._where(place, case_id)
        case, problems = parse_case(body, str(where), expected_id=case_id)
        return Version(case_id, where, file_hash(body), case, problems, place == "revision")

    def _bodies(self, case_id: str) -> dict[str, bytes]:
        with self._reading() as conn:
            rows = conn.execute("SELECT place, body FROM case_documents WHERE case_id = %s", (case_id,)).fetchall()
        return {place: bytes(body) for place, body in rows}

    def editable(self, case_id: str) -> Version:
        bodies = self._bodies(case_id)
        for place in ("revision", "collection"):
            if place in bodies:
                return self._version(cast(Place, place), case_id, bodies[place])
        raise CaseNotFoundError(f"no case '{case_id}' in {self.describe()}; check the id")

    def drafts(self) -> list[Version]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT place, case_id, body FROM case_documents WHERE place = 'revision' OR (place = 'collection' "
                "AND status IS DISTINCT FROM 'published' AND case_id NOT IN "
                "(SELECT case_id FROM case_documents WHERE place = 'revision')) ORDER BY case_id"
            ).fetchall()
        return [self._version(place, case_id, bytes(body)) for place, case_id, body in rows]

    def published(self, case_id: str) -> Version:
        bodies = self._bodies(case_id)
        if "collection" in bodies:
            return self._version("collection", case_id, bodies["collection"])
        if "withdrawn" in bodies:
            raise WorkflowError(f"'{case_id}' is already withdrawn (it is in the archive of {self.describe()})")
        raise CaseNotFoundError(f"no case '{case_id}' in {self.describe()}; check the id")

    def published_or_none(self, case_id: str) -> Version | None:
        body = self._bodies(case_id).get("collection")
        return self._version("collection", case_id, body) if body is not None else None

    def sent_back_text(self, case_id: str, version_hash: str) -> bytes | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT body FROM case_versions WHERE hash = %s AND case_id = %s", (version_hash, case_id)
            ).fetchone()
        return bytes(row[0]) if row else None

    def documents(self) -> Iterator[tuple[Place, str, bytes]]:
        with self._reading() as conn:
            rows = conn.execute("SELECT place, case_id, body FROM case_documents ORDER BY place, case_id").fetchall()
        for place, case_id, body in rows:
            yield place, case_id, bytes(body)

    def counts(self) -> dict[Place, int]:
        with self._reading() as conn:
            rows = conn.execute("SELECT place, count(*) FROM case_documents GROUP BY place").fetchall()
        return {place: int(count) for place, count in rows}

    def hashes(self, places: tuple[Place, ...]) -> dict[tuple[Place, str], str]:
        """The hash of every document in these places: what a replica compares with its local copy."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT place, case_id, hash FROM case_documents WHERE place = ANY(%s)", (list(places),)
            ).fetchall()
        return {(place, case_id): digest for place, case_id, digest in rows}

    def bodies(self, keys: list[tuple[Place, str]]) -> dict[tuple[Place, str], bytes]:
        """The texts of these documents (those still there)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT place, case_id, body FROM case_documents d JOIN unnest(%s::text[], %s::text[]) AS k(p, c) "
                "ON d.place = k.p AND d.case_id = k.c",
                ([place for place, _ in keys], [case_id for _, case_id in keys]),
            ).fetchall()
        return {(place, case_id): bytes(body) for place, case_id, body in rows}

    def changes(self) -> int:
        """The change counter: it moves whenever any document changes, in any replica."""
        with self._reading() as conn:
            row = conn.execute("SELECT counter FROM store_changes").fetchone()
        return int(row[0]) if row else 0

    # -- writing documents (inside locked()) ------------------------------------------------------------

    def put(self, place: Place, case_id: str, data: bytes) -> None:
        case, _ = parse_case(data, case_id, expected_id=case_id)
        self._step().execute(
            "INSERT INTO case_documents (case_id, place, hash, status, body) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (case_id, place) DO UPDATE SET hash = EXCLUDED.hash, status = EXCLUDED.status, "
            "body = EXCLUDED.body, changed_at = now()",
            (case_id, place, file_hash(data), case.status if case else None, data),
        )

    def _remove(self, place: Place, case_id: str) -> None:
        self._step().execute("DELETE FROM case_documents WHERE case_id = %s AND place = %s", (case_id, place))

    def create(self, case_id: str, data: bytes) -> Path:
        taken = self._step().execute(
            "SELECT place FROM case_documents WHERE case_id = %s AND place IN ('collection', 'revision', 'withdrawn')",
            (case_id,),
        )
        places = {place for (place,) in taken.fetchall()}
        if places - {"withdrawn"}:
            raise IdTakenError(
                f"{self._where('collection', case_id)}: a case with this id already exists; choose another id or "
                "edit that case"
            )
        if places:
            raise IdTakenError(withdrawn_id_message(case_id))
        self.put("collection", case_id, data)
        return self._where("collection", case_id)

    def write_draft(self, version: Version, data: bytes) -> Path:
        place: Place = "revision" if version.is_published or version.is_revision else "collection"
        self.put(place, version.case_id, data)
        return self._where(place, version.case_id)

    def keep_conflict(self, case_id: str, data: bytes) -> Path:
        """On a connection of its own: the step that lost the race is rolled back, the copy stays."""
        conn = self.connect()
        try:
            with self._translated("keeping your text"):
                row = conn.execute(
                    "INSERT INTO conflict_copies (case_id, body) VALUES (%s, %s) RETURNING id", (case_id, data)
                ).fetchone()
        finally:
            conn.close()
        return self._where("conflicts", f"{case_id}.conflict-{row[0] if row else 0}")

    def publish(self, version: Version, data: bytes) -> None:
        self.put("collection", version.case_id, data)

    def keep_sent_back(self, version: Version) -> None:
        """Nothing to do: every text ever stored is kept by its hash (case_versions, by a trigger)."""

    def remove_revision(self, case_id: str) -> None:
        self._remove("revision", case_id)

    def archive(self, version: Version) -> Path:
        """Move the published case to the archive; a revision waiting for review goes to the conflict
        copies (kept, never published: it would bring the case back). Earlier texts stay in case_versions."""
        body = self._bodies(version.case_id)  # in the step's transaction, under its lock
        if "collection" not in body or file_hash(body["collection"]) != version.hash:
            raise ConflictError(f"'{version.case_id}' changed a moment ago; open it again and read the version now")
        self.put("withdrawn", version.case_id, body["collection"])
        if "revision" in body:
            self._step().execute(
                "INSERT INTO conflict_copies (case_id, body) VALUES (%s, %s)", (version.case_id, body["revision"])
            )
            self._remove("revision", version.case_id)
        self._remove("collection", version.case_id)
        return self._where("withdrawn", version.case_id)


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction, under a lock (replicas that
    start together apply each once); returns the names applied."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
        for number, name, sql in migration_files():
            if number in done:
                continue
            conn.execute(cast(Any, sql))
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, name))
            applied.append(name)
            log.info("applied migration %s", name)
    return applied


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
