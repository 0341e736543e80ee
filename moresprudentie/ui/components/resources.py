"""The one SearchEngine per server process, opened lazily and shared read-only by every session.

Pages get it through `engine()`; nothing in the UI changes it (officer pages call `refresh()`, which
swaps a new snapshot in atomically). Tests replace `load_embedder` here with a fake, and point
MORESPRUDENTIE_CASES at a temporary collection.

The engine is held in this module, not in `st.cache_resource`: any browser can send Streamlit's
`clear_cache` message, which empties every resource cache, and reopening the engine (model, index,
cases) for each such message let one anonymous client swing the server's memory by gigabytes and
slow every other user. Nothing a client sends reaches this holder; a new engine is opened only
when the collection, index or model setting changes (each test's temporary collection, say).

Fresh everywhere: a case published from the CLI or another app process, a file edited or deleted by
hand, a `git pull` into cases/ — every running app serves it within seconds, without a restart.
`engine()` looks at the case folder at most once every CHECK_INTERVAL_S (one scan and one stat per
file, no YAML read: SearchEngine.is_stale) and, if anything changed, refreshes the engine once,
incrementally (only new or changed cases are parsed and embedded). One session does that while the
others keep reading the old snapshot; a broken file becomes a problem on the overview, a failed
refresh keeps the cases read before. There is no polling (no `st.fragment(run_every=…)`): a page
becomes fresh on its next run, a click or a reload, so results a reader is looking at never move.
A page run that starts CHECK_INTERVAL_S after a change (a reload of an idle page, say) shows it.

With a PostgreSQL store (MORESPRUDENTIE_STORE) each replica searches its own local copy of the shared
collection (storage/replica.py). The same look first asks the database's change counter and, if it
moved, fetches what changed into the copy; the engine then refreshes as above. So a publish in any
replica is served by every other within CHECK_INTERVAL_S plus a refresh. When the database cannot be
reached, the copy and the engine stay as they were: search keeps answering, every page shows a
read-only banner (store_banner), and writes fail with a clear message until the database is back.
"""

from __future__ import annotations

import logging
import threading
import time

import streamlit as st

from moresprudentie import settings
from moresprudentie.cases.model import Case
from moresprudentie.errors import MoresprudentieError, StoreUnavailableError
from moresprudentie.review.store import CaseStore, QueueItem
from moresprudentie.search.embedders import load_embedder
from moresprudentie.search.engine import SearchEngine
from moresprudentie.storage import SearchFolders, open_store, search_folders
from moresprudentie.ui.components.i18n import t

EngineKey = tuple[str, str, str, str]  # cases folder, index folder ("" = beside the cases), model, store

CHECK_INTERVAL_S = 3.0  # how often, at most, a page run looks for changes made outside this process

log = logging.getLogger(__name__)
_lock = threading.Lock()
_held: tuple[EngineKey, SearchEngine, SearchFolders] | None = None  # with the folders it reads (one Replica)
_checking = threading.Lock()  # held by the one session that is looking at the folder (or refreshing)
_last_check = 0.0  # time.monotonic() of the last look, or of the open
_store_down: str | None = None  # why the shared store could not be reached at the last look (None: it could)


def _open_engine(key: EngineKey) -> tuple[SearchEngine, SearchFolders]:
    """The process's engine for these settings and the folders it reads, opened once (by one session
    while the others wait). The folders are kept with it: a PostgreSQL store's Replica remembers the
    change counter it last matched, so a look when nothing changed costs one small query.

    Only the current engine is kept: a changed setting replaces it rather than adding a second one.
    A failed open is not remembered, so the next page run tries again (as st.cache_resource did).
    """
    global _held, _last_check  # the one process-wide holder, guarded by _lock
    held = _held
    if held is not None and held[0] == key:
        return held[1], held[2]
    with _lock:
        held = _held
        if held is not None and held[0] == key:  # another session opened it while we waited
            return held[1], held[2]
        cases, index, model, store = key
        folders = search_folders(cases, index or None, store)
        unreachable = _sync(folders)
        if unreachable is not None and not folders.cases.is_dir():
            raise unreachable  # nothing fetched from the shared store yet: nothing to search
        opened = SearchEngine.open(folders.cases, folders.index, embedder=load_embedder(model))
        _held = (key, opened, folders)
        _last_check = time.monotonic()  # just read: nothing to look for yet
        return opened, folders


def _sync(folders: SearchFolders) -> StoreUnavailableError | None:
    """Fetch the shared store's changes into this replica's copy (nothing to do for the file store);
    remember whether the store answered, for the read-only banner. Returns the error when it did not."""
    global _store_down
    try:
        folders.sync()
    except StoreUnavailableError as exc:
        if _store_down is None:
            log.warning("the shared store cannot be reached (%s); serving the last copy, read-only", exc)
        _store_down = str(exc)
        return exc
    if _store_down is not None:
        log.info("the shared store is back; writes work again")
    _store_down = None
    return None


def _keep_fresh(current: SearchEngine, folders: SearchFolders) -> None:
    """Refresh the engine if the case files changed on disk since it read them (see the module's
    docstring), looking at most once every CHECK_INTERVAL_S.

    A session that finds another one looking or refreshing does not wait: it serves the current
    snapshot. A refresh that fails (a folder gone during a `git checkout`, a model error) is logged
    and the cases read before stay served; the next look tries again. Any exception is caught here on
    purpose: the old snapshot is whole, and serving it beats an error page for every user.
    `folders` are the ones the engine reads; with a replica (a PostgreSQL store) its changes are fetched first.
    """
    global _last_check
    if time.monotonic() - _last_check < CHECK_INTERVAL_S or not _checking.acquire(blocking=False):
        return
    try:
        if time.monotonic() - _last_check < CHECK_INTERVAL_S:
            return  # another session looked while this one reached the lock
        _sync(folders)
        if current.is_stale():
            current.refresh()
            report = current.report
            log.info(
                "%s changed: %d added, %d changed, %d removed; %d problems",
                current.cases_dir,
                report.added,
                report.changed,
                report.removed,
                len(current.problems),
            )
    except MoresprudentieError as exc:  # says what to fix: no traceback needed
        log.warning(
            "%s changed but could not be read again (%s); serving the cases read before", current.cases_dir, exc
        )
    except Exception:
        log.exception("%s changed but could not be read again; serving the cases read before", current.cases_dir)
    finally:
        _last_check = time.monotonic()
        _checking.release()


def forget_engine() -> None:
    """Drop the held engine (for tests that need a fresh one for the same settings)."""
    global _held
    with _lock:
        _held = None


def _key() -> EngineKey:
    return (str(settings.cases_dir()), settings.INDEX.value(), settings.model_name(), settings.STORE.value())


def engine() -> SearchEngine:
    """The shared engine for the configured collection, refreshed if the collection changed outside
    this process (at most every CHECK_INTERVAL_S); a friendly error (and stop) if it cannot open."""
    try:
        with st.spinner(t("app.loading")):
            opened, folders = _open_engine(_key())
            _keep_fresh(opened, folders)
            return opened
    except MoresprudentieError as exc:
        st.error(t("app.engine_error", reason=str(exc)), icon=":material/error:")
        st.stop()


def refresh_after_write() -> None:
    """After a publish or withdrawal in this process: fetch it into the local copy (a PostgreSQL store)
    and refresh the engine at once, so the officer sees the result on the next run."""
    current, folders = _open_engine(_key())
    _sync(folders)
    current.refresh()


def store_banner() -> None:
    """Every page: say so when the shared store cannot be reached (search works from the last copy,
    nothing can be saved). Only a PostgreSQL store can be down; the look is the engine's own."""
    if settings.STORE.value() == "files":
        return
    engine()
    if _store_down is not None:
        st.warning(t("app.read_only"), icon=":material/cloud_off:")


def case_store() -> CaseStore:
    """The store officers' pages read drafts from and take steps through (the one place it is opened):
    the cases folder, or the shared PostgreSQL database (MORESPRUDENTIE_STORE)."""
    return open_store()


def review_queue() -> list[QueueItem]:
    """The drafts waiting for work, for the officer pages; when the store cannot be read (a shared
    database that is down), a clear error instead of the page, and the page stops there."""
    try:
        return case_store().review_queue()
    except MoresprudentieError as exc:
        st.error(t("app.store_error", reason=str(exc)), icon=":material/cloud_off:")
        st.stop()


def published(engine: SearchEngine) -> list[Case]:
    """The cases everyone may see (drafts are for officers' pages only), newest first."""
    cases = [case for case in engine.cases.values() if case.is_published]
    return sorted(cases, key=lambda case: (case.date, case.id), reverse=True)


def find_published(engine: SearchEngine, case_id: str) -> Case | None:
    case = engine.cases.get(case_id)
    return case if case is not None and case.is_published else None
