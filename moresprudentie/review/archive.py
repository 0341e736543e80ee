"""Withdrawing a published case in the file store: the published file and the archive folder.

An officer proposes to withdraw a published case with a reason; a second officer approves it. Only
then does the file leave the collection: it moves to `cases/.withdrawn/<id>.yaml`, a hidden folder the
loader never reads, so the case drops out of search (the running app notices within seconds), while
its text stays on disk for links to it ("withdrawn") and its history stays in the audit log.

Why a move and not a delete: a withdrawn case was once cited in deliberations and linked from other
cases; the archive keeps what was withdrawn, and the audit log says who, when and why.

The rules are in withdrawal.py (WITHDRAWAL_RULES); CaseStore.propose_withdrawal and .withdraw take the
lock and record the events, and the file store (storage/files.py) calls these helpers. The PostgreSQL
store keeps the archive as rows (storage/postgres.py), with the same rules.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from moresprudentie.cases.loading import CASE_SUFFIX
from moresprudentie.errors import StorageError, WorkflowError
from moresprudentie.files import create_exclusive
from moresprudentie.review.layout import Layout, Version, read_version


def published_version(layout: Layout, case_id: str) -> Version:
    """The case file itself (never a revision): what employees find, and what a withdrawal is about."""
    main, _ = layout.case_paths(case_id)
    archived = layout.withdrawn / main.name
    if not main.exists() and archived.exists():
        raise WorkflowError(f"'{case_id}' is already withdrawn (its file is in {archived})")
    return read_version(main, case_id, False)


def archive(layout: Layout, version: Version) -> Path:
    """Move the published file to the archive (call under the workflow lock); returns where it went.

    The copy is written (atomically, exclusively) before the original is removed, so a crash leaves the
    case in one place or both, never in neither. An earlier withdrawal of the same id is kept under a
    hidden, stamped name, so no withdrawn text is ever overwritten.
    """
    data = version.unchanged_bytes("withdrawn")
    target = layout.withdrawn / version.path.name
    if target.exists():
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
        os.replace(target, layout.withdrawn / f".{version.case_id}.{stamp}{CASE_SUFFIX}")
    create_exclusive(target, data)
    try:
        version.path.unlink()
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise StorageError(
            f"{version.path}: could not be removed ({exc.strerror or exc}); nothing was withdrawn. Fix the "
            "folder's permissions and approve again"
        ) from exc
    return target
