"""Embedders turn texts into L2-normalised float32 vectors (so cosine = inner product).

One small protocol, two real backends, imported lazily so that loading cases never pulls in a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """What the index and search need from a model."""

    model_id: str  # recorded in the index manifest; a different id means re-embedding
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), float32, each row of unit length."""
        ...
