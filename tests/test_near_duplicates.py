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


# -- the signal: the core (question, judgement, reasoning), field by field, not the story ------------

RETOLD = ORIGINAL.model_copy(
    update={
        "id": "geld-na-de-uitvaart",
        "title": "Geld na de uitvaart",
        "situation": "Een wijkziekenverzorgster krijgt van de zoon van een overleden cliënt contant geld als dank.",
    }
)
SAME_STORY = ORIGINAL.model_copy(
    update={
        "id": "weduwe-wil-klagen",
        "title": "Een weduwe die over de huisarts wil klagen",
        "dilemma": "Help ik de weduwe met een klacht over de huisarts, of blijf ik daarbuiten?",
        "judgement": "Buiten de klacht blijven, maar wijzen op de klachtenfunctionaris.",
        "reasoning": "Onafhankelijkheid tegenover collega-zorgverleners; steun zonder partij te kiezen.",
    }
)


def test_a_retold_situation_with_the_same_core_scores_high_and_the_same_story_with_another_core_low(
    collection: Path,
) -> None:
    """Field by field: a new situation around the same question, judgement and reasoning is a near-copy;
    the same situation with another question and judgement is not."""
    retold, same_story = scores(collection, RETOLD), scores(collection, SAME_STORY)
    assert retold[0][0] == ORIGINAL.id and retold[0][1] > 0.8
    assert dict(same_story)[ORIGINAL.id] < 0.5 < retold[0][1]


def test_drafts_and_the_case_itself_are_never_its_near_copies(collection: Path) -> None:
    CaseStore(collection).save_draft(COPY, ANNA)
    engine = SearchEngine.open(collection)
    ranked = duplicates.core_similarities(engine, ORIGINAL.model_copy(update={"id": "weer-een-envelop"}))
    assert ORIGINAL.id == ranked[0][0].id and ranked[0][1] > 0.99  # the exact copy of its core
    assert COPY.id not in [case.id for case, _ in ranked]  # a draft: not published
    assert ORIGINAL.id not in [case.id for case, _ in duplicates.core_similarities(engine, ORIGINAL)]


def test_the_threshold_comes_from_the_module_constant(collection: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = SearchEngine.open(collection)
    best = duplicates.closest_cases(engine, COPY, k=1)[0][1]
    monkeypatch.setattr(duplicates, "DUPLICATE_THRESHOLD", best)
    assert duplicates.near_duplicates(engine, COPY)[0][0].id == ORIGINAL.id
    monkeypatch.setattr(duplicates, "DUPLICATE_THRESHOLD", best + 0.001)
    assert duplicates.near_duplicates(engine, COPY) == []


# -- on the real model (USE-m3) and the shipped collection -----------------------------------------

SHIPPED = Path(__file__).parent.parent / "cases"
# Not in the calibration data: a shipped case with its situation told again (a permit desk, a builder, a
# pensioner instead of student finance, a lawyer's letter and a student), its core copied with the
# words that change with it.
HELD_OUT = "voorrang-voor-mondige-klager"
HELD_OUT_SITUATION = (
    "Bij de afdeling vergunningen van een middelgrote gemeente liggen honderden aanvragen op de stapel; "
    "de wachttijd is drie maanden. Een projectontwikkelaar laat via zijn advocaat weten dat hij een "
    "dwangsom eist en de krant belt als zijn bouwvergunning niet binnen veertien dagen rond is. Het "
    "afdelingshoofd wil dat de vergunningverlener die aanvraag meteen oppakt. Onderaan de stapel ligt "
    "de aanvraag van een gepensioneerde weduwe voor een traplift-aanbouw, die al drie keer vergeefs "
    "belde en niet weet hoe ze bezwaar moet maken."
)
NEW_DILEMMA = make_case(
    "archiefstuk-van-de-wethouder",
    title="Een archiefstuk dat de wethouder liever kwijt is",
    situation="Een archivaris vindt bij het digitaliseren een oude brief die een wethouder in verlegenheid brengt.",
    dilemma="Neem ik de brief gewoon op in het openbare archief, of vraag ik eerst de burgemeester om raad?",
    judgement="Opnemen in het archief volgens de regels, en de burgemeester vooraf informeren.",
    reasoning="Openbaarheid en de archiefwet gaan voor; wie vooraf informeert, is loyaal zonder te verzwijgen.",
)


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    from moresprudentie.search.embedders import load_embedder

    return SearchEngine.open(SHIPPED, tmp_path_factory.mktemp("index"), embedder=load_embedder())


@pytest.mark.integration
def test_a_reworded_situation_copy_of_a_shipped_case_is_flagged_and_a_new_case_is_not(real_engine) -> None:
    original = real_engine.cases[HELD_OUT]
    edits = {"student": "weduwe", "studiefinanciering": "vergunningen", "teamleider": "afdelingshoofd"}
    core = {field: getattr(original, field) for field in duplicates.CORE_FIELDS}
    for field, text in core.items():
        for old, new in edits.items():
            text = text.replace(old, new)
        core[field] = text
    copy = original.model_copy(
        update={"id": "voorrang-voor-dreigende-ontwikkelaar", "title": "Voorrang voor de ontwikkelaar met een advocaat"}
        | {"situation": HELD_OUT_SITUATION, "related": []}
        | core
    )
    flagged = duplicates.near_duplicates(real_engine, copy)
    assert flagged and flagged[0][0].id == HELD_OUT, duplicates.closest_cases(real_engine, copy)
    assert duplicates.near_duplicates(real_engine, NEW_DILEMMA) == [], duplicates.closest_cases(
        real_engine, NEW_DILEMMA
    )


@pytest.mark.integration
def test_the_threshold_still_separates_the_calibration_pairs(real_engine) -> None:
    """scripts/calibrate_duplicates.py's pairs: every near-copy warns, no distinct pair does."""
    import calibrate_duplicates

    kinds, _ = calibrate_duplicates.measure(real_engine)
    distinct = kinds["new_dilemmas"] + kinds["shipped"]
    assert max(distinct) < duplicates.DUPLICATE_THRESHOLD <= min(kinds["near_copies"])
