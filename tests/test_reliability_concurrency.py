"""Two at once: indexers and officers in parallel processes and threads are serialised or refused
cleanly, and nothing is lost; searches keep answering while the collection changes under them."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import reliability_child as child
from conftest import FakeEmbedder, write_case

from moresprudentie import settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.loading import dump_case, file_hash, parse_case
from moresprudentie.errors import StorageError
from moresprudentie.files import atomic_write
from moresprudentie.review import store as workflow
from moresprudentie.review.layout import CONFLICTS
from moresprudentie.review.store import CaseStore
from moresprudentie.search import sync as index_module
from moresprudentie.search.engine import SearchEngine
from moresprudentie.search.passages import case_passages
from moresprudentie.search.store import read_index
from moresprudentie.search.sync import sync_index
from moresprudentie.storage import files as file_store

CASE_ID = "geschenk-leverancier"


@pytest.fixture(autouse=True)
def officers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)


def collection(folder: Path, count: int, tag: str = "") -> Path:
    for n in range(count):
        write_case(folder, f"zaak-{n:03d}", title=f"Zaak {n}{tag}", situation=f"Situatie {n}{tag}: geschenk{n % 4}.")
    return folder


def passages(folder: Path) -> int:
    return sum(len(case_passages(case)) for case in load_cases(folder).cases.values())


def draft_hash(writer: str, n: int) -> str:
    """The hash of the bytes save_draft writes for version n of a writer (what the audit log names)."""
    case = child.case_version(CASE_ID, writer, n).model_copy(update={"status": "draft"})
    return file_hash(dump_case(case).encode("utf-8"))


def drafted_hashes(cases: Path) -> list[str]:
    from moresprudentie.review.audit import read_events

    return [e.hash for e in read_events(settings.audit_log_path(cases)) if e.action == "drafted"]


def assert_clean(index_dir: Path) -> None:
    assert len(list(index_dir.glob("gen-*"))) <= 2 and list(index_dir.rglob(".tmp-*")) == []


# -- indexing ------------------------------------------------------------------------------------------


def test_three_processes_indexing_at_once_build_once(tmp_path: Path) -> None:
    folder = collection(tmp_path / "cases", 25)
    index_dir = tmp_path / "index"
    reports = child.run_together(child.index_once, [(str(folder), str(index_dir))] * 3)
    assert all(saved for saved, *_ in reports)
    assert sum(embedded for _, embedded, *_ in reports) == passages(folder)  # serialised: nobody redid the work
    on_disk, _ = read_index(index_dir)
    assert on_disk is not None and all((on_disk.case_ids, on_disk.hashes) == tuple(r[2:]) for r in reports)
    assert_clean(index_dir)


def test_processes_indexing_different_collections_leave_one_whole_index(tmp_path: Path) -> None:
    a = collection(tmp_path / "a", 20)
    b = collection(tmp_path / "b", 22, tag=" (b)")
    fresh = {str(f): load_cases(f) for f in (a, b)}
    index_dir = tmp_path / "index"
    for round_ in range(4):
        pair = [(str(a), str(index_dir)), (str(b), str(index_dir))][:: 1 if round_ % 2 else -1]
        reports = child.run_together(child.index_once, pair)
        for (folder, _), (_, _, ids, hashes) in zip(pair, reports, strict=True):
            assert ids == tuple(sorted(fresh[folder].cases))  # each got its own collection's index
            assert hashes == tuple(fresh[folder].hashes[i] for i in ids)
        on_disk, _ = read_index(index_dir)  # whole, and one of the two
        assert on_disk is not None
        assert any(on_disk.hashes == tuple(f.hashes[i] for i in sorted(f.cases)) for f in fresh.values())
        assert_clean(index_dir)


def test_threads_indexing_at_once_build_once(tmp_path: Path) -> None:
    folder = collection(tmp_path / "cases", 25)
    state = load_cases(folder)
    embedders = [FakeEmbedder() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        indexes = list(pool.map(lambda e: sync_index(tmp_path / "index", state.cases, state.hashes, e)[0], embedders))
    assert sum(e.texts_embedded for e in embedders) == passages(folder)
    assert all(np.array_equal(i.vectors, indexes[0].vectors) and i.case_ids == indexes[0].case_ids for i in indexes)
    assert_clean(tmp_path / "index")


def test_index_lock_held_too_long_serves_from_memory_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = collection(tmp_path / "cases", 5)
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    monkeypatch.setattr(index_module, "LOCK_TIMEOUT_S", 0.3)
    with child.lock_held_elsewhere(index_dir / index_module.LOCK), caplog.at_level(logging.WARNING):
        engine = SearchEngine.open(folder, index_dir, embedder=FakeEmbedder())
    assert not engine.report.saved and engine.search("geschenk", k=3)
    assert "cannot lock the index folder" in caplog.text and read_index(index_dir) == (None, None)


# -- officers ------------------------------------------------------------------------------------------


def test_two_officers_saving_the_same_opened_version_one_wins_the_other_is_kept(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    store = CaseStore(cases)
    store.save_draft(child.case_version(CASE_ID, "start", 0), child.ANNA)
    for round_ in range(4):
        opened = store.editable_version(CASE_ID).hash
        writers = [f"anna{round_}", f"bram{round_}"]
        reports = child.run_together(child.save_once, [(str(cases), CASE_ID, w, opened) for w in writers])
        outcomes = sorted(kind for kind, _ in reports)
        assert outcomes == ["conflict", "saved"], reports
        winner, loser = writers if reports[0][0] == "saved" else writers[::-1]
        assert store.editable_version(CASE_ID).case.situation == child.version_text(winner, 0)
        kept = [parse_case(p.read_bytes())[0] for p in (cases / CONFLICTS).glob("*.yaml")]
        assert child.version_text(loser, 0) in {case.situation for case in kept if case}  # nothing lost
        assert drafted_hashes(cases).count(draft_hash(winner, 0)) == 1


def test_two_officers_creating_the_same_id_one_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    reports = child.run_together(child.save_once, [(str(cases), CASE_ID, w, None) for w in ("anna", "bram")])
    assert sorted(kind for kind, _ in reports) == ["conflict", "saved"]
    assert "already exists" in next(message for kind, message in reports if kind == "conflict")
    assert len(load_cases(cases).cases) == 1 and len(drafted_hashes(cases)) == 1


def test_officers_saving_over_and_over_in_two_processes_lose_nothing(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    CaseStore(cases).save_draft(child.case_version(CASE_ID, "start", 0), child.ANNA)
    rounds = 15
    reports = child.run_together(child.save_many, [(str(cases), CASE_ID, w, rounds) for w in ("anna", "bram")])
    assert_nothing_lost(cases, dict(zip(("anna", "bram"), reports, strict=True)))


def test_officers_saving_over_and_over_in_threads_lose_nothing(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    CaseStore(cases).save_draft(child.case_version(CASE_ID, "start", 0), child.ANNA)
    writers = ("anna", "bram", "carla")
    with ThreadPoolExecutor(len(writers)) as pool:
        reports = pool.map(lambda w: [child.save_edit(cases, CASE_ID, w, n) for n in range(12)], writers)
        outcomes = dict(zip(writers, reports, strict=True))
    assert_nothing_lost(cases, outcomes)


def assert_nothing_lost(cases: Path, outcomes: dict[str, list[tuple[str, int]]]) -> None:
    """Every save is in the audit log (once), every conflict's text in .conflicts/, the file is whole."""
    drafted = drafted_hashes(cases)
    conflicts = [parse_case(p.read_bytes())[0] for p in (cases / CONFLICTS).glob("*.yaml")]
    kept = {case.situation for case in conflicts if case}
    for writer, attempts in outcomes.items():
        for kind, n in attempts:
            if kind == "saved":
                assert drafted.count(draft_hash(writer, n)) == 1, (writer, n)
            elif kind == "conflict":
                assert child.version_text(writer, n) in kept, (writer, n)
    assert len(conflicts) == sum(kind == "conflict" for attempts in outcomes.values() for kind, _ in attempts)
    final = CaseStore(cases).editable_version(CASE_ID)
    assert final.case is not None and file_hash(final.path.read_bytes()) in drafted
    assert list(cases.rglob(".tmp-*")) == []


def test_workflow_lock_held_too_long_is_refused_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = tmp_path / "cases"
    store = CaseStore(cases)
    store.save_draft(child.case_version(CASE_ID, "anna", 0), child.ANNA)
    before = (cases / f"{CASE_ID}.yaml").read_bytes()
    monkeypatch.setattr(file_store, "LOCK_TIMEOUT_S", 0.3)
    lock = Path(f"{settings.audit_log_path(cases)}.workflow.lock")
    opened = store.editable_version(CASE_ID).hash
    with child.lock_held_elsewhere(lock), pytest.raises(StorageError, match="try again"):
        store.save_draft(child.case_version(CASE_ID, "anna", 1), child.ANNA, opened)
    assert (cases / f"{CASE_ID}.yaml").read_bytes() == before
    store.save_draft(child.case_version(CASE_ID, "anna", 1), child.ANNA, opened)  # and then it works


# -- searching while the collection changes ----------------------------------------------------------------


def test_searches_keep_answering_consistently_during_refreshes(tmp_path: Path) -> None:
    """Four threads search while cases are rewritten and the engine refreshed: no errors, and every hit's
    matched passage belongs to its own case (a snapshot is never a mix of two states)."""
    folder = collection(tmp_path / "cases", 20)
    engine = SearchEngine.open(folder, tmp_path / "index", embedder=FakeEmbedder())
    stop, errors, searches = threading.Event(), [], [0]

    def searcher(query: str) -> None:
        try:
            while not stop.is_set():
                hits = engine.search(query, k=5)
                assert hits, query
                for hit in hits:
                    assert hit.matched.text in {p.text for p in case_passages(hit.case)}, hit.case.id
                searches[0] += 1
                time.sleep(0.002)  # a person's pace, and room for the refresh to run
        except Exception as exc:  # reported below, with the query that failed
            errors.append(f"{query}: {exc!r}")

    threads = [threading.Thread(target=searcher, args=(f"situatie geschenk{n % 4} zaak {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(6):
            for n in range(round_ % 5, 20, 5):
                case = load_cases(folder).cases[f"zaak-{n:03d}"]
                changed = case.model_copy(update={"situation": f"Situatie {n}, herzien in ronde {round_}: geschenk."})
                atomic_write(folder / f"{case.id}.yaml", dump_case(changed))
            engine.refresh()
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not errors and searches[0] > 0
    assert engine.report.saved and len(engine.cases) == 20
