"""Shared test fixtures: a small deterministic fake embedder (no model load) and temp collections."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED_CASES = Path(__file__).parent.parent / "cases"


class FakeEmbedder:
    """Hashed bag of word prefixes: texts sharing words are close, and it is the same on every run.

    Good enough to test ranking plumbing (not quality) in milliseconds.
    """

    model_id = "fake-hash-256"
    dimension = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word[:6].encode("utf-8"), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
            norm = np.linalg.norm(vectors[row])
            if norm == 0:
                vectors[row, 0] = 1.0
            else:
                vectors[row] /= norm
        return vectors


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def shipped_cases(tmp_path: Path) -> Path:
    """A private copy of the shipped collection, safe to modify."""
    target = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES, target)
    return target
