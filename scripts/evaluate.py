"""Measure search quality the way a stranger would: blind queries, pooled judgements, a plain baseline.

    python scripts/evaluate.py                      # blind protocol, shipped + terse cases, both halves
    python scripts/evaluate.py --distractors 2727   # ... with all public dilemmas mixed in
    python scripts/evaluate.py --unjudged           # pooled hits nobody judged yet (judge them first)
    python scripts/evaluate.py --calibrate          # fit the relevance logistic on the tune half
    python scripts/evaluate.py --only q344-q433     # only those queries: the fresh ones, written last
    python scripts/evaluate.py --labelled           # the older labelled sets (one expected case each)
    python scripts/evaluate.py --json

The blind protocol (scripts/blind.py, docs/evaluation.md): the queries in tests/fixtures/eval/blind/
were written from one-line scenarios by people who never saw a case; relevance is judged on pooled
hits; the collection is the shipped cases plus terse ones (tests/fixtures/eval/terse/); the plain
baseline (one USE-m3 vector per case, cosine) runs beside the engine on the same cases in the same
run; the tune half is for choosing, the test half is reported untouched. With --distractors N the
first N public dilemmas (DailyDilemmas, then MoralChoice; attribution in docs/evaluation.md) are
written beside a copy of the collection. Pass --workdir DIR to keep the index: a re-run embeds only
what changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import blind
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
from moresprudentie.cases.collection import case_files
from moresprudentie.errors import MoresprudentieError
from moresprudentie.search.embedders import Embedder, load_embedder
from moresprudentie.search.engine import SearchEngine

RECALL_K = 5
MRR_K = 10
DISTRACTOR_PREFIXES = "dailydilemmas-,moralchoice-"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=None, help="case folder (default: the shipped cases/)")
    parser.add_argument("--model", default=None, help=settings.MODEL.help)
    parser.add_argument("--distractors", type=int, default=0, metavar="N", help="mix in N public dilemmas (max 2727)")
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets folder")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the mixed collection and index here")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    blind_group = parser.add_argument_group("the blind protocol (default)")
    blind_group.add_argument("--blind", type=Path, default=blind.BLIND, help="folder with queries.yaml and qrels.yaml")
    blind_group.add_argument("--terse", type=Path, default=blind.TERSE, help="terse cases added to the collection")
    blind_group.add_argument("--unjudged", action="store_true", help="list pooled hits without a judgement")
    blind_group.add_argument("--calibrate", action="store_true", help="fit the relevance logistic on the tune half")
    blind_group.add_argument(
        "--only",
        type=_id_range,
        default=None,
        metavar="FIRST-LAST",
        help="report only the queries with ids in this range (off-topic ones stay, for the honest scores), "
        "e.g. q344-q433: the fresh queries written after every choice",
    )
    old = parser.add_argument_group("the older labelled sets")
    old.add_argument("--labelled", action="store_true", help="evaluate the labelled sets instead")
    old.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="folder with queries-*.yaml")
    old.add_argument("--files", default=QUERY_GLOB, help="which query files, e.g. queries-blind.yaml")
    old.add_argument("--misses", action="store_true", help="list the queries whose case is not in the top 5")
    return parser.parse_args(argv)


def _id_range(text: str) -> str:
    """--only's value, checked when the arguments are read (a typo fails before the index is built)."""
    try:
        blind.id_range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def prepare_collection(cases: Path, workdir: Path, distractors: int, datasets: Path) -> tuple[Path, int]:
    """The folder to search and how many distractors it holds: the collection itself, or a copy of
    it with the first N public dilemmas beside it (the index, elsewhere, keeps unchanged vectors)."""
    if distractors <= 0:
        return cases, 0
    folder = workdir / "collection"
    return folder, mix_collection(cases, folder, distractor_cases(datasets)[:distractors])


class _Uncalibrated:
    """An embedder that shows the final ranking score itself (calibration (1, 0) and its logit), for fitting."""

    relevance_calibration = (1.0, 0.0)

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __getattr__(self, name: str) -> object:
        return getattr(self._embedder, name)


# -- the blind protocol ---------------------------------------------------------------------------


def blind_collection(args: argparse.Namespace, workdir: Path) -> tuple[Path, int]:
    """The shipped (or --cases) collection with the terse cases beside it, and any distractors."""
    folder = workdir / "blind-collection"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in [*case_files(settings.cases_dir(args.cases)), *case_files(args.terse)]:
        shutil.copy2(path, folder / path.name)
    return prepare_collection(folder, workdir, args.distractors, args.datasets)


def evaluate_blind(args: argparse.Namespace, workdir: Path, embedder: Embedder | None = None) -> dict[str, object]:
    """Engine and plain baseline on the blind queries, per half and kind, with the honesty figures."""
    queries, qrels = blind.load_queries(args.blind), blind.load_qrels(args.blind)
    collection, distractors = blind_collection(args, workdir)
    model = embedder or load_embedder(args.model)
    started = time.perf_counter()
    engine = SearchEngine.open(
        collection, workdir / "index", embedder=_Uncalibrated(model) if args.calibrate else model, progress=False
    )
    indexed = time.perf_counter()
    hits = {q.id: engine.search(q.query, k=MRR_K) for q in queries}
    runs = {
        qid: blind.Ranked(tuple(h.case.id for h in found), tuple(h.score for h in found)) for qid, found in hits.items()
    }
    matches = {qid: tuple(h.match for h in found) for qid, found in hits.items()}
    plain = blind.run_plain(model, list(engine.cases.values()), queries)
    report: dict[str, object] = {
        "model": model.model_id,
        "cases": len(engine.cases),
        "distractors": distractors,
        "halves": {},
        "unjudged": blind.unjudged(runs, queries, qrels, DISTRACTOR_PREFIXES),
        "only": args.only,
        "seconds": {"index": indexed - started, "queries": time.perf_counter() - indexed},
    }
    within = blind.id_range(args.only) if args.only else None
    for half in blind.HALVES:
        chosen = [q for q in queries if q.half == half and (not within or q.kind == blind.OFFTOPIC or within(q.id))]
        if not any(q.kind != blind.OFFTOPIC for q in chosen):
            continue  # --only names none of this half's queries
        report["halves"][half] = {  # type: ignore[index]
            "engine": blind.quality(runs, chosen, qrels),
            "plain": blind.quality(plain, chosen, qrels),
            "honesty": blind.honesty(runs, matches, chosen, qrels),
        }
    if args.calibrate:
        report["calibration"] = calibration(runs, [q for q in queries if q.half == "tune"], qrels)
    return report


def calibration(runs: dict[str, blind.Ranked], queries: list[blind.BlindQuery], qrels) -> dict[str, object]:
    """The logistic from shown score to P(a useful precedent: judged relevant or related), fitted on
    the tune half's judged top-10 hits, the off-topic queries' hits and the public distractors' hits
    (both counted as not relevant)."""
    scores, labels = [], []
    for query in queries:
        judged = qrels.get(query.id, {})
        for case, shown in zip(runs[query.id].ids, runs[query.id].scores, strict=True):
            distractor = case.startswith(tuple(DISTRACTOR_PREFIXES.split(",")))
            if query.kind == blind.OFFTOPIC or case in judged or distractor:
                scores.append(blind.logit(shown))
                labels.append(int(query.kind != blind.OFFTOPIC and judged.get(case, 0) >= 1))
    slope, intercept = blind.fit_logistic(scores, labels)
    return {"slope": slope, "intercept": intercept, "pairs": len(labels), "relevant": sum(labels)}


def print_blind(report: dict[str, object]) -> None:
    print(
        f"model {report['model']}; {report['cases']} cases ({report['distractors']} distractors); "
        f"{report['seconds']['index']:.1f} s to index, {report['seconds']['queries']:.1f} s for the queries"  # type: ignore[index]
    )
    for half, result in report["halves"].items():  # type: ignore[attr-defined]
        only = f", only queries {report['only']} and the off-topic ones" if report["only"] else ""
        print(f"\n{half} half{' (never tuned on)' if half == 'test' else ''}{only}")
        print(f"{'kind':<14}{'queries':>8}{'engine R@5':>12}{'MRR@10':>8}{'plain R@5':>11}{'MRR@10':>8}")
        for kind, row in result["engine"].items():
            base = result["plain"][kind]
            print(
                f"{kind:<14}{row['queries']:>8}{row['recall@5']:>12.3f}{row['mrr@10']:>8.3f}"
                f"{base['recall@5']:>11.3f}{base['mrr@10']:>8.3f}"
            )
        h = result["honesty"]
        print(
            f"AUROC {h['auroc']:.3f}; off-topic with only weak hits {h['offtopic_weak']}/{h['offtopic_queries']}; "
            f"relevant top-5 hits fair or strong {h['relevant_fair_or_strong']:.0%} of {h['relevant_top5_hits']}"
        )
    pending = report["unjudged"]
    if pending:
        count = sum(len(v) for v in pending.values())  # type: ignore[union-attr]
        print(f"\nwarning: {count} pooled hit(s) are not judged yet (--unjudged lists them); figures may change")
    if "calibration" in report:
        print(f"\ncalibration (tune half): {report['calibration']}")


# -- the older labelled sets ----------------------------------------------------------------------


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
        f"{report['seconds']['index']:.1f} s to index, {report['seconds']['queries']:.1f} s for the queries"  # type: ignore[index]
    )
    print(f"{'kind':<14}{'queries':>8}{'recall@' + str(RECALL_K):>11}{'MRR@' + str(MRR_K):>9}")
    for kind, row in report["metrics"].items():  # type: ignore[attr-defined]
        print(f"{kind:<14}{row['queries']:>8}{row[f'recall@{RECALL_K}']:>11.3f}{row[f'mrr@{MRR_K}']:>9.3f}")
    for miss in report.get("misses", []):  # type: ignore[attr-defined]
        where = f"rank {miss['rank']}" if miss["rank"] else f"not in top {MRR_K}"
        print(f"\nMISS {miss['source']} [{miss['kind']}] {miss['query']}")
        print(f"  expected {miss['expected']} ({where}); got {', '.join(miss['got'])}")


def evaluate(args: argparse.Namespace, workdir: Path, embedder: Embedder | None = None) -> dict[str, object]:
    """The labelled sets: index the (mixed) collection in workdir, run the queries, return the report."""
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
    run = evaluate if args.labelled else evaluate_blind
    try:
        if args.workdir:
            report = run(args, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="moresprudentie-eval-") as temp:
                report = run(args, Path(temp))
    except MoresprudentieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif args.labelled:
        print_table(report)
    elif args.unjudged:
        for query_id, cases in report["unjudged"].items():  # type: ignore[attr-defined]
            print(f"{query_id}: {', '.join(cases)}")
    else:
        print_blind(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
