"""Defaults that make sense in a checkout and when installed (tests/e2e/test_installed.py does it for real)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from moresprudentie import settings
from moresprudentie.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


def test_a_checkout_is_recognised_by_its_own_pyproject(tmp_path: Path) -> None:
    assert settings.CHECKOUT == ROOT
    assert settings._is_checkout(ROOT)
    assert not settings._is_checkout(tmp_path)  # no pyproject.toml
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "someone-else"\n', encoding="utf-8")
    assert not settings._is_checkout(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    assert not settings._is_checkout(tmp_path)


def test_in_a_checkout_the_defaults_are_the_checkouts_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in settings.ALL_SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    assert settings.cases_dir() == ROOT / "cases"
    assert Path(settings.ROLES.value()) == ROOT / ".streamlit" / "secrets.toml"


@pytest.fixture
def installed_settings(tmp_path: Path) -> Iterator[ModuleType]:
    """settings.py loaded from a copy in a site-packages-like folder (no project pyproject.toml above it)."""
    package = tmp_path / "site-packages" / "moresprudentie"
    package.mkdir(parents=True)
    shutil.copy2(Path(settings.__file__), package / "settings.py")
    spec = importlib.util.spec_from_file_location("installed_settings", package / "settings.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_installed_the_defaults_are_read_in_the_working_directory(
    installed_settings: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for setting in installed_settings.ALL_SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    assert installed_settings.CHECKOUT is None
    assert installed_settings.cases_dir() == Path("cases")
    assert installed_settings.ROLES.value() == str(Path(".streamlit") / "secrets.toml")
    (tmp_path / "work" / "cases").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    assert installed_settings.cases_dir().resolve() == tmp_path / "work" / "cases"
    monkeypatch.setenv(installed_settings.CASES.env, "/srv/cases")
    assert installed_settings.cases_dir() == Path("/srv/cases")


@pytest.mark.parametrize("setting", [settings.CASES, settings.ROLES], ids=lambda s: s.name)
def test_the_help_says_where_the_default_is_read(setting: settings.Setting) -> None:
    assert "checkout" in setting.help and "working directory" in setting.help


def test_a_postgresql_store_searches_a_replica_copy_never_the_cases_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file store reads cases/ itself; a replica its own copy, apart from a checkout's index."""
    monkeypatch.delenv(settings.INDEX.env, raising=False)
    cases = tmp_path / "cases"
    assert settings.collection_dir(cases, store="files") == cases
    url = "postgresql://app@db.example.nl:5432/moresprudentie"
    assert settings.collection_dir(cases, store=url) == tmp_path / ".cases-replica" / "collection"
    assert settings.collection_dir(cases, tmp_path / "mine", store=url) == tmp_path / "mine" / "collection"
    with pytest.raises(UsageError, match="not a store") as refused:
        settings.store_url("mysql://root:geheim@db/x")
    assert "geheim" not in str(refused.value)  # a password is never echoed
