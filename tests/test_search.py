"""SearchEngine: ranking plumbing, matched passages, filters before ranking, drafts, similar, refresh.

Unit tests use the FakeEmbedder (shared words = close); the integration tests at the end load the
real multilingual model once per session.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import SEARCH_CASES, SHIPPED_CASES, FakeEmbedder, write_case

from moresprudentie.errors import CaseNotFoundError, UsageError
from moresprudentie.search.engine import Filters, SearchEngine
from moresprudentie.search.text import MAX_QUERY_PARTS, query_spans
from moresprudentie.ui.components.i18n import text

PUBLISHED = {cid for cid, fields in SEARCH_CASES.items() if fields.get("status") != "draft"}


@pytest.fixture
def engine(search_cases: Path, tmp_path: Path) -> SearchEngine:
    return SearchEngine.open(search_cases, tmp_path / "index", embedder=FakeEmbedder())


def ids(hits: list) -> list[str]:
    return [hit.case.id for hit in hits]


def parts_of(query: str) -> list[str]:
    """The parts of a query scored on their own, as text (search.text.query_spans)."""
    return [query[start:end] for start, end in query_spans(query)]


def test_best_case_first_with_its_matching_passage(engine: SearchEngine) -> None:
    hits = engine.search("Een kerstpakket van een leverancier tijdens de aanbesteding", k=3)
    assert ids(hits)[0] == "kerstpakket-leverancier"
    assert hits[0].matched.text in {
        SEARCH_CASES["kerstpakket-leverancier"][f] for f in ("situation", "dilemma", "title")
    } | set(SEARCH_CASES["kerstpakket-leverancier"]["lessons"])  # type: ignore[arg-type]
    assert hits[0].matched.field in {"situation", "dilemma", "lessons"}


def test_a_story_is_also_scored_sentence_by_sentence(search_cases: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    engine = SearchEngine.open(search_cases, tmp_path / "index", embedder=embedder)
    embedder.texts_embedded = 0
    story = "Mijn collega rijdt op zaterdag met de dienstauto. Hij gaat naar de bouwmarkt. Zeg ik er iets van?"
    hits = engine.search(story, k=1)
    assert embedder.texts_embedded == 4  # the story and its three sentences, in one call
    assert ids(hits) == ["dienstauto-zaterdag"]
    engine.search("dienstauto op zaterdag", k=1)
    assert embedder.texts_embedded == 5  # one sentence: just the query


def test_scores_are_in_unit_range_and_sorted(engine: SearchEngine) -> None:
    hits = engine.search("dienstauto zaterdag", k=10)
    scores = [hit.score for hit in hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_every_hit_carries_a_match_band_and_off_topic_is_weak(engine: SearchEngine) -> None:
    good = engine.search("Een kerstpakket van een leverancier tijdens de aanbesteding", k=3)
    assert good[0].match in {"strong", "fair"}
    off_topic = engine.search("recept voor appeltaart met kaneel en slagroom", k=5)
    assert off_topic and {hit.match for hit in off_topic} == {"weak"}


def test_a_score_means_the_same_whatever_else_is_in_the_collection(search_cases: Path, tmp_path: Path) -> None:
    """Absolute, not a rank in the list: adding unrelated cases leaves the top hit's score alone."""
    query = "Een kerstpakket van een leverancier tijdens de aanbesteding"
    before = SearchEngine.open(search_cases, tmp_path / "a", embedder=FakeEmbedder()).search(query, k=1)[0]
    for n in range(5):
        write_case(search_cases, f"ander-{n}", title=f"Iets heel anders {n}", situation=f"Tuinieren en koken {n}.")
    after = SearchEngine.open(search_cases, tmp_path / "b", embedder=FakeEmbedder()).search(query, k=1)[0]
    assert after.case.id == before.case.id and after.match == before.match
    assert after.score == pytest.approx(before.score, abs=0.1)


def test_drafts_hidden_unless_asked(engine: SearchEngine) -> None:
    assert "fles-wijn-concept" not in ids(engine.search("fles wijn van een burger", k=10))
    assert set(ids(engine.search("fles wijn", k=10))) == PUBLISHED
    with_drafts = engine.search("fles wijn van een burger", k=1, filters=Filters(include_drafts=True))
    assert ids(with_drafts) == ["fles-wijn-concept"]
    assert "fles-wijn-concept" in engine.cases  # drafts are loaded, just not shown


def test_filters_apply_before_ranking(engine: SearchEngine) -> None:
    """The best matches are Dutch; filtering on English must still fill k from the English cases."""
    hits = engine.search("kerstpakket leverancier aanbesteding", k=2, filters=Filters(languages=frozenset({"en"})))
    assert set(ids(hits)) == {"unpaid-overtime", "political-tweet"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(themes=frozenset({"privacy", "geschenken"})), {"dossier-buurman", "kerstpakket-leverancier"}),
        (Filters(values=frozenset({"Vrijheid van meningsuiting"})), {"political-tweet"}),
        (Filters(organisations=frozenset({"gemeente"})), {"kerstpakket-leverancier", "political-tweet"}),
        (Filters(methods=frozenset({"intervisie"})), {"dienstauto-zaterdag"}),
        (Filters(date_from="2023"), {"dossier-buurman", "unpaid-overtime"}),
        (Filters(date_to="2021-05"), {"dienstauto-zaterdag", "kerstpakket-leverancier"}),
        (Filters(date_from="2019-06", date_to="2019-06"), {"dienstauto-zaterdag"}),  # '2019' covers June
        (
            Filters(themes=frozenset({"geschenken"}), include_drafts=True),
            {"kerstpakket-leverancier", "fles-wijn-concept"},
        ),
        (Filters(themes=frozenset({"geschenken"}), languages=frozenset({"en"})), set()),
    ],
)
def test_filters(engine: SearchEngine, filters: Filters, expected: set[str]) -> None:
    assert set(ids(engine.search("een vraag", k=10, filters=filters))) == expected


def test_filters_accept_plain_strings_and_reject_bad_dates() -> None:
    assert Filters(themes="Sociale media").themes == frozenset({"sociale-media"})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="date-from"):
        Filters(date_from="March 2023")


def test_k_and_empty_queries(engine: SearchEngine) -> None:
    assert len(engine.search("zaak", k=100)) == len(PUBLISHED)
    assert engine.search("zaak", k=0) == []
    assert engine.search("   ", k=5) == []
    assert engine.search("?!?! ...", k=5) == []  # not one word: nothing a case could answer
    assert engine.search("de het een", k=5) == engine.search("wat nu?", k=5) == []  # stopwords only
    assert engine.search("€ 5", k=5) != []  # a number is a word


def test_similar_never_returns_the_case_itself(engine: SearchEngine) -> None:
    hits = engine.similar("kerstpakket-leverancier", k=10)
    assert "kerstpakket-leverancier" not in ids(hits)
    assert set(ids(hits)) == PUBLISHED - {"kerstpakket-leverancier"}
    assert ids(engine.similar("kerstpakket-leverancier", k=1, filters=Filters(include_drafts=True))) == [
        "fles-wijn-concept"
    ]


def test_similar_unknown_id(engine: SearchEngine) -> None:
    with pytest.raises(CaseNotFoundError, match="no-such-case"):
        engine.similar("no-such-case")


def test_refresh_sees_new_edited_and_deleted_cases(search_cases: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    engine = SearchEngine.open(search_cases, tmp_path / "index", embedder=embedder)
    write_case(search_cases, "fietsendief", title="De fietsendief in de stalling", situation="Een fietsendief.")
    (search_cases / "dossier-buurman.yaml").unlink()
    embedder.texts_embedded = 0
    engine.refresh()
    assert embedder.texts_embedded == 4  # only the new case's passages
    assert ids(engine.search("fietsendief stalling", k=1)) == ["fietsendief"]
    assert "dossier-buurman" not in engine.cases
    assert engine.report.added == 1 and engine.report.removed == 1


def test_problems_are_reported_and_bad_files_left_out(search_cases: Path, tmp_path: Path) -> None:
    (search_cases / "kapot.yaml").write_text("id: kapot\ntitle: [", encoding="utf-8")
    engine = SearchEngine.open(search_cases, tmp_path / "index", embedder=FakeEmbedder())
    assert any("kapot.yaml" in p.path for p in engine.problems)
    assert "kapot" not in engine.cases


def test_search_while_refreshing_from_other_threads(engine: SearchEngine, search_cases: Path) -> None:
    """Streamlit shares one engine between sessions: searches must never see a half-swapped state."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                for hit in engine.search("dienstauto zaterdag collega", k=3):
                    assert hit.matched.text  # the passage belongs to a case of the same snapshot
                engine.similar("dossier-buurman", k=2)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for n in range(5):
        write_case(search_cases, f"extra-{n}", title=f"Extra zaak {n}")
        engine.refresh()
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert "extra-4" in engine.cases


def test_refresh_rereads_only_changed_files(engine: SearchEngine, search_cases: Path, monkeypatch) -> None:
    from moresprudentie.cases import collection

    read: list[str] = []
    real = collection.load_case_file
    monkeypatch.setattr(collection, "load_case_file", lambda path: read.append(path.name) or real(path))
    engine.refresh()
    assert read == []
    write_case(search_cases, "dossier-buurman", title="Het dossier van de buurman, herzien")
    engine.refresh()
    assert read == ["dossier-buurman.yaml"]
    assert engine.cases["dossier-buurman"].title.endswith("herzien")


class ScaledFake(FakeEmbedder):
    cross_lingual_scale = 1.5


@pytest.mark.parametrize(("embedder", "first"), [(FakeEmbedder(), "same-en"), (ScaledFake(), "same-nl")])
def test_cross_lingual_scale_lifts_cases_in_the_other_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: FakeEmbedder, first: str
) -> None:
    """Two cases with the same words, one marked Dutch: an English query ties them on meaning, and a
    model's cross-lingual scale (translations score lower) must then favour the other language."""
    from moresprudentie.search import engine as search

    monkeypatch.setattr(search, "LEXICAL_WEIGHT_LONG", 0.0)
    monkeypatch.setattr(search, "LEXICAL_WEIGHT_SHORT", 0.0)
    text = {"situation": "The inspector and the harbour master share a boat.", "dilemma": "Should the inspector go?"}
    write_case(tmp_path / "c", "same-en", language="en", title="Harbour boat", **text)
    write_case(tmp_path / "c", "same-nl", language="nl", title="Harbour boat", **text)
    write_case(tmp_path / "c", "other", language="en", title="Unrelated", situation="Nothing alike here at all.")
    engine = SearchEngine.open(tmp_path / "c", tmp_path / "index", embedder=embedder)
    hits = engine.search("Should the inspector share the boat with the harbour master?", k=2)
    assert ids(hits)[0] == first


# -- with the real model ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def use_m3():
    from moresprudentie.search.embedders import load_embedder

    return load_embedder("use-m3")


@pytest.fixture
def real_engine(search_cases: Path, tmp_path: Path, use_m3) -> SearchEngine:
    return SearchEngine.open(search_cases, tmp_path / "index", embedder=use_m3)


@pytest.mark.integration
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_search_example_finds_a_precedent_in_the_shipped_cases(language: str, tmp_path: Path, use_m3) -> None:
    """The search page's example buttons show a newcomer what search does: none may end in "no good
    match" (the first one once did, for a gift from a citizen the collection has no case for)."""
    engine = SearchEngine.open(SHIPPED_CASES, tmp_path / "index", embedder=use_m3)
    for example in text("search.examples", language).split("|"):
        hits = engine.search(example, k=3)
        assert hits[0].match in {"fair", "strong"}, (example, [(hit.case.id, hit.score) for hit in hits])


@pytest.mark.integration
def test_dutch_paraphrase_finds_the_right_case(real_engine: SearchEngine) -> None:
    hits = real_engine.search("Een bedrijf dat mee wil dingen naar een opdracht stuurt mij een cadeau. Mag dat?", k=3)
    assert ids(hits)[0] == "kerstpakket-leverancier"


@pytest.mark.integration
def test_english_query_finds_a_dutch_case(real_engine: SearchEngine) -> None:
    hits = real_engine.search("A police officer wants to look up his neighbour's file in the records system", k=3)
    assert ids(hits)[0] == "dossier-buurman"


def test_a_long_sentence_counts_as_its_clauses(search_cases: Path, tmp_path: Path) -> None:
    """People type a whole story as one sentence; its clauses are scored like sentences."""
    embedder = FakeEmbedder()
    engine = SearchEngine.open(search_cases, tmp_path / "index", embedder=embedder)
    embedder.texts_embedded = 0
    story = "mijn collega rijdt elke zaterdag met de dienstauto naar de bouwmarkt, maar niemand zegt er iets van"
    assert ids(engine.search(story, k=1)) == ["dienstauto-zaterdag"]
    assert embedder.texts_embedded == 3  # the story, "mijn collega … bouwmarkt," and "maar niemand … van"
    assert parts_of("Te kort. Ook kort, met komma.") == ["Ook kort, met komma."]  # parts of 3+ words


def test_a_pasted_document_is_scored_in_a_bounded_number_of_parts() -> None:
    document = " ".join(f"Zin nummer {i} over de dienstauto." for i in range(500))
    parts = parts_of(document)
    assert len(parts) <= MAX_QUERY_PARTS
    assert " ".join(parts) == document  # nothing dropped, only grouped
    pasted = document.replace(". ", ".\n  ")
    assert [pasted[start:end] for start, end in query_spans(pasted)] == [
        part.replace(". ", ".\n  ") for part in parts
    ]  # a run is the pasted text as it stands, so the model can read it in place


def test_a_model_that_reads_a_story_once_is_asked_for_the_story_and_where_its_parts_are(
    search_cases: Path, tmp_path: Path
) -> None:
    asked: list[tuple[str, list[tuple[int, int]]]] = []

    class Reader(FakeEmbedder):
        def read_story(self, text: str, spans: list[tuple[int, int]]):
            asked.append((text, list(spans)))
            return self.embed([text] + [text[start:end] for start, end in spans])

    embedder = Reader()
    engine = SearchEngine.open(search_cases, tmp_path / "index", embedder=embedder)
    embedder.calls = 0
    story = "Mijn collega rijdt met de dienstauto naar huis. Niemand zegt er iets van."
    assert ids(engine.search(story, k=1)) == ["dienstauto-zaterdag"]
    assert asked == [(story, [(0, 47), (48, 73)])] and embedder.calls == 1
