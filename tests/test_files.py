"""Crash-safe writes: exclusive creation, and files others can read (mkstemp alone makes them 0600)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from moresprudentie.errors import ConflictError
from moresprudentie.files import atomic_write, create_exclusive


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_are_readable_by_others(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.yaml", "a")
    create_exclusive(tmp_path / "b.yaml", "b")
    assert _mode(tmp_path / "a.yaml") == 0o644
    assert _mode(tmp_path / "b.yaml") == 0o644


def test_replacing_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "a.yaml"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, "new")
    assert target.read_text() == "new" and _mode(target) == 0o640


def test_exclusive_creation_never_overwrites(tmp_path: Path) -> None:
    create_exclusive(tmp_path / "a.yaml", "first")
    with pytest.raises(ConflictError, match="already exists"):
        create_exclusive(tmp_path / "a.yaml", "second")
    assert (tmp_path / "a.yaml").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]  # no temp file left behind
