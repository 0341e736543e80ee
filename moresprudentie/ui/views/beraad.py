"""Moreel beraad voorbereiden: a session leader finds a case for the group and prints a handout.

The judgement of the original group stays hidden until asked for (in the app and in the handout):
a group that knows the verdict stops thinking. Cases the group discussed are remembered in this
browser session only, and can be exported and imported again as a small text file. "Verras me"
picks only cases the group has not discussed; when there are none left it says so, and the leader
chooses: any fitting case anyway, or a fresh list. Not every case has "maar wat als …?" variations,
which many sessions end with: the table counts them and a filter keeps only cases that have them.
After the session, the leader records its outcome under the case (components/session_outcome.py): it
becomes a draft linked to the case discussed, checked and reviewed as any other draft.
"""

import secrets

import streamlit as st

from moresprudentie import handout
from moresprudentie.cases.model import ROLES, Case, label, vocabulary
from moresprudentie.search.filters import Filters
from moresprudentie.ui.components import forcefield_panel, help_routes, nav, render, resources, session_outcome, widgets
from moresprudentie.ui.components.facets import facet, languages, tension_picker
from moresprudentie.ui.components.i18n import language, t

CHOSEN, DISCUSSED, UPLOAD = "session_case", "session_discussed", "session_upload"
ALL_DISCUSSED = "session_all_discussed"  # set when "Verras me" found every fitting case discussed
WITH_VARIATIONS = "session_filter_with_variations"
FILTER_PREFIX = "session_filter_"  # the keys of the filter widgets (cleared on arrival from a case page)
LENGTHS = (45, 60, 90, 120, 0)  # 0: no limit
MAX_IMPORTED = 500


def surprise(candidates: list[Case], discussed: list[str], anyway: bool = False) -> Case | None:
    """A random fitting case the group has not discussed; None when it has discussed them all (the
    page then says so rather than quietly repeating one). `anyway`: any fitting case."""
    pool = candidates if anyway else [case for case in candidates if case.id not in discussed]
    return secrets.choice(pool) if pool else None


def _discussed() -> list[str]:
    return st.session_state.setdefault(DISCUSSED, [])


def _mark(case_id: str) -> None:
    """Remember a case as discussed (moving it to the end: most recent last)."""
    st.session_state[DISCUSSED] = [*(cid for cid in _discussed() if cid != case_id), case_id]


def _pick(candidates: list[Case], anyway: bool = False) -> None:
    """The "Verras me" button: a fresh case, or the note that none is left (see _all_discussed). Never
    the case already on screen while another one fits: the button would seem to do nothing."""
    others = [case for case in candidates if case.id != st.session_state.get(CHOSEN)]
    chosen = surprise(others, _discussed(), anyway=anyway) or surprise(candidates, _discussed(), anyway=anyway)
    st.session_state[ALL_DISCUSSED] = chosen is None
    if chosen:
        st.session_state[CHOSEN] = chosen.id


def _chosen_by_hand() -> None:
    st.session_state[ALL_DISCUSSED] = False


def _clear_discussed() -> None:
    st.session_state[DISCUSSED] = []
    st.session_state[ALL_DISCUSSED] = False


def _all_discussed(candidates: list[Case]) -> None:
    """After "Verras me" found nothing new: say so plainly, and offer the two ways on."""
    if not st.session_state.get(ALL_DISCUSSED) or any(case.id not in _discussed() for case in candidates):
        return
    with st.container(border=True):
        st.warning(t("session.all_discussed", count=len(candidates)), icon=":material/history:")
        anyway, clear = st.columns(2)
        anyway.button(
            t("session.pick_anyway"),
            on_click=_pick,
            args=(candidates, True),
            icon=":material/casino:",
            width="stretch",
        )
        clear.button(
            t("session.clear_discussed"),
            on_click=_clear_discussed,
            icon=":material/restart_alt:",
            width="stretch",
            help=t("session.clear_discussed_help"),
        )


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


def _arrive(cases: dict[str, Case]) -> None:
    """From a case page's "use in a session" link (?case=…): that case chosen, and the filters of an
    earlier visit cleared, so it is among the fitting cases instead of silently dropped by them."""
    wanted = st.query_params.pop("case", None)
    if wanted not in cases:
        return
    for key in [key for key in st.session_state if key.startswith(FILTER_PREFIX)]:
        del st.session_state[key]
    st.session_state[CHOSEN] = wanted


def _export(cases: dict[str, Case]) -> str:
    lines = [f"# {t('session.export_header')}"]
    lines += [f"{cid}  # {cases[cid].title}" if cid in cases else cid for cid in _discussed()]
    return "\n".join(lines) + "\n"


def _filtered(cases: list[Case]) -> list[Case]:
    """The filter rows: themes, values that must all occur, kind of organisation, method; a tension
    and whose dilemma; language, session length and whether the case has variations."""
    with st.container(border=True):
        top = st.columns(4)
        with top[0]:
            themes = facet(cases, "themes", FILTER_PREFIX + "themes")
        with top[1]:
            values = facet(cases, "values", FILTER_PREFIX + "values", "session.values_all")
        with top[2]:
            organisations = facet(cases, "organisations", FILTER_PREFIX + "organisations")
        with top[3]:
            methods = facet(cases, "methods", FILTER_PREFIX + "methods")
        middle = st.columns(3)
        tension = tension_picker(cases, FILTER_PREFIX + "tension", middle[0], middle[1])
        with middle[2]:
            roles = _roles(cases)
        bottom = st.columns(3, vertical_alignment="bottom")
        with bottom[0]:
            langs = languages(FILTER_PREFIX + "languages")
        with bottom[1]:
            minutes = st.select_slider(
                t("session.length"),
                LENGTHS,
                value=0,
                key=FILTER_PREFIX + "length",
                format_func=lambda m: t("case.minutes", minutes=m) if m else t("session.any_length"),
            )
        without = sum(1 for case in cases if not case.variations)
        with_variations = bottom[2].toggle(
            t("session.with_variations"),
            key=WITH_VARIATIONS,
            help=t("session.with_variations_help", without=without, total=len(cases)),
        )
    force_field = Filters(tension=tension or None, roles=frozenset(roles))
    return [
        case
        for case in cases
        if (not themes or set(themes) & set(case.themes))
        and set(values) <= set(case.values)
        and (not organisations or case.organisation in organisations)
        and (not methods or case.method in methods)
        and (not langs or case.language in langs)
        and (not minutes or (case.duration_minutes or 0) <= minutes)
        and (not with_variations or case.variations)
        and force_field.accepts(case)
    ]


def _roles(cases: list[Case]) -> list[str]:
    """Whose dilemma it was, from the roles the collection records (in the fixed order of roles)."""
    lang = language()
    present = {case.role for case in cases}
    return st.multiselect(
        t("session.role"),
        [role for role in ROLES if role in present],
        key=FILTER_PREFIX + "roles",
        format_func=lambda role: label("roles", role, lang),
        placeholder=t("filters.any"),
        select_all=False,  # Streamlit's "Select all" is English only, and a filter of all is no filter
    )


def _table(candidates: list[Case]) -> None:
    lang = language()
    rows = [
        {
            t("fields.title"): case.title,
            t("fields.organisation"): label("organisations", case.organisation, lang) if case.organisation else "",
            t("fields.method"): label("methods", case.method, lang) if case.method else "",
            t("session.role"): label("roles", case.role, lang) if case.role else "",
            t("fields.duration_minutes"): case.duration_minutes,
            t("session.variations_column"): len(case.variations),  # 0: no "maar wat als …?" to end with
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
        on_change=_chosen_by_hand,
    )
    right.button(
        t("session.surprise"),
        on_click=_pick,
        args=(candidates,),
        icon=":material/casino:",
        width="stretch",
        help=t("session.surprise_help"),
    )
    _all_discussed(candidates)
    case = by_id.get(chosen) if chosen else None
    if case is not None and not case.variations:
        st.caption(t("session.no_variations"))
    return case


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
        sheet = handout.build(  # "algemene gespreksopbouw" (None here) is a choice, not "the case's own"
            case,
            method=method or handout.GENERAL,
            language=lang,
            include_outcome=outcome,
            contacts=help_routes.contacts(),
        )
        widgets.download_pair(
            handout.to_html(sheet),
            handout.to_markdown(sheet),
            f"handout-{case.id}" + (f"-{t('session.file_outcome')}" if outcome else ""),  # two copies, two names
            t("session.download_html"),
            t("session.download_md"),
            columns=False,
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
        forcefield_panel.revealed(case)


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
_arrive(by_id)
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
        session_outcome.section(case, method=st.session_state.get(f"session_method_{case.id}"))
else:
    st.info(t("session.nothing"), icon=":material/filter_alt_off:")
