"""Crash-safe file writes: every write path in the library goes through here.

A reader (or the next start after a crash, a full disk or a kill) sees either the old file or the
new one, never a torn one, and no temporary files pile up beside the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import ConflictError, StorageError

TEMP_PREFIX = ".tmp-"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    """Write data to a fsynced temp file in the target's directory (same file system: rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Replace path with data atomically (temp file, fsync, rename, fsync dir)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _write_temp(path, payload)
        try:
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(
            f"{path}: could not write ({exc.strerror or exc}); the previous version is intact. "
            "Free disk space or fix the folder's permissions, then try again."
        ) from exc


def create_exclusive(path: Path, data: bytes | str) -> None:
    """Create path with data, failing with ConflictError when it already exists (never overwrites)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _write_temp(path, payload)
        try:
            os.link(temp, path)  # atomic and exclusive: fails if path exists
        except FileExistsError as exc:
            raise ConflictError(f"{path}: already exists; choose another id.") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(
            f"{path}: could not create ({exc.strerror or exc}); nothing was written. "
            "Free disk space or fix the folder's permissions, then try again."
        ) from exc


def remove_stale_temps(directory: Path) -> int:
    """Delete temp files left by a killed writer; returns how many were removed."""
    removed = 0
    if not Path(directory).is_dir():
        return 0
    for temp in Path(directory).glob(f"{TEMP_PREFIX}*.part"):
        with contextlib.suppress(OSError):
            temp.unlink()
            removed += 1
    return removed
