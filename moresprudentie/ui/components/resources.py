"""The one SearchEngine per server process, opened lazily and shared read-only by every session.

Pages get it through `engine()`; nothing in the UI changes it (officer pages call `refresh()`, which
swaps a new snapshot in atomically). Tests replace `load_embedder` here with a fake, and point
MORESPRUDENTIE_CASES at a temporary collection.
"""

from __future__ import annotations

import streamlit as st

from moresprudentie import settings
from moresprudentie.cases.model import Case
from moresprudentie.errors import MoresprudentieError
from moresprudentie.search.embedders import load_embedder
from moresprudentie.search.engine import SearchEngine
from moresprudentie.ui.components.i18n import t


@st.cache_resource(show_spinner=False)
def _open_engine(cases_dir: str, index_dir: str, model: str) -> SearchEngine:
    return SearchEngine.open(cases_dir, index_dir or None, embedder=load_embedder(model))


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
