"""Zoeken: an employee describes a dilemma and finds earlier deliberations that resemble it.

The query lives only in this browser session's memory: it is never logged, stored or written into
the URL (a shared ?q= link is the sender's own choice and is only read). So does why each result
matched (widgets.MATCHED), which the case page shows to a reader who opens a result. The results
can be downloaded as Excel or CSV (export.py), without the query: Excel first, since Dutch Excel
splits a CSV only on semicolons and opens a comma-separated file as one column.
"""

from dataclasses import replace
from functools import partial

import streamlit as st

from moresprudentie import export
from moresprudentie.ui.components import resources, widgets
from moresprudentie.ui.components.facets import filter_panel, tension_picker
from moresprudentie.ui.components.i18n import t

RESULTS = 10
TEXT, SUBMITTED = "search_text", "search_submitted"
RESULTS_STEM = "moresprudentie-zoekresultaten"  # + .xlsx, .csv
RESULT_FORMATS = ("xlsx", "csv")


def _submit(text: str) -> None:
    st.session_state[TEXT] = text
    st.session_state[SUBMITTED] = text


if SUBMITTED not in st.session_state and st.query_params.get("q"):  # deep link: ?q=… searches at once
    _submit(st.query_params["q"][:4000])

st.title(t("search.title"), anchor=False)
st.caption(t("app.tagline"))
with st.form("search_form", border=False):
    text = st.text_area(
        t("search.label"),
        key=TEXT,
        placeholder=t("search.example"),
        height=150,
        max_chars=4000,
        persist_state="session",
    )
    if st.form_submit_button(t("search.submit"), type="primary", icon=":material/search:"):
        st.session_state[SUBMITTED] = text
st.caption(t("search.privacy"))
query = (st.session_state.get(SUBMITTED) or "").strip()
if not query:  # after a search it follows the results: on a phone they would start a screen further down
    widgets.advice_notice()

# The form is on screen first: on a fresh server the model loads while the employee types.
engine = resources.engine()
cases = resources.published(engine)
with st.sidebar:
    st.header(t("filters.title"), anchor=False)
    filters = filter_panel(cases, "search")
with st.expander(
    t("search.tension"), icon=":material/balance:", expanded=bool(st.session_state.get("search_tension_a"))
):
    tension = tension_picker(cases, "search_tension", *st.columns(2))
if tension:
    filters = replace(filters, tension=tension)
st.session_state.pop(widgets.MATCHED, None)  # only results drawn below (hit_list) have a match to explain
if query:
    hits = engine.search(query, k=RESULTS, filters=filters)
    widgets.hit_list(
        hits,
        query,
        heading_key="search.results",
        no_good_match_key="search.no_good_match" if filters.is_default else "search.no_good_match_filtered",
        nothing_key="search.nothing",
    )
    if hits:  # the hits shown above, weak ones too, in rank order; each file written when clicked
        frame = export.results_frame(hits)
        writers = {"xlsx": export.to_xlsx, "csv": export.to_csv}
        for column, name in zip(st.columns(len(RESULT_FORMATS)), RESULT_FORMATS, strict=True):
            column.download_button(
                t(f"search.download.{name}"),
                partial(writers[name], frame),
                f"{RESULTS_STEM}.{name}",
                export.FORMATS[name].media_type,
                key=f"search_download_{name}",
                help=t("search.download_help"),
                icon=":material/download:",
                on_click="ignore",
                width="stretch",
            )
    widgets.advice_notice()
elif not filters.is_default:
    chosen = [case for case in cases if filters.accepts(case)]
    st.subheader(t("search.browse", count=len(chosen)), anchor=False)
    widgets.case_list(chosen)
else:
    st.markdown(t("search.try"))
    for number, example in enumerate(t("search.examples").split("|")):
        st.button(example, key=f"example_{number}", on_click=_submit, args=(example,), icon=":material/lightbulb:")
