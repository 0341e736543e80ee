"""Search over a case collection: filters first, then every allowed case ranked, top k returned.

The engine gathers the evidence and holds the collection; how the evidence becomes an order and a
score is search/ranking.py (each rule with its reason and the figure that chose it, measured with
scripts/evaluate.py's blind protocol; docs/evaluation.md). In short: one whole-case vector per case
for every case, then every passage and a story's parts for the best candidates; BM25 per language,
counted only where the meaning is plausible and imputed for translations; a calibrated score with a
match band. Filters (themes, values, organisation, method, language, dates, drafts) are applied
before the top k are taken, so a filtered query still returns k hits when k cases pass.

A SearchEngine is shared read-only between threads: all its data lives in one immutable snapshot,
and refresh() builds a new snapshot and swaps it in with one assignment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moresprudentie import settings
from moresprudentie.cases.collection import FileState, collection_fingerprint, read_collection
from moresprudentie.cases.loading import Problem
from moresprudentie.cases.model import Case
from moresprudentie.errors import CaseNotFoundError
from moresprudentie.search import ranking
from moresprudentie.search.embedders import Embedder, embed_story, load_embedder
from moresprudentie.search.filters import Filters
from moresprudentie.search.lexical import LexicalIndex, TokenCache
from moresprudentie.search.passages import case_passages, embedding_text, passage_at
from moresprudentie.search.sync import IndexReport, VectorIndex, sync_index
from moresprudentie.search.text import LANGUAGES, content_words, detect_language, language_model, query_spans

# Fusion weights, measured on the tuning queries with and without distractors: recall@5 moves by at
# most 0.01 for 0.4–0.8 (short) and 0.05–0.15 (long); with distractors MRR@10 peaks at 0.1 (long).
LEXICAL_WEIGHT_SHORT = 0.6  # a search-box query of up to 7 words: exact words matter
LEXICAL_WEIGHT_LONG = 0.1  # a story of a few sentences: meaning matters more than shared words
SHORT_QUERY_WORDS = 8
# More-like-this compares the moral core, not the facts of the story: with these fields the
# cases' own `related:` links come back in the top 5 for 27% of pairs, with every passage 17%.
MORAL_CORE_FIELDS = frozenset({"dilemma", "judgement", "reasoning", "lessons"})
_NO_PARTS = np.zeros(0, dtype=np.float32)  # the part weights of a query that is not a story


@dataclass(frozen=True)
class Match:
    """The passage that matched best: its field name and its text."""

    field: str
    text: str


@dataclass(frozen=True)
class Hit:
    """One result: the case, how likely it answers the query and why it matched.

    `score` is a calibrated relevance in [0, 1] that means the same for every query (not a rank in
    the list); `match` bands it for people: "strong", "fair" or "weak" (ranking.band)."""

    case: Case
    score: float
    match: ranking.Band
    matched: Match


@dataclass(frozen=True, eq=False)
class _Snapshot:
    """Everything a search reads, built once and never changed (threads share it without locks)."""

    cases: dict[str, Case]
    problems: list[Problem]
    ordered: tuple[Case, ...]  # in index order (by id)
    position: dict[str, int]
    vectors: VectorIndex
    lexical: LexicalIndex
    published: np.ndarray  # bool per case position
    in_language: dict[str, np.ndarray]  # per language: which case positions are written in it
    report: IndexReport
    files: dict[str, FileState]  # by file name
    case_vectors: np.ndarray  # one unit vector per case (ranking.case_vectors), in index order


class SearchEngine:
    """A case collection with its index, ready to search. Create it with SearchEngine.open()."""

    def __init__(
        self, cases_dir: Path, index_dir: Path, embedder: Embedder, progress: bool = False, rebuild: bool = False
    ) -> None:
        self.cases_dir = cases_dir
        self.index_dir = index_dir
        self.embedder = embedder
        self._progress = progress
        self._refresh_lock = threading.Lock()
        self._tokens = TokenCache()  # written only while holding _refresh_lock (or in __init__)
        language_model()  # loaded now, once per process, not in the first keyword search
        self._snapshot = self._load(None, rebuild=rebuild)

    @classmethod
    def open(
        cls,
        cases_dir: Path | str | None = None,
        index_dir: Path | str | None = None,
        embedder: Embedder | None = None,
        model: str | None = None,
        progress: bool = False,
        rebuild: bool = False,
    ) -> SearchEngine:
        """Load the cases and bring the index up to date (built, updated or repaired as needed)."""
        folder = settings.cases_dir(cases_dir)
        return cls(folder, settings.index_dir(folder, index_dir), embedder or load_embedder(model), progress, rebuild)

    @property
    def cases(self) -> dict[str, Case]:
        """All valid cases by id, drafts included."""
        return self._snapshot.cases

    @property
    def problems(self) -> list[Problem]:
        """Everything wrong or doubtful in the case files (invalid files are left out of the search)."""
        return self._snapshot.problems

    @property
    def report(self) -> IndexReport:
        """What the last open/refresh did to the index (added, changed, removed, rebuilt)."""
        return self._snapshot.report

    def refresh(self) -> None:
        """Re-read the case folder and update the index (only new or changed cases are embedded).

        Searches running meanwhile keep using the previous snapshot; the new one is swapped in whole.
        """
        with self._refresh_lock:
            self._snapshot = self._load(self._snapshot, rebuild=False)

    def is_stale(self) -> bool:
        """Whether the case files changed on disk since the current snapshot read them: a file added,
        removed, written or replaced, by this process or any other (the CLI, another app process, a
        `git pull`).

        Why: refresh() only runs when asked, so a long-running app asks this every few seconds and
        refreshes only when it says yes. It reads no YAML and embeds nothing: one folder scan and one
        stat per file, compared with the stat keys the snapshot was read with (collection_fingerprint).
        """
        files = self._snapshot.files
        current = collection_fingerprint(self.cases_dir)
        return len(current) != len(files) or any(
            (state := files.get(name)) is None or state.key != key for name, key in current.items()
        )

    def _load(self, previous: _Snapshot | None, rebuild: bool) -> _Snapshot:
        """A new snapshot, reusing from `previous` every file, vector and token list that did not change."""
        result, files = read_collection(self.cases_dir, previous.files if previous else {})
        vectors, report = sync_index(
            self.index_dir,
            result.cases,
            result.hashes,
            self.embedder,
            rebuild=rebuild,
            progress=self._progress,
            current=previous.vectors if previous else None,
        )
        ordered = tuple(result.cases[cid] for cid in vectors.case_ids)
        return _Snapshot(
            cases=result.cases,
            problems=result.problems,
            ordered=ordered,
            position={case.id: i for i, case in enumerate(ordered)},
            vectors=vectors,
            lexical=previous.lexical  # the same cases as before: nothing to re-count
            if previous is not None and previous.vectors is vectors
            else LexicalIndex(ordered, vectors.hashes, self._tokens),
            published=np.array([case.is_published for case in ordered], dtype=bool),
            in_language=_in_language(ordered),
            report=report,
            files=files,
            case_vectors=previous.case_vectors
            if previous is not None and previous.vectors is vectors
            else ranking.case_vectors(vectors),
        )

    # -- queries ---------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The k cases that best fit a free-text query (Dutch or English), best first; none for a
        query without a content word ("?!?!", "wat nu"), which asks nothing a case could answer."""
        query = query.strip()
        snap = self._snapshot
        allowed = _allowed(snap, filters or Filters())
        if not content_words(query) or k <= 0 or not allowed.any():
            return []
        language = detect_language(query)
        short = len(query.split()) < SHORT_QUERY_WORDS
        vectors, weights, part_norm = self._query_vectors(query)
        evidence = _Evidence(
            vectors=vectors,
            part_weights=weights,
            language=language,
            lexical=snap.lexical.scores(query, language),
            lexical_weight=LEXICAL_WEIGHT_SHORT if short else LEXICAL_WEIGHT_LONG,
            part_norm=part_norm,
        )
        return self._rank(snap, evidence, allowed, k)

    def _query_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray, float]:
        """The query's vector, then (for a story) those of its parts, with how much each part counts
        (ranking.story_weights) and the length of the parts' weighted mean.

        A story's vector is the model's reading of the whole story, not a mean of its parts: it
        carries what no single sentence says (measured on the tune half, docs/evaluation.md)."""
        spans = query_spans(query)
        if len(spans) < 2:
            return self.embedder.embed([query]), _NO_PARTS, 1.0
        vectors = embed_story(self.embedder, query, spans)
        weights = ranking.story_weights([query[start:end] for start, end in spans])
        norm = max(float(np.linalg.norm(weights @ vectors[1:])), 1e-12)
        return vectors, weights, norm

    def similar(self, case_id: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """More like this: the k cases whose moral core (dilemma, judgement, reasoning, lessons) is
        closest to that of a given case (never the case itself)."""
        snap = self._snapshot
        position = snap.position.get(case_id)
        if position is None:
            raise CaseNotFoundError(
                f"no case '{case_id}' in {self.cases_dir}; check the id (the file name without .yaml)"
            )
        allowed = _allowed(snap, filters or Filters()).copy()
        allowed[position] = False
        if k <= 0 or not allowed.any():
            return []
        rows = snap.vectors.rows(position)
        core = [row for row in range(rows.start, rows.stop) if snap.vectors.fields[row] in MORAL_CORE_FIELDS]
        return self._like(snap, snap.ordered[position], snap.vectors.vectors[core], allowed, k)

    def field_vectors(self, fields: tuple[str, ...]) -> tuple[tuple[Case, ...], np.ndarray]:
        """Every indexed case (drafts too, in index order) with its vector of each field that has one
        passage per case (dilemma, judgement, reasoning), shape (fields, cases, dimension): the
        near-duplicate check compares a draft with each case field by field (search/duplicates.py)."""
        snap = self._snapshot
        names = np.asarray(snap.vectors.fields)
        rows = [np.flatnonzero(names == field) for field in fields]
        if any(len(found) != len(snap.ordered) for found in rows):
            raise ValueError(f"not one passage per case for each of {fields}")
        return snap.ordered, np.stack([snap.vectors.vectors[found] for found in rows])

    def similar_to(self, case: Case, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """More like this for a case as written, indexed or not (a draft in the form): its moral core
        embedded now the way the index embeds it, scored as similar() scores (never the case's own id)."""
        snap = self._snapshot
        allowed = _allowed(snap, filters or Filters()).copy()
        if case.id in snap.position:
            allowed[snap.position[case.id]] = False
        if k <= 0 or not allowed.any():
            return []
        core = [embedding_text(case, p) for p in case_passages(case) if p.field in MORAL_CORE_FIELDS]
        return self._like(snap, case, self.embedder.embed(core), allowed, k)

    def _like(self, snap: _Snapshot, case: Case, core: np.ndarray, allowed: np.ndarray, k: int) -> list[Hit]:
        """The k allowed cases closest to a case's moral-core passage vectors (their normalised mean)."""
        centroid = core.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        evidence = _Evidence(
            vectors=centroid[None, :],
            language=case.language,
            lexical=snap.lexical.scores(f"{case.title}\n{case.dilemma}", case.language),
            lexical_weight=LEXICAL_WEIGHT_LONG,
            part_weights=_NO_PARTS,
        )
        return self._rank(snap, evidence, allowed, k)

    def _rank(self, snap: _Snapshot, evidence: _Evidence, allowed: np.ndarray, k: int) -> list[Hit]:
        """Score every allowed case in two stages and return the top k.

        First every case by its whole-case vector (one per case: the cost of the plain baseline's
        search) with its lexical evidence beside it; then the candidates (the best by meaning and
        the best with the lexical bonus, CANDIDATES or CANDIDATE_SHARE of the collection each) by
        every passage and, for a story, every part, with the lexical bonus imputed for translations
        (ranking.order: all of it orders, gated it shows). A case outside both lists cannot reach
        the top k (measured: the same quality as scoring every passage of every case), and a query
        reads one row per case, not one per passage."""
        queries = evidence.vectors  # the whole query first, then a story's parts
        same = snap.in_language[evidence.language] if evidence.language else np.ones(len(snap.ordered), bool)
        scale = np.where(same, np.float32(1.0), np.float32(self.embedder.cross_lingual_scale))
        whole_case = (snap.case_vectors @ queries[0]) * scale
        spread = evidence.lexical_weight * float(whole_case.std())
        lexical = ranking.lexical_evidence(evidence.lexical)
        size = max(k, ranking.CANDIDATES, int(ranking.CANDIDATE_SHARE * np.count_nonzero(allowed)))
        candidates = ranking.candidates(allowed, size, whole_case, whole_case + spread * lexical)
        gathered = ranking.Rows.of(snap.vectors, candidates)
        cosines = snap.vectors.vectors[gathered.rows] @ queries.T
        semantic = ranking.semantic(snap.case_vectors[candidates] @ queries.T, cosines, gathered)
        scores = ranking.blend_story(semantic, evidence.part_weights, evidence.part_norm) * scale[candidates]
        best, shown = ranking.order(scores, spread, lexical[candidates], same[candidates], k)
        passages = ranking.best_passages(cosines, gathered, best, evidence.part_weights)
        return [
            self._hit(snap, int(candidates[i]), passage, float(value))
            for i, passage, value in zip(best, passages, shown, strict=True)
        ]

    def _hit(self, snap: _Snapshot, position: int, passage_number: int, shown: float) -> Hit:
        """The hit with its calibrated relevance and best passage (taken from the case again by the
        field the index records for its row: cheaper than keeping every passage)."""
        case = snap.ordered[position]
        first = int(snap.vectors.starts[position])
        fields = snap.vectors.fields
        row = first + passage_number
        passage = passage_at(case, fields[row], row - fields.index(fields[row], first))
        probability = ranking.relevance(shown, self.embedder.relevance_calibration)
        return Hit(case, probability, ranking.band(probability), Match(passage.field, passage.text))


@dataclass(frozen=True)
class _Evidence:
    """What a query (or a case, for more-like-this) brings to the ranking."""

    vectors: np.ndarray  # (1 + parts, dimension): the whole text first, then its parts if a story
    language: str | None
    lexical: np.ndarray  # BM25 per case position, 0 for cases in another language
    lexical_weight: float
    part_weights: np.ndarray  # a story's ranking.story_weights (empty for a query that is not a story)
    part_norm: float = 1.0  # the length of the weighted mean of a story's part vectors (ranking.blend_story)


def _in_language(ordered: tuple[Case, ...]) -> dict[str, np.ndarray]:
    """Per language, which case positions are written in it: a query compares with these masks twice
    (the cross-lingual factor, and BM25's reach), so they are made once per snapshot, not per query."""
    languages = np.array([case.language for case in ordered])
    return {language: languages == language for language in LANGUAGES}


def _allowed(snap: _Snapshot, filters: Filters) -> np.ndarray:
    """Which case positions pass the filters (computed before ranking, so top-k is never emptied)."""
    if filters.is_default:
        return np.ones(len(snap.ordered), dtype=bool) if filters.include_drafts else snap.published
    return np.fromiter((filters.accepts(case) for case in snap.ordered), dtype=bool, count=len(snap.ordered))
