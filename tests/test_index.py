"""The index directory: incremental updates, corruption handling, model changes, atomic swaps."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import SHIPPED_CASES, FakeEmbedder, write_case

from moresprudentie.cases.collection import load_cases
from moresprudentie.errors import ModelError, StorageError
from moresprudentie.search import store as index_files
from moresprudentie.search.passages import case_passages, embedding_text, passage_at
from moresprudentie.search.store import MANIFEST, PASSAGES, POINTER, VECTORS, VectorIndex, read_index
from moresprudentie.search.sync import sync_index


class OtherModel(FakeEmbedder):
    model_id = "fake-hash-256-other"


def sync(cases_dir: Path, index_dir: Path, embedder: FakeEmbedder, **options: bool):
    result = load_cases(cases_dir)
    return sync_index(index_dir, result.cases, result.hashes, embedder, **options)


def generation(index_dir: Path) -> Path:
    return index_dir / json.loads((index_dir / POINTER).read_text())["generation"]


def passage_count(cases_dir: Path, case_id: str) -> int:
    return len(case_passages(load_cases(cases_dir).cases[case_id]))


def assert_same(a: VectorIndex, b: VectorIndex) -> None:
    assert a.case_ids == b.case_ids
    assert a.hashes == b.hashes
    assert a.fields == b.fields
    np.testing.assert_array_equal(a.starts, b.starts)
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)


@pytest.fixture
def built(search_cases: Path, tmp_path: Path) -> tuple[Path, Path, FakeEmbedder]:
    index_dir = tmp_path / "index"
    embedder = FakeEmbedder()
    sync(search_cases, index_dir, embedder)
    embedder.texts_embedded = 0
    return search_cases, index_dir, embedder


def test_fresh_build_embeds_every_passage_and_documents_itself(search_cases: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    index, report = sync(search_cases, tmp_path / "index", embedder)
    total = sum(passage_count(search_cases, cid) for cid in index.case_ids)
    assert embedder.texts_embedded == total == len(index.vectors)
    assert report.added == 6 and report.saved
    manifest = json.loads((generation(tmp_path / "index") / MANIFEST).read_text())
    assert manifest["model_id"] == FakeEmbedder.model_id and manifest["dimension"] == 256
    assert set(manifest["files"]) == {VECTORS, PASSAGES}
    assert list(manifest["cases"]) == sorted(manifest["cases"])
    assert {"faiss-cpu", "numpy", "moresprudentie"} <= set(manifest["libraries"])
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)


def test_a_cases_passages_reach_a_grouping_model_together(search_cases: Path, tmp_path: Path) -> None:
    """A model that reads what a group's texts share once (USE-m3: a case's title) gets each case's
    passages as one group, whole cases per batch, and its rows land where embed() would put them."""

    class GroupingModel(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.groups: list[list[str]] = []

        def read_groups(self, groups):
            self.groups += [list(texts) for texts in groups]
            return self.embed([text for texts in groups for text in texts])

    grouping, plain = GroupingModel(), FakeEmbedder()
    index, _ = sync(search_cases, tmp_path / "grouped", grouping)
    reference, _ = sync(search_cases, tmp_path / "plain", plain)
    cases = load_cases(search_cases).cases
    assert grouping.groups == [
        [embedding_text(cases[cid], p) for p in case_passages(cases[cid])] for cid in index.case_ids
    ]
    assert plain.texts_embedded == grouping.texts_embedded
    assert_same(index, reference)


def test_long_situation_is_embedded_in_runs_of_two_sentences_once_each() -> None:
    from moresprudentie.cases.model import Case

    base = {"id": "lang-verhaal", "title": "T", "language": "nl", "date": "2024", "themes": ["vertrouwen"]}
    base |= {"values": ["integriteit"], "dilemma": "Wat nu?", "judgement": "J.", "reasoning": "R."}
    case = Case.model_validate(base | {"situation": "Een. Twee! Drie? Vier. Vijf.", "lessons": ["L1", "L2"]})
    passages = [(p.field, p.text) for p in case_passages(case)]
    assert passages == [  # every word once: a lone last sentence joins the run before it
        ("dilemma", "Wat nu?"),
        ("situation", "Een. Twee!"),
        ("situation", "Drie? Vier. Vijf."),
        ("judgement", "J."),
        ("reasoning", "R."),
        ("lessons", "L1"),
        ("lessons", "L2"),
    ]
    short = Case.model_validate(base | {"situation": "Een. Twee."})
    assert [p.field for p in case_passages(short)] == ["dilemma", "situation", "judgement", "reasoning"]


def test_a_hits_passage_is_taken_again_by_its_field_exactly_as_the_case_was_cut() -> None:
    """The engine shows a hit's best passage from the row's field and its count within the field
    (passage_at), without cutting the whole case: it must be the passage that was embedded."""
    for case in load_cases(SHIPPED_CASES).cases.values():
        passages = case_passages(case)
        fields = [p.field for p in passages]
        again = [passage_at(case, field, fields[:row].count(field)) for row, field in enumerate(fields)]
        assert again == passages, case.id


def test_unchanged_collection_embeds_nothing(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    _, report = sync(cases_dir, index_dir, embedder)
    assert embedder.texts_embedded == 0
    assert not report.changed_anything


def test_edited_case_is_the_only_one_reembedded(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    before, _ = read_index(index_dir)
    write_case(cases_dir, "dossier-buurman", title="Het dossier van de buurman, herzien")
    after, report = sync(cases_dir, index_dir, embedder)
    assert embedder.texts_embedded == passage_count(cases_dir, "dossier-buurman")
    assert (report.added, report.changed, report.removed) == (0, 1, 0)
    assert before is not None
    unchanged = after.case_ids.index("dienstauto-zaterdag")
    np.testing.assert_array_equal(
        after.vectors[after.rows(unchanged)], before.vectors[before.rows(before.case_ids.index("dienstauto-zaterdag"))]
    )


def test_formatting_only_change_embeds_nothing(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    path = cases_dir / "dienstauto-zaterdag.yaml"
    path.write_text("# a comment the officer added\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    sync(cases_dir, index_dir, embedder)
    assert embedder.texts_embedded == 0


def test_added_and_deleted_cases(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    write_case(cases_dir, "nieuwe-zaak", lessons=["Een les.", "Nog een les."])
    (cases_dir / "dossier-buurman.yaml").unlink()
    index, report = sync(cases_dir, index_dir, embedder)
    assert embedder.texts_embedded == passage_count(cases_dir, "nieuwe-zaak") == 6
    assert (report.added, report.changed, report.removed) == (1, 0, 1)
    assert "dossier-buurman" not in index.case_ids and "nieuwe-zaak" in index.case_ids


def test_invalid_case_file_drops_out_of_the_index(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    (cases_dir / "dossier-buurman.yaml").write_text("id: dossier-buurman\ntitle: [broken\n", encoding="utf-8")
    index, report = sync(cases_dir, index_dir, embedder)
    assert "dossier-buurman" not in index.case_ids and report.removed == 1


def test_model_change_rebuilds_everything(built: tuple) -> None:
    cases_dir, index_dir, _ = built
    other = OtherModel()
    index, report = sync(cases_dir, index_dir, other)
    assert other.texts_embedded == len(index.vectors)
    assert index.model_id == OtherModel.model_id
    assert report.rebuilt_because and "model" in report.rebuilt_because


def test_rebuild_option_reembeds_everything(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    index, report = sync(cases_dir, index_dir, embedder, rebuild=True)
    assert embedder.texts_embedded == len(index.vectors)
    assert report.rebuilt_because


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        (VECTORS, _flip_byte),
        (VECTORS, _truncate),
        (PASSAGES, _flip_byte),
        (PASSAGES, _truncate),
        (MANIFEST, _flip_byte),
        (MANIFEST, _truncate),
        (VECTORS, Path.unlink),
        (MANIFEST, Path.unlink),
    ],
)
def test_damaged_index_is_rebuilt_with_a_warning(built: tuple, name: str, damage, caplog) -> None:
    cases_dir, index_dir, embedder = built
    fresh, _ = read_index(index_dir)
    damage(generation(index_dir) / name)
    with caplog.at_level(logging.WARNING, logger="moresprudentie"):
        rebuilt, report = sync(cases_dir, index_dir, embedder)
    assert "damaged" in caplog.text and "rebuilding" in caplog.text
    assert report.rebuilt_because and report.saved
    assert embedder.texts_embedded == len(rebuilt.vectors)
    assert fresh is not None
    assert_same(rebuilt, fresh)
    assert_same(read_index(index_dir)[0], fresh)  # and the repaired index is what is on disk now


@pytest.mark.parametrize("pointer", ["", "{not json", '{"generation": "gen-missing", "manifest_sha256": "00"}'])
def test_damaged_pointer_is_rebuilt(built: tuple, pointer: str) -> None:
    cases_dir, index_dir, embedder = built
    (index_dir / POINTER).write_text(pointer)
    index, report = sync(cases_dir, index_dir, embedder)
    assert report.rebuilt_because and len(index.case_ids) == 6


def test_manifest_with_consistent_checksum_but_wrong_counts_is_refused(built: tuple) -> None:
    """Even a 'valid' manifest must agree with the vectors: never serve wrong ids."""
    cases_dir, index_dir, embedder = built
    folder = generation(index_dir)
    manifest = json.loads((folder / MANIFEST).read_text())
    first = next(iter(manifest["cases"]))
    manifest["cases"][first]["passages"] += 1
    raw = json.dumps(manifest).encode()
    (folder / MANIFEST).write_bytes(raw)
    pointer = {"generation": folder.name, "manifest_sha256": index_files._sha256(raw)}
    (index_dir / POINTER).write_text(json.dumps(pointer))
    _, report = sync(cases_dir, index_dir, embedder)
    assert report.rebuilt_because and "do not agree" in report.rebuilt_because


def test_broken_model_output_saves_nothing(built: tuple) -> None:
    class NaNModel(FakeEmbedder):
        def embed(self, texts):
            return super().embed(texts) * np.nan

    cases_dir, index_dir, _ = built
    before, _ = read_index(index_dir)
    write_case(cases_dir, "nieuwe-zaak")
    with pytest.raises(ModelError, match="invalid vectors"):
        sync(cases_dir, index_dir, NaNModel())
    after, _ = read_index(index_dir)
    assert before is not None and after is not None
    assert_same(after, before)


def test_old_generations_are_cleaned_up(built: tuple) -> None:
    cases_dir, index_dir, embedder = built
    for n in range(4):
        write_case(cases_dir, f"extra-{n}")
        sync(cases_dir, index_dir, embedder)
    assert len(list(index_dir.glob("gen-*"))) == 2  # the current one and the previous (for slow readers)


def test_crash_while_writing_leaves_the_old_index_readable(built: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    cases_dir, index_dir, embedder = built
    before, _ = read_index(index_dir)
    real_write = index_files.atomic_write

    def failing_write(path: Path, data: bytes | str) -> None:
        if path.name == MANIFEST:
            raise StorageError(f"{path}: disk full")
        real_write(path, data)

    monkeypatch.setattr(index_files, "atomic_write", failing_write)
    write_case(cases_dir, "nieuwe-zaak")
    index, report = sync(cases_dir, index_dir, embedder)
    assert not report.saved and "nieuwe-zaak" in index.case_ids  # served from memory this time
    on_disk, _ = read_index(index_dir)
    assert on_disk is not None and before is not None
    assert_same(on_disk, before)
    monkeypatch.undo()
    sync(cases_dir, index_dir, embedder)
    assert len(list(index_dir.glob("gen-*"))) == 2  # the half-written generation was cleaned up


def test_vectors_file_is_faiss_own_format(built: tuple) -> None:
    """The one-copy writer must produce exactly what FAISS writes (and FAISS must read it back)."""
    import faiss

    _, index_dir, _ = built
    index, _ = read_index(index_dir)
    assert index is not None and index.file is not None
    flat = faiss.IndexFlatIP(index.dimension)
    flat.add(index.vectors)
    assert bytes(faiss.serialize_index(flat)) == (generation(index_dir) / VECTORS).read_bytes()
    assert index.vectors.ctypes.data % 64 == 0  # rows on a cache line: BLAS reads them at full speed


def test_without_the_fast_layout_faiss_itself_reads_and_writes(built: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """If a FAISS version lays its files out differently, the plain FAISS calls take over."""
    cases_dir, index_dir, embedder = built
    fast, _ = read_index(index_dir)
    monkeypatch.setattr(index_files, "_layout", lambda dimension: None)
    slow, _ = read_index(index_dir)  # a file written the fast way, read the FAISS way
    assert slow is not None and slow.file is None and fast is not None
    assert_same(slow, fast)
    write_case(cases_dir, "nieuwe-zaak")
    sync(cases_dir, index_dir, embedder)  # written the FAISS way
    monkeypatch.undo()
    reread, _ = read_index(index_dir)
    assert reread is not None and reread.file is not None and "nieuwe-zaak" in reread.case_ids


def test_empty_collection(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    index, _ = sync(tmp_path / "cases", tmp_path / "index", FakeEmbedder())
    assert index.case_ids == () and index.vectors.shape == (0, 256)
    reread, _ = read_index(tmp_path / "index")
    assert reread is not None and reread.case_ids == ()


def test_vectors_live_in_a_scratch_mapping_and_a_refresh_copies_them_exactly(built: tuple) -> None:
    """A refresh copies unchanged rows out of the old index's scratch mapping and drops the copied
    pages (so two full copies never sit in memory at once); the old index still reads the same."""
    cases_dir, index_dir, embedder = built
    old, _ = read_index(index_dir)
    assert old is not None and index_files._mapping(old.vectors) is not None
    before = old.vectors.copy()
    write_case(cases_dir, "aaa-eerste-zaak")  # every old row moves down by this case's passages
    new, report = sync(cases_dir, index_dir, embedder, current=old)
    assert report.added == 1 and index_files._mapping(new.vectors) is not None
    np.testing.assert_array_equal(old.vectors, before)  # dropped pages come back from the file
    for position, case_id in enumerate(old.case_ids):
        np.testing.assert_array_equal(new.vectors[new.rows(new.case_ids.index(case_id))], before[old.rows(position)])


def test_copy_rows_in_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(index_files, "COPY_CHUNK_ROWS", 3)
    _, source = index_files.allocate(10, 4, scratch=tmp_path)
    source[:] = np.arange(40, dtype=np.float32).reshape(10, 4)
    target = np.zeros((12, 4), dtype=np.float32)
    index_files.copy_rows(target, 1, source, 2, 7)
    np.testing.assert_array_equal(target[1:8], np.arange(8, 36, dtype=np.float32).reshape(7, 4))
    assert not target[0].any() and not target[8:].any()


def test_without_a_writable_folder_the_vectors_are_ordinary_memory(tmp_path: Path) -> None:
    file, vectors = index_files.allocate(5, 4, scratch=tmp_path / "missing")
    assert index_files._mapping(vectors) is None and vectors.shape == (5, 4) and file is not None
