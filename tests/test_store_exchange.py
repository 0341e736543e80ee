"""YAML stays the exchange format: `store import` then `store export` gives the same files, byte for byte,
and an import passes the same gates as the form (valid cases, no personal data) or writes nothing.

The round trip of the shipped collection runs the command line against a real PostgreSQL server, with
the real anonymisation check; the other tests switch the check off and run on both stores.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import SHIPPED_CASES, write_case

from moresprudentie.errors import CaseFileError, UsageError
from moresprudentie.review import store as workflow
from moresprudentie.storage.base import Storage
from moresprudentie.storage.exchange import export_folder, import_folder
from moresprudentie.storage.files import FileStorage
from moresprudentie.storage.postgres import PostgresStorage


def same_tree(left: Path, right: Path) -> list[str]:
    """Differences between two folders, recursively, hidden ones included (empty: identical)."""
    compared = filecmp.dircmp(left, right, ignore=[])
    found = [*compared.left_only, *compared.right_only, *compared.diff_files, *compared.funny_files]
    for sub in compared.common_dirs:
        found += same_tree(left / sub, right / sub)
    mismatch = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)[1]
    return found + mismatch


def test_the_shipped_collection_round_trips_byte_for_byte_through_postgresql(pg_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "MORESPRUDENTIE_STORE": pg_url}
    command = [sys.executable, "-m", "moresprudentie", "store"]
    imported = subprocess.run(
        [*command, "import", str(SHIPPED_CASES), "--as", "beheer"], env=env, capture_output=True, text=True, timeout=600
    )
    assert imported.returncode == 0, imported.stderr
    count = len(list(SHIPPED_CASES.glob("*.yaml")))
    assert f"{count} collection; 0 unchanged" in imported.stdout
    exported = subprocess.run(
        [*command, "export", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120
    )
    assert exported.returncode == 0, exported.stderr
    assert same_tree(SHIPPED_CASES, tmp_path / "out") == []
    status = subprocess.run([*command, "status", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert f'"collection": {count}' in status.stdout and f'"audit_events": {count}' in status.stdout


@pytest.fixture(params=["files", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Storage:
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    if request.param == "files":
        return FileStorage(tmp_path / "store")
    return PostgresStorage(request.getfixturevalue("pg_url"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    write_case(source, "eerste-casus")
    write_case(source, "tweede-casus", status="draft")
    write_case(source / ".withdrawn", "oude-casus")
    write_case(source / ".revisions", "eerste-casus", title="Een betere titel", status="draft")
    return source


def test_import_then_export_gives_the_same_files_on_both_stores(storage: Storage, folder: Path, tmp_path: Path) -> None:
    report = import_folder(storage, folder, "beheer")
    assert report.written == {"collection": 2, "withdrawn": 1, "revision": 1}
    assert [event.action for event in storage.events()] == ["imported"] * 4
    export_folder(storage, tmp_path / "out")
    assert same_tree(folder, tmp_path / "out") == []


def test_the_counts_match_the_documents_and_the_audit_log_on_both_stores(storage: Storage, folder: Path) -> None:
    """`store status` counts without reading the documents or listing the log; the counts must say what
    documents() and events() hold."""
    assert storage.counts() == {} and storage.event_count() == 0
    import_folder(storage, folder, "beheer")
    assert storage.counts() == {"collection": 2, "withdrawn": 1, "revision": 1}
    assert storage.counts() == dict(Counter(place for place, _, _ in storage.documents()))
    assert storage.event_count() == len(storage.events()) == 4


def test_importing_the_same_folder_again_changes_nothing(storage: Storage, folder: Path) -> None:
    import_folder(storage, folder)
    again = import_folder(storage, folder)
    assert again.total == 0 and again.unchanged == 4 and len(storage.events()) == 4


def test_an_invalid_file_stops_the_whole_import(storage: Storage, folder: Path) -> None:
    (folder / "kapot.yaml").write_text("id: kapot\ntitle: [\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"(?s)nothing was imported.*kapot\.yaml"):
        import_folder(storage, folder)
    assert list(storage.documents()) == [] and storage.events() == []


def test_personal_data_stops_the_whole_import(storage: Storage, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    finding = type("F", (), {"field": "situation", "kind": "bsn", "text": "111222333", "replacement": "[bsn]"})
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [finding] if case.id == "tweede-casus" else [])
    with pytest.raises(CaseFileError, match=r"tweede-casus\.yaml: personal data \(situation: bsn → \[bsn\]\)"):
        import_folder(storage, folder)
    assert list(storage.documents()) == []


def test_export_refuses_a_folder_that_is_not_empty(storage: Storage, folder: Path, tmp_path: Path) -> None:
    import_folder(storage, folder)
    target = tmp_path / "vol"
    shutil.copytree(folder, target)
    with pytest.raises(UsageError, match="not empty"):
        export_folder(storage, target)


def test_a_missing_folder_is_named(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        import_folder(storage, tmp_path / "nergens")


def test_the_officer_commands_work_on_the_database(pg_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`review list` reads the database's queue; `new` says how to add a case, since no file can be edited."""
    from typer.testing import CliRunner

    from moresprudentie.cli.main import app

    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    import_folder(PostgresStorage(pg_url), folder)
    env = {"MORESPRUDENTIE_STORE": pg_url}
    listed = CliRunner().invoke(app, ["review", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert {row["id"] for row in json.loads(listed.output)} == {"eerste-casus", "tweede-casus"}
    refused = subprocess.run(  # through main(): the error as the one line a user sees
        [sys.executable, "-m", "moresprudentie", "new", "nog-een-casus", "--as", "anna"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "--stdout > nog-een-casus.yaml" in refused.stderr
