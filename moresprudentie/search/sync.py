"""The search index kept in step with the case files: what is embedded, and what is re-embedded.

What a case's passages are: passages.py. The files themselves (layout, checksums, atomic
generations): store.py, documented in docs/index-format.md. Why it is built this way:
- Incremental: the manifest keeps a content hash per case; only new or changed cases are embedded,
  the vectors of the others are copied over.
- Crash-safe and reader-safe: one writer at a time (a file lock), readers never wait; a damaged
  index is rebuilt from the case files with a warning, never served; a model change re-embeds all.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock
from filelock import Timeout as LockTimeout

from moresprudentie.cases.model import Case
from moresprudentie.errors import IndexCorruptError, ModelError, StorageError
from moresprudentie.search.embedders import Embedder, embed_groups
from moresprudentie.search.passages import PASSAGE_SCHEME, Passage, case_passages, embedding_text
from moresprudentie.search.store import (
    FORMAT_VERSION,
    VectorIndex,
    allocate,
    copy_rows,
    make_index,
    read_index,
    read_pointer,
    write_index,
)

log = logging.getLogger(__name__)

LOCK = ".lock"
EMBED_BATCH = 64  # passages (whole cases) per batch: the model is free for queries between them, the bar moves
LOCK_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class IndexReport:
    """What a sync did, for the CLI and the logs."""

    path: Path
    cases: int
    added: int = 0
    changed: int = 0
    removed: int = 0
    embedded_passages: int = 0
    rebuilt_because: str | None = None
    saved: bool = True

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_because)


# -- keeping the index in step with the cases ----------------------------------------------------


def _usable(index_dir: Path, embedder: Embedder, current: VectorIndex | None) -> tuple[VectorIndex | None, str | None]:
    """The stored index when it can be reused (maybe partly stale), else None and why not.

    `current` is the index this process already holds; when CURRENT still names it, it is reused
    without reading and checking the files again (a refresh then costs what changed, not a reload)."""
    try:
        pointer = read_pointer(index_dir)
        if current is not None and pointer is not None and pointer[1] == current.generation:
            model = (current.model_id, current.dimension) == (embedder.model_id, embedder.dimension)
            return (current, None) if model else (None, f"built with model {current.model_id}")
        index, manifest = read_index(index_dir)
    except (IndexCorruptError, OSError) as exc:
        log.warning("%s: the index is damaged (%s); rebuilding it from the case files", index_dir, exc)
        return None, f"damaged: {exc}"
    if index is None or manifest is None:
        return None, None
    if manifest.format_version != FORMAT_VERSION or manifest.passage_scheme != PASSAGE_SCHEME:
        reason = "made by another version of moresprudentie"
    elif index.model_id != embedder.model_id or index.dimension != embedder.dimension:
        reason = f"built with model {index.model_id}, now {embedder.model_id}"
    else:
        return index, None
    log.info("%s: index %s; re-embedding every case", index_dir, reason)
    return None, reason


def _up_to_date(index: VectorIndex, ids: Sequence[str], hashes: Mapping[str, str]) -> bool:
    return index.case_ids == tuple(ids) and index.hashes == tuple(hashes[cid] for cid in ids)


def _embed_into(
    vectors: np.ndarray, todo: list[tuple[int, Case, list[Passage]]], embedder: Embedder, progress: bool
) -> int:
    """Embed the passages of `todo` (first row, case, passages) straight into their rows of `vectors`,
    a few cases at a time (queries from other threads get the model in between), with a bar. The texts
    are made batch by batch, so a 100k-case build never holds them all. A case's passages reach the
    model together: they all begin with its title, which USE-m3 then reads once (embed_groups).
    Returns how many were embedded."""
    bar = _progress_bar(sum(len(passages) for _, _, passages in todo), progress)
    done = 0
    try:
        for batch in _batches(todo, EMBED_BATCH):
            groups = [[embedding_text(case, p) for p in passages] for _, case, passages in batch]
            rows = [row + n for row, _, passages in batch for n in range(len(passages))]
            embedded = embed_groups(embedder, groups)
            if embedded.shape != (len(rows), vectors.shape[1]) or not np.isfinite(embedded).all():
                raise ModelError(f"model {embedder.model_id} returned invalid vectors; nothing was saved")
            vectors[rows] = embedded
            done += len(rows)
            bar.update(len(rows))
    finally:
        bar.close()
    return done


def _batches(
    todo: list[tuple[int, Case, list[Passage]]], passages: int
) -> Iterator[list[tuple[int, Case, list[Passage]]]]:
    """Whole cases, as many as it takes to reach `passages` passages per batch."""
    batch: list[tuple[int, Case, list[Passage]]] = []
    count = 0
    for item in todo:
        batch.append(item)
        count += len(item[2])
        if count >= passages:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _progress_bar(total: int, progress: bool) -> Any:
    from tqdm import tqdm

    visible = progress and total > 0 and sys.stderr.isatty()
    return tqdm(total=total, desc="embedding", unit="passage", disable=not visible, file=sys.stderr, leave=False)


def _update(
    index_dir: Path,
    old: VectorIndex | None,
    cases: Mapping[str, Case],
    hashes: Mapping[str, str],
    embedder: Embedder,
    progress: bool,
) -> tuple[VectorIndex, dict[str, int]]:
    """A new index for `cases`, copying the vectors of unchanged cases from `old`.

    An unchanged case (same content hash, same passage scheme: checked by _usable) has the same
    passages, so its rows and fields are taken over without cutting the case up again."""
    ids = sorted(cases)
    old_position = {cid: i for i, cid in enumerate(old.case_ids)} if old else {}
    counts: list[int] = []
    fields: list[str] = []
    runs: list[list[int]] = []  # [new first row, old first row, rows]: unchanged neighbours copied at once
    todo: list[tuple[int, Case, list[Passage]]] = []
    row = reused = 0
    for cid in ids:
        i = old_position.get(cid)
        if old is not None and i is not None and old.hashes[i] == hashes[cid]:
            span = old.rows(i)
            names = list(old.fields[span])
            if runs and runs[-1][0] + runs[-1][2] == row and runs[-1][1] + runs[-1][2] == span.start:
                runs[-1][2] += len(names)
            else:
                runs.append([row, span.start, len(names)])
            reused += 1
        else:
            passages = case_passages(cases[cid])
            names = [p.field for p in passages]
            todo.append((row, cases[cid], passages))
        counts.append(len(names))
        fields.extend(names)
        row += len(names)
    file, vectors = allocate(row, embedder.dimension, scratch=index_dir)
    for start, old_start, length in runs:
        copy_rows(vectors, start, old.vectors, old_start, length)  # type: ignore[union-attr]
    embedded = _embed_into(vectors, todo, embedder, progress)
    index = make_index(
        embedder.model_id, embedder.dimension, ids, [hashes[c] for c in ids], counts, fields, vectors, file
    )
    old_ids = set(old_position)
    stats = {
        "added": len(set(ids) - old_ids),
        "changed": len(ids) - reused - len(set(ids) - old_ids),
        "removed": len(old_ids - set(ids)),
        "embedded_passages": embedded,
    }
    return index, stats


def sync_index(
    index_dir: Path,
    cases: Mapping[str, Case],
    hashes: Mapping[str, str],
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: bool = False,
    current: VectorIndex | None = None,
) -> tuple[VectorIndex, IndexReport]:
    """Bring the index in `index_dir` in step with `cases` (by content hash) and return it.

    Never raises for a missing, stale or damaged index: it is updated or rebuilt. When the folder
    cannot be written (read-only disk, held lock) the result is served from memory with a warning.
    """
    index_dir = Path(index_dir)
    ids = sorted(cases)
    old, reason = (None, "a rebuild was asked for") if rebuild else _usable(index_dir, embedder, current)
    if old is not None and _up_to_date(old, ids, hashes):
        return old, IndexReport(index_dir, len(ids))
    lock = _acquire(index_dir)
    try:
        if lock is not None and not rebuild:  # another process may have done the work while we waited
            old, reason = _usable(index_dir, embedder, current)
            if old is not None and _up_to_date(old, ids, hashes):
                return old, IndexReport(index_dir, len(ids))
        index, stats = _update(index_dir, old, cases, hashes, embedder, progress)
        generation = _save(index_dir, index) if lock is not None else ""
        index = replace(index, generation=generation)
    finally:
        if lock is not None:
            lock.release()
    report = IndexReport(index_dir, len(ids), rebuilt_because=reason, saved=bool(generation), **stats)
    log.info("%s: %d added, %d changed, %d removed", index_dir, report.added, report.changed, report.removed)
    return index, report


def _acquire(index_dir: Path) -> FileLock | None:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(index_dir / LOCK, timeout=LOCK_TIMEOUT_S)
        lock.acquire()
        return lock
    except (OSError, LockTimeout) as exc:
        log.warning(
            "%s: cannot lock the index folder (%s); searching with an in-memory index this time. "
            "Make the folder writable or pass --index DIR",
            index_dir,
            exc,
        )
        return None


def _save(index_dir: Path, index: VectorIndex) -> str:
    try:
        return write_index(index_dir, index, PASSAGE_SCHEME)
    except StorageError as exc:
        log.warning("%s; searching with an in-memory index this time", exc)
        return ""
