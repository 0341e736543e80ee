"""Search quality cannot silently drop: a floor on a fixed subset of the labelled queries.

The integration tests load the default model once and assert recall@5 on 7 queries per kind (a
fixed, evenly spread subset of tests/fixtures/eval) against the shipped collection, alone and with
about 900 public dilemmas mixed in. The floors sit a little below what docs/evaluation.md reports, so
noise passes and a real regression fails. The first tests check the plumbing of scripts/evaluate.py
with the fake embedder, in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHIPPED_CASES, load_script
from evaldata import (
    DAILYDILEMMAS,
    DEFAULT_DATASETS,
    DEFAULT_QUERIES,
    QUERY_GLOB,
    Outcome,
    distractor_cases,
    load_queries,
    mix_collection,
    recall_at,
    run_queries,
    spread_subset,
)

from moresprudentie.search.engine import SearchEngine

PER_KIND = 7
DISTRACTOR_STEP = 3  # every third public dilemma: ~900 from both sets, a quarter of the index time
FLOOR_ALONE = 0.90  # measured 1.00 (21 of 21, set d included); 0.90–0.95 before clauses and lingua
FLOOR_WITH_DISTRACTORS = 0.90  # measured 0.95–1.00 (20–21 of 21: 909 and 2,727 distractors)
needs_datasets = pytest.mark.skipif(
    not (DEFAULT_DATASETS / DAILYDILEMMAS).exists(), reason=f"{DEFAULT_DATASETS} (the shared datasets) is not present"
)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """Queries for the conftest search cases: the fake embedder finds two, misses one."""
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "queries-test.yaml").write_text(
        "- {case: kerstpakket-leverancier, kind: keywords, query: kerstpakket leverancier aanbesteding}\n"
        "- {case: dossier-buurman, kind: paraphrase, query: Ik wil het dossier van mijn buurman inzien.}\n"
        "- {case: unpaid-overtime, kind: crosslingual, query: Mijn baas wil dat ik overuren niet schrijf.}\n",
        encoding="utf-8",
    )
    return folder


def test_evaluate_reports_each_kind_and_the_misses(search_cases: Path, labelled: Path, tmp_path, fake_embedder, capsys):
    script = load_script("evaluate")
    args = script.parse_args(["--cases", str(search_cases), "--queries", str(labelled), "--misses"])
    report = script.evaluate(args, tmp_path / "work", fake_embedder)
    assert list(report["metrics"]) == ["paraphrase", "keywords", "crosslingual", "overall"]
    assert report["metrics"]["overall"]["queries"] == 3 and report["distractors"] == 0
    assert report["metrics"]["keywords"]["recall@5"] == 1.0
    missed = {miss["expected"] for miss in report["misses"]}
    assert missed <= {"unpaid-overtime"}  # bag-of-words cannot cross languages; the others must land
    script.print_table(report)
    table = capsys.readouterr().out
    assert "overall" in table and "recall@5" in table


@needs_datasets
def test_evaluate_mixes_distractors_beside_a_copy(search_cases: Path, labelled: Path, tmp_path, fake_embedder):
    script = load_script("evaluate")
    args = script.parse_args(["--cases", str(search_cases), "--queries", str(labelled), "--distractors", "25"])
    report = script.evaluate(args, tmp_path / "work", fake_embedder)
    assert report["distractors"] == 25 and report["cases"] == 6 + 25
    assert len(list(search_cases.glob("*.yaml"))) == 6  # the collection itself is untouched


# -- the floor, with the real default model --------------------------------------------------------


@pytest.fixture(scope="session")
def default_embedder():
    from moresprudentie.search.embedders import load_embedder

    return load_embedder()


@pytest.fixture(scope="module")
def subset():
    if not any(DEFAULT_QUERIES.glob(QUERY_GLOB)):
        pytest.skip(f"no labelled queries in {DEFAULT_QUERIES}")
    return spread_subset(load_queries(), PER_KIND)


def _assert_floor(outcomes: list[Outcome], floor: float) -> None:
    missed = [
        f"{o.query.source} [{o.query.kind}] expected {o.query.case}, got {o.got[:3]}"
        for o in outcomes
        if not o.rank or o.rank > 5
    ]
    assert recall_at(outcomes, 5) >= floor, "recall@5 fell below the floor; misses:\n" + "\n".join(missed)


@pytest.mark.integration
def test_recall_floor_on_the_shipped_collection(default_embedder, subset, tmp_path: Path) -> None:
    engine = SearchEngine.open(SHIPPED_CASES, tmp_path / "index", embedder=default_embedder)
    _assert_floor(run_queries(engine, subset), FLOOR_ALONE)


@pytest.mark.integration
@needs_datasets
def test_recall_floor_with_distractors(default_embedder, subset, tmp_path: Path) -> None:
    mix_collection(SHIPPED_CASES, tmp_path / "mixed", distractor_cases()[::DISTRACTOR_STEP])
    engine = SearchEngine.open(tmp_path / "mixed", tmp_path / "index", embedder=default_embedder)
    _assert_floor(run_queries(engine, subset), FLOOR_WITH_DISTRACTORS)


# -- the blind protocol: the test half, never tuned on ----------------------------------------------


def test_blind_protocol_plumbing_reports_both_halves_and_the_baseline(tmp_path: Path, fake_embedder) -> None:
    script = load_script("evaluate")
    args = script.parse_args(["--workdir", str(tmp_path)])
    report = script.evaluate_blind(args, tmp_path, fake_embedder)
    assert set(report["halves"]) == {"tune", "test"}
    for half in report["halves"].values():
        assert set(half) == {"engine", "plain", "honesty"}
        assert set(half["engine"]) == {"story", "keywords", "crosslingual", "all"}
        assert half["honesty"]["offtopic_queries"] == 20
    assert report["cases"] == len(list(SHIPPED_CASES.glob("*.yaml"))) + 24  # the terse cases beside them


def test_blind_only_reports_a_range_of_queries_beside_every_off_topic_one(tmp_path: Path, fake_embedder) -> None:
    """`--only q344-q433`: the fresh part of the test half on its own, its table a command away."""
    script = load_script("evaluate")
    report = script.evaluate_blind(script.parse_args(["--only", "q344-q433"]), tmp_path, fake_embedder)
    assert set(report["halves"]) == {"test"}  # none of those queries is in the tune half
    test = report["halves"]["test"]
    assert test["engine"]["all"]["queries"] == 89 and test["honesty"]["offtopic_queries"] == 20
    with pytest.raises(SystemExit):
        script.parse_args(["--only", "q433"])  # not a range: refused before anything is built


@pytest.mark.integration
def test_blind_test_half_keeps_its_quality_and_honest_scores(default_embedder, tmp_path: Path) -> None:
    """Floors a little below docs/evaluation.md (test half: R@5 0.947, AUROC 0.986, 19 of 20
    off-topic questions only weak), and the plain baseline beaten on every kind."""
    script = load_script("evaluate")
    report = script.evaluate_blind(script.parse_args([]), tmp_path, default_embedder)
    test = report["halves"]["test"]
    assert not report["unjudged"], "judge the pooled hits first: python scripts/evaluate.py --unjudged"
    assert test["engine"]["all"]["recall@5"] >= 0.93
    assert test["honesty"]["auroc"] >= 0.96
    assert test["honesty"]["offtopic_weak"] >= 17
    for kind in ("story", "keywords", "crosslingual"):
        assert test["engine"][kind]["recall@5"] >= test["plain"][kind]["recall@5"], kind
