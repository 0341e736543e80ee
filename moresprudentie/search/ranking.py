"""Ranking maths, kept apart from the engine so that each rule can be read and tested alone.

Pure functions over numpy arrays: no cases, files or models. The engine gathers the evidence (the
query's vectors, BM25 per case) and asks these how to order the cases and what score to show.

Every score here is absolute (cosine units), never a rank or a z-score within the list, so that the
same number means the same thing for every query and `match` can be a fixed band. Each rule was
chosen on the tune half of the blind queries (docs/evaluation.md), with and without 2,727 public
dilemmas mixed in; the test half was only ever reported:
- Semantic: a case scores the mean of two cosines: with its best passage (the moment of the case a
  query touches) and with the case as a whole (the normalised mean of its four core passages:
  situation, dilemma, judgement, reasoning, which every case has). The whole-case half keeps a terse
  case in the race against a rich one whose many passages give it many lucky draws.
- A story (several sentences or clauses) also scores each part on its own, averaged with the whole
  query. The parts' cosines are divided by the norm of their mean vector, which puts them on the
  whole query's scale (for parts that all pick the same passage the two are equal), so a story's
  score means what a short query's score means.
- Cross-lingual: a multilingual model scores a translation lower than the same text, so cases in the
  other language get the model's declared factor back.
- Lexical: BM25 evidence above the collection mean adds `weight × spread of the semantic scores ×
  its z-score`. It counts only where the meaning is already plausible (a ramp from LEXICAL_FLOOR), so
  a shared word never turns an off-topic question into a strong match. BM25 can only see cases in
  the query's language; cases in the other language get the bonus of their same-language neighbours
  in meaning (IMPUTE_NEIGHBOURS), so a keyword match in one language does not bury a translation.
- Relevance: a logistic over the final score (with the lexical evidence counted up to
  SHOWN_LEXICAL_CAP), fitted on judged hits and declared by the embedder, is the probability that the
  case answers the query; `match` bands it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from moresprudentie.search.store import VectorIndex

WHOLE_QUERY_WEIGHT = 0.3  # vs. the mean of its parts (measured: 0.1–0.3 beat 0.5 by 1–3 of 462 queries)
CORE_FIELDS = ("dilemma", "judgement", "reasoning")  # plus the situation's first (whole) passage
LEXICAL_FLOOR = 0.15  # semantic score where BM25 starts to count (tune half: off-topic top hits lie below)
LEXICAL_RAMP = 0.05  # ... and where it counts in full
IMPUTE_NEIGHBOURS = 10
# The shown score counts lexical evidence up to this many standard deviations: beyond it a shared word
# still orders the list (among thousands of cases one rare word stands 20 sd out), but adds no confidence.
SHOWN_LEXICAL_CAP = 3.0
STRONG = 0.4  # calibrated relevance at or above which a hit is a strong match (docs/evaluation.md)
FAIR = 0.15
Band = Literal["strong", "fair", "weak"]
_GEOMETRY_CHUNK = 8192  # cases per chunk when summing core passages (bounded scratch memory at 100k)


@dataclass(frozen=True, eq=False)
class CaseGeometry:
    """What the whole-case cosine needs, derived once per index: which rows are core passages, and
    the length of the sum of each case's core vectors (so cos(q, case) = Σ core cosines / length)."""

    core: np.ndarray  # bool per vector row
    norms: np.ndarray  # float32 per case


def case_geometry(index: VectorIndex) -> CaseGeometry:
    fields = np.asarray(index.fields)
    core = np.isin(fields, CORE_FIELDS)
    core[index.starts[:-1] + 1] = True  # the whole situation: always the passage after the dilemma
    norms = np.empty(len(index.case_ids), dtype=np.float32)
    for first in range(0, len(norms), _GEOMETRY_CHUNK):
        last = min(first + _GEOMETRY_CHUNK, len(norms))
        rows = slice(int(index.starts[first]), int(index.starts[last]))
        masked = np.where(core[rows, None], index.vectors[rows], 0.0)
        sums = np.add.reduceat(masked, index.starts[first:last] - index.starts[first], axis=0)
        norms[first:last] = np.linalg.norm(sums, axis=1)
    return CaseGeometry(core, np.maximum(norms, 1e-6))


def semantic(cosines: np.ndarray, starts: np.ndarray, geometry: CaseGeometry) -> np.ndarray:
    """Per case: the mean of its best passage cosine and its whole-case cosine (one query vector)."""
    best = np.maximum.reduceat(cosines, starts[:-1])
    whole_case = np.add.reduceat(np.where(geometry.core, cosines, 0.0), starts[:-1]) / geometry.norms
    return ((best + whole_case) / 2).astype(np.float32)


def story_semantic(
    index: VectorIndex,
    geometry: CaseGeometry,
    whole: np.ndarray,
    parts: np.ndarray,
    part_norm: float,
    cases: np.ndarray,
) -> np.ndarray:
    """The semantic score of some cases for a story: the whole query's score (`whole`, per case)
    blended with the mean over its parts of each part's score, on the whole query's scale."""
    spans = [index.rows(int(position)) for position in cases]
    rows = np.concatenate([np.arange(span.start, span.stop) for span in spans])
    starts = np.append(np.cumsum([0] + [span.stop - span.start for span in spans[:-1]]), len(rows))
    cosines = index.vectors[rows] @ parts.T  # (rows, parts)
    best = np.maximum.reduceat(cosines, starts[:-1], axis=0)
    core = np.where(geometry.core[rows, None], cosines, 0.0)
    whole_case = np.add.reduceat(core, starts[:-1], axis=0) / geometry.norms[cases, None]
    per_part = ((best + whole_case) / 2).mean(axis=1) / max(part_norm, 1e-6)
    return (WHOLE_QUERY_WEIGHT * whole[cases] + (1 - WHOLE_QUERY_WEIGHT) * per_part).astype(np.float32)


def lexical_evidence(bm25: np.ndarray) -> np.ndarray:
    """BM25 above the collection mean, in standard deviations (0 where a case has no more than average)."""
    return np.maximum(zscore(bm25), 0.0) if bm25.any() else np.zeros_like(bm25)


def lexical_bonus(scores: np.ndarray, evidence: np.ndarray, same_language: np.ndarray) -> np.ndarray:
    """The lexical evidence that counts for these cases: ramped in by their semantic score, and for
    cases BM25 cannot see (another language) the mean of their IMPUTE_NEIGHBOURS nearest same-language
    cases in semantic score."""
    bonus = evidence * np.clip((scores - LEXICAL_FLOOR) / LEXICAL_RAMP, 0.0, 1.0)
    other = ~same_language
    if not other.any() or not same_language.any():
        return bonus
    order = np.argsort(scores[same_language], kind="stable")
    known, values = scores[same_language][order], bonus[same_language][order]
    sums = np.concatenate([[0.0], np.cumsum(values)])
    at = np.searchsorted(known, scores[other])
    low = np.clip(at - IMPUTE_NEIGHBOURS, 0, len(known))
    high = np.clip(at + IMPUTE_NEIGHBOURS, 0, len(known))
    bonus = bonus.copy()
    bonus[other] = (sums[high] - sums[low]) / np.maximum(high - low, 1)
    return bonus


def passage_scores(index: VectorIndex, whole: np.ndarray, parts: np.ndarray, position: int) -> np.ndarray:
    """Per passage of one case, how well it matches: to pick the passage shown with the hit."""
    rows = index.rows(position)
    if not len(parts):
        return whole[rows]
    mean_part = (index.vectors[rows] @ parts.T).mean(axis=1)
    return WHOLE_QUERY_WEIGHT * whole[rows] + (1 - WHOLE_QUERY_WEIGHT) * mean_part


def top(candidates: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """The k best candidates by score, best first (ties keep collection order)."""
    k = min(k, len(candidates))
    if k == 0:
        return candidates[:0]
    best = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    return best[np.argsort(-scores[best], kind="stable")]


def zscore(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    std = float(values.std())
    return (values - float(values.mean())) / (std if std > 1e-9 else 1.0)


def relevance(score: float, calibration: tuple[float, float]) -> float:
    """The probability that a case with this final score answers the query: a logistic fitted on
    judged hits, (slope, intercept) as the embedder declares them."""
    slope, intercept = calibration
    return round(1.0 / (1.0 + math.exp(-(slope * score + intercept))), 4)


def band(probability: float) -> Band:
    """What people read: a strong, fair or weak match (thresholds in docs/evaluation.md)."""
    return "strong" if probability >= STRONG else "fair" if probability >= FAIR else "weak"
