"""BM25 per language, with Dutch and English stemming, for the exact terms embeddings blur.

A name of a law ("Woo"), a procedure ("aanbesteding") or an article number is what BM25 is good at,
and it only means something within one language: an English query shares no stems with a Dutch case,
and stemming a Dutch word with the English stemmer helps nobody. So every language has its own BM25
index and stemmer, and a query is scored only against the cases in its own language (which language
a query is in: text.detect_language).
The index lives in memory and is rebuilt on every refresh, from stemmed token ids cached per case
content hash (a TokenCache), so only new or changed cases are tokenized again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import bm25s
import numpy as np
import Stemmer

from moresprudentie.cases.loading import content_hash
from moresprudentie.cases.model import Case, label
from moresprudentie.search.text import LANGUAGES, STOPWORDS, words

_STEMMERS = {"nl": "dutch", "en": "english"}
_LIST_FIELDS = ("options", "stakeholders", "decisive_facts", "lessons")


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMERS[language])


def tokens(text: str, language: str) -> list[str]:
    """Stemmed content words of a text in the given language."""
    stop = STOPWORDS[language]
    return _stemmer(language).stemWords([w for w in words(text) if w not in stop])


def case_text(case: Case) -> str:
    """Everything in a case a searcher might quote: the texts, norms and the theme/value labels."""
    parts = [case.title, case.title, case.situation, case.dilemma, case.judgement, case.reasoning]
    for name in _LIST_FIELDS:
        parts.extend(getattr(case, name))
    parts.extend(norm.text for norm in case.norms)
    parts.extend(label("themes", term, case.language) for term in case.themes)
    parts.extend(label("values", term, case.language) for term in case.values)
    return "\n".join(parts)


@dataclass(frozen=True)
class _LanguageIndex:
    slots: np.ndarray  # positions (in the engine's case order) of this language's cases
    retriever: bm25s.BM25 | None  # None when the language has no cases (or they have no words)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        ids = self.retriever.get_tokens_ids(query_tokens) if self.retriever is not None else []
        if not ids:
            return np.zeros(len(self.slots), dtype=np.float32)
        return np.asarray(self.retriever.get_scores_from_ids(ids), dtype=np.float32)


class TokenCache:
    """Stemmed token ids per case, keyed by content hash: a refresh tokenizes only what changed.

    Ids are compact numpy arrays over one growing vocabulary per language (100k cases stay small).
    Only the (single) refreshing thread writes here; built indexes get their own vocabulary copy.
    """

    def __init__(self) -> None:
        self._vocab: dict[str, dict[str, int]] = {lang: {} for lang in LANGUAGES}
        self._docs: dict[str, tuple[str, np.ndarray]] = {}

    def ids(self, case: Case, digest: str) -> np.ndarray:
        cached = self._docs.get(case.id)
        if cached is not None and cached[0] == digest:
            return cached[1]
        vocab = self._vocab[case.language]
        found = tokens(case_text(case), case.language)
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in found), dtype=np.int32, count=len(found))
        self._docs[case.id] = (digest, ids)
        return ids

    def vocabulary(self, language: str) -> dict[str, int]:
        return dict(self._vocab[language])

    def forget_all_but(self, case_ids: set[str]) -> None:
        for case_id in self._docs.keys() - case_ids:
            del self._docs[case_id]


class _Corpus:
    """Token ids in the shape bm25s.BM25.index takes (`.ids` and `.vocab`), handing out each case's
    ids as a list only while bm25s looks at it: lists of Python ints for a 100k-case collection at
    once would cost hundreds of MB for the moment of the build (and that moment is the peak RSS)."""

    def __init__(self, arrays: list[np.ndarray], vocab: dict[str, int]) -> None:
        self.arrays = arrays
        self.ids = self  # bm25s reads corpus.ids: len() and iteration are all it needs
        self.vocab = vocab

    def __len__(self) -> int:
        return len(self.arrays)

    def __iter__(self) -> Iterator[list[int]]:
        return (ids.tolist() for ids in self.arrays)


class LexicalIndex:
    """BM25 scores of a query for every case, zero for cases in another language. Read-only once built."""

    def __init__(
        self, cases: Sequence[Case], hashes: Sequence[str] | None = None, cache: TokenCache | None = None
    ) -> None:
        self.size = len(cases)
        cache = cache or TokenCache()
        hashes = hashes if hashes is not None else [content_hash(case) for case in cases]
        cache.forget_all_but({case.id for case in cases})
        self._by_language = {lang: self._build(cases, hashes, cache, lang) for lang in LANGUAGES}

    @staticmethod
    def _build(cases: Sequence[Case], hashes: Sequence[str], cache: TokenCache, language: str) -> _LanguageIndex:
        slots = np.array([i for i, case in enumerate(cases) if case.language == language], dtype=np.int64)
        corpus = _Corpus([cache.ids(cases[i], hashes[i]) for i in slots], cache.vocabulary(language))
        if not any(len(ids) for ids in corpus.arrays):
            return _LanguageIndex(slots, None)
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        return _LanguageIndex(slots, retriever)

    def scores(self, query: str, language: str | None) -> np.ndarray:
        """BM25 of the query against the cases of `language` (both languages when None), 0 elsewhere."""
        result = np.zeros(self.size, dtype=np.float32)
        for lang in (language,) if language else LANGUAGES:
            index = self._by_language[lang]
            if len(index.slots):
                result[index.slots] = index.scores(tokens(query, lang))
        return result
