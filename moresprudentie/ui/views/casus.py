"""Casus: one case in full (?case=<id>), its related cases and more like it.

Only published cases are shown here; a draft or unknown id gets a calm "not found" with a way back.
"""

import streamlit as st

from moresprudentie.cases.model import Case, label
from moresprudentie.search.engine import SearchEngine
from moresprudentie.ui.components import nav, render, resources, widgets
from moresprudentie.ui.components.i18n import language, t

SIMILAR = 5


def related(engine: SearchEngine, case: Case) -> None:
    """Links this case makes (it follows / nuances / departs from …) and links made to it."""
    lang = language()
    outgoing = [(link.relation, resources.find_published(engine, link.id)) for link in case.related]
    linked = {link.id for link in case.related}
    incoming = [
        (link.relation, other)
        for other in resources.published(engine)
        for link in other.related
        if link.id == case.id and other.id not in linked  # a mutual link is shown once, as this case's own
    ]
    if not any(other for _, other in outgoing) and not incoming:
        return
    st.subheader(t("case.related"), anchor=False)
    for relation, other in outgoing:
        if other:
            text = label("relations", relation, lang)
            st.caption(text[:1].upper() + text[1:])  # "Nuanceert", "Zie ook", …
            widgets.case_link(other, icon=":material/north_east:")
    for relation, other in incoming:
        st.caption(t("case.other_case", relation=label("relations", relation, lang)))
        widgets.case_link(other, icon=":material/south_west:")


def more_like_this(engine: SearchEngine, case: Case) -> None:
    hits = engine.similar(case.id, k=SIMILAR)
    if hits:
        st.subheader(t("case.similar"), anchor=False)
        for hit in hits:
            widgets.hit_card(hit, None, compact=True)


engine = resources.engine()
case_id = st.query_params.get("case", "")
case = resources.find_published(engine, case_id)
st.page_link(nav.SEARCH.path, label=t("case.back"), icon=":material/arrow_back:")
if case is None:
    st.warning(t("case.not_found", id=widgets.md_inline(case_id)), icon=":material/search_off:")
    st.stop()

render.case_header(case)
widgets.advice_notice()
main, side = st.columns([3, 2], gap="large")
with main:
    render.case_body(case)
with side:
    related(engine, case)
    more_like_this(engine, case)
