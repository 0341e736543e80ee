"""BM25 per language: stemming, language detection, and no lexical score across languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from moresprudentie.cases.collection import load_cases
from moresprudentie.search.lexical import LexicalIndex, TokenCache, tokens
from moresprudentie.search.text import detect_language, words


@pytest.fixture
def lexical(search_cases: Path) -> tuple[LexicalIndex, list[str]]:
    cases = load_cases(search_cases).cases
    ordered = [cases[cid] for cid in sorted(cases)]
    return LexicalIndex(ordered), [case.id for case in ordered]


def test_dutch_stemming_joins_inflections() -> None:
    assert tokens("aanbestedingen", "nl") == tokens("aanbesteding", "nl")
    assert tokens("geschenken", "nl") == tokens("geschenk", "nl")
    assert tokens("reporting", "en") == tokens("reported", "en")


def test_stopwords_and_single_letters_are_dropped_but_digits_kept() -> None:
    assert tokens("de en het van a", "nl") == []
    assert "4" in words("artikel 4 lid b")
    assert "b" not in words("artikel 4 lid b")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mag ik een cadeau aannemen van een leverancier?", "nl"),
        ("Should I accept a gift from a supplier?", "en"),
        ("kerstpakket leverancier", "nl"),  # no stopwords: the language model decides
        ("nepvinkjes veiligheidscheck chef aangeven", "nl"),
        ("padded expenses old coach loyalty", "en"),
        ("BSN", None),  # too short to tell: both languages count
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    """From the text alone: a collection of thousands of English cases must not make a Dutch
    keyword query English (as a guess from which cases know its words would)."""
    assert detect_language(text) == language


def test_scores_only_count_cases_in_the_query_language(lexical: tuple) -> None:
    index, ids = lexical
    scores = index.scores("kerstpakket van een leverancier", "nl")
    assert ids[int(scores.argmax())] == "kerstpakket-leverancier"
    english = [i for i, cid in enumerate(ids) if cid in ("unpaid-overtime", "political-tweet")]
    assert (scores[english] == 0).all()
    assert (index.scores("the manager and the overtime", "en")[[ids.index("dossier-buurman")]] == 0).all()


def test_norms_and_vocabulary_labels_are_searchable(lexical: tuple) -> None:
    index, ids = lexical
    assert ids[int(index.scores("gedragscode artikel 4.2", "nl").argmax())] == "kerstpakket-leverancier"
    # labels in the case's own language: the English case is found by "freedom of expression"
    assert ids[int(index.scores("freedom of expression", "en").argmax())] == "political-tweet"


def test_unknown_words_and_empty_queries_score_zero(lexical: tuple) -> None:
    index, _ = lexical
    assert not index.scores("xyzzy plugh", "nl").any()
    assert not index.scores("", None).any()


def test_empty_collection() -> None:
    index = LexicalIndex([])
    assert index.scores("anything", None).shape == (0,)


def test_token_cache_tokenizes_only_changed_cases(search_cases: Path) -> None:
    cases = load_cases(search_cases)
    ordered = [cases.cases[cid] for cid in sorted(cases.cases)]
    hashes = [cases.hashes[case.id] for case in ordered]
    cache = TokenCache()
    first = LexicalIndex(ordered, hashes, cache)
    kept = cache.ids(ordered[0], hashes[0])
    edited = ordered[1].model_copy(update={"title": "Een heel nieuwe titel over fietsendiefstal"})
    second = LexicalIndex([ordered[0], edited, *ordered[2:]], [hashes[0], "changed", *hashes[2:]], cache)
    assert cache.ids(ordered[0], hashes[0]) is kept
    assert second.scores("fietsendiefstal", "nl")[1] > 0
    # the earlier index keeps its own vocabulary: words added later cannot break its queries
    assert not first.scores("fietsendiefstal", "nl").any()


def test_cases_without_words_are_harmless(tmp_path: Path) -> None:
    from conftest import write_case

    write_case(
        tmp_path, "alleen-stopwoorden", title="De", situation="en", dilemma="het", judgement="van", reasoning="a"
    )
    cases = list(load_cases(tmp_path).cases.values())
    assert not LexicalIndex(cases).scores("de zaak", "nl").any()
