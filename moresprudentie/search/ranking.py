"""Ranking maths, kept apart from the engine so that each rule can be read and tested alone.

Pure functions over numpy arrays: no cases, files or models. The engine gathers the evidence (the
query's vectors, BM25 per case) and asks these how to order the cases and what score to show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from moresprudentie.search.store import VectorIndex

WHOLE_QUERY_WEIGHT = 0.3  # vs. the mean of its parts (measured: 0.1–0.3 beat 0.5 by 1–3 of 462 queries)


@dataclass(frozen=True)
class Fused:
    """Semantic and BM25 evidence as one score per case.

    The semantic score is a z-score over the collection (so neither signal dominates by scale); BM25
    only adds evidence above the collection mean (its z-score, floored at 0), times a weight."""

    scores: np.ndarray
    bonus: np.ndarray  # the BM25 part of each case's score
    mean: float  # of the semantic scores over the collection
    std: float

    def rescore(self, positions: np.ndarray, semantic: np.ndarray) -> None:
        """Put better semantic evidence for a few cases (a story's sentences) on the same scale."""
        self.scores[positions] = (semantic - self.mean) / self.std + self.bonus[positions]


def fuse(semantic: np.ndarray, lexical: np.ndarray, lexical_weight: float) -> Fused:
    """The fused score of every case, from its semantic score and its BM25 score."""
    mean, std = float(semantic.mean()), max(float(semantic.std()), 1e-9)
    bonus = np.zeros_like(semantic)
    if lexical.any():
        bonus = lexical_weight * np.maximum(zscore(lexical), 0.0)
    return Fused((semantic - mean) / std + bonus, bonus, mean, std)


def best_per_case(scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each case's best passage score (cases own the rows starts[i]:starts[i+1])."""
    return np.maximum.reduceat(scores, starts[:-1])


def sentence_blend(vectors: VectorIndex, whole: np.ndarray, sentences: np.ndarray, cases: np.ndarray) -> np.ndarray:
    """Per case: its best cosine with the whole query, averaged with the mean over the query's
    sentences of each sentence's best cosine in the case."""
    spans = [vectors.rows(int(position)) for position in cases]
    rows = np.concatenate([np.arange(span.start, span.stop) for span in spans])
    starts = np.cumsum([0] + [span.stop - span.start for span in spans[:-1]])
    per_sentence = np.maximum.reduceat(vectors.vectors[rows] @ sentences.T, starts, axis=0).mean(axis=1)
    best_whole = np.maximum.reduceat(whole[rows], starts)
    return WHOLE_QUERY_WEIGHT * best_whole + (1 - WHOLE_QUERY_WEIGHT) * per_sentence


def passage_scores(vectors: VectorIndex, whole: np.ndarray, sentences: np.ndarray, position: int) -> np.ndarray:
    """Per passage of one case, how well it matches: to pick the passage shown with the hit."""
    rows = vectors.rows(position)
    if not len(sentences):
        return whole[rows]
    mean_sentence = (vectors.vectors[rows] @ sentences.T).mean(axis=1)
    return WHOLE_QUERY_WEIGHT * whole[rows] + (1 - WHOLE_QUERY_WEIGHT) * mean_sentence


def top(candidates: np.ndarray, fused: np.ndarray, k: int) -> np.ndarray:
    """The k best candidates by fused score, best first (ties keep collection order)."""
    k = min(k, len(candidates))
    if k == 0:
        return candidates[:0]
    top = candidates[np.argpartition(-fused[candidates], k - 1)[:k]]
    return top[np.argsort(-fused[top], kind="stable")]


def zscore(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    std = float(values.std())
    return (values - float(values.mean())) / (std if std > 1e-9 else 1.0)


def display_score(fused: float) -> float:
    """A score in [0, 1] for people: a logistic over the fused z-score (3 sd above the rest ≈ 0.73)."""
    return round(1.0 / (1.0 + math.exp(-(fused - 2.0))), 4)
