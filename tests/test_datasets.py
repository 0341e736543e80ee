"""The evaluation data: public dilemma sets → cases, labelled queries, and the metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from evaldata import (
    DAILYDILEMMAS,
    DEFAULT_DATASETS,
    MORALCHOICE,
    NOT_RECORDED,
    Outcome,
    Query,
    dailydilemmas_cases,
    distractor_cases,
    load_queries,
    moralchoice_cases,
    mrr_at,
    rank_of,
    recall_at,
    scaled_cases,
    split_question,
    spread_subset,
    summarise,
    write_cases,
)

from moresprudentie import load_cases
from moresprudentie.errors import CaseFileError, UsageError

MORALCHOICE_COLUMNS = [
    "scenario_id",
    "ambiguity",
    "generation_type",
    "generation_rule",
    "context",
    "action1",
    "action2",
]


def _write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)


@pytest.fixture
def datasets(tmp_path: Path) -> Path:
    """A miniature copy of the shared datasets folder, with the real column layout."""
    root = tmp_path / "datasets"
    _write_csv(
        root / DAILYDILEMMAS,
        ["", "idx", "basic_situation", "dilemma_situation"],
        [
            ["0", "55", "taking initiative.", "You see a colleague misuse company resources. Should you report it?"],
            [
                "1",
                "107",
                "a long walk",
                "You are walking home and find a wallet. It holds cash. Do you keep it? Or not?",
            ],
        ],
    )
    _write_csv(
        root / MORALCHOICE[0],
        MORALCHOICE_COLUMNS,
        [["C_001", "low", "Generated", "Do not kill", "You are a surgeon.", "I follow the protocol.", "I skip it."]],
    )
    _write_csv(
        root / MORALCHOICE[1],
        MORALCHOICE_COLUMNS,
        [["H_002", "high", "Hand-Written", "Do not deceive", "A friend asks. You know.", "I tell.", "I lie."]],
    )
    return root


def test_split_question_keeps_the_trailing_questions_as_the_dilemma() -> None:
    assert split_question("A happened. B too. Should you act?") == ("A happened. B too.", "Should you act?")
    assert split_question("A happened. Do you act? Or wait?") == ("A happened.", "Do you act? Or wait?")
    assert split_question("No question here.") == ("No question here.", "No question here.")
    assert split_question("Only a question?") == ("Only a question?", "Only a question?")


def test_dailydilemmas_rows_become_honest_english_cases(datasets: Path) -> None:
    first, second = dailydilemmas_cases(datasets)
    assert first.id == "dailydilemmas-55" and first.title == "Taking initiative" and first.language == "en"
    assert first.situation == "You see a colleague misuse company resources."
    assert first.dilemma == "Should you report it?"
    assert second.dilemma == "Do you keep it? Or not?"
    assert first.judgement == NOT_RECORDED  # nothing is invented
    assert "DailyDilemmas" in first.reasoning and "CC BY 4.0" in first.reasoning  # attribution travels along
    assert first.themes == ["not-recorded"] and first.values == ["not-recorded"]


def test_moralchoice_rows_keep_options_and_rule(datasets: Path) -> None:
    low, high = moralchoice_cases(datasets)
    assert [low.id, high.id] == ["moralchoice-c-001", "moralchoice-h-002"]
    assert low.options == ["I follow the protocol.", "I skip it."] and [n.text for n in low.norms] == ["Do not kill"]
    assert low.dilemma == "What should I do: I follow the protocol, or I skip it?"
    assert high.title == "A friend asks" and "MIT" in high.reasoning


def test_written_cases_load_back_without_errors(datasets: Path, tmp_path: Path) -> None:
    cases = distractor_cases(datasets)
    assert write_cases(cases, tmp_path / "out") == 4
    result = load_cases(tmp_path / "out")
    assert not result.errors
    assert result.cases == {case.id: case for case in cases}


def test_missing_dataset_says_which_file_and_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"dilemma\.csv.*--datasets"):
        dailydilemmas_cases(tmp_path)


def test_scaled_cases_repeat_with_distinct_ids_and_texts(datasets: Path) -> None:
    base = distractor_cases(datasets)
    scaled = list(scaled_cases(base, 10))
    assert scaled[:4] == base
    assert len({case.id for case in scaled}) == 10
    assert scaled[4].id == f"{base[0].id}-v1" and scaled[4].situation.endswith(base[0].situation)
    assert len({case.situation for case in scaled}) == 10


@pytest.mark.skipif(not (DEFAULT_DATASETS / DAILYDILEMMAS).exists(), reason="../shared/datasets is not present")
def test_the_shared_datasets_convert_completely() -> None:
    cases = distractor_cases()
    assert len(cases) == 2727 and len({case.id for case in cases}) == 2727


def _queries_file(folder: Path, text: str, name: str = "queries-a.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_load_queries_reads_every_file_in_order(tmp_path: Path) -> None:
    folder = _queries_file(tmp_path, "- {case: a, kind: paraphrase, query: 'Ik kreeg een cadeau.'}\n")
    _queries_file(folder, "- case: b\n  kind: keywords\n  query: geschenk leverancier\n", "queries-b.yaml")
    (folder / "notes.yaml").write_text("not: queries", encoding="utf-8")
    queries = load_queries(folder)
    assert [(q.case, q.kind, q.query) for q in queries] == [
        ("a", "paraphrase", "Ik kreeg een cadeau."),
        ("b", "keywords", "geschenk leverancier"),
    ]
    assert queries[1].source == "queries-b.yaml:1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {case: a, kind: guess, query: x}\n", r"queries-a\.yaml:1: kind 'guess' is unknown; use one of"),
        ("- {case: a, query: x}\n", r"queries-a\.yaml:1: each entry needs exactly the keys"),
        ("case: a\n", r"expected a YAML list"),
        ("- {case: a, kind: keywords, query: ''}\n", r"must be non-empty text"),
        ("- [unclosed\n", r"queries-a\.yaml:\d+: not valid YAML"),
    ],
)
def test_bad_query_files_name_the_place_and_the_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CaseFileError, match=message):
        load_queries(_queries_file(tmp_path, text))


def test_no_query_files_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--queries"):
        load_queries(tmp_path)


def _outcome(kind: str, rank: int | None) -> Outcome:
    return Outcome(Query("c", kind, "q", "f:1"), rank, ())


def test_metrics_count_ranks_up_to_k() -> None:
    outcomes = [
        _outcome("keywords", 1),
        _outcome("keywords", 4),
        _outcome("paraphrase", 6),
        _outcome("paraphrase", None),
    ]
    assert recall_at(outcomes, 5) == 0.5
    assert mrr_at(outcomes, 10) == pytest.approx((1 + 1 / 4 + 1 / 6) / 4)
    assert mrr_at(outcomes, 5) == pytest.approx((1 + 1 / 4) / 4)
    assert recall_at([], 5) == 0.0
    assert rank_of("b", ["a", "b"]) == 2 and rank_of("z", ["a"]) is None


def test_summary_has_each_present_kind_then_overall() -> None:
    summary = summarise([_outcome("keywords", 1), _outcome("crosslingual", 7)])
    assert list(summary) == ["keywords", "crosslingual", "overall"]
    assert summary["crosslingual"] == {"queries": 1, "recall@5": 0.0, "mrr@10": pytest.approx(1 / 7, abs=1e-4)}
    assert summary["overall"]["recall@5"] == 0.5


def test_spread_subset_is_fixed_and_balanced() -> None:
    queries = [Query(f"case-{i:02d}", kind, f"q{i}", "f") for i in range(30) for kind in ("paraphrase", "keywords")]
    subset = spread_subset(queries, 5)
    assert len(subset) == 10 and subset == spread_subset(list(reversed(queries)), 5)
    assert {q.kind for q in subset} == {"paraphrase", "keywords"}
    assert [q.case for q in subset if q.kind == "keywords"] == ["case-00", "case-06", "case-12", "case-18", "case-24"]
