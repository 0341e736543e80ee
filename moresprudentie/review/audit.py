"""The append-only audit log: who drafted, submitted, approved, sent back, published, proposed (or cancelled)
a withdrawal, withdrew and imported what, and when (`imported`: `moresprudentie store import`, storage/exchange.py).

It lives outside the case files (settings.audit_log_path), so no officer name ever lands in a case
that employees read. One JSON object per line. Appends hold a file lock and are fsynced, so
concurrent writers never interleave and a crash loses at most the line being written; a torn last
line is skipped (with a warning) when reading, and the next append starts on a fresh line.
The workflow writes an event just before the change it records and retracts it if the change fails,
so every change that happened is in the log (after a crash in between, an event may name a change
that did not happen; such an event never grants anything, see steps.review_of).

This file is the file store's log (storage/files.py). A PostgreSQL store keeps the same Events in its
table audit_events, written in the step's own transaction (storage/postgres.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

from filelock import FileLock
from filelock import Timeout as LockTimeout

from moresprudentie.errors import StorageError

log = logging.getLogger(__name__)

Action = Literal[
    "drafted",
    "submitted",
    "approved",
    "sent_back",
    "published",
    "withdrawal_proposed",
    "withdrawal_cancelled",
    "withdrawn",
    "imported",
]
ACTIONS: tuple[str, ...] = get_args(Action)
LOCK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Event:
    """One line of the log. `hash` is the sha256 of the draft file bytes the event is about."""

    time: str
    actor: str
    action: Action
    case: str
    hash: str
    comment: str = ""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def append_event(path: Path, event: Event) -> int:
    """Append one event durably (locked, fsynced); returns the log's size before it, for retract_event.

    All or nothing: if the line cannot be written and synced, the log is cut back to where it was.
    Raises StorageError when the log cannot be written.
    """
    line = (json.dumps(asdict(event), ensure_ascii=False) + "\n").encode("utf-8")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_S), open(path, "a+b", buffering=0) as handle:
            offset = handle.seek(0, os.SEEK_END)
            if offset and os.pread(handle.fileno(), 1, offset - 1) != b"\n":
                line = b"\n" + line  # a crash tore the last line: keep ours whole
            try:
                _write_all(handle.fileno(), line)
                os.fsync(handle.fileno())
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(handle.fileno(), offset)
                raise
    except LockTimeout:
        raise StorageError(
            f"{path}: the audit log is locked by another writer for over {LOCK_TIMEOUT_S:.0f} s; try again, "
            f"or remove {path}.lock if no moresprudentie process is running"
        ) from None
    except OSError as exc:
        raise StorageError(
            f"{path}: could not write the audit log ({exc.strerror or exc}); the '{event.action}' of "
            f"'{event.case}' is not recorded and nothing was changed. Free disk space or fix the permissions, "
            "then repeat the step."
        ) from exc
    return offset


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def retract_event(path: Path, offset: int) -> None:
    """Take back the last event because its change could not be made: cut the log at `offset`.

    Callers hold the workflow lock, so no other event can have been appended after theirs.
    """
    with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_S), open(path, "r+b", buffering=0) as handle:
        os.ftruncate(handle.fileno(), offset)
        os.fsync(handle.fileno())


def read_events(path: Path, case_id: str | None = None) -> list[Event]:
    """All events (of one case, if given) in the order they were written; unreadable lines are skipped."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"{path}: cannot read the audit log ({exc.strerror or exc}); check its permissions") from exc
    events = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        event = _parse(line)
        if event is None:
            log.warning("%s:%d: skipped an unreadable audit line (torn by a crash or edited by hand)", path, number)
        elif case_id is None or event.case == case_id:
            events.append(event)
    return events


def _parse(line: bytes) -> Event | None:
    try:
        data = json.loads(line)
        event = Event(**data)
    except (ValueError, TypeError):
        return None
    fields = (event.time, event.actor, event.case, event.hash, event.comment)
    if event.action not in ACTIONS or not all(isinstance(value, str) for value in fields):
        return None
    return event
