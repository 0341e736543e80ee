"""ranking.py alone: the whole-case cosine, a story's scale, the lexical gate and imputation, the bands.

Each test pins one rule the engine relies on, with arrays small enough to check by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from moresprudentie.search import ranking
from moresprudentie.search.store import VectorIndex


def unit(*rows: list[float]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def index(fields_per_case: list[list[str]], vectors: np.ndarray) -> VectorIndex:
    counts = [len(fields) for fields in fields_per_case]
    return VectorIndex(
        model_id="test",
        dimension=vectors.shape[1],
        case_ids=tuple(f"case-{i}" for i in range(len(counts))),
        hashes=tuple("0" * 64 for _ in counts),
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        fields=tuple(field for fields in fields_per_case for field in fields),
        vectors=vectors,
    )


CORE = ["dilemma", "situation", "judgement", "reasoning"]


def test_a_case_as_a_whole_is_the_normalised_sum_of_its_core_parts() -> None:
    """Dilemma, judgement and reasoning count once each; a situation in runs counts as one unit
    vector (the normalised sum of its runs); lessons count only as passages."""
    rng = np.random.default_rng(1)
    vectors = unit(*rng.normal(size=(10, 8)).tolist())
    idx = index([["dilemma", "situation", "situation", "judgement", "reasoning", "lessons"], CORE], vectors)
    matrix = ranking.case_vectors(idx)
    situation = vectors[1] + vectors[2]
    whole = vectors[0] + situation / np.linalg.norm(situation) + vectors[3] + vectors[4]
    np.testing.assert_allclose(matrix[0], whole / np.linalg.norm(whole), atol=1e-5)
    np.testing.assert_allclose(matrix[1], vectors[6:].sum(axis=0) / np.linalg.norm(vectors[6:].sum(axis=0)), atol=1e-5)


def test_more_passages_do_not_change_the_case_as_a_whole() -> None:
    """A rich case's extra lessons count for its best passage, never for its whole-case vector."""
    core = unit([1, 0, 0], [1, 0.1, 0], [1, 0, 0.1], [1, 0.1, 0.1])
    lessons = unit([0, 1, 0], [0, 0, 1])
    idx = index([CORE, [*CORE, "lessons", "lessons"]], np.vstack([core, core, lessons]))
    matrix = ranking.case_vectors(idx)
    np.testing.assert_allclose(matrix[0], matrix[1], atol=1e-6)


def test_semantic_is_the_mean_of_best_passage_and_whole_case() -> None:
    idx = index([CORE, ["dilemma", "situation", "judgement", "reasoning", "lessons"]], unit(*np.eye(9)[:, :9].tolist()))
    gathered = ranking.Rows.of(idx, np.array([1]))
    assert gathered.rows.tolist() == [4, 5, 6, 7, 8] and gathered.starts.tolist() == [0, 5]
    query = np.eye(9, dtype=np.float32)[8:9]  # exactly the lesson of case 1
    cosines = idx.vectors[gathered.rows] @ query.T
    whole_case = ranking.case_vectors(idx)[[1]] @ query.T
    assert ranking.semantic(whole_case, cosines, gathered)[0, 0] == pytest.approx(0.5)  # (1 + 0) / 2
    assert ranking.best_passages(cosines, gathered, np.array([0]), np.zeros(0)) == [4]  # the lesson, fifth passage


def test_a_story_whose_parts_are_alike_scores_as_the_whole_query() -> None:
    """Dividing the parts' mean by the length of their mean vector puts a story on a short query's scale."""
    part = unit([1, 0.2, 0])[0]
    parts = np.vstack([part, part])
    scores = np.array([[0.4, 0.4, 0.4]], dtype=np.float32)  # whole query, then both parts
    halves = np.array([0.5, 0.5], dtype=np.float32)
    assert ranking.blend_story(scores, halves, float(np.linalg.norm(parts.mean(axis=0))))[0] == pytest.approx(0.4)
    spread = unit([1, 0, 0], [0, 1, 0])
    norm = float(np.linalg.norm(spread.mean(axis=0)))  # ~0.71: parts that point apart
    assert ranking.blend_story(np.array([[0.3, 0.2, 0.2]], dtype=np.float32), halves, norm)[0] > 0.25


def test_a_story_part_counts_by_its_share_of_the_content_words() -> None:
    """A clause cut off a sentence, or a bare question, must not weigh as much as the sentence that
    says what happened: stopwords of either language do not count."""
    weights = ranking.story_weights(
        ["de inschrijving kwam tien minuten na de deadline binnen,", "omdat hij goedkoper is."]
    )
    assert weights.tolist() == pytest.approx([6 / 7, 1 / 7])
    question = ranking.story_weights(
        ["Een inwoner brengt mij een cadeau als dank voor mijn hulp.", "Mag ik het aannemen?"]
    )
    assert question.tolist() == pytest.approx([5 / 7, 2 / 7])  # "mag", "aannemen"; by all words it was 4 of 15
    assert ranking.story_weights(["Is het zo?", "Of niet?"]).tolist() == [0.5, 0.5]  # no content words: each counts one
    scores = np.array([[0.3, 0.5, 0.0]], dtype=np.float32)  # the case answers the long part, not the fragment
    story = ranking.blend_story(scores, weights, 1.0)[0]
    assert story == pytest.approx(0.3 * 0.3 + 0.7 * 0.5 * 6 / 7)
    assert story > ranking.blend_story(scores, np.array([0.5, 0.5], dtype=np.float32), 1.0)[0]
    cosines = np.array([[0.1, 0.0, 0.4], [0.1, 0.3, 0.0]], dtype=np.float32)  # passage 2 answers the long part
    assert ranking.best_passages(cosines, ranking.Rows(np.arange(2), np.array([0, 2])), np.array([0]), weights) == [1]


def test_lexical_evidence_counts_only_where_the_meaning_is_plausible() -> None:
    scores = np.array([0.05, ranking.LEXICAL_FLOOR + ranking.LEXICAL_RAMP / 2, 0.5], dtype=np.float32)
    evidence = np.array([5.0, 5.0, 5.0], dtype=np.float32)
    bonus = ranking.lexical_bonus(scores, evidence, np.ones(3, dtype=bool))
    assert bonus[:, 1].tolist() == pytest.approx([0.0, 2.5, 5.0])  # gated: what the shown score counts
    assert bonus[:, 0].tolist() == [5.0, 5.0, 5.0]  # all of it: what orders the list


def test_all_lexical_evidence_orders_the_list_but_only_plausible_meaning_shows_confidence() -> None:
    """A short Dutch keyword query can share its rare word with the right case while the model's
    meaning stays low: the word orders the list, it does not make the hit look strong."""
    scores = np.array([0.05, 0.30, 0.20], dtype=np.float32)  # case 0 is below LEXICAL_FLOOR
    evidence = np.array([10.0, 0.0, 0.0], dtype=np.float32)
    same = np.ones(3, dtype=bool)
    best, shown = ranking.order(scores, 0.05, evidence, same, k=3)
    assert best.tolist() == [0, 1, 2]  # 0.05 + 0.05 × 10 beats 0.30
    assert shown.tolist() == pytest.approx([0.30, 0.30, 0.20])  # no word bonus shown; never below #2
    best, shown = ranking.order(scores, 0.05, evidence, same, k=1)
    assert best.tolist() == [0] and shown.tolist() == pytest.approx([0.05])  # only what it shows itself


def test_the_shown_score_caps_the_lexical_evidence_but_the_order_does_not() -> None:
    scores = np.array([0.50, 0.52], dtype=np.float32)
    evidence = np.array([20.0, 0.0], dtype=np.float32)  # one rare word stands 20 sd out
    best, shown = ranking.order(scores, 0.01, evidence, np.ones(2, dtype=bool), k=2)
    assert best.tolist() == [0, 1]  # 0.50 + 0.01 × 20
    assert shown.tolist() == pytest.approx([0.50 + 0.01 * ranking.SHOWN_LEXICAL_CAP, 0.52])


def test_a_case_in_the_other_language_gets_the_bonus_of_its_neighbours_in_meaning() -> None:
    """BM25 cannot see a translation; it should not be buried under same-language word matches."""
    scores = np.array([0.50, 0.49, 0.48, 0.20, 0.49], dtype=np.float32)
    evidence = np.array([4.0, 4.0, 4.0, 0.0, 0.0], dtype=np.float32)
    same = np.array([True, True, True, True, False])
    bonus = ranking.lexical_bonus(scores, evidence, same)
    assert (bonus[4] > 2.0).all()  # its neighbours at ~0.49 all had 4 sd of lexical evidence
    assert bonus[:4, 1].tolist() == pytest.approx([4.0, 4.0, 4.0, 0.0])
    assert bonus[:4, 0].tolist() == pytest.approx([4.0, 4.0, 4.0, 0.0])


def test_candidates_are_the_best_allowed_cases_by_any_score_in_collection_order() -> None:
    """The second stage scores the best few by meaning and the best few with lexical evidence; a
    filtered-out case never comes in, however well it scores, and a tie at the edge comes in whole."""
    allowed = np.array([True, True, False, True, True, True])
    meaning = np.array([0.9, 0.1, 5.0, 0.5, 0.2, 0.8], dtype=np.float32)
    lexical = np.array([0.0, 3.0, 9.0, 0.0, 0.1, 0.0], dtype=np.float32)
    assert ranking.candidates(allowed, 2, meaning, lexical).tolist() == [0, 1, 4, 5]
    assert ranking.candidates(allowed, 3, lexical).tolist() == [0, 1, 3, 4, 5]  # 0.0 three times at the edge
    assert ranking.candidates(allowed, 5, meaning).tolist() == [0, 1, 3, 4, 5]  # no more to choose from
    assert ranking.candidates(np.zeros(6, dtype=bool), 2, meaning).tolist() == []


def test_relevance_is_a_logistic_and_the_bands_follow_it() -> None:
    assert ranking.relevance(0.0, (10.0, 0.0)) == 0.5
    assert ranking.relevance(1.0, (10.0, -5.0)) > ranking.relevance(0.2, (10.0, -5.0))
    assert [ranking.band(p) for p in (0.9, ranking.STRONG, ranking.FAIR, ranking.FAIR - 0.01, 0.0)] == [
        "strong",
        "strong",
        "fair",
        "weak",
        "weak",
    ]


def test_lexical_evidence_is_zero_without_any_bm25() -> None:
    assert ranking.lexical_evidence(np.zeros(4, dtype=np.float32)).tolist() == [0.0] * 4
    assert ranking.lexical_evidence(np.array([0.0, 0.0, 0.0, 3.0], dtype=np.float32))[3] > 1.5
