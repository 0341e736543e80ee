"""Code that runs in child processes for the reliability tests (kill -9, two processes at once).

The children are forked from a multiprocessing fork server that has imported the library once, so a
child starts in a fraction of a second and a test can kill dozens of them. They use the FakeEmbedder (no model)
and report progress through a pipe, so the parent knows what was confirmed before the kill.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from conftest import FakeEmbedder
from filelock import FileLock
from tqdm import tqdm

from moresprudentie import settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.model import Case
from moresprudentie.errors import ConflictError
from moresprudentie.review import store as workflow
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.search.sync import sync_index

OFFICERS = frozenset({"anna@example.nl", "bram@example.nl"})
ANNA = actor_for("anna@example.nl", OFFICERS)
BRAM = actor_for("bram@example.nl", OFFICERS)
READY_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 60.0


def _isolate() -> None:
    """Children inherit the forkserver's environment, not the test's: never follow a stray setting."""
    for setting in settings.ALL_SETTINGS:
        os.environ.pop(setting.env, None)
    workflow.blocking_findings = lambda case: []  # the anonymisation check is tested elsewhere (and loads deduce)
    # tqdm's default lock is a named semaphore, which a killed child leaves behind: use a thread lock
    tqdm.set_lock(threading.RLock())


def version_text(writer: str, n: int) -> str:
    return f"Versie {n} van {writer}: een medewerker twijfelt over een geschenk van een leverancier."


def case_version(case_id: str, writer: str, n: int) -> Case:
    """The n-th text a writer saves; the situation names writer and n, so the parent can tell them apart."""
    return Case.model_validate(
        {
            "id": case_id,
            "title": "Een geschenk van een leverancier",
            "language": "nl",
            "date": "2024-03",
            "themes": ["geschenken"],
            "values": ["onpartijdigheid", "menselijkheid"],
            "role": "medewerker",
            "tensions": [{"between": ["onpartijdigheid", "menselijkheid"], "prevailed": "onpartijdigheid"}],
            "norms": [{"text": "Gedragscode: geen geschenken van leveranciers", "source": "organisatorisch"}],
            "situation": version_text(writer, n),
            "dilemma": "Moet ik het geschenk aannemen of terugsturen?",
            "judgement": "Terugsturen, met een vriendelijke brief.",
            "reasoning": "Onpartijdigheid woog zwaarder dan beleefdheid.",
            "decisive_facts": ["De aanbesteding liep nog."],
        }
    )


# -- killed at random moments ----------------------------------------------------------------------


def index_forever(folders: list[str], index_dir: str, parent: Connection) -> None:
    """Alternate the index between collections, now and then rebuilding it whole, until killed."""
    _isolate()
    states = [load_cases(folder) for folder in folders]
    embedder = FakeEmbedder()
    parent.send("ready")
    n = 0
    while True:
        state = states[n % len(states)]
        sync_index(Path(index_dir), state.cases, state.hashes, embedder, rebuild=n % 3 == 0)
        parent.send(("synced", n))
        n += 1


def save_forever(cases_dir: str, case_id: str, start: int, parent: Connection) -> None:
    """Edit → submit → approve → publish, over and over (drafts, revisions, audit lines), until killed.

    After every step that returned, the step's number goes down the pipe: it is on disk for sure."""
    _isolate()
    store = CaseStore(cases_dir)
    parent.send("ready")
    n = start
    while True:
        opened = store.editable_version(case_id)
        store.save_draft(case_version(case_id, "anna", n), ANNA, opened.hash)
        parent.send(("saved", n))
        store.submit(case_id, ANNA)
        shown = store.editable_version(case_id).hash
        store.approve(case_id, BRAM, seen_hash=shown)
        store.publish(case_id, BRAM, seen_hash=shown)
        parent.send(("published", n))
        n += 1


# -- two at once -----------------------------------------------------------------------------------


def _wait_for_go(parent: Connection) -> None:
    parent.send("ready")
    if parent.recv() != "go":
        raise AssertionError("expected the start signal")


def index_once(folder: str, index_dir: str, parent: Connection) -> None:
    """Bring the index in step with one collection on the start signal; report what it did."""
    _isolate()
    state = load_cases(folder)
    embedder = FakeEmbedder()
    _wait_for_go(parent)
    index, report = sync_index(Path(index_dir), state.cases, state.hashes, embedder)
    parent.send((report.saved, embedder.texts_embedded, index.case_ids, index.hashes))


def save_once(cases_dir: str, case_id: str, writer: str, expected_hash: str | None, parent: Connection) -> None:
    """One officer's save of a case opened at expected_hash (None: a new case), on the start signal."""
    _isolate()
    case = case_version(case_id, writer, 0)
    _wait_for_go(parent)
    try:
        saved = CaseStore(cases_dir).save_draft(case, ANNA, expected_hash)
    except ConflictError as exc:
        parent.send(("conflict", str(exc)))
    else:
        parent.send(("saved", saved.hash))


def save_many(cases_dir: str, case_id: str, writer: str, rounds: int, parent: Connection) -> None:
    """Open, edit and save the same case `rounds` times, from the start signal on."""
    _isolate()
    folder = Path(cases_dir)
    _wait_for_go(parent)
    parent.send([save_edit(folder, case_id, writer, n) for n in range(rounds)])


def save_edit(folder: Path, case_id: str, writer: str, n: int) -> tuple[str, int]:
    """Open the case, save version n over it; ('saved' | 'unchanged' | 'conflict', n)."""
    store = CaseStore(folder)
    opened = store.editable_version(case_id)
    try:
        saved = store.save_draft(case_version(case_id, writer, n), ANNA, opened.hash)
    except ConflictError:
        return "conflict", n
    return ("saved" if saved.changed else "unchanged"), n


# -- the parent's side -----------------------------------------------------------------------------


# What the fork server imports once, so that a child starts in milliseconds. Installed modules only:
# Python 3.11's fork server ignores the parent's sys.path, so this module itself would not be found.
PRELOAD = ["pytest", "numpy", "faiss", "moresprudentie.search.engine", "moresprudentie.review.store"]


def forkserver() -> BaseContext:
    """Children forked from a server that has imported the library once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def run_and_kill(target: Callable[..., None], args: tuple, delay: float) -> list[Any]:
    """Start target(*args, pipe) in a child, SIGKILL it `delay` seconds after it is ready, and
    return what it confirmed through the pipe before it died."""
    context = forkserver()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(*args, send), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(READY_TIMEOUT_S) or receive.recv() != "ready":
            raise AssertionError(f"{target.__name__} did not start within {READY_TIMEOUT_S} s")
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.join(READY_TIMEOUT_S)
        assert process.exitcode == -signal.SIGKILL, f"{target.__name__} ended by itself (exit {process.exitcode})"
        messages = []
        with contextlib.suppress(EOFError):
            while receive.poll():
                messages.append(receive.recv())
        return messages
    finally:
        receive.close()
        if process.is_alive():
            process.kill()
            process.join()


def run_together(target: Callable[..., None], arguments: list[tuple], timeout: float = RUN_TIMEOUT_S) -> list[Any]:
    """Start one child per argument tuple, release them at the same moment, return their reports
    (each child's run must end within `timeout` seconds)."""
    context = forkserver()
    pipes, processes = [], []
    try:
        for args in arguments:
            mine, theirs = context.Pipe()
            process = context.Process(target=target, args=(*args, theirs), daemon=True)
            process.start()
            theirs.close()
            pipes.append(mine)
            processes.append(process)
        for pipe in pipes:
            if not pipe.poll(READY_TIMEOUT_S) or pipe.recv() != "ready":
                raise AssertionError(f"{target.__name__} did not start within {READY_TIMEOUT_S} s")
        for pipe in pipes:
            pipe.send("go")
        reports = []
        for pipe in pipes:
            if not pipe.poll(timeout):
                raise AssertionError(f"{target.__name__} did not finish within {timeout} s")
            reports.append(pipe.recv())
        return reports
    finally:
        for process in processes:
            process.join(READY_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in pipes:
            pipe.close()


def hold_lock(path: str, parent: Connection) -> None:
    """Hold a file lock (as a slow writer would) until the parent says "go"."""
    with FileLock(path):
        _wait_for_go(parent)
    parent.send("released")


@contextlib.contextmanager
def lock_held_elsewhere(path: Path) -> Iterator[None]:
    """Another process holds the lock at `path` for as long as the block runs."""
    context = forkserver()
    mine, theirs = context.Pipe()
    process = context.Process(target=hold_lock, args=(str(path), theirs), daemon=True)
    process.start()
    theirs.close()
    try:
        if not mine.poll(READY_TIMEOUT_S) or mine.recv() != "ready":
            raise AssertionError("the lock holder did not start")
        yield
        mine.send("go")
        mine.recv()
    finally:
        process.join(READY_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()
        mine.close()
