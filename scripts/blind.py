"""The blind protocol: queries nobody tuned on, pooled relevance judgements, a plain baseline, halves.

Why each part is there (docs/evaluation.md, "The blind protocol"):
- Queries were written by helpers who saw one line of scenario, never a case or the code, so they do
  not echo the cases' wording (our own earlier sets did, and measured 0.957 where strangers got 0.83).
- Relevance comes from judges who pooled the top 10 of several systems, so every case that answers
  a query counts, not only the case its scenario came from; hits nobody judged are listed
  (`unjudged`) and must be judged before a figure is reported.
- The collection mixes the rich shipped cases with terse ones (tests/fixtures/eval/terse/), so a
  ranking that rewards length shows.
- The plain baseline (one USE-m3 vector per case, cosine) runs in the same process on the same cases.
- Every query belongs to a half; only the tune half is looked at while choosing; the test half is
  reported untouched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from moresprudentie.cases.model import Case
from moresprudentie.search.embedders import Embedder
from moresprudentie.search.engine import SearchEngine

BLIND = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eval" / "blind"
TERSE = BLIND.parent / "terse"
KINDS = ("story", "keywords", "crosslingual")
OFFTOPIC = "offtopic"
HALVES = ("tune", "test")
RELEVANT = 2  # judged grade: 2 = answers the query, 1 = related, 0 = not relevant
RECALL_K = 5
MRR_K = 10


@dataclass(frozen=True)
class BlindQuery:
    id: str
    half: str
    kind: str
    language: str
    query: str


@dataclass(frozen=True)
class Ranked:
    """One system's answer to one query: case ids best first, with the score it shows for each."""

    ids: tuple[str, ...]
    scores: tuple[float, ...]


def load_queries(folder: Path = BLIND) -> list[BlindQuery]:
    items = yaml.safe_load((folder / "queries.yaml").read_text(encoding="utf-8"))
    return [BlindQuery(i["id"], i["half"], i["kind"], i["language"], i["query"]) for i in items]


def load_qrels(folder: Path = BLIND) -> dict[str, dict[str, int]]:
    """query id → {case id: grade} for every judged pair."""
    return yaml.safe_load((folder / "qrels.yaml").read_text(encoding="utf-8")) or {}


def relevant(qrels: dict[str, dict[str, int]], query_id: str) -> set[str]:
    return {case for case, grade in qrels.get(query_id, {}).items() if grade >= RELEVANT}


def id_range(text: str) -> Callable[[str], bool]:
    """'q344-q433' → a test for query ids in that range, inclusive (the same letter, numbers between).

    Why: a part of a half written later (the fresh queries of round 12) is reported on its own with
    `evaluate.py --only`, so its table is a command away, not a throwaway script."""
    match = re.fullmatch(r"([a-z]+)(\d+)-\1(\d+)", text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a range of query ids; write it like q344-q433")
    prefix, first, last = match.group(1), int(match.group(2)), int(match.group(3))

    def within(query_id: str) -> bool:
        found = re.fullmatch(rf"{prefix}(\d+)", query_id)
        return found is not None and first <= int(found.group(1)) <= last

    return within


def run_engine(engine: SearchEngine, queries: Sequence[BlindQuery], k: int = MRR_K) -> dict[str, Ranked]:
    runs = {}
    for query in queries:
        hits = engine.search(query.query, k=k)
        runs[query.id] = Ranked(tuple(h.case.id for h in hits), tuple(h.score for h in hits))
    return runs


def whole_text(case: Case) -> str:
    """What the plain baseline embeds: the case's story and its judgement, as one text."""
    return "\n".join([case.title, case.situation, case.dilemma, case.judgement, case.reasoning])


def run_plain(
    embedder: Embedder, cases: Sequence[Case], queries: Sequence[BlindQuery], k: int = MRR_K
) -> dict[str, Ranked]:
    """The baseline: one vector per case, one per query, cosine; nothing else."""
    published = [case for case in cases if case.is_published]
    matrix = embedder.embed([whole_text(case) for case in published])
    ids = np.array([case.id for case in published])
    runs = {}
    for query in queries:
        cosines = matrix @ embedder.embed([query.query])[0]
        best = np.argsort(-cosines, kind="stable")[:k]
        runs[query.id] = Ranked(tuple(ids[best]), tuple(float(cosines[i]) for i in best))
    return runs


def quality(
    runs: dict[str, Ranked], queries: Sequence[BlindQuery], qrels: dict[str, dict[str, int]]
) -> dict[str, dict[str, float]]:
    """{kind or 'all': {queries, recall@5, mrr@10}} over the queries that have a relevant case.

    recall@5 is the share of queries with a relevant case in the top 5 (as the issue counts it)."""
    groups: dict[str, list[BlindQuery]] = {kind: [] for kind in (*KINDS, "all")}
    for query in queries:
        if query.kind in KINDS and relevant(qrels, query.id):
            groups[query.kind].append(query)
            groups["all"].append(query)
    table = {}
    for name, group in groups.items():
        found = [_first_relevant(runs[q.id], relevant(qrels, q.id)) for q in group]
        table[name] = {
            "queries": len(group),
            f"recall@{RECALL_K}": _share(found, lambda rank: rank is not None and rank <= RECALL_K),
            f"mrr@{MRR_K}": round(sum(1 / r for r in found if r is not None) / len(found), 3) if found else 0.0,
        }
    return table


def _first_relevant(ranked: Ranked, wanted: set[str]) -> int | None:
    return next((rank for rank, case in enumerate(ranked.ids, 1) if case in wanted), None)


def _share(values: Sequence[object], test: Callable[[object], bool]) -> float:
    return round(sum(1 for v in values if test(v)) / len(values), 3) if values else 0.0


def honesty(runs: dict[str, Ranked], matches: dict[str, tuple[str, ...]], queries, qrels) -> dict[str, float]:
    """How far the shown score can be trusted: AUROC between relevant top-5 hits and off-topic top
    hits, how many off-topic queries show nothing better than weak, and the share of relevant top-5
    hits that show as fair or strong."""
    positives, offtopic, relevant_bands, offtopic_weak = [], [], [], 0
    for query in queries:
        ranked = runs[query.id]
        if query.kind == OFFTOPIC:
            offtopic.append(ranked.scores[0] if ranked.scores else 0.0)
            offtopic_weak += all(band == "weak" for band in matches.get(query.id, ()))
            continue
        wanted = relevant(qrels, query.id)
        for rank, case in enumerate(ranked.ids[:RECALL_K]):
            if case in wanted:
                positives.append(ranked.scores[rank])
                relevant_bands.append(matches.get(query.id, ("weak",) * RECALL_K)[rank])
    return {
        "auroc": auroc(positives, offtopic),
        "offtopic_queries": len(offtopic),
        "offtopic_weak": offtopic_weak,
        "relevant_top5_hits": len(relevant_bands),
        "relevant_fair_or_strong": _share(relevant_bands, lambda band: band != "weak"),
    }


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return 0.0
    pos, neg = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return round(float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size)), 3)


def unjudged(runs: dict[str, Ranked], queries: Sequence[BlindQuery], qrels, ignore: str) -> dict[str, list[str]]:
    """Pooled hits (top 10) without a judgement, per query; off-topic queries and ids starting with
    `ignore` prefixes (the public distractors, which are not about the public sector) excepted."""
    missing = {}
    for query in queries:
        if query.kind == OFFTOPIC:
            continue
        judged = qrels.get(query.id, {})
        todo = [c for c in runs[query.id].ids if c not in judged and not c.startswith(tuple(ignore.split(",")))]
        if todo:
            missing[query.id] = todo
    return missing


def fit_logistic(scores: Sequence[float], labels: Sequence[int], steps: int = 50) -> tuple[float, float]:
    """(slope, intercept) of P(label = 1 | score) by Newton's method, with a tiny ridge for stability."""
    x, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float)
    design = np.column_stack([x, np.ones_like(x)])
    weights = np.zeros(2)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + 1e-4 * weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-4 * np.eye(2)
        weights -= np.linalg.solve(hessian, gradient)
    return round(float(weights[0]), 3), round(float(weights[1]), 3)


def logit(probability: float) -> float:
    """The final score behind a shown probability (for fitting on hits scored with calibration (1, 0))."""
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
