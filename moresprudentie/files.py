"""Crash-safe file writes: every write path in the library goes through here.

A reader (or the next start after a crash, a full disk or a kill) sees either the old file or the
new one, never a torn one, and no temporary files pile up beside the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from moresprudentie.errors import ConflictError, StorageError

TEMP_PREFIX = ".tmp-"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _mode_for(path: Path) -> int:
    """Keep the mode of the file being replaced; a new file is readable by all, writable by its owner."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644


def _write_temp(path: Path, data: bytes) -> Path:
    """Write data to a fsynced temp file in the target's directory (same file system: rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode_for(path))  # mkstemp makes 0600: others could not read it
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
    _move_into_place(Path(path), data, exclusive=False)


def create_exclusive(path: Path, data: bytes | str) -> None:
    """Create path with data, failing with ConflictError when it already exists (never overwrites)."""
    _move_into_place(Path(path), data, exclusive=True)


def _move_into_place(path: Path, data: bytes | str, *, exclusive: bool) -> None:
    """Write a fsynced temp file beside path, then rename it over path (or link it, when exclusive:
    a hard link fails if path exists, so two creators of one id can never both win)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _write_temp(path, payload)
        try:
            if exclusive:
                os.link(temp, path)
            else:
                os.replace(temp, path)
        except FileExistsError as exc:
            raise ConflictError(f"{path}: already exists; choose another id.") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)  # after a rename it is gone already
        _fsync_dir(path.parent)
    except OSError as exc:
        outcome = "nothing was written" if exclusive else "the previous version is intact"
        raise StorageError(
            f"{path}: could not write ({exc.strerror or exc}); {outcome}. "
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
