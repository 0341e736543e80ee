"""Ranking maths, kept apart from the engine so that each rule can be read and tested alone.

Pure functions over numpy arrays: no cases, files or models. The engine gathers the evidence (the
query's vectors, BM25 per case) and asks these how to order the cases and what score to show.

Every score here is absolute (cosine units), never a rank or a z-score within the list, so that the
same number means the same thing for every query and `match` can be a fixed band. Each rule was
chosen on the tune half of the blind queries (docs/evaluation.md), with and without 2,727 public
dilemmas mixed in; the test half was only ever reported:
- Semantic: a case scores the mean of two cosines: with its best passage (the moment of the case a
  query touches) and with the case as a whole (the normalised sum of its four core parts: the
  dilemma, the judgement, the reasoning and the situation, the last itself the normalised sum of its
  runs; every case has all four). The whole-case half keeps a terse case in the race against a rich
  one whose many passages give it many lucky draws.
- A story (several sentences or clauses) also scores each part on its own, averaged with the whole
  query; the model reads the story once, whole and each part in its place (use_m3_reading.py). Each
  part weighs its share of the story's content words (story_weights), so a fragment ("collega wil
  meenemen") or a bare question ("Mag ik dat?") does not count as much as the sentence that says
  what happened. The parts' cosines are divided by the norm of their weighted mean vector, which
  puts them on the whole query's scale (for parts that all pick the same passage the two are
  equal), so a story's score means what a short query's score means.
- Cross-lingual: a multilingual model scores a translation lower than the same text, so cases in the
  other language get the model's declared factor back.
- Lexical: BM25 evidence above the collection mean adds `weight × spread of the semantic scores ×
  its z-score`. All of it orders the list; in the shown score it counts only where the meaning is
  already plausible (a ramp from LEXICAL_FLOOR), so a shared word never turns an off-topic question
  into a strong match (`order`). BM25 can only see cases in the query's language; cases in the other
  language get the bonus of their same-language neighbours in meaning (IMPUTE_NEIGHBOURS), so a
  keyword match in one language does not bury a translation.
- Relevance: a logistic over the shown score (the lexical evidence gated and counted up to
  SHOWN_LEXICAL_CAP, and never below a hit listed beneath), fitted on judged hits and declared by
  the embedder, is the probability that the case answers the query; `match` bands it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from moresprudentie.search.store import VectorIndex
from moresprudentie.search.text import content_words

WHOLE_QUERY_WEIGHT = 0.3  # vs. the mean of its parts (measured: 0.1–0.3 beat 0.5 by 1–3 of 462 queries)
CORE_FIELDS = ("dilemma", "judgement", "reasoning")  # one passage each; the situation's runs are summed
LEXICAL_FLOOR = 0.15  # semantic score where BM25 starts to count (tune half: off-topic top hits lie below)
LEXICAL_RAMP = 0.05  # ... and where it counts in full
IMPUTE_NEIGHBOURS = 10
# The shown score counts lexical evidence up to this many standard deviations: beyond it a shared word
# still orders the list (among thousands of cases one rare word stands 20 sd out), but adds no confidence.
SHOWN_LEXICAL_CAP = 3.0
STRONG = 0.4  # calibrated relevance at or above which a hit is a strong match (docs/evaluation.md)
FAIR = 0.15
Band = Literal["strong", "fair", "weak"]
_GEOMETRY_CHUNK = 2048  # cases per chunk when summing core passages (bounded scratch memory at 100k)
CANDIDATES = 100  # cases scored by every passage: the best by meaning and the best with lexical evidence
CANDIDATE_SHARE = 0.01  # ... or this share of the collection, if more


def case_vectors(index: VectorIndex) -> np.ndarray:
    """Each case as a whole: the normalised sum of its dilemma, judgement, reasoning and situation
    (the situation itself the normalised sum of its runs), derived from the stored passage vectors
    (nothing is embedded again). One row per case, in index order, unit length."""
    fields = np.asarray(index.fields)
    situation = fields == "situation"
    core = np.isin(fields, CORE_FIELDS)
    matrix = np.empty((len(index.case_ids), index.dimension), dtype=np.float32)
    for first in range(0, len(matrix), _GEOMETRY_CHUNK):
        last = min(first + _GEOMETRY_CHUNK, len(matrix))
        rows = slice(int(index.starts[first]), int(index.starts[last]))
        offsets = index.starts[first:last] - index.starts[first]
        vectors = index.vectors[rows]
        runs = np.add.reduceat(np.where(situation[rows, None], vectors, 0.0), offsets, axis=0)
        runs /= np.maximum(np.linalg.norm(runs, axis=1, keepdims=True), 1e-6)
        matrix[first:last] = np.add.reduceat(np.where(core[rows, None], vectors, 0.0), offsets, axis=0) + runs
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-6)
    return matrix


@dataclass(frozen=True)
class Rows:
    """The passage rows of some cases, gathered: which rows, and where each case's rows start."""

    rows: np.ndarray
    starts: np.ndarray  # into `rows`; one per case, plus the end

    @classmethod
    def of(cls, index: VectorIndex, cases: np.ndarray) -> Rows:
        counts = index.starts[cases + 1] - index.starts[cases]
        starts = np.concatenate([[0], np.cumsum(counts)])
        rows = np.repeat(index.starts[cases] - starts[:-1], counts) + np.arange(starts[-1])
        return cls(rows, starts)


def semantic(whole_case: np.ndarray, cosines: np.ndarray, gathered: Rows) -> np.ndarray:
    """Per gathered case and query vector: the mean of its best passage cosine (`cosines`: gathered
    rows × query vectors) and its whole-case cosine (`whole_case`: cases × query vectors)."""
    best = np.maximum.reduceat(cosines, gathered.starts[:-1], axis=0)
    return ((best + whole_case) / 2).astype(np.float32)


def story_weights(parts: list[str]) -> np.ndarray:
    """How much each part of a story counts: its share of the story's content words, the words
    that are not stopwords in either language (they sum to 1; a part without any counts as one).

    Why: with equal weights a clause cut off a sentence ("omdat hij goedkoper is") counted as much
    as the sentence that says what happened (by all words, tune half: recall@5 0.927 → 0.951). A
    question such as "Mag ik het aannemen?" then still weighed four words, and it says nothing
    about the topic; it matches the dilemma of any case. By content words, measured on the tune
    half: recall@5 / MRR 0.926 / 0.830 → 0.944 / 0.836, with 2,727 distractors 0.864 / 0.789 →
    0.877 / 0.798, AUROC unchanged."""
    counts = np.array([max(len(content_words(part)), 1) for part in parts], dtype=np.float32)
    return counts / counts.sum()


def blend_story(scores: np.ndarray, weights: np.ndarray, part_norm: float) -> np.ndarray:
    """A story's score per case from its scores for the whole query (column 0) and each part: the
    whole blended with the parts' weighted mean (story_weights), put on the whole query's scale by
    the length of the parts' weighted mean vector."""
    if scores.shape[1] == 1:
        return scores[:, 0]
    per_part = (scores[:, 1:] @ weights) / max(part_norm, 1e-6)
    return (WHOLE_QUERY_WEIGHT * scores[:, 0] + (1 - WHOLE_QUERY_WEIGHT) * per_part).astype(np.float32)


def lexical_evidence(bm25: np.ndarray) -> np.ndarray:
    """BM25 above the collection mean, in standard deviations (0 where a case has no more than average)."""
    return np.maximum(zscore(bm25), 0.0) if bm25.any() else np.zeros_like(bm25)


def lexical_bonus(scores: np.ndarray, evidence: np.ndarray, same_language: np.ndarray) -> np.ndarray:
    """The lexical evidence that counts for these cases, two columns: all of it (it orders the
    list) and gated, ramped in by their semantic score (it shows confidence). A case BM25 cannot see
    (another language) gets, in each, the mean of its IMPUTE_NEIGHBOURS nearest same-language cases
    in semantic score."""
    bonus = np.stack([evidence, evidence * np.clip((scores - LEXICAL_FLOOR) / LEXICAL_RAMP, 0.0, 1.0)], axis=1)
    other = ~same_language
    if not other.any() or not same_language.any():
        return bonus
    by_score = np.argsort(scores[same_language], kind="stable")
    known, values = scores[same_language][by_score], bonus[same_language][by_score]
    sums = np.concatenate([np.zeros((1, 2)), np.cumsum(values, axis=0)])
    at = np.searchsorted(known, scores[other])
    low = np.clip(at - IMPUTE_NEIGHBOURS, 0, len(known))
    high = np.clip(at + IMPUTE_NEIGHBOURS, 0, len(known))
    bonus[other] = (sums[high] - sums[low]) / np.maximum(high - low, 1)[:, None]
    return bonus


def order(
    scores: np.ndarray, spread: float, evidence: np.ndarray, same_language: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best cases (indices into `scores`, best first) and the score to show for each.

    The order counts all the lexical evidence (`spread` × lexical_bonus, ungated): a rare word the
    query shares with a case orders the list even where the model's meaning is low, as for short
    Dutch keywords ("cadeau aannemen van een burger" found the two gift cases at #1 and #4, not #3
    and below #10; tune half: keywords recall@5 0.927 → 0.964, with distractors 0.855 → 0.873; test half,
    untouched: 0.925 → 0.943). The shown score counts it gated and capped, so a shared word adds
    no confidence to an off-topic question; and a hit never shows less than one listed beneath it,
    since the list is the engine's judgement of which is likelier to answer (off-topic questions
    keep their top score: they stay weak)."""
    ungated, gated = lexical_bonus(scores, evidence, same_language).T
    final = scores + spread * ungated
    shown = scores + spread * np.minimum(gated, SHOWN_LEXICAL_CAP)
    best = np.argsort(-final, kind="stable")[:k]
    return best, np.maximum.accumulate(shown[best][::-1])[::-1]


def best_passages(cosines: np.ndarray, gathered: Rows, cases: np.ndarray, weights: np.ndarray) -> list[int]:
    """Which passage of each of these gathered cases matches best (the whole query and, for a story,
    the weighted mean of its parts): the passage shown with the hit, counted from the case's first
    passage. The parts are blended once for all rows, not hit by hit."""
    blended = blend_story(cosines, weights, 1.0)  # the parts on their own scale, as before
    return [int(np.argmax(blended[gathered.starts[case] : gathered.starts[case + 1]])) for case in cases]


def candidates(allowed: np.ndarray, size: int, *scores: np.ndarray) -> np.ndarray:
    """The cases worth scoring passage by passage: every allowed case at or above the `size`-th best
    allowed value of any of the scores, in collection order (how they rank among themselves does not
    matter: each is scored again; a tie at the edge comes in whole).

    Why a threshold and not the `size` best by index: numpy finds the threshold (partition) in well
    under half the time it takes to find the indices (argpartition), and masks need no de-duplication.
    This step was the largest part of a query's own work (about 85 of 300 µs warm)."""
    if size >= np.count_nonzero(allowed):
        return np.flatnonzero(allowed)
    keep = np.zeros(len(allowed), dtype=bool)
    edge = len(allowed) - size
    for values in scores:
        values = np.where(allowed, values, -np.inf)
        keep |= values >= np.partition(values, edge)[edge]
    return np.flatnonzero(keep)


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
