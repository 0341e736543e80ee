"""Near-duplicates (issue 15): a near-copy of a published case is caught before it is submitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_case, write_case
from typer.testing import CliRunner

from moresprudentie import settings
from moresprudentie.review.audit import read_events
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.search import duplicates
from moresprudentie.search import engine as engine_module
from moresprudentie.search.engine import SearchEngine

ANNA = actor_for("anna@example.nl", frozenset({"anna@example.nl", "bram@example.nl"}))
ORIGINAL = make_case(
    "envelop-van-weduwe",
    title="Een envelop met geld van een weduwe",
    situation="Een thuiszorgmedewerker krijgt na de begrafenis een envelop met vijfhonderd euro van de weduwe.",
    dilemma="Neem ik het geld aan als dank, of weiger ik het terwijl de weduwe erop aandringt?",
    judgement="Het geld niet aannemen; de dank in woorden wel, en een kaart voor het team.",
    reasoning="Geld van een cliënt maakt de zorg afhankelijk van geven; de weduwe bedoelde het goed.",
)
COPY = make_case(
    "envelop-van-nabestaande",
    title="Een envelop met geld van een weduwnaar",
    situation="Een thuiszorgmedewerker krijgt na de uitvaart een envelop met vierhonderd euro van de weduwnaar.",
    dilemma="Neem ik het geld aan als dank, of weiger ik het terwijl de weduwnaar erop aandringt?",
    judgement="Het geld niet aannemen; de dank in woorden wel, en een kaart voor het team.",
    reasoning="Geld van een cliënt maakt de zorg afhankelijk van geven; de weduwnaar bedoelde het goed.",
)
DISTINCT = make_case("boa-en-buurman", title="Een handhaver betrapt zijn buurman op afval dumpen")
OTHERS = {
    "fietsen-op-de-stoep": "Een handhaver ziet zijn buurman fietsen op de stoep en twijfelt over een boete.",
    "laptop-mee-op-vakantie": "Een ambtenaar neemt zijn werklaptop mee op vakantie naar het buitenland.",
}


@pytest.fixture
def collection(empty_cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder) -> Path:
    """A small published collection with ORIGINAL in it; the CLI gets the fake embedder and a temp index."""
    from moresprudentie import dump_case

    (empty_cases / f"{ORIGINAL.id}.yaml").write_text(dump_case(ORIGINAL), encoding="utf-8")
    for case_id, situation in OTHERS.items():
        write_case(empty_cases, case_id, situation=situation)
    monkeypatch.setenv(settings.INDEX.env, str(tmp_path / "index"))
    monkeypatch.setattr(engine_module, "load_embedder", lambda name=None: fake_embedder)
    return empty_cases


def scores(collection: Path, case) -> list[tuple[str, float]]:
    engine = SearchEngine.open(collection)
    return [(match.id, score) for match, score in duplicates.closest_cases(engine, case, k=3)]


@pytest.fixture
def threshold(collection: Path, monkeypatch: pytest.MonkeyPatch) -> float:
    """The fake embedder's scale differs from USE-m3's: the threshold is set between the near-copy's
    score and the distinct case's (both computed), as the calibration script sets the real one."""
    near, far = scores(collection, COPY)[0][1], scores(collection, DISTINCT)[0][1]
    assert near > far
    value = (near + far) / 2
    monkeypatch.setattr(duplicates, "DUPLICATE_THRESHOLD", value)
    return value


def test_closest_cases_put_the_original_first_and_skip_the_own_id(collection: Path) -> None:
    closest = scores(collection, COPY)
    assert closest[0][0] == ORIGINAL.id and len(closest) == 3
    assert ORIGINAL.id not in [cid for cid, _ in scores(collection, ORIGINAL)]
    engine = SearchEngine.open(collection)
    assert [c.id for c, _ in duplicates.near_duplicates(engine, COPY, threshold=closest[0][1])] == [
        cid for cid, _ in closest
    ]
    assert duplicates.near_duplicates(engine, COPY, threshold=closest[0][1] + 0.01) == []


def cli(collection: Path, tmp_path: Path, case_id: str, *extra: str):
    from moresprudentie.cli.main import app

    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl", "bram@example.nl"]\n')
    args = ["review", "submit", case_id, "--cases", str(collection), "--roles", str(roles), "--as", "anna@example.nl"]
    return CliRunner().invoke(app, [*args, *extra], catch_exceptions=True)


def submit_comment(collection: Path, case_id: str) -> str:
    [event] = [e for e in read_events(settings.audit_log_path(collection), case_id) if e.action == "submitted"]
    return event.comment


def test_cli_refuses_a_near_copy_without_a_choice_and_records_new_case(collection, tmp_path, threshold) -> None:
    store = CaseStore(collection)
    store.save_draft(COPY, ANNA)
    refused = cli(collection, tmp_path, COPY.id)
    assert refused.exit_code != 0 and "--new-case" in str(refused.exception)
    assert store.current_review(COPY.id)[1].state == "draft"
    accepted = cli(collection, tmp_path, COPY.id, "--new-case")
    assert accepted.exit_code == 0, accepted.output
    assert submit_comment(collection, COPY.id).startswith(f"near-duplicate of {ORIGINAL.id} (")
    assert submit_comment(collection, COPY.id).endswith(": new case")


def test_cli_links_a_near_copy_into_the_file(collection, tmp_path, threshold) -> None:
    CaseStore(collection).save_draft(COPY, ANNA)
    result = cli(collection, tmp_path, COPY.id, "--links", f"{ORIGINAL.id}:nuances")
    assert result.exit_code == 0, result.output
    text = (collection / f"{COPY.id}.yaml").read_text(encoding="utf-8")
    assert ORIGINAL.id in text and "nuances" in text
    assert submit_comment(collection, COPY.id).endswith(f"linked nuances {ORIGINAL.id}")
    bad = cli(collection, tmp_path, COPY.id, "--links", f"{ORIGINAL.id}:likes")
    assert bad.exit_code != 0


def test_a_distinct_case_is_submitted_without_a_warning(collection, tmp_path, threshold) -> None:
    CaseStore(collection).save_draft(DISTINCT, ANNA)
    result = cli(collection, tmp_path, DISTINCT.id)
    assert result.exit_code == 0, result.output
    assert "near-duplicate" not in submit_comment(collection, DISTINCT.id)
