"""The six steps of "Weeg je eigen dilemma", each drawn by its own function; the page is the stepper.

Every answer lives in st.session_state only, under a key that starts with PREFIX (so "Begin opnieuw"
finds them all), and every widget keeps its value while another step is shown
(persist_state="session"). The last step searches the shared engine (it only reads) and offers the
document (moresprudentie.weighing), the one copy that leaves the browser session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from moresprudentie import weighing
from moresprudentie.cases.model import BALANCED, NORM_SOURCES, Case, label, value_system, vocabulary
from moresprudentie.search.filters import Filters
from moresprudentie.ui.components import help_routes, nav, resources, widgets
from moresprudentie.ui.components.concepts import source_explanation
from moresprudentie.ui.components.i18n import language, t

PREFIX = "weigh_"  # every key of the page starts with it, so "Begin opnieuw" finds them all
STEP, PAIRS = "weigh_step", "weigh_pairs"
OPTIONS, REQUIRED_OPTIONS, MAX_PAIRS = 4, 2, 4
LEANS = ("first", "second", BALANCED, "open")
ROOM = ("own_decision", "beyond_me", "needs")
RESULTS, IN_DOCUMENT = 8, 5
SYSTEM_ORDER = {"ondernemend": 0, "bureaucratisch": 1}  # the two systems first, then the other values
KEEP = "session"  # persist_state: a widget keeps its value while another step is shown


def start() -> None:
    """The state the steps rely on, on the first visit of a session: step 1, one pair of values."""
    st.session_state.setdefault(STEP, 0)
    st.session_state.setdefault(PAIRS, 1)


def go(step: int) -> None:
    """Open a step (callback)."""
    st.session_state[STEP] = step


def restart() -> None:
    """Forget every answer of this page (callback: runs before any widget is drawn again)."""
    for key in [key for key in st.session_state if str(key).startswith(PREFIX)]:
        del st.session_state[key]
    st.session_state[STEP] = 0


def _value(key: str, default: object = "") -> object:
    value = st.session_state.get(PREFIX + key)
    return default if value is None else value


def _text(key: str) -> str:
    return str(_value(key)).strip()


def _pair(number: int) -> weighing.ValuePair:
    first, second = _value(f"pair_{number}_a"), _value(f"pair_{number}_b")
    lean = {"first": first, "second": second, BALANCED: BALANCED}.get(str(_value(f"pair_{number}_lean")), "")
    return weighing.ValuePair(str(first), str(second), str(lean))


def _answers(precedents: tuple[str, ...] = ()) -> weighing.Answers:
    """What the employee filled in so far, read from this session's state."""
    return weighing.Answers(
        language=language(),
        dilemma=_text("dilemma"),
        situation=_text("situation"),
        options=tuple(_text(f"option_{n}") for n in range(OPTIONS) if _text(f"option_{n}")),
        pairs=tuple(_pair(n) for n in range(st.session_state[PAIRS])),
        norms=tuple((source, _text(f"norm_{source}")) for source in NORM_SOURCES if _text(f"norm_{source}")),
        own_decision=_text("own_decision"),
        beyond_me=_text("beyond_me"),
        needs=_text("needs"),
        involve=tuple(person for person in weighing.PEOPLE if _value(f"involve_{person}", False)),
        involve_note=_text("involve_note"),
        precedents=precedents,
    )


def _area(key: str, name: str, max_chars: int = 1000, **options: Any) -> None:
    """A text area for one answer, kept under PREFIX + key while other steps are shown."""
    st.text_area(name, key=PREFIX + key, max_chars=max_chars, persist_state=KEEP, **options)


# -- steps 1 and 2: the dilemma and the values in tension ----------------------------------------


def _step_dilemma() -> None:
    _area("dilemma", t("weigh.dilemma_label"), 500, placeholder=t("weigh.dilemma_placeholder"))
    _area("situation", t("weigh.situation_label"), 4000, help=t("weigh.situation_help"))
    st.markdown(t("weigh.options_intro"))
    columns = st.columns(2)
    for n in range(OPTIONS):
        name = t("weigh.option" if n < REQUIRED_OPTIONS else "weigh.option_optional", number=n + 1)
        columns[n % 2].text_input(name, key=f"{PREFIX}option_{n}", max_chars=300, persist_state=KEEP)


def _value_terms() -> list[str]:
    """Every value of the vocabulary: the entrepreneurial ones, the bureaucratic ones, then the rest."""
    lang = language()
    return sorted(
        vocabulary()["values"],
        key=lambda term: (
            SYSTEM_ORDER.get(value_system(term), len(SYSTEM_ORDER)),
            label("values", term, lang).casefold(),
        ),
    )


def _value_label(term: str) -> str:
    """A value's label, marked with its value system when it belongs to one of the two."""
    system = value_system(term)
    name = label("values", term, language())
    return f"{name} · {t(f'weigh.systems.{system}')}" if system in SYSTEM_ORDER else name


def _lean_label(option: str, first: str | None, second: str | None) -> str:
    if option == BALANCED:
        return t("weigh.lean_balanced")
    if option == "open":
        return t("weigh.lean_open")
    chosen = first if option == "first" else second
    return (
        label("values", chosen, language()) if chosen else t("weigh.value_a" if option == "first" else "weigh.value_b")
    )


def _pair_widgets(number: int, cases: list[Case]) -> None:
    st.markdown(f"**{t('weigh.pair', number=number + 1)}**")
    left, right = st.columns(2)
    # Labels are made now, in this run's language: a format_func is not to read session state later.
    names = {term: _value_label(term) for term in _value_terms()}
    common = {
        "format_func": names.__getitem__,
        "index": None,
        "placeholder": t("weigh.choose_value"),
        "persist_state": KEEP,
    }
    first = left.selectbox(t("weigh.value_a"), list(names), key=f"{PREFIX}pair_{number}_a", **common)
    second = right.selectbox(t("weigh.value_b"), list(names), key=f"{PREFIX}pair_{number}_b", **common)
    leans = {option: _lean_label(option, first, second) for option in LEANS}
    st.radio(
        t("weigh.lean"),
        LEANS,
        index=LEANS.index("open"),
        key=f"{PREFIX}pair_{number}_lean",
        horizontal=True,
        format_func=leans.__getitem__,
        persist_state=KEEP,
    )
    if first and first == second:
        st.warning(t("weigh.same_value"), icon=":material/compare_arrows:")
    elif first and second:
        count = sum(case.has_tension(first, second) for case in cases)
        st.caption(t("weigh.pair_count", count=count) if count else t("weigh.pair_new"))


def _add_pair() -> None:
    st.session_state[PAIRS] = min(MAX_PAIRS, st.session_state[PAIRS] + 1)


def _remove_pair() -> None:
    last = st.session_state[PAIRS] - 1
    for part in ("a", "b", "lean"):
        st.session_state.pop(f"{PREFIX}pair_{last}_{part}", None)
    st.session_state[PAIRS] = max(1, last)


def _step_values() -> None:
    st.markdown(t("weigh.values_intro"))
    st.page_link(nav.CONCEPTS.path, label=t("weigh.concepts_link"), icon=":material/menu_book:")
    cases = resources.published(resources.engine())
    for number in range(st.session_state[PAIRS]):
        with st.container(border=True):
            _pair_widgets(number, cases)
    left, right = st.columns(2)
    left.button(
        t("weigh.add_pair"), on_click=_add_pair, icon=":material/add:", disabled=st.session_state[PAIRS] >= MAX_PAIRS
    )
    if st.session_state[PAIRS] > 1:
        right.button(t("weigh.remove_pair"), on_click=_remove_pair, icon=":material/remove:")


# -- steps 3 to 5: the norms, the room and its limits, whom to involve ----------------------------


def _step_norms() -> None:
    st.markdown(t("weigh.norms_intro"))
    lang = language()
    columns = st.columns(2)
    for number, source in enumerate(NORM_SOURCES):
        with columns[number % 2]:
            st.markdown(f"**{label('norm_sources', source, lang)}**")
            st.caption(source_explanation(source, lang))
            _area(
                f"norm_{source}",
                label("norm_sources", source, lang),
                placeholder=t("weigh.norm_placeholder"),
                label_visibility="collapsed",
            )


def _step_room() -> None:
    st.markdown(t("weigh.room_intro"))
    for key in ROOM:
        _area(key, t(f"weigh.{key}"))


def _step_involve() -> None:
    st.markdown(t("weigh.involve_intro"))
    for person in weighing.PEOPLE:
        st.checkbox(
            t(f"weigh.people.{person}"),
            key=f"{PREFIX}involve_{person}",
            help=t(f"weigh.people_help.{person}"),
            persist_state=KEEP,
        )
    widgets.local_help()  # the organisation's own officer and adviser by name, when configured
    _area("involve_note", t("weigh.involve_note"), placeholder=t("weigh.involve_placeholder"))


# -- step 6: the precedents and the document -----------------------------------------------------


def _tension_filter(answers: weighing.Answers, cases: list[Case]) -> Filters:
    """Filter on the first chosen tension that some published case weighed; say so when none did."""
    chosen = [pair for pair in answers.pairs if pair.is_complete]
    for pair in chosen:
        count = sum(case.has_tension(pair.first, pair.second) for case in cases)
        if count:
            lang = language()
            names = {"a": label("values", pair.first, lang), "b": label("values", pair.second, lang)}
            only = st.checkbox(
                t("weigh.use_tension", count=count, **names), value=True, key=PREFIX + "use_tension", persist_state=KEEP
            )
            return Filters(tension=(pair.first, pair.second)) if only else Filters()
    if chosen:
        st.caption(t("weigh.no_tension_match"))
    return Filters()


def _precedents(answers: weighing.Answers) -> tuple[str, ...]:
    """Search with the dilemma and the situation; the titles of the good matches, for the document."""
    query = "\n".join(part for part in (answers.dilemma, answers.situation) if part)
    engine = resources.engine()
    cases = resources.published(engine)
    if not cases:
        st.info(t("weigh.nothing"), icon=":material/inbox:")
        return ()
    widgets.advice_notice()
    hits = engine.search(query, k=RESULTS, filters=_tension_filter(answers, cases))
    widgets.hit_list(
        hits, query, heading_key="weigh.results", no_good_match_key="weigh.no_good_match", nothing_key="search.nothing"
    )
    return tuple(hit.case.title for hit in hits if hit.match != "weak")[:IN_DOCUMENT]


def _document(answers: weighing.Answers) -> None:
    with st.container(border=True):
        st.subheader(t("weigh.document"), anchor=False)
        st.caption(t("weigh.document_help"))
        if weighing.audience(answers) == "nobody":  # whom the document speaks to follows step 5: say so
            st.caption(t("weigh.document_for_nobody"))
        else:
            st.caption(t("weigh.document_for", subtitle=widgets.md_inline(weighing.subtitle(answers))))
        found = help_routes.contacts()
        widgets.download_pair(
            weighing.to_html(answers, found),
            weighing.to_markdown(answers, found),
            t("weigh.file_name"),
            t("weigh.download_html"),
            t("weigh.download_md"),
            columns=True,
        )


def _step_precedents() -> None:
    answers = _answers()
    if not answers.dilemma:
        st.info(t("weigh.need_dilemma"), icon=":material/edit_note:")
        st.button(t("weigh.to_first"), on_click=go, args=(0,), icon=":material/arrow_back:")
        return
    _document(_answers(_precedents(answers)))


# The steps in their order: the name (for the weigh.steps.* and weigh.questions.* texts) and its drawing.
STEPS: dict[str, Callable[[], None]] = {
    "dilemma": _step_dilemma,
    "values": _step_values,
    "norms": _step_norms,
    "room": _step_room,
    "involve": _step_involve,
    "precedents": _step_precedents,
}
