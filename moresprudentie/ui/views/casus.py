"""Casus: one case in full (?case=<id>), its related cases and more like it.

Only published cases are shown here; a draft or unknown id gets a calm "not found" with a way back.
A reader who opens a case from a list of search results first sees why it matched (the passage and
their own words in it, as on the result card). That comes from session memory (widgets.MATCHED),
never from the URL: the query stays private, and a case opened from a link or another page shows
nothing extra. Each relation to another case says in one line what it means; a related case that was
withdrawn shows as its title marked "ingetrokken", not as a link.
"""

import streamlit as st

from moresprudentie.cases.collection import withdrawn_titles
from moresprudentie.cases.model import Case, Relation, label
from moresprudentie.search.engine import SearchEngine
from moresprudentie.ui.components import nav, render, resources, widgets
from moresprudentie.ui.components.i18n import language, t

SIMILAR = 5


def why_matched(case: Case) -> None:
    """The passage this case matched in the results the reader came from; nothing without a search."""
    found = st.session_state.get(widgets.MATCHED, {}).get(case.id)
    if not (isinstance(found, tuple) and len(found) == 3):
        return
    query, field, text = found
    where = widgets.md_inline(t(f"fields.{field}"))
    passage = widgets.excerpt(text, query, case.language)
    st.info(f"{t('case.matched', field=where)}  \n{passage}", icon=":material/manage_search:")


def relation_line(relation: Relation, incoming: bool = False) -> str:
    """'**Nuanceert**: dezelfde lijn, maar een feit maakte het anders' (or, for a link made to this
    case, 'Verwijst naar deze casus (nuanceert): …')."""
    name = label("relations", relation, language())
    meaning = t(f"case.relation_help.{relation}")
    if incoming:
        return t("case.other_case", relation=name) + f": {meaning}"
    return f"**{name[:1].upper() + name[1:]}**: {meaning}"


def withdrawn_line(title: str) -> str:
    """A link to a withdrawn case: its title as plain text, marked, so the history of the argument stays."""
    return f":material/block: {widgets.md_inline(title)} *({t('case.withdrawn')})*"


def related(engine: SearchEngine, case: Case) -> set[str]:
    """Links this case makes (it follows / nuances / departs from …) and links made to it; returns
    the ids shown, so "more like this" does not list them again.

    A link to a case that was withdrawn since stays, as its title marked "ingetrokken" (read from the
    archive, only when such a link exists); a link to an unknown id is left out.
    """
    outgoing = [(link.relation, resources.find_published(engine, link.id)) for link in case.related]
    gone = [link for link, (_, other) in zip(case.related, outgoing, strict=True) if other is None]
    titles = withdrawn_titles(engine.cases_dir) if gone else {}
    withdrawn = [(link.relation, titles[link.id]) for link in gone if link.id in titles]
    linked = {link.id for link in case.related}
    incoming = [
        (link.relation, other)
        for other in resources.published(engine)
        for link in other.related
        if link.id == case.id and other.id not in linked  # a mutual link is shown once, as this case's own
    ]
    shown = {other.id for _, other in [*outgoing, *incoming] if other}
    if not shown and not withdrawn:
        return shown
    st.subheader(t("case.related"), anchor=False)
    for relation, other in outgoing:
        if other:
            st.caption(relation_line(relation))
            widgets.case_link(other, icon=":material/north_east:")
    for relation, title in withdrawn:
        st.caption(relation_line(relation))
        st.markdown(withdrawn_line(title))
    for relation, other in incoming:
        st.caption(relation_line(relation, incoming=True))
        widgets.case_link(other, icon=":material/south_west:")
    return shown


def more_like_this(engine: SearchEngine, case: Case, linked: set[str]) -> None:
    """The closest cases by their moral core, leaving out those already linked above."""
    hits = [hit for hit in engine.similar(case.id, k=SIMILAR + len(linked)) if hit.case.id not in linked]
    hits = hits[:SIMILAR]
    if hits:
        st.subheader(t("case.similar"), anchor=False)
        for hit in hits:
            widgets.hit_card(hit, None, compact=True)


engine = resources.engine()
case_id = st.query_params.get("case", "")
case = resources.find_published(engine, case_id)
st.page_link(nav.SEARCH.path, label=t("case.back"), icon=":material/arrow_back:")
if not case_id:
    st.info(t("case.none_chosen"), icon=":material/search:")
    st.stop()
if case is None:
    st.warning(t("case.not_found", id=widgets.md_inline(case_id)), icon=":material/search_off:")
    st.stop()

st.set_page_config(page_title=f"{case.title} · {t('app.name')}")  # tabs and history name the case
render.case_header(case)
why_matched(case)
widgets.advice_notice()
main, side = st.columns([3, 2], gap="large")
with main:
    render.case_body(case)
with side:
    st.page_link(
        nav.SESSION.path, label=t("case.use_in_session"), icon=":material/groups:", query_params={"case": case.id}
    )
    more_like_this(engine, case, related(engine, case))
