"""Evaluation data: public dilemma sets as distractor cases, and labelled queries with their metrics.

Search quality is only worth something when it is measured, and measured against a crowd: our own
cases alone are too few and too distinct to show a ranking that breaks at scale. So this module

- turns two public sets of everyday moral dilemmas into Case objects (distractors for
  `scripts/evaluate.py`, bulk collections for `scripts/benchmark.py`), and
- reads the labelled queries (`tests/fixtures/eval/queries-*.yaml`) and scores rankings against
  them (recall@k, MRR@k), so the scripts and the CI floor test count the same way.

Attribution (see also docs/evaluation.md). The source files are not part of the product; they are
read from `../shared/datasets/` at evaluation time, and every generated case names its source:
- DailyDilemmas: Chiu, Jiang & Choi, "DailyDilemmas: Revealing Value Preferences of LLMs with
  Quandaries of Daily Life" (2024), CC BY 4.0, github.com/kellycyy/daily_dilemmas @3b579ab.
- MoralChoice: Scherrer, Shi, Feder & Blei, "Evaluating the Moral Beliefs Encoded in LLMs"
  (NeurIPS 2023), MIT licence, github.com/ninodimontalcino/moralchoice @9f1dbce.

Fields the sources do not have stay honest: no judgement, reasoning, themes or values are invented.
"""

from __future__ import annotations

import csv
import itertools
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from moresprudentie.cases.collection import case_files
from moresprudentie.cases.loading import CASE_SUFFIX, decode, dump_case, parse_yaml
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseFileError, UsageError
from moresprudentie.search.text import sentences

if TYPE_CHECKING:  # search pulls in FAISS and a model; converting data needs neither
    from moresprudentie.search.engine import SearchEngine

ROOT = Path(__file__).resolve().parent.parent  # the checkout: evaluation runs from one, never from an install
DEFAULT_DATASETS = ROOT.parent / "shared" / "datasets"
DAILYDILEMMAS = Path("dailydilemmas") / "dilemma.csv"
MORALCHOICE = (
    Path("moralchoice") / "moralchoice_low_ambiguity.csv",
    Path("moralchoice") / "moralchoice_high_ambiguity.csv",
)
NOT_RECORDED = "Not recorded in the source."
NOT_RECORDED_TERM = "not-recorded"  # themes and values are required; the sources have none
SOURCES = {
    "dailydilemmas": ("2024", "DailyDilemmas (Chiu, Jiang & Choi, 2024), CC BY 4.0"),
    "moralchoice": ("2023", "MoralChoice (Scherrer, Shi, Feder & Blei, NeurIPS 2023), MIT licence"),
}
TITLE_LIMIT = 100

# -- public dilemma sets → cases ---------------------------------------------------------------


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: dataset file not found; pass --datasets DIR pointing at the shared datasets folder"
        ) from None


def _title(text: str) -> str:
    """A short title: the text's first sentence, capitalised, cut at a word boundary."""
    first = sentences(text)[0].rstrip(" .") if text.strip() else ""
    if len(first) > TITLE_LIMIT:
        first = first[: TITLE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return first[:1].upper() + first[1:]


def split_question(text: str) -> tuple[str, str]:
    """(situation, question): the trailing question sentences of a story are its dilemma."""
    parts = sentences(text)
    cut = len(parts)
    while cut > 0 and parts[cut - 1].endswith("?"):
        cut -= 1
    if cut in (0, len(parts)):  # all question or no question: keep the story whole in both places
        return text.strip(), text.strip()
    return " ".join(parts[:cut]), " ".join(parts[cut:])


def _case(source: str, row_id: str, title: str, situation: str, dilemma: str, **extra: object) -> Case:
    year, credit = SOURCES[source]
    return Case.model_validate(
        {
            "id": f"{source}-{row_id}".lower().replace("_", "-"),
            "title": title,
            "language": "en",
            "date": year,  # the year the set was published: the source does not date its dilemmas
            "themes": [NOT_RECORDED_TERM],
            "values": [NOT_RECORDED_TERM],
            "situation": situation,
            "dilemma": dilemma,
            "judgement": NOT_RECORDED,
            "reasoning": f"{NOT_RECORDED} From {credit}, row {row_id}.",
            **extra,
        }
    )


def dailydilemmas_cases(datasets: Path = DEFAULT_DATASETS) -> list[Case]:
    """DailyDilemmas rows as cases: the short situation is the title, the story splits at its question."""
    cases = []
    for row in _read_rows(Path(datasets) / DAILYDILEMMAS):
        situation, dilemma = split_question(row["dilemma_situation"])
        cases.append(_case("dailydilemmas", row["idx"], _title(row["basic_situation"]), situation, dilemma))
    return cases


def moralchoice_cases(datasets: Path = DEFAULT_DATASETS) -> list[Case]:
    """MoralChoice scenarios as cases: the two actions are the options, the rule at stake is the norm."""
    cases = []
    for name in MORALCHOICE:
        for row in _read_rows(Path(datasets) / name):
            options = [row["action1"], row["action2"]]
            first, second = (option.strip().rstrip(".") for option in options)
            question = f"What should I do: {first}, or {second}?"
            cases.append(
                _case(
                    "moralchoice",
                    row["scenario_id"],
                    _title(row["context"]),
                    row["context"],
                    question,
                    options=options,
                    norms=[row["generation_rule"]],
                )
            )
    return cases


def distractor_cases(datasets: Path = DEFAULT_DATASETS) -> list[Case]:
    """All public dilemmas (about 2,700) as English cases, in a fixed order."""
    return dailydilemmas_cases(datasets) + moralchoice_cases(datasets)


# Settings that make a repeated dilemma a different text (and so a different vector) at scale.
_PLACES = ("at a municipality", "at a water authority", "at a province", "in a ministry", "at a police station",
           "at a school", "in a hospital", "at a tax office")  # fmt: skip
_TIMES = ("Last spring", "Last winter", "In a busy week", "During a reorganisation", "Just before the holidays",
          "On a Monday morning")  # fmt: skip


def scaled_cases(base: Sequence[Case], count: int) -> Iterator[Case]:
    """`count` cases: the base cases first, then repeats with a setting sentence and a new id.

    For benchmarks at 10k or 100k cases: the repeats are distinct texts of realistic length, so the
    model and the index do the same work as for real cases.
    """
    settings = [f"{time} {place}." for time, place in itertools.product(_TIMES, _PLACES)]
    for n in range(count):
        case = base[n % len(base)]
        repeat = n // len(base)
        if repeat == 0:
            yield case
        else:
            setting = settings[(repeat - 1) % len(settings)]
            yield case.model_copy(update={"id": f"{case.id}-v{repeat}", "situation": f"{setting} {case.situation}"})


def write_cases(cases: Iterable[Case], folder: Path) -> int:
    """Write cases as `<id>.yaml` files into folder; returns how many were written.

    These are generated, throw-away collections (temp folders of the scripts), so plain writes are
    enough; the product's own writes go through files.atomic_write.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for case in cases:
        (folder / f"{case.id}{CASE_SUFFIX}").write_text(dump_case(case), encoding="utf-8")
        written += 1
    return written


def mix_collection(cases: Path, folder: Path, distractors: Iterable[Case]) -> int:
    """Fill `folder` (emptied first) with a copy of the case files plus distractor cases; returns how
    many distractors were written. The collection itself is never touched."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in case_files(Path(cases)):
        shutil.copy2(path, folder / path.name)
    return write_cases(distractors, folder)


# -- labelled queries and metrics ----------------------------------------------------------------

QUERY_KINDS = ("paraphrase", "keywords", "crosslingual")
QUERY_GLOB = "queries-*.yaml"
DEFAULT_QUERIES = ROOT / "tests" / "fixtures" / "eval"


@dataclass(frozen=True)
class Query:
    """One labelled query: the text a user would type and the case that should come back."""

    case: str
    kind: str
    query: str
    source: str  # file:line, for messages and the misses list


def _query_from(item: object, where: str) -> Query:
    if not isinstance(item, dict) or set(item) != {"case", "kind", "query"}:
        raise CaseFileError(f"{where}: each entry needs exactly the keys case, kind and query")
    if item["kind"] not in QUERY_KINDS:
        raise CaseFileError(f"{where}: kind '{item['kind']}' is unknown; use one of {', '.join(QUERY_KINDS)}")
    if not all(isinstance(item[key], str) and item[key].strip() for key in ("case", "query")):
        raise CaseFileError(f"{where}: case and query must be non-empty text")
    return Query(item["case"].strip(), item["kind"], item["query"].strip(), where)


def load_queries(folder: Path = DEFAULT_QUERIES, pattern: str = QUERY_GLOB) -> list[Query]:
    """All labelled queries in the matching files (YAML lists of {case, kind, query}), in file order.

    A pattern picks one set, e.g. 'queries-blind.yaml' (written blind, never used for tuning)."""
    files = sorted(Path(folder).glob(pattern))
    if not files:
        raise UsageError(f"{folder}: no {pattern} files; pass --queries DIR (and --files PATTERN) with query files")
    queries = []
    for path in files:
        try:
            data, lines = parse_yaml(decode(path.read_bytes()))
        except CaseFileError as exc:
            raise CaseFileError(f"{path}:{exc}") from None
        if not isinstance(data, list):
            raise CaseFileError(f"{path}:1: expected a YAML list of {{case, kind, query}} entries")
        queries.extend(_query_from(item, f"{path.name}:{lines.get((i,), '?')}") for i, item in enumerate(data))
    return queries


def spread_subset(queries: Sequence[Query], per_kind: int) -> list[Query]:
    """A fixed, evenly spread subset: per kind, every n-th query in (case, text) order."""
    chosen = []
    for kind in QUERY_KINDS:
        pool = sorted((q for q in queries if q.kind == kind), key=lambda q: (q.case, q.query))
        step = max(1, len(pool) // per_kind) if pool else 1
        chosen.extend(pool[::step][:per_kind])
    return chosen


@dataclass(frozen=True)
class Outcome:
    """Where a query's expected case landed (rank 1 = top; None = not in the ranking) and what came."""

    query: Query
    rank: int | None
    got: tuple[str, ...]


def rank_of(expected: str, ranking: Sequence[str]) -> int | None:
    return ranking.index(expected) + 1 if expected in ranking else None


def run_queries(engine: SearchEngine, queries: Iterable[Query], k: int = 10) -> list[Outcome]:
    """Search every query (default filters: published cases only) and record where its case landed."""
    outcomes = []
    for query in queries:
        ranking = tuple(hit.case.id for hit in engine.search(query.query, k=k))
        outcomes.append(Outcome(query, rank_of(query.case, ranking), ranking))
    return outcomes


def recall_at(outcomes: Sequence[Outcome], k: int) -> float:
    """The share of queries whose case is in the top k."""
    return sum(o.rank is not None and o.rank <= k for o in outcomes) / len(outcomes) if outcomes else 0.0


def mrr_at(outcomes: Sequence[Outcome], k: int) -> float:
    """Mean reciprocal rank, counting only ranks up to k (a case further down scores 0)."""
    return sum(1 / o.rank for o in outcomes if o.rank is not None and o.rank <= k) / len(outcomes) if outcomes else 0.0


def summarise(outcomes: Sequence[Outcome], recall_k: int = 5, mrr_k: int = 10) -> dict[str, dict[str, float]]:
    """{kind or 'overall': {queries, recall@k, mrr@k}} for the kinds present, overall last."""
    groups = {kind: [o for o in outcomes if o.query.kind == kind] for kind in QUERY_KINDS}
    groups = {kind: group for kind, group in groups.items() if group}
    groups["overall"] = list(outcomes)
    return {
        name: {
            "queries": len(group),
            f"recall@{recall_k}": round(recall_at(group, recall_k), 4),
            f"mrr@{mrr_k}": round(mrr_at(group, mrr_k), 4),
        }
        for name, group in groups.items()
    }
