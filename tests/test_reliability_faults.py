"""Faults: kill -9 mid-write, full disks and refused permissions on every write, damaged index files.

The guarantee under test (docs/reliability.md): whatever goes wrong, the next start serves the old
state or the new one, never a torn one; a failed write says what to fix and leaves the previous state
intact; a damaged index is caught by its checksums and rebuilt to exactly what a fresh build gives.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pytest
import reliability_child as child
from conftest import FakeEmbedder, write_case
from fault_injection import Faults, snapshot

from moresprudentie import settings
from moresprudentie.cases.loading import MAX_FILE_BYTES, load_case_file, parse_case
from moresprudentie.cli import main as cli
from moresprudentie.errors import StorageError
from moresprudentie.review import audit
from moresprudentie.review import store as workflow
from moresprudentie.review.layout import REVISIONS
from moresprudentie.review.store import CaseStore
from moresprudentie.search.engine import SearchEngine
from moresprudentie.search.store import MANIFEST, PASSAGES, POINTER, VECTORS, VectorIndex, read_index

QUERIES = ("geschenk van een leverancier", "dienstauto in het weekend", "unpaid overtime hours", "zaak 7 les")
KILL_BUDGET_S = 12.0  # per kill test: as many kills as fit, at least MIN_KILLS
MIN_KILLS = 12
SEED = int(os.environ.get("RELIABILITY_SEED", time.time_ns() % 100_000))


def temps(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".tmp-*"))


def generations(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob("gen-*"))


def results(engine: SearchEngine) -> list[list[tuple[str, float, str, str]]]:
    return [
        [(hit.case.id, hit.score, hit.matched.field, hit.matched.text) for hit in engine.search(query, k=5)]
        for query in QUERIES
    ]


def same_index(a: VectorIndex, b: VectorIndex) -> bool:
    return (
        (a.case_ids, a.hashes, a.fields) == (b.case_ids, b.hashes, b.fields)
        and np.array_equal(a.starts, b.starts)
        and np.allclose(a.vectors, b.vectors, atol=1e-6)
    )


def collection(folder: Path, count: int, edited: tuple[int, ...] = ()) -> Path:
    """`count` cases with distinct words and a few lessons (so an index write takes a moment)."""
    for n in range(count):
        extra = " (herzien)" if n in edited else ""
        write_case(
            folder,
            f"zaak-{n:03d}",
            title=f"Zaak {n}{extra}: een geschenk, een dienstauto of overwerk",
            situation=f"Situatie {n}{extra}: woorden{n} geschenk{n % 5} dienstauto{n % 3} overtime{n % 4}.",
            lessons=[f"Les {n}.{m}: woord{n * m}" for m in range(1 + n % 4)],
        )
    return folder


@dataclass(frozen=True)
class State:
    """A collection, an engine opened on a fresh index of it, and that fresh index as stored."""

    folder: Path
    engine: SearchEngine
    vectors: VectorIndex


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, State]:
    """Two versions of a collection (B: two cases edited, two removed, three added) and a fresh engine
    for each, built from scratch in its own index folder: what every recovered index must equal."""
    root = tmp_path_factory.mktemp("states")
    a = collection(root / "a", 30)
    b = collection(root / "b", 31, edited=(3, 17))
    for n in (5, 9):
        (b / f"zaak-{n:03d}.yaml").unlink()
    for n in (30, 31, 32):
        write_case(b, f"nieuw-{n}", title=f"Nieuwe zaak {n}", situation=f"Nieuw {n}: geschenk en overwerk.")
    built = {}
    for name, folder in (("a", a), ("b", b)):
        engine = SearchEngine.open(folder, root / f"fresh-{name}", embedder=FakeEmbedder())
        built[name] = State(folder, engine, read_index(root / f"fresh-{name}")[0])
    return built


# -- kill -9 --------------------------------------------------------------------------------------------


def test_killed_indexer_leaves_the_old_or_the_new_index(states: dict, tmp_path: Path) -> None:
    """SIGKILL an indexer that keeps switching the index between A and B (and rebuilding it) at random
    moments; every time the next start must serve a correct index without repairs, and leftovers of
    the killed writer must not pile up."""
    rng = random.Random(SEED)
    index_dir = tmp_path / "index"
    fresh = [state.vectors for state in states.values()]
    folders = [str(states["a"].folder), str(states["b"].folder)]
    kills, torn, started = 0, 0, time.monotonic()
    while kills < MIN_KILLS or time.monotonic() - started < KILL_BUDGET_S:
        child.run_and_kill(child.index_forever, (folders, str(index_dir)), rng.uniform(0.0, 0.25))
        kills += 1
        on_disk, _ = read_index(index_dir)  # never raises after a kill: CURRENT only names whole generations
        assert on_disk is None or any(same_index(on_disk, f) for f in fresh), f"seed {SEED}, kill {kills}"
        torn += len(generations(index_dir)) > 2 or bool(temps(index_dir))
        name = rng.choice("ab")
        engine = SearchEngine.open(states[name].folder, index_dir, embedder=FakeEmbedder())
        assert engine.report.rebuilt_because is None, f"seed {SEED}, kill {kills}: {engine.report.rebuilt_because}"
        assert results(engine) == results(states[name].engine)
        if engine.report.changed_anything:  # this start wrote: it removed what killed writers left
            assert len(generations(index_dir)) <= 2 and temps(index_dir) == [], f"seed {SEED}, kill {kills}"
    SearchEngine.open(states["a"].folder, index_dir, embedder=FakeEmbedder())
    SearchEngine.open(states["b"].folder, index_dir, embedder=FakeEmbedder())  # the last start writes: cleans up
    assert len(generations(index_dir)) == 2 and temps(index_dir) == []
    assert torn > 0, f"seed {SEED}: none of {kills} kills landed inside a write; the test would prove nothing"


def _saved_number(path: Path) -> int:
    case, problems = load_case_file(path)
    assert case is not None, problems  # never torn: a whole file, valid
    return int(case.situation.split()[1])


def test_killed_officer_save_loses_nothing_confirmed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL a process cycling edit → submit → approve → publish; each time the files are whole,
    nothing confirmed is lost, the next officer can carry on, and no temp files pile up."""
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    rng = random.Random(SEED)
    cases = tmp_path / "cases"
    store = CaseStore(cases)
    case_id = "geschenk-leverancier"
    store.save_draft(child.case_version(case_id, "anna", 0), child.ANNA)
    main, revision = cases / f"{case_id}.yaml", cases / REVISIONS / f"{case_id}.yaml"
    kills, started, confirmed = 0, time.monotonic(), {"saved": 0, "published": -1}
    while kills < MIN_KILLS or time.monotonic() - started < KILL_BUDGET_S:
        start = 1000 * (kills + 1)
        messages = child.run_and_kill(child.save_forever, (str(cases), case_id, start), rng.uniform(0.0, 0.3))
        kills += 1
        for step, n in messages:
            confirmed[step] = n
        editable = revision if revision.exists() else main
        assert _saved_number(editable) >= confirmed["saved"], f"seed {SEED}, kill {kills}: a confirmed save is lost"
        if confirmed["published"] >= 0:
            assert _saved_number(main) >= confirmed["published"], f"seed {SEED}, kill {kills}: a publication is lost"
        audit.read_events(settings.audit_log_path(cases))  # readable, whatever line was torn
        # the next officer carries on: a full round in this process (no stale lock, no stuck state)
        opened = store.editable_version(case_id)
        store.save_draft(child.case_version(case_id, "bram", start + 999), child.ANNA, opened.hash)
        store.submit(case_id, child.ANNA)
        shown = store.editable_version(case_id).hash
        store.approve(case_id, child.BRAM, seen_hash=shown)
        store.publish(case_id, child.BRAM, seen_hash=shown)
        confirmed = {"saved": start + 999, "published": start + 999}
        assert temps(cases) == [], f"seed {SEED}, kill {kills}: temp files left beside the cases"


# -- damaged index files -------------------------------------------------------------------------------


def _flip(path: Path, bit: int) -> None:
    data = bytearray(path.read_bytes())
    data[bit // 8] ^= 1 << (bit % 8)
    path.write_bytes(bytes(data))


def _damages(rng: random.Random, size: int) -> list[tuple[str, Callable[[Path], None]]]:
    """Bit flips in the header, the end and at random places; truncations; an empty file; deletion."""
    bits = {0, 7, 8 * size - 1, *(rng.randrange(8 * size) for _ in range(8))}
    cuts = {0, 1, size // 2, size - 1}
    return [
        *((f"flip bit {bit}", lambda p, b=bit: _flip(p, b)) for bit in sorted(bits)),
        *((f"truncate to {cut}", lambda p, c=cut: p.write_bytes(p.read_bytes()[:c])) for cut in sorted(cuts)),
        ("delete", Path.unlink),
    ]


@pytest.mark.parametrize("name", [VECTORS, PASSAGES, MANIFEST, POINTER])
def test_every_damage_is_detected_and_rebuilt_to_a_fresh_build(
    states: dict[str, State], tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    folder, fresh = states["a"].folder, states["a"]
    pristine = tmp_path / "pristine"
    SearchEngine.open(folder, pristine, embedder=FakeEmbedder())
    current = json.loads((pristine / POINTER).read_text())["generation"]
    relative = name if name == POINTER else f"{current}/{name}"
    expected = results(fresh.engine)
    for label, damage in _damages(random.Random(SEED), (pristine / relative).stat().st_size):
        index_dir = tmp_path / "damaged"
        shutil.rmtree(index_dir, ignore_errors=True)
        shutil.copytree(pristine, index_dir)
        damage(index_dir / relative)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="moresprudentie"):
            engine = SearchEngine.open(folder, index_dir, embedder=FakeEmbedder())
        if (name, label) == (POINTER, "delete"):  # looks like a new folder: built afresh, old generations removed
            assert engine.report.added == len(fresh.engine.cases) and len(generations(index_dir)) == 1
        else:
            assert (engine.report.rebuilt_because or "").startswith("damaged"), f"{name}: {label} went unnoticed"
            assert "rebuilding it from the case files" in caplog.text
        assert results(engine) == expected, f"{name}: {label}"
        repaired, _ = read_index(index_dir)
        assert repaired is not None and same_index(repaired, fresh.vectors), f"{name}: {label}"


def test_faiss_alone_would_serve_a_flipped_vector_file(states: dict, tmp_path: Path) -> None:
    """Why the checksums matter: FAISS reads a vector file with a flipped bit without complaint."""
    SearchEngine.open(states["a"].folder, tmp_path, embedder=FakeEmbedder())
    generation = json.loads((tmp_path / POINTER).read_text())["generation"]
    path = tmp_path / generation / VECTORS
    _flip(path, 8 * (path.stat().st_size - 100))  # inside the float data
    flat = faiss.deserialize_index(np.frombuffer(path.read_bytes(), dtype=np.uint8))
    assert flat.ntotal > 0  # accepted silently: only the manifest's sha256 tells


# -- full disks and refused permissions, at every write ---------------------------------------------------

CASE_ID = "geschenk-leverancier"


def _shown(cases: Path) -> str:
    """The hash of the version an officer opening the case now is shown (read_bytes: no write primitive)."""
    return CaseStore(cases).editable_version(CASE_ID).hash


def _draft(cases: Path) -> None:
    CaseStore(cases).save_draft(child.case_version(CASE_ID, "anna", 1), child.ANNA)


def _submitted(cases: Path) -> None:
    _draft(cases)
    CaseStore(cases).submit(CASE_ID, child.ANNA)


def _approved(cases: Path) -> None:
    _submitted(cases)
    CaseStore(cases).approve(CASE_ID, child.BRAM, seen_hash=_shown(cases))


def _published(cases: Path) -> None:
    _approved(cases)
    CaseStore(cases).publish(CASE_ID, child.BRAM, seen_hash=_shown(cases))


def _edit(cases: Path) -> None:
    store = CaseStore(cases)
    opened = store.editable_version(CASE_ID)
    store.save_draft(child.case_version(CASE_ID, "anna", 2), child.ANNA, opened.hash)


def _revision_approved(cases: Path) -> None:
    _published(cases)
    _edit(cases)
    store = CaseStore(cases)
    store.submit(CASE_ID, child.ANNA)
    store.approve(CASE_ID, child.BRAM, seen_hash=_shown(cases))


WRITES: dict[str, tuple[Callable[[Path], object], Callable[[Path], object]]] = {  # name → (setup, the write)
    "new case": (Path.mkdir, _draft),
    "scaffold": (Path.mkdir, lambda c: CaseStore(c).create_scaffold(CASE_ID, child.ANNA)),
    "edit draft": (_draft, _edit),
    "edit published": (_published, _edit),
    "submit": (_draft, lambda c: CaseStore(c).submit(CASE_ID, child.ANNA)),
    "approve": (_submitted, lambda c: CaseStore(c).approve(CASE_ID, child.BRAM, seen_hash=_shown(c))),
    "send back": (_approved, lambda c: CaseStore(c).send_back(CASE_ID, child.BRAM, "Naam eruit.", seen_hash=_shown(c))),
    "publish": (_approved, lambda c: CaseStore(c).publish(CASE_ID, child.BRAM, seen_hash=_shown(c))),
    "publish revision": (_revision_approved, lambda c: CaseStore(c).publish(CASE_ID, child.BRAM, seen_hash=_shown(c))),
}


def _without_revision(state: dict[str, object]) -> dict[str, object]:
    return {name: data for name, data in state.items() if f"{REVISIONS}/" not in name}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_failing_write_says_what_to_fix_and_keeps_the_previous_state(
    write: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    setup, act = WRITES[write]
    template = tmp_path / "template"
    template.mkdir()
    setup(template / "cases")
    before = snapshot(template)

    def attempt(name: str, fail_at: tuple[str, int] | None) -> tuple[Path, Faults, BaseException | None]:
        root = tmp_path / name
        shutil.copytree(template, root)
        with monkeypatch.context() as patch:
            faults = Faults(patch, fail_at)
            try:
                act(root / "cases")
            except Exception as exc:  # judged below: only StorageError may come out
                return root, faults, exc
        return root, faults, None

    done, dry, error = attempt("dry-run", None)
    assert error is None
    after = snapshot(done)
    failures = []
    for number, point in enumerate(dry.points()):
        root, _, error = attempt(f"fault-{number}", point)
        state = snapshot(root)
        if error is None:
            outcome_ok = state == after  # the failure was harmless (e.g. syncing a folder entry)
        else:
            message = str(error)
            committed = "published, but" in message and _without_revision(state) == _without_revision(after)
            outcome_ok = (
                isinstance(error, StorageError)
                and str(root) in message
                and any(fix in message for fix in ("Free disk space", "permissions", "try again", "delete it"))
                and (state == before or committed)  # committed: done, and the message says what is left to do
            )
        if not outcome_ok or temps(root):
            failures.append(
                f"{point}: {type(error).__name__ if error else 'no error'}: {error}; state kept: {state == before}"
            )
    assert not failures, f"{write}: " + "\n".join(failures)


def test_cli_turns_a_full_disk_into_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from moresprudentie.cli import officer

    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    # the near-duplicate check opens the search index (writes of its own); this test is about the review's
    monkeypatch.setattr(officer, "_near_duplicate_note", lambda *args, **kwargs: "")
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    cases = tmp_path / "cases"
    CaseStore(cases).save_draft(child.case_version(CASE_ID, "anna", 1), child.ANNA)
    roles = tmp_path / "roles.toml"
    roles.write_text('[moresprudentie]\nofficers = ["anna@example.nl"]\n', encoding="utf-8")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "moresprudentie",
            "review",
            "submit",
            CASE_ID,
            "--cases",
            str(cases),
            "--as",
            "anna@example.nl",
            "--roles",
            str(roles),
        ],
    )
    Faults(monkeypatch, ("os.fsync", 1))
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and "audit" in err and "Free disk space" in err


@pytest.mark.parametrize(
    "point",
    [(p, n) for p in ("tempfile.mkstemp", "os.fsync", "os.replace", "os.open", "os.mkdir") for n in (1, 2, 3, 4)],
)
def test_index_write_failures_serve_from_memory_and_keep_the_old_index(
    states: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    point: tuple[str, int],
) -> None:
    a, b = states["a"], states["b"]
    index_dir = tmp_path / "index"
    SearchEngine.open(a.folder, index_dir, embedder=FakeEmbedder())
    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, logger="moresprudentie"):
        Faults(patch, point)
        engine = SearchEngine.open(b.folder, index_dir, embedder=FakeEmbedder())
    assert results(engine) == results(b.engine)  # served, from memory if need be
    on_disk, _ = read_index(index_dir)
    assert on_disk is not None
    if engine.report.saved:
        assert same_index(on_disk, b.vectors)
    else:
        assert same_index(on_disk, a.vectors)  # the previous index, intact
        assert "in-memory index" in caplog.text and ("Free disk space" in caplog.text or "writable" in caplog.text)
    SearchEngine.open(b.folder, index_dir, embedder=FakeEmbedder())
    assert len(generations(index_dir)) <= 2 and temps(index_dir) == []
    assert same_index(read_index(index_dir)[0], b.vectors)


# -- hostile input that stays under the file-size limit ------------------------------------------------

BASE_CASE = (Path(__file__).parent / "fixtures" / "collection" / "printer-thuis.yaml").read_text(encoding="utf-8")


def _filled(prefix: str, item: str, suffix: str = "") -> bytes:
    """The base case plus a field repeated up to just under the loader's size limit."""
    room = MAX_FILE_BYTES - len(BASE_CASE.encode()) - len(prefix) - len(suffix) - 64
    return (BASE_CASE + prefix + item * (room // len(item)) + suffix).encode("utf-8")


HUGE = {
    "65k lessons": lambda: _filled("lessons:\n", "- a\n"),
    "130k options in flow style": lambda: _filled("options: [", "a,", "a]\n"),
    "30k unknown keys": lambda: _filled("", "k{}: v\n").replace(b"{}", b"1"),
    "a 200k-character situation": lambda: BASE_CASE.replace("situation:", "situation: " + "x" * 200_000, 1).encode(),
}


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_content_under_the_size_limit_is_refused_within_a_second(name: str) -> None:
    """A file may be 256 KiB, but no case needs tens of thousands of items: refuse them, fast (each
    item would otherwise become a passage to embed, a bullet to draw, a line to review)."""
    data = HUGE[name]()
    assert len(data) <= MAX_FILE_BYTES
    started = time.process_time()  # CPU time: other work on the machine does not count
    case, problems = parse_case(data, "huge.yaml")
    seconds = time.process_time() - started
    assert case is None and any(p.severity == "error" for p in problems), f"{name}: accepted"
    assert seconds < 1.0, f"{name}: {seconds:.2f} s of CPU to refuse"
