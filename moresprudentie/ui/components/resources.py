"""The one SearchEngine per server process, opened lazily and shared read-only by every session.

Pages get it through `engine()`; nothing in the UI changes it (officer pages call `refresh()`, which
swaps a new snapshot in atomically). Tests replace `load_embedder` here with a fake, and point
MORESPRUDENTIE_CASES at a temporary collection.

The engine is held in this module, not in `st.cache_resource`: any browser can send Streamlit's
`clear_cache` message, which empties every resource cache, and reopening the engine (model, index,
cases) for each such message let one anonymous client swing the server's memory by gigabytes and
slow every other user. Nothing a client sends reaches this holder; a new engine is opened only
when the collection, index or model setting changes (each test's temporary collection, say).
"""

from __future__ import annotations

import threading

import streamlit as st

from moresprudentie import settings
from moresprudentie.cases.model import Case
from moresprudentie.errors import MoresprudentieError
from moresprudentie.search.embedders import load_embedder
from moresprudentie.search.engine import SearchEngine
from moresprudentie.ui.components.i18n import t

EngineKey = tuple[str, str, str]  # cases folder, index folder ("" = beside the cases), model name

_lock = threading.Lock()
_held: tuple[EngineKey, SearchEngine] | None = None


def _open_engine(cases_dir: str, index_dir: str, model: str) -> SearchEngine:
    """The process's engine for these settings, opened once (by one session while the others wait).

    Only the current engine is kept: a changed setting replaces it rather than adding a second one.
    A failed open is not remembered, so the next page run tries again (as st.cache_resource did).
    """
    global _held  # the one process-wide holder, guarded by _lock
    key = (cases_dir, index_dir, model)
    held = _held
    if held is not None and held[0] == key:
        return held[1]
    with _lock:
        held = _held
        if held is not None and held[0] == key:  # another session opened it while we waited
            return held[1]
        opened = SearchEngine.open(cases_dir, index_dir or None, embedder=load_embedder(model))
        _held = (key, opened)
        return opened


def forget_engine() -> None:
    """Drop the held engine (for tests that need a fresh one for the same settings)."""
    global _held
    with _lock:
        _held = None


def engine() -> SearchEngine:
    """The shared engine for the configured collection; a friendly error (and stop) if it cannot open."""
    try:
        with st.spinner(t("app.loading")):
            return _open_engine(str(settings.cases_dir()), settings.INDEX.value(), settings.model_name())
    except MoresprudentieError as exc:
        st.error(t("app.engine_error", reason=str(exc)), icon=":material/error:")
        st.stop()


def published(engine: SearchEngine) -> list[Case]:
    """The cases everyone may see (drafts are for officers' pages only), newest first."""
    cases = [case for case in engine.cases.values() if case.is_published]
    return sorted(cases, key=lambda case: (case.date, case.id), reverse=True)


def find_published(engine: SearchEngine, case_id: str) -> Case | None:
    case = engine.cases.get(case_id)
    return case if case is not None and case.is_published else None
