"""Measure search quality: recall@5 and MRR@10 per query kind on the labelled queries.

    python scripts/evaluate.py                      # the shipped cases, the default model
    python scripts/evaluate.py --distractors 2727   # plus all public dilemmas as distractors
    python scripts/evaluate.py --files queries-blind.yaml   # only the set written blind
    python scripts/evaluate.py --model minilm --misses --json

The queries are `tests/fixtures/eval/queries-*.yaml` (lists of {case, kind, query}). With
--distractors N the first N public dilemmas (DailyDilemmas, then MoralChoice; see docs/evaluation.md
for their attribution) are written as cases next to a copy of the collection in a work folder. The
index lives in the work folder too: pass --workdir DIR to keep it, and a re-run embeds only what
changed. A thin shell: the ranking is moresprudentie's SearchEngine, the counting evaldata.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from evaldata import (
    DEFAULT_DATASETS,
    DEFAULT_QUERIES,
    QUERY_GLOB,
    Outcome,
    distractor_cases,
    load_queries,
    mix_collection,
    run_queries,
    summarise,
)

from moresprudentie import settings
from moresprudentie.errors import MoresprudentieError
from moresprudentie.search.embedders import Embedder
from moresprudentie.search.engine import SearchEngine

RECALL_K = 5
MRR_K = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=None, help="case folder (default: the shipped cases/)")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="folder with queries-*.yaml")
    parser.add_argument("--files", default=QUERY_GLOB, help="which query files, e.g. queries-blind.yaml")
    parser.add_argument("--model", default=None, help=settings.MODEL.help)
    parser.add_argument("--distractors", type=int, default=0, metavar="N", help="mix in N public dilemmas (max 2727)")
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets folder")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the mixed collection and index here")
    parser.add_argument("--misses", action="store_true", help="list the queries whose case is not in the top 5")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return parser.parse_args(argv)


def prepare_collection(cases: Path, workdir: Path, distractors: int, datasets: Path) -> tuple[Path, int]:
    """The folder to search and how many distractors it holds: the collection itself, or a copy of
    it with the first N public dilemmas beside it (the index, elsewhere, keeps unchanged vectors)."""
    if distractors <= 0:
        return cases, 0
    folder = workdir / "collection"
    return folder, mix_collection(cases, folder, distractor_cases(datasets)[:distractors])


def misses(outcomes: list[Outcome]) -> list[dict[str, object]]:
    return [
        {
            "source": o.query.source,
            "kind": o.query.kind,
            "query": o.query.query,
            "expected": o.query.case,
            "rank": o.rank,
            "got": list(o.got[:3]),
        }
        for o in outcomes
        if o.rank is None or o.rank > RECALL_K
    ]


def print_table(report: dict[str, object]) -> None:
    print(
        f"model {report['model']}; {report['cases']} cases ({report['distractors']} distractors); "
        f"{report['seconds']['index']:.1f} s to index, {report['seconds']['queries']:.1f} s for the queries"
    )
    print(f"{'kind':<14}{'queries':>8}{'recall@' + str(RECALL_K):>11}{'MRR@' + str(MRR_K):>9}")
    for kind, row in report["metrics"].items():  # type: ignore[attr-defined]
        print(f"{kind:<14}{row['queries']:>8}{row[f'recall@{RECALL_K}']:>11.3f}{row[f'mrr@{MRR_K}']:>9.3f}")
    for miss in report.get("misses", []):  # type: ignore[attr-defined]
        where = f"rank {miss['rank']}" if miss["rank"] else f"not in top {MRR_K}"
        print(f"\nMISS {miss['source']} [{miss['kind']}] {miss['query']}")
        print(f"  expected {miss['expected']} ({where}); got {', '.join(miss['got'])}")


def evaluate(args: argparse.Namespace, workdir: Path, embedder: Embedder | None = None) -> dict[str, object]:
    """Index the (mixed) collection in workdir, run the queries, and return the report."""
    queries = load_queries(args.queries, args.files)
    cases = settings.cases_dir(args.cases)
    collection, distractors = prepare_collection(cases, workdir, args.distractors, args.datasets)
    started = time.perf_counter()
    engine = SearchEngine.open(
        collection, workdir / "index", embedder=embedder, model=args.model, progress=not args.json
    )
    indexed = time.perf_counter()
    unknown = sorted({q.case for q in queries} - set(engine.cases))
    if unknown:
        print(f"warning: queries name cases not in {cases} (counted as misses): {', '.join(unknown)}", file=sys.stderr)
    outcomes = run_queries(engine, queries, MRR_K)
    report: dict[str, object] = {
        "model": engine.embedder.model_id,
        "cases": len(engine.cases),
        "distractors": distractors,
        "metrics": summarise(outcomes, RECALL_K, MRR_K),
        "seconds": {"index": indexed - started, "queries": time.perf_counter() - indexed},
    }
    if args.misses:
        report["misses"] = misses(outcomes)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.workdir:
            report = evaluate(args, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="moresprudentie-eval-") as temp:
                report = evaluate(args, Path(temp))
    except MoresprudentieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
