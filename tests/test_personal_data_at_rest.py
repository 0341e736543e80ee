"""No personal data at rest (issue 14): a draft with blocking findings is never written, submitted or recorded.

The real anonymisation check runs here (Deduce, loaded once per module): these tests are about what
reaches the disk, so the check is not a switch as in test_workflow.py. Every test looks at everything
under the temporary folder: the collection, its .conflicts/ and .revisions/, and the audit log beside it.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_case, write_case

from moresprudentie import settings
from moresprudentie.anonymisation.check import warm_up
from moresprudentie.errors import ConflictError, PersonalDataError, WorkflowError
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl"})
ANNA = actor_for("anna@example.nl", OFFICERS)
BRAM = actor_for("bram@example.nl", OFFICERS)
PERSONAL = {  # kind → what the author typed; 111222333 passes the 11-proef, so it is a BSN
    "bsn": "111222333",
    "phone": "06-12345678",
    "email": "p.hendriks@hotmail.com",
    "address": "Kalverstraat 12",
}
SITUATION = (
    f"Een aanvrager (BSN {PERSONAL['bsn']}) belde vanaf {PERSONAL['phone']}, mailde vanaf {PERSONAL['email']} "
    f"en bracht een taart naar de balie. Hij woont op de {PERSONAL['address']}."
)


@pytest.fixture(scope="module", autouse=True)
def deduce() -> None:
    """Load the name detector once (the instance is process-wide)."""
    warm_up()


def files(cases: Path) -> dict[str, bytes]:
    """Every file beside and under the collection (audit log, .conflicts/, .revisions/), but lock files."""
    found = {str(p.relative_to(cases.parent)): p.read_bytes() for p in cases.parent.rglob("*") if p.is_file()}
    return {name: data for name, data in found.items() if not name.endswith(".lock")}


def leaked(cases: Path) -> list[str]:
    """Where any of the personal data stands on disk now."""
    return [
        f"{name}: {value}"
        for name, data in files(cases).items()
        for value in PERSONAL.values()
        if value.encode() in data
    ]


def test_a_new_draft_with_personal_data_is_refused_and_nothing_is_written(cases: Path, store: CaseStore) -> None:
    with pytest.raises(PersonalDataError) as info:
        store.save_draft(make_case(situation=SITUATION), ANNA)
    error = info.value
    assert isinstance(error, WorkflowError) and error.step == "edit" and error.case_id == "taart-van-aanvrager"
    found = {f.kind: (f.field, f.text, f.replacement) for f in error.findings}
    assert {kind: text for kind, (_, text, _) in found.items() if kind in PERSONAL} == PERSONAL
    assert found["bsn"] == ("situation", PERSONAL["bsn"], "[bsn]")  # what to fix, where, and with what
    assert "'taart-van-aanvrager' was not saved: it contains personal data" in str(error)
    assert "Nothing was written" in str(error) and "\n" not in str(error)
    assert files(cases) == {} and leaked(cases) == []  # no case file, no audit event
    assert not settings.audit_log_path(cases).exists()


def test_an_edit_that_adds_personal_data_is_refused_and_the_old_file_stays(cases: Path, store: CaseStore) -> None:
    saved = store.save_draft(make_case(), ANNA)
    before = files(cases)
    for opened in (saved.hash, "0" * 64):  # the version opened, and a stale one (the conflict path keeps a copy)
        with pytest.raises(PersonalDataError, match="was not saved"):
            store.save_draft(make_case(situation=SITUATION), BRAM, opened)
        assert files(cases) == before and leaked(cases) == []
    assert not (cases / ".conflicts").exists()
    with pytest.raises(ConflictError):  # the stale hash itself is still caught once the text is clean
        store.save_draft(make_case(title="Een schone versie"), BRAM, "0" * 64)


def test_a_revision_with_personal_data_is_refused_and_the_published_case_stays(cases: Path, store: CaseStore) -> None:
    case = make_case()
    store.save_draft(case, ANNA)
    store.submit(case.id, ANNA)
    store.approve(case.id, BRAM, seen_hash=store.editable_version(case.id).hash)
    store.publish(case.id, BRAM, seen_hash=store.editable_version(case.id).hash)
    before = files(cases)
    with pytest.raises(PersonalDataError):
        store.save_draft(make_case(situation=SITUATION), ANNA, store.editable_version(case.id).hash)
    assert files(cases) == before and leaked(cases) == [] and not (cases / ".revisions").exists()


def test_warnings_and_reviewed_allowed_terms_do_not_stop_a_save(cases: Path, store: CaseStore) -> None:
    warned = "Op 3 juni 2023 bracht een aanvrager van 52 jaar in Nieuwegein een taart naar de balie."
    assert store.save_draft(make_case("met-waarschuwingen", situation=warned), ANNA).changed
    with pytest.raises(PersonalDataError, match="name 'Wet Bakker'"):
        store.save_draft(make_case("wet-bakker", situation="Volgens de Wet Bakker mag dat."), ANNA)
    allowed = make_case("wet-bakker", situation="Volgens de Wet Bakker mag dat.", allowed_terms=["Wet Bakker"])
    assert store.save_draft(allowed, ANNA).path == cases / "wet-bakker.yaml"


def test_submitting_a_hand_edited_draft_with_personal_data_is_refused_and_nothing_is_recorded(
    cases: Path, store: CaseStore
) -> None:
    write_case(cases, "met-bsn", status="draft", situation=SITUATION)  # as a git user would, outside the app
    before = files(cases)
    assert "submit" not in store.allowed_steps(ANNA, "met-bsn")  # the page does not offer it
    with pytest.raises(PersonalDataError) as info:
        store.submit("met-bsn", ANNA)
    assert info.value.step == "submit" and {"bsn", "phone", "email", "address"} <= {f.kind for f in info.value.findings}
    assert str(info.value).startswith("'met-bsn' cannot be submitted: it still contains personal data")
    assert files(cases) == before and not settings.audit_log_path(cases).exists()
    assert store.current_review("met-bsn")[1].state == "draft"
    write_case(cases, "met-bsn", status="draft")  # fixed by hand: now it can be offered
    assert store.submit("met-bsn", ANNA).state == "submitted"


def test_the_cli_prints_the_refusal_as_one_line_and_exits_1(cases: Path, tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl"]\n')
    write_case(cases, "met-bsn", status="draft", situation=SITUATION)
    command = [sys.executable, "-m", "moresprudentie", "review", "submit", "met-bsn"]
    options = ["--cases", str(cases), "--roles", str(roles), "--as", "anna@example.nl"]
    result = subprocess.run([*command, *options], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: 'met-bsn' cannot be submitted: it still contains personal data (")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "bsn '111222333' → [bsn]" in result.stderr  # says what to fix
    assert not settings.audit_log_path(cases).exists()


def test_the_refusal_keeps_its_findings_when_pickled(store: CaseStore) -> None:
    with pytest.raises(PersonalDataError) as info:
        store.save_draft(make_case(situation=SITUATION), ANNA)
    again = copy.deepcopy(info.value)
    assert (str(again), again.findings, again.step) == (str(info.value), info.value.findings, "edit")
