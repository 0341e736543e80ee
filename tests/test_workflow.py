"""Draft → review → publish: roles on every write, conflicts, crashes, full disks, audit log, CLI."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import make_case
from typer.testing import CliRunner

from moresprudentie import settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.loading import parse_case
from moresprudentie.cases.model import FIELD_NAMES, Case
from moresprudentie.errors import (
    ConflictError,
    PermissionDeniedError,
    PersonalDataError,
    StorageError,
    UsageError,
    WorkflowError,
)
from moresprudentie.review import store as workflow
from moresprudentie.review.audit import Event, append_event, read_events
from moresprudentie.review.authoring import case_from_fields, field_help, field_order, scaffold, usable_fields
from moresprudentie.review.roles import Actor, actor_for, load_officers, officers_from_config
from moresprudentie.review.store import CaseStore

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl"})
ANNA = actor_for("Anna@Example.nl", OFFICERS)
BRAM = actor_for("bram@example.nl", OFFICERS)
EMPLOYEE = actor_for("piet@example.nl", OFFICERS)
RUN: dict = {"capture_output": True, "text": True, "timeout": 60}


@dataclass(frozen=True)
class FakeFinding:
    kind: str
    text: str
    field: str
    replacement: str
    severity: str = "block"


@pytest.fixture(autouse=True)
def clean_check(monkeypatch: pytest.MonkeyPatch) -> list[FakeFinding]:
    """The anonymisation check is another module's job (and loads deduce); here it is a switch."""
    findings: list[FakeFinding] = []
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: list(findings))
    return findings


def audit_lines(cases: Path) -> list[str]:
    path = settings.audit_log_path(cases)
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (and the audit log beside it), to prove that nothing changed."""
    files = {str(p.relative_to(folder.parent)): p.read_bytes() for p in folder.parent.rglob("*") if p.is_file()}
    return {name: data for name, data in files.items() if not name.endswith(".lock")}


def no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def seen(store: CaseStore, case_id: str = "taart-van-aanvrager") -> str:
    """The hash of the version an officer is shown now (what the review page and `review list` show)."""
    return store.editable_version(case_id).hash


def approved_draft(cases: Path, case: Case | None = None) -> Case:
    case, store = case or make_case(), CaseStore(cases)
    store.save_draft(case, ANNA)
    store.submit(case.id, ANNA)
    store.approve(case.id, BRAM, seen_hash=seen(store, case.id))
    return case


# -- roles -------------------------------------------------------------------------------------------


def test_roles_come_from_configuration_case_insensitively(tmp_path: Path) -> None:
    roles = tmp_path / "secrets.toml"
    roles.write_text('[auth]\ncookie_secret = "x"\n[moresprudentie]\nofficers = ["Anna@Example.nl"]\n')
    officers = load_officers(roles)
    assert actor_for("anna@example.NL", officers).is_officer
    assert not actor_for("piet@example.nl", officers).is_officer
    assert not actor_for("", officers).is_officer
    assert load_officers(tmp_path / "missing.toml") == frozenset()


@pytest.mark.parametrize(
    "text", ['[moresprudentie]\nofficers = "anna"\n', "officers = [", "[moresprudentie]\nofficers=[1]"]
)
def test_bad_roles_file_is_a_usage_error_naming_the_file(tmp_path: Path, text: str) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text(text)
    with pytest.raises(UsageError, match=r"officers|roles\.toml"):
        load_officers(roles)


def test_officers_from_streamlit_like_secrets_mapping() -> None:
    assert officers_from_config({"moresprudentie": {"officers": ["X@y.nl"]}}) == {"x@y.nl"}
    assert officers_from_config({}) == frozenset()


WRITES = {
    "save new": lambda store, a: store.save_draft(make_case("nieuwe-casus"), a),
    "save edit": lambda store, a: store.save_draft(
        make_case(title="Anders"), a, store.editable_version(make_case().id).hash
    ),
    "scaffold": lambda store, a: store.create_scaffold("nog-een-casus", a),
    "submit": lambda store, a: store.submit(make_case().id, a),
    "approve": lambda store, a: store.approve(make_case().id, a, seen_hash=seen(store)),
    "send back": lambda store, a: store.send_back(make_case().id, a, "nee", seen_hash=seen(store)),
    "publish": lambda store, a: store.publish(make_case().id, a, seen_hash=seen(store)),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("actor", [EMPLOYEE, Actor("", frozenset({"officer"})), Actor("anna@example.nl")])
def test_non_officer_cannot_write_by_any_path(cases: Path, store: CaseStore, write, actor: Actor) -> None:
    store.save_draft(make_case(), ANNA)
    store.submit(make_case().id, ANNA)
    before = snapshot(cases)
    with pytest.raises(PermissionDeniedError, match="only integrity officers"):
        write(store, actor)
    assert snapshot(cases) == before


# -- drafts: exclusive create, edits, conflicts ------------------------------------------------------


def test_new_draft_is_created_exclusively_and_audited_without_names_in_the_case(cases: Path, store: CaseStore) -> None:
    saved = store.save_draft(make_case(), ANNA)
    assert saved.path == cases / "taart-van-aanvrager.yaml"
    text = saved.path.read_text(encoding="utf-8")
    assert "status: draft" in text and "example.nl" not in text.lower()
    with pytest.raises(ConflictError, match="already exists; choose another id"):
        store.save_draft(make_case(title="Een andere casus"), BRAM)
    assert saved.path.read_text(encoding="utf-8") == text
    [event] = read_events(settings.audit_log_path(cases))
    assert (event.actor, event.action, event.case, event.hash) == (ANNA.name, "drafted", make_case().id, saved.hash)


def test_edit_with_stale_hash_is_a_conflict_and_both_versions_are_kept(cases: Path, store: CaseStore) -> None:
    store.save_draft(make_case(), ANNA)
    opened_by_anna = store.editable_version(make_case().id).hash
    opened_by_bram = store.editable_version(make_case().id).hash
    store.save_draft(make_case(title="Versie van Bram"), BRAM, opened_by_bram)
    with pytest.raises(ConflictError, match=r"changed since you opened it.*\.conflicts") as info:
        store.save_draft(make_case(title="Versie van Anna"), ANNA, opened_by_anna)
    assert "Versie van Bram" in (cases / "taart-van-aanvrager.yaml").read_text(encoding="utf-8")
    [kept] = (cases / ".conflicts").glob("taart-van-aanvrager.conflict-*.yaml")
    assert str(kept) in str(info.value)
    assert "Versie van Anna" in kept.read_text(encoding="utf-8")
    assert list(load_cases(cases).cases) == ["taart-van-aanvrager"]  # the loader ignores .conflicts


def test_unchanged_save_writes_and_records_nothing(cases: Path, store: CaseStore) -> None:
    saved = store.save_draft(make_case(), ANNA)
    again = store.save_draft(make_case(), BRAM, saved.hash)
    assert not again.changed and len(audit_lines(cases)) == 1


def test_invalid_or_traversing_ids_never_touch_the_disk(cases: Path, store: CaseStore) -> None:
    with pytest.raises(UsageError, match="not a valid case id"):
        store.submit("../../etc/passwd", ANNA)
    with pytest.raises(UsageError, match="not a valid case id"):
        store.create_scaffold("../buiten", ANNA)
    assert not list(cases.parent.rglob("*.yaml"))


# -- review: four eyes, send back, publish ----------------------------------------------------------


def test_author_cannot_approve_own_draft_a_second_officer_can(cases: Path, store: CaseStore) -> None:
    store.save_draft(make_case(), ANNA)
    with pytest.raises(WorkflowError, match="submit it first"):
        store.approve(make_case().id, BRAM, seen_hash=seen(store))
    store.submit(make_case().id, ANNA)
    with pytest.raises(WorkflowError, match="four-eyes"):
        store.approve(make_case().id, actor_for("ANNA@example.nl", OFFICERS), seen_hash=seen(store))
    with pytest.raises(WorkflowError, match="second officer"):
        store.publish(make_case().id, ANNA, seen_hash=seen(store))
    assert store.approve(make_case().id, BRAM, seen_hash=seen(store)).state == "approved"
    published = store.publish(make_case().id, ANNA, seen_hash=seen(store))
    assert published.is_published
    assert load_cases(cases).cases["taart-van-aanvrager"].is_published
    actions = [(e.actor, e.action) for e in read_events(settings.audit_log_path(cases))]
    assert actions == [
        (ANNA.name, "drafted"),
        (ANNA.name, "submitted"),
        (BRAM.name, "approved"),
        (ANNA.name, "published"),
    ]


def test_an_edit_after_approval_needs_a_new_approval(cases: Path, store: CaseStore) -> None:
    case = approved_draft(cases)
    store.save_draft(make_case(title="Nog even aangepast"), ANNA, store.editable_version(case.id).hash)
    with pytest.raises(WorkflowError, match="this exact version"):
        store.publish(case.id, BRAM, seen_hash=seen(store, case.id))


def test_an_editor_of_the_approved_text_becomes_its_author(cases: Path, store: CaseStore) -> None:
    case = make_case()
    store.save_draft(case, ANNA)
    store.save_draft(make_case(title="Bram schreef mee"), BRAM, store.editable_version(case.id).hash)
    store.submit(case.id, ANNA)
    with pytest.raises(WorkflowError, match="four-eyes"):
        store.approve(case.id, BRAM, seen_hash=seen(store, case.id))
    assert store.approve(case.id, ANNA, seen_hash=seen(store, case.id)).state == "approved"


def test_send_back_needs_a_comment_and_the_author_resubmits(cases: Path, store: CaseStore) -> None:
    store.save_draft(make_case(), ANNA)
    store.submit(make_case().id, ANNA)
    with pytest.raises(UsageError, match="needs a comment"):
        store.send_back(make_case().id, BRAM, "  ", seen_hash=seen(store))
    review = store.send_back(make_case().id, BRAM, "Haal de functietitel weg.", seen_hash=seen(store))
    assert (review.state, review.last_comment) == ("sent_back", "Haal de functietitel weg.")
    with pytest.raises(WorkflowError, match="sent back"):
        store.approve(make_case().id, BRAM, seen_hash=seen(store))
    saved = store.save_draft(make_case(title="Zonder functietitel"), ANNA, store.editable_version(make_case().id).hash)
    assert store.submit(make_case().id, ANNA).state == "submitted"
    assert store.approve(make_case().id, BRAM, seen_hash=seen(store)).state == "approved"
    assert read_events(settings.audit_log_path(cases))[-1].hash == saved.hash


def test_the_text_sent_back_is_kept_beside_the_collection_until_publication(cases: Path, store: CaseStore) -> None:
    """The file store keeps one copy per case in .sent-back/ (the loader never reads it), for the
    reviewer's comparison; it goes once the case is published: a kept text should not outlive its use."""
    case_id = make_case().id
    store.save_draft(make_case(), ANNA)
    store.submit(case_id, ANNA)
    sent = (cases / f"{case_id}.yaml").read_bytes()
    store.send_back(case_id, BRAM, "Haal de functietitel weg.", seen_hash=seen(store))
    kept = cases / ".sent-back" / f"{case_id}.yaml"
    assert kept.read_bytes() == sent and list(load_cases(cases).cases) == [case_id]
    store.save_draft(make_case(title="Zonder functietitel"), ANNA, seen(store))
    store.submit(case_id, ANNA)
    found = store.changes_since_sent_back(*store.current_review(case_id))
    assert found is not None and [field.field for field in found.changed] == ["title"]

    kept.unlink()  # sent back before texts were kept, say: the page says so and shows the whole case
    found = store.changes_since_sent_back(*store.current_review(case_id))
    assert found is not None and found.fields is None and found.changed == []
    store.send_back(case_id, BRAM, "Nog een keer.", seen_hash=seen(store))
    store.submit(case_id, ANNA)
    store.approve(case_id, BRAM, seen_hash=seen(store))
    assert kept.exists()
    store.publish(case_id, BRAM, seen_hash=seen(store))
    assert not kept.exists()


def test_a_send_back_whose_copy_cannot_be_written_records_nothing(
    cases: Path, store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_draft(make_case(), ANNA)
    store.submit(make_case().id, ANNA)
    before = snapshot(cases)
    with monkeypatch.context() as patch, pytest.raises(StorageError, match="No space left"):
        patch.setattr(os, "fsync", no_space)
        store.send_back(make_case().id, BRAM, "Haal de functietitel weg.", seen_hash=seen(store))
    assert snapshot(cases) == before  # no event, no copy, no temp file: the draft is still submitted


def test_blocking_findings_stop_approval_and_publication(
    cases: Path, store: CaseStore, clean_check: list[FakeFinding]
) -> None:
    store.save_draft(make_case(), ANNA)
    store.submit(make_case().id, ANNA)
    clean_check.append(FakeFinding("telefoonnummer", "06-12345678", "situation", "[telefoonnummer]"))
    with pytest.raises(PersonalDataError, match=r"personal data.*06-12345678.*\[telefoonnummer\]") as info:
        store.approve(make_case().id, BRAM, seen_hash=seen(store))
    assert isinstance(info.value, WorkflowError) and info.value.findings == tuple(clean_check)  # for the page
    clean_check.clear()
    store.approve(make_case().id, BRAM, seen_hash=seen(store))
    clean_check.append(FakeFinding("naam", "Jansen", "dilemma", "[naam]"))
    with pytest.raises(WorkflowError, match="Jansen"):
        store.publish(make_case().id, ANNA, seen_hash=seen(store))
    assert not load_cases(cases).cases["taart-van-aanvrager"].is_published


def test_personal_data_is_refused_before_any_write_even_on_the_conflict_path(
    cases: Path, store: CaseStore, clean_check: list[FakeFinding]
) -> None:
    """The order of checks in save_draft: role, then personal data, then the lock, conflicts and writes
    (the real check on real personal data: test_personal_data_at_rest.py)."""
    store.save_draft(make_case(), ANNA)
    store.submit(make_case().id, ANNA)
    before = snapshot(cases)
    clean_check.append(FakeFinding("bsn", "111222333", "situation", "[bsn]"))
    for opened in (seen(store), "0" * 64):  # the version on disk, and a stale one (whose text would be kept)
        with pytest.raises(PersonalDataError, match=r"was not saved.*bsn '111222333' → \[bsn\]"):
            store.save_draft(make_case(title="Met een BSN"), ANNA, opened)
    with pytest.raises(PersonalDataError, match="was not saved"):
        store.save_draft(make_case("nieuwe-casus"), ANNA)
    with pytest.raises(PermissionDeniedError):  # the role is checked first, as for every write
        store.save_draft(make_case("nieuwe-casus"), EMPLOYEE)
    assert snapshot(cases) == before and not (cases / ".conflicts").exists()


def test_published_case_stays_searchable_while_its_revision_is_reviewed(cases: Path, store: CaseStore) -> None:
    case = approved_draft(cases)
    store.publish(case.id, BRAM, seen_hash=seen(store, case.id))
    opened = store.editable_version(case.id)
    saved = store.save_draft(make_case(title="Herziene titel"), BRAM, opened.hash)
    assert saved.path == cases / ".revisions" / "taart-van-aanvrager.yaml"
    live = load_cases(cases).cases["taart-van-aanvrager"]
    assert (live.title, live.status) == (case.title, "published")
    [item] = store.review_queue()
    assert (item.version.is_revision, item.review.state, item.review.authors) == (True, "draft", {"bram@example.nl"})
    store.submit(case.id, BRAM)
    store.approve(case.id, ANNA, seen_hash=seen(store, case.id))
    store.publish(case.id, ANNA, seen_hash=seen(store, case.id))
    live = load_cases(cases).cases["taart-van-aanvrager"]
    assert (live.title, live.status) == ("Herziene titel", "published")
    assert not saved.path.exists() and store.review_queue() == []


def test_review_queue_lists_states_and_invalid_files(cases: Path, store: CaseStore) -> None:
    store.save_draft(make_case("eerste-casus"), ANNA)
    store.save_draft(make_case("tweede-casus"), ANNA)
    store.submit("tweede-casus", ANNA)
    (cases / "kapot.yaml").write_text("id: kapot\ntitle: [\n", encoding="utf-8")
    states = {item.version.case_id: item.review.state for item in store.review_queue()}
    assert states == {"tweede-casus": "submitted", "eerste-casus": "draft", "kapot": "draft"}
    assert next(i for i in store.review_queue() if i.version.case_id == "kapot").version.case is None


# -- crashes and full disks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("replace", OSError(errno.EIO, "Input/output error")),
        ("fsync", OSError(errno.ENOSPC, "No space left on device")),
        ("replace", KeyboardInterrupt()),  # the process is stopped mid-write
    ],
    ids=["crash-in-rename", "disk-full", "killed"],
)
def test_failed_write_leaves_the_previous_version_intact(
    cases: Path, store: CaseStore, monkeypatch: pytest.MonkeyPatch, target: str, error: BaseException
) -> None:
    store.save_draft(make_case(), ANNA)
    before = snapshot(cases)
    opened = store.editable_version(make_case().id).hash

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    expected = StorageError if isinstance(error, OSError) else type(error)
    with monkeypatch.context() as patch, pytest.raises(expected) as info:
        patch.setattr(os, target, broken)
        store.save_draft(make_case(title="Halverwege"), ANNA, opened)
    if expected is StorageError:
        assert "Free disk space or fix the" in str(info.value)  # says what to do
    assert snapshot(cases) == before  # the old file, no temp files, no audit line
    assert load_cases(cases).cases["taart-van-aanvrager"].title == make_case().title


def test_full_disk_while_publishing_keeps_the_draft_and_its_approval(
    cases: Path, store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = approved_draft(cases)
    before = snapshot(cases)
    with monkeypatch.context() as patch, pytest.raises(StorageError, match="No space left"):
        patch.setattr(os, "fsync", no_space)
        store.publish(case.id, BRAM, seen_hash=seen(store, case.id))
    assert snapshot(cases) == before
    assert store.publish(case.id, BRAM, seen_hash=seen(store, case.id)).is_published  # nothing was lost: retry works


def test_full_disk_while_creating_leaves_no_file(
    cases: Path, store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch, pytest.raises(StorageError, match="Free disk space"):
        patch.setattr(os, "fsync", no_space)
        store.save_draft(make_case(), ANNA)
    assert not list(cases.rglob("*")) and read_events(settings.audit_log_path(cases)) == []


def test_a_change_that_fails_after_its_event_takes_the_event_back(cases: Path, store: CaseStore, monkeypatch) -> None:
    store.save_draft(make_case(), ANNA)
    log_before = settings.audit_log_path(cases).read_bytes()
    broken = OSError(errno.EACCES, "Permission denied")
    with monkeypatch.context() as patch, pytest.raises(StorageError, match="permissions"):
        patch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(broken))
        store.save_draft(make_case(title="Niet gelukt"), ANNA, store.editable_version(make_case().id).hash)
    assert settings.audit_log_path(cases).read_bytes() == log_before


# -- audit log -----------------------------------------------------------------------------------------


def test_concurrent_audit_appends_never_interleave(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    comment = "x" * 5000  # longer than a pipe buffer: a torn write would show

    def writer(n: int) -> None:
        for i in range(25):
            append_event(log, Event("2025-01-01T00:00:00+00:00", f"w{n}", "drafted", f"case-{i}", "h" * 64, comment))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 150 and all(json.loads(line)["comment"] == comment for line in lines)


def test_torn_audit_line_is_skipped_and_the_next_append_starts_fresh(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    event = Event("2025-01-01T00:00:00+00:00", "anna", "approved", "c-1", "a" * 64)
    append_event(log, event)
    with open(log, "ab") as handle:
        handle.write(b'{"time": "2025-01-01T00:00:01+00:00", "actor": "br')  # a crash mid-line
    append_event(log, event)
    assert read_events(log) == [event, event]


def test_audit_log_full_disk_is_a_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(StorageError, match="not recorded"):
        append_event(tmp_path / "a.jsonl", Event("t", "anna", "drafted", "c-1", "a" * 64))


# -- search: drafts are invisible until published ------------------------------------------------------


def test_drafts_are_invisible_in_search_until_published(
    cases: Path, store: CaseStore, tmp_path: Path, fake_embedder
) -> None:
    from moresprudentie.search.engine import Filters, SearchEngine

    case = make_case(situation="Een aanvrager brengt een zelfgebakken appeltaart naar de balie.")
    store.save_draft(case, ANNA)
    engine = SearchEngine.open(cases, tmp_path / "index", embedder=fake_embedder)
    assert engine.search("appeltaart balie", k=5) == []
    assert [h.case.id for h in engine.search("appeltaart", k=5, filters=Filters(include_drafts=True))] == [case.id]
    store.submit(case.id, ANNA)
    store.approve(case.id, BRAM, seen_hash=seen(store, case.id))
    store.publish(case.id, BRAM, seen_hash=seen(store, case.id))
    engine.refresh()
    assert [hit.case.id for hit in engine.search("appeltaart balie", k=5)] == [case.id]
    assert engine.report.changed == 1  # incremental: only this case re-embedded


# -- scaffold and CLI -------------------------------------------------------------------------------------


def test_field_help_covers_exactly_the_case_fields() -> None:
    assert sorted(field_order()) == sorted(FIELD_NAMES)
    assert all(field_help(name, "nl").hint and field_help(name, "en").hint for name in FIELD_NAMES)


def test_scaffold_names_every_field_and_points_at_what_is_missing() -> None:
    text = scaffold("nieuwe-casus")
    case, problems = parse_case(text, "nieuwe-casus.yaml", expected_id="nieuwe-casus")
    assert case is None
    assert {p.field for p in problems} == {
        "title",
        "themes",
        "values",
        "situation",
        "dilemma",
        "judgement",
        "reasoning",
    }
    assert all(f"\n{name}:" in text for name in FIELD_NAMES)
    filled = (
        text.replace("title:\n", "title: Een casus\n")
        .replace("themes: []", "themes: [geschenken]")
        .replace("values: []", "values: [integriteit]")
    )
    for name in ("situation", "dilemma", "judgement", "reasoning"):
        filled = filled.replace(f"{name}: |\n  \n", f"{name}: |\n  Tekst.\n")
    case, problems = parse_case(filled, "nieuwe-casus.yaml", expected_id="nieuwe-casus")
    assert case is not None and case.status == "draft", problems


def test_the_valid_fields_of_an_invalid_file_can_start_the_form() -> None:
    """The scaffold of `new` (invalid by design) and a draft with gaps give what they have; what the
    model refuses is left out, never coerced: a list for a title, a tension on a value the case does
    not name, a link to the case itself, a field the model does not know, and the status."""
    fields = usable_fields(scaffold("nieuwe-casus", today=dt.date(2026, 12, 5)).encode("utf-8"))
    assert {name: fields[name] for name in ("id", "language", "date")} == {
        "id": "nieuwe-casus",
        "language": "nl",
        "date": "2026-12",
    }
    assert not {"title", "situation", "themes", "status"} & set(fields)
    text = """
id: taart-aan-de-balie
title: [niet, een, titel]
themes: geschenken
values: [onpartijdigheid, menselijkheid]
tensions:
  - {between: [onpartijdigheid, doelmatigheid], prevailed: onpartijdigheid}
related: [taart-aan-de-balie]
situation: "Een burger brengt een taart."
onbekend: veld
status: published
"""
    assert usable_fields(text) == {
        "id": "taart-aan-de-balie",
        "themes": ["geschenken"],
        "values": ["onpartijdigheid", "menselijkheid"],
        "situation": "Een burger brengt een taart.",  # as the model normalises it
    }
    assert usable_fields("- een lijst\n- geen casus\n") == {} and usable_fields("title: [\n") == {}


def cli(*args: str, env: dict[str, str] | None = None):
    from moresprudentie.cli.main import app

    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=True)


def test_cli_officer_flow(cases: Path, store: CaseStore, tmp_path: Path) -> None:
    from moresprudentie.errors import MoresprudentieError

    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl", "bram@example.nl"]\n')
    common = ["--cases", str(cases), "--roles", str(roles)]
    assert cli("new", "een-casus", "--stdout").stdout.startswith("# Nieuwe casus")
    assert not (cases / "een-casus.yaml").exists()
    result = cli("new", "een-casus", *common, "--as", "anna@example.nl")
    assert result.exit_code == 0 and (cases / "een-casus.yaml").exists()
    result = cli("new", "een-casus", *common, "--as", "anna@example.nl")
    assert isinstance(result.exception, ConflictError)

    store.save_draft(make_case(), ANNA)
    result = cli("review", "submit", "taart-van-aanvrager", *common, "--as", "piet@example.nl")
    assert isinstance(result.exception, PermissionDeniedError)
    assert cli("review", "submit", "taart-van-aanvrager", *common, "--as", "anna@example.nl").exit_code == 0
    version = ["--hash", seen(store)[:12]]  # as `review list` shows it
    result = cli("review", "approve", "taart-van-aanvrager", *version, *common, "--as", "anna@example.nl")
    assert isinstance(result.exception, WorkflowError)
    approved = cli("review", "approve", "taart-van-aanvrager", *version, *common, "--as", "bram@example.nl")
    assert (
        approved.exit_code == 0 and f"review publish taart-van-aanvrager --hash {seen(store)[:12]}" in approved.stdout
    )
    listing = json.loads(cli("review", "list", "--cases", str(cases), "--json").stdout)
    assert {row["id"]: row["state"] for row in listing} == {"taart-van-aanvrager": "approved", "een-casus": "draft"}
    result = cli(
        "review",
        "publish",
        "taart-van-aanvrager",
        *version,
        *common,
        "--no-index",
        env={"MORESPRUDENTIE_USER": "bram@example.nl"},
    )
    assert result.exit_code == 0, result.output
    assert load_cases(cases).cases["taart-van-aanvrager"].is_published
    assert isinstance(cli("review", "submit", "een-casus", *common).exception, UsageError)  # no --as
    assert issubclass(WorkflowError, MoresprudentieError)


def test_cli_review_changes(cases: Path, store: CaseStore) -> None:
    case_id = make_case().id
    store.save_draft(make_case(), ANNA)
    store.submit(case_id, ANNA)
    assert "nothing to compare" in cli("review", "changes", case_id, "--cases", str(cases)).stdout
    sent = seen(store)
    store.send_back(case_id, BRAM, "Noem de afdeling niet.", seen_hash=sent)
    edited = make_case(situation="Een medewerker krijgt een grote taart.", lessons=["Vraag het na.\u200b"])
    store.save_draft(edited, ANNA, sent)
    store.submit(case_id, ANNA)
    result = cli("review", "changes", case_id, "--cases", str(cases))
    assert result.exit_code == 0, result.output
    assert f"sent back by {BRAM.name}" in result.stdout and sent[:12] in result.stdout
    assert "remark: Noem de afdeling niet." in result.stdout
    assert "situation:\n  Een medewerker[- vergunningen-] krijgt een{+ grote+} taart[- van een aanvrager-]." in (
        result.stdout
    )
    assert "{+Vraag het na.<U+200B>+}" in result.stdout  # a hidden character is spelled out, never printed raw
    assert "unchanged: title, dilemma," in result.stdout
    data = json.loads(cli("review", "changes", case_id, "--cases", str(cases), "--json").stdout)
    assert data["sent_back"]["hash"] == sent and data["sent_back"]["actor"] == BRAM.name
    assert [row["field"] for row in data["changed"]] == ["situation", "lessons"] and "title" in data["unchanged"]


def test_cli_approve_and_publish_need_the_hash_of_the_version_read(
    cases: Path, store: CaseStore, tmp_path: Path
) -> None:
    """`review list` shows each draft's hash; approve and publish name it, and a swapped file is refused."""
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl", "bram@example.nl"]\n')
    common = ["--cases", str(cases), "--roles", str(roles), "--as", "bram@example.nl"]
    store.save_draft(make_case(), ANNA)
    store.submit(make_case().id, ANNA)
    read = seen(store)
    listing = cli("review", "list", "--cases", str(cases))
    assert f"submitted  {read[:12]}  taart-van-aanvrager  " in listing.stdout
    assert json.loads(cli("review", "list", "--cases", str(cases), "--json").stdout)[0]["hash"] == read

    store.save_draft(make_case(title="Verwisseld na het lezen"), ANNA, read)  # swapped between list and approve
    store.submit(make_case().id, ANNA)
    before = audit_lines(cases)
    command = [sys.executable, "-m", "moresprudentie", "review", "approve", "taart-van-aanvrager"]
    refused = subprocess.run([*command, "--hash", read[:12], *common], **RUN)
    assert refused.returncode == 1 and refused.stderr == (
        f"error: 'taart-van-aanvrager' changed since you opened it (shown version {read[:12]}…, "
        f"now {seen(store)[:12]}…); open it again and review the new version\n"
    )
    assert audit_lines(cases) == before
    assert cli("review", "approve", "taart-van-aanvrager", "--hash", seen(store)[:12], *common).exit_code == 0

    approved = seen(store)
    (cases / "taart-van-aanvrager.yaml").write_bytes(  # by hand, and resubmitted, before the publish
        (cases / "taart-van-aanvrager.yaml").read_bytes().replace(b"Verwisseld na", b"Weer anders na")
    )
    store.submit(make_case().id, ANNA)
    before = audit_lines(cases)
    result = cli("review", "publish", "taart-van-aanvrager", "--hash", approved[:12], "--no-index", *common)
    assert result.exit_code == 1 and isinstance(result.exception, ConflictError)
    assert "changed since you opened it" in str(result.exception)
    assert audit_lines(cases) == before and not load_cases(cases).cases["taart-van-aanvrager"].is_published

    store.approve("taart-van-aanvrager", BRAM, seen_hash=seen(store))
    published = cli("review", "publish", "taart-van-aanvrager", "--hash", seen(store)[:12], "--no-index", *common)
    assert published.exit_code == 0, published.stdout
    now = hashlib.sha256((cases / "taart-van-aanvrager.yaml").read_bytes()).hexdigest()
    assert f"the published version's hash is {now[:12]}" in published.stdout  # what a withdrawal names


def test_cli_audit_log_option_moves_the_log(cases: Path, tmp_path: Path) -> None:
    """--audit-log (like MORESPRUDENTIE_AUDIT_LOG) puts the log elsewhere; the review state is read from there."""
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl"]\n')
    log = tmp_path / "elsewhere" / "audit.jsonl"
    options = ["--cases", str(cases), "--roles", str(roles), "--audit-log", str(log)]
    assert cli("new", "een-casus", *options, "--as", "anna@example.nl").exit_code == 0
    CaseStore(cases, log).save_draft(make_case(), ANNA)
    assert cli("review", "submit", "taart-van-aanvrager", *options, "--as", "anna@example.nl").exit_code == 0
    assert [event.action for event in read_events(log)] == ["drafted", "drafted", "submitted"]
    assert not settings.audit_log_path(cases).exists()
    listing = json.loads(cli("review", "list", "--cases", str(cases), "--audit-log", str(log), "--json").stdout)
    assert {row["id"]: row["state"] for row in listing} == {"taart-van-aanvrager": "submitted", "een-casus": "draft"}


def test_cli_errors_are_one_line_with_exit_codes(cases: Path, tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl"]\n')
    options = ["--cases", str(cases), "--roles", str(roles)]
    command = [sys.executable, "-m", "moresprudentie"]
    denied = subprocess.run([*command, "new", "een-casus", *options, "--as", "piet@example.nl"], **RUN)
    assert denied.returncode == 1 and "only integrity officers" in denied.stderr and "Traceback" not in denied.stderr
    no_as = [*command, "review", "approve", "een-casus", "--hash", "a" * 12, *options]
    assert subprocess.run(no_as, **RUN).returncode == 2  # no --as
    no_hash = subprocess.run([*command, "review", "approve", "een-casus", *options, "--as", "anna@example.nl"], **RUN)
    assert no_hash.returncode == 2 and "Missing option '--hash'" in no_hash.stderr


def test_form_values_get_the_same_checks_as_case_files() -> None:
    values = make_case().model_dump(mode="json") | {"themes": ["Geschenken", "nieuw thema"], "dissent": ""}
    case, problems = case_from_fields(values)
    assert case is not None and case.themes == ["geschenken", "nieuw-thema"]
    assert [(p.field, p.severity) for p in problems] == [("themes", "warning")]
    case, problems = case_from_fields({"id": "x-y-z", "title": "no", "situation": "a: b # c"})
    assert case is None and ("dilemma", "required field is missing") in {(p.field, p.message) for p in problems}


@pytest.mark.parametrize(
    "typed", ["0\x850", "a\u2028b", "x: y # z", "null", "~", "ja", "regel 1\n\n  ingesprongen", "- item"]
)
def test_form_text_is_stored_as_typed(typed: str) -> None:
    values = make_case().model_dump(mode="json") | {"situation": typed, "duration_minutes": 45}
    case, problems = case_from_fields(values)
    assert case is not None and case.situation == typed and case.duration_minutes == 45, problems
