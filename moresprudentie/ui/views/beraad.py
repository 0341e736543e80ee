"""Moreel beraad voorbereiden: a session leader finds a case for the group and prints a handout.

The judgement of the original group stays hidden until asked for (in the app and in the handout):
a group that knows the verdict stops thinking. Cases the group discussed are remembered in this
browser session only, and can be exported and imported again as a small text file.
"""

import secrets

import streamlit as st

from moresprudentie import handout
from moresprudentie.cases.model import Case, label, vocabulary
from moresprudentie.ui.components import nav, render, resources, widgets
from moresprudentie.ui.components.facets import facet, languages
from moresprudentie.ui.components.i18n import language, t

CHOSEN, DISCUSSED, UPLOAD = "session_case", "session_discussed", "session_upload"
LENGTHS = (45, 60, 90, 120, 0)  # 0: no limit
MAX_IMPORTED = 500


def surprise(candidates: list[Case], discussed: list[str]) -> Case | None:
    """A random case the group has not discussed; if it has discussed them all, the longest ago."""
    fresh = [case for case in candidates if case.id not in discussed]
    if fresh:
        return secrets.choice(fresh)
    order = {case_id: position for position, case_id in enumerate(discussed)}
    return min(candidates, key=lambda case: order[case.id], default=None)


def _discussed() -> list[str]:
    return st.session_state.setdefault(DISCUSSED, [])


def _mark(case_id: str) -> None:
    """Remember a case as discussed (moving it to the end: most recent last)."""
    st.session_state[DISCUSSED] = [*(cid for cid in _discussed() if cid != case_id), case_id]


def _pick(candidates: list[Case]) -> None:
    chosen = surprise(candidates, _discussed())
    if chosen:
        st.session_state[CHOSEN] = chosen.id


def _import(known: set[str]) -> None:
    """Read an exported list (one id per line, '#' starts a comment); unknown ids are skipped."""
    upload = widgets.uploaded_file(UPLOAD)
    if upload is None:
        return
    lines = upload.getvalue().decode("utf-8", errors="replace").splitlines()[:MAX_IMPORTED]
    for line in lines:
        case_id = line.split("#", 1)[0].strip()
        if case_id in known:
            _mark(case_id)


def _export(cases: dict[str, Case]) -> str:
    lines = [f"# {t('session.export_header')}"]
    lines += [f"{cid}  # {cases[cid].title}" if cid in cases else cid for cid in _discussed()]
    return "\n".join(lines) + "\n"


def _filtered(cases: list[Case]) -> list[Case]:
    """The filter row: themes, values that must all occur, method, language, session length."""
    with st.container(border=True):
        top = st.columns(3)
        with top[0]:
            themes = facet(cases, "themes", "session_themes")
        with top[1]:
            values = facet(cases, "values", "session_values", "session.values_all")
        with top[2]:
            methods = facet(cases, "methods", "session_methods")
        bottom = st.columns(3)
        with bottom[0]:
            langs = languages("session_languages")
        with bottom[1]:
            minutes = st.select_slider(
                t("session.length"),
                LENGTHS,
                value=0,
                key="session_length",
                format_func=lambda m: t("case.minutes", minutes=m) if m else t("session.any_length"),
            )
    return [
        case
        for case in cases
        if (not themes or set(themes) & set(case.themes))
        and set(values) <= set(case.values)
        and (not methods or case.method in methods)
        and (not langs or case.language in langs)
        and (not minutes or (case.duration_minutes or 0) <= minutes)
    ]


def _table(candidates: list[Case]) -> None:
    lang = language()
    rows = [
        {
            t("fields.title"): case.title,
            t("fields.method"): label("methods", case.method, lang) if case.method else "",
            t("fields.duration_minutes"): case.duration_minutes,
            t("fields.values"): ", ".join(label("values", v, lang) for v in case.values),
            t("fields.date"): case.date,
            t("session.discussed_column"): "✓" if case.id in _discussed() else "",
        }
        for case in candidates
    ]
    st.dataframe(rows, hide_index=True, height=min(38 + 35 * len(rows), 360))


def _choose(candidates: list[Case]) -> Case | None:
    ids = [case.id for case in candidates]
    by_id = {case.id: case for case in candidates}
    if st.session_state.get(CHOSEN) not in by_id:
        st.session_state.pop(CHOSEN, None)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        t("session.choose"),
        ids,
        key=CHOSEN,
        index=None,
        format_func=lambda cid: by_id[cid].title,
        placeholder=t("session.choose_placeholder"),
    )
    right.button(
        t("session.surprise"),
        on_click=_pick,
        args=(candidates,),
        icon=":material/casino:",
        width="stretch",
        help=t("session.surprise_help"),
    )
    return by_id.get(chosen) if chosen else None


def _handout(case: Case) -> None:
    """Method, outcome yes/no, the two downloads and 'mark as discussed', stacked in a side panel."""
    lang = language()
    methods = [None, *vocabulary()["methods"]]
    with st.container(border=True):
        st.subheader(t("session.handout"), anchor=False)
        method = st.selectbox(
            t("session.method"),
            methods,
            index=methods.index(case.method) if case.method in methods else 0,
            key=f"session_method_{case.id}",
            format_func=lambda m: label("methods", m, lang) if m else t("session.general_method"),
        )
        outcome = st.checkbox(t("session.include_outcome"), key=f"session_outcome_{case.id}")
        sheet = handout.build(case, method=method, language=lang, include_outcome=outcome)
        st.download_button(
            t("session.download_html"),
            handout.to_html(sheet),
            f"handout-{case.id}.html",
            "text/html",
            icon=":material/print:",
            type="primary",
            on_click="ignore",
            width="stretch",
        )
        st.download_button(
            t("session.download_md"),
            handout.to_markdown(sheet),
            f"handout-{case.id}.md",
            "text/markdown",
            icon=":material/description:",
            on_click="ignore",
            width="stretch",
        )
        st.button(t("session.mark"), on_click=_mark, args=(case.id,), icon=":material/done:", width="stretch")
        st.markdown(f"**{t('session.steps')}**")
        steps = handout.method_steps(method, lang)
        st.markdown("\n".join(f"{n}. {widgets.md_inline(step)}" for n, step in enumerate(steps, 1)))


def _case_preview(case: Case) -> None:
    render.case_header(case, page_title=False)
    st.page_link(
        nav.CASE.path, label=t("session.open_case"), icon=":material/open_in_new:", query_params={"case": case.id}
    )
    render.case_body(case, outcome=False)
    if st.toggle(t("session.reveal"), key=f"session_reveal_{case.id}", help=t("session.reveal_help")):
        for field in (*render.OUTCOME_FIELDS, "lessons"):
            render.section(field, getattr(case, field))


def _history(cases: dict[str, Case]) -> None:
    with st.sidebar:
        st.header(t("session.discussed"), anchor=False)
        if _discussed():
            st.markdown("\n".join(f"- {widgets.md_inline(cases[cid].title)}" for cid in _discussed() if cid in cases))
            st.download_button(
                t("session.export"),
                _export(cases),
                "moresprudentie-besproken.txt",
                "text/plain",
                icon=":material/download:",
                on_click="ignore",
            )
        else:
            st.caption(t("session.discussed_none"))
        st.file_uploader(
            t("session.import"),
            type=["txt"],
            key=UPLOAD,
            on_change=_import,
            args=(set(cases),),
            help=t("session.import_help"),
        )


engine = resources.engine()
cases = resources.published(engine)
by_id = {case.id: case for case in cases}
st.title(t("session.title"), anchor=False)
st.caption(t("session.intro"))
candidates = _filtered(cases)
st.caption(t("session.count", count=len(candidates), total=len(cases)))
_history(by_id)
if candidates:
    case = _choose(candidates)
    with st.expander(t("session.table", count=len(candidates)), expanded=case is None):
        _table(candidates)
    if case:
        left, right = st.columns([3, 2], gap="large")
        with right:
            _handout(case)
        with left:
            _case_preview(case)
else:
    st.info(t("session.nothing"), icon=":material/filter_alt_off:")
