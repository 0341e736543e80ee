"""Zoeken: an employee describes a dilemma and finds earlier deliberations that resemble it.

The query lives only in this browser session's memory: it is never logged, stored or written into
the URL (a shared ?q= link is the sender's own choice and is only read).
"""

import streamlit as st

from moresprudentie.ui.components import resources, widgets
from moresprudentie.ui.components.facets import filter_panel
from moresprudentie.ui.components.i18n import t

RESULTS = 10
TEXT, SUBMITTED = "search_text", "search_submitted"


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
widgets.advice_notice()

# The form is on screen first: on a fresh server the model loads while the employee types.
engine = resources.engine()
cases = resources.published(engine)
with st.sidebar:
    st.header(t("filters.title"), anchor=False)
    filters = filter_panel(cases, "search")
query = (st.session_state.get(SUBMITTED) or "").strip()
if query:
    hits = engine.search(query, k=RESULTS, filters=filters)
    good = [hit for hit in hits if hit.match != "weak"]
    weak = [hit for hit in hits if hit.match == "weak"]
    if good:
        st.subheader(t("search.results", count=len(good)), anchor=False)
        for hit in good:
            widgets.hit_card(hit, query)
        if weak:  # kept out of sight but within reach: a weak match may still help
            with st.expander(t("search.more_weak", count=len(weak))):
                for hit in weak:
                    widgets.hit_card(hit, query)
    elif weak:  # an honest answer: nothing here resembles the question; the weak hits below, marked
        widgets.no_good_match()
        st.subheader(t("search.weak_results", count=len(weak)), anchor=False)
        for hit in weak:
            widgets.hit_card(hit, query)
    else:
        st.info(t("search.nothing"), icon=":material/filter_alt_off:")
elif not filters.is_default:
    chosen = [case for case in cases if filters.accepts(case)]
    st.subheader(t("search.browse", count=len(chosen)), anchor=False)
    widgets.case_list(chosen)
else:
    st.markdown(t("search.try"))
    for number, example in enumerate(t("search.examples").split("|")):
        st.button(example, key=f"example_{number}", on_click=_submit, args=(example,), icon=":material/lightbulb:")
