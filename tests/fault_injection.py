"""Fault injection for the reliability tests: fail the n-th call of a write primitive, as a full or
read-only disk would, and compare what is on disk before and after."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from moresprudentie import settings
from moresprudentie.review import audit

FAILURES = {  # primitive → the error a full or read-only disk gives there
    "tempfile.mkstemp": errno.ENOSPC,
    "os.open": errno.EACCES,
    "os.mkdir": errno.EACCES,
    "os.fsync": errno.ENOSPC,
    "os.replace": errno.EACCES,
    "os.link": errno.EROFS,
    "os.unlink": errno.EACCES,
    "audit.open": errno.ENOSPC,
}


class Faults:
    """Counts the calls of every write primitive and fails the `fail_at`-th call of one of them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: tuple[str, int] | None = None) -> None:
        self.calls: list[str] = []
        self.fail_at = fail_at
        modules = {"os": os, "tempfile": tempfile, "audit": audit}
        for primitive in FAILURES:
            module_name, name = primitive.split(".")
            module = modules[module_name]
            real = getattr(module, name, None) or open
            monkeypatch.setattr(module, name, self._wrap(primitive, real), raising=False)

    def _wrap(self, primitive: str, real: Callable) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            if primitive == "os.unlink" and Path(str(args[0])).name.startswith(".tmp-"):
                return real(*args, **kwargs)  # removing a temp file is best effort; the next write retries it
            self.calls.append(primitive)
            if self.fail_at == (primitive, self.calls.count(primitive)):
                code = FAILURES[primitive]
                raise OSError(code, os.strerror(code), str(args[0]) if args else None)
            return real(*args, **kwargs)

        return wrapper

    def points(self) -> list[tuple[str, int]]:
        """Every (primitive, n-th call) seen: each is a place where the disk can refuse."""
        return sorted({(p, self.calls[: i + 1].count(p)) for i, p in enumerate(self.calls)})


def snapshot(root: Path) -> dict[str, object]:
    """Files under root (lock files aside) and the audit events without their times."""
    files = {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".lock") and not p.name.endswith(".jsonl")
    }
    events = audit.read_events(settings.audit_log_path(root / "cases"))
    files["audit"] = [(e.actor, e.action, e.case, e.hash, e.comment) for e in events]
    return files
