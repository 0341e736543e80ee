"""Overzicht: what the collection holds, which values meet in tension, and what is new.

Clicking a bar or a heat-map cell lists the cases behind it. Files that could not be loaded are
listed for integrity officers at the bottom; a broken file never breaks this page.
"""

from collections import Counter
from functools import partial
from itertools import combinations
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from moresprudentie.cases.loading import Problem
from moresprudentie.cases.model import Case, label
from moresprudentie.errors import MoresprudentieError
from moresprudentie.ui.components import auth, resources, widgets
from moresprudentie.ui.components.facets import FACETS
from moresprudentie.ui.components.i18n import language, t

PICK = "overview_pick"  # (facet, term) or ("pair", "value-a|value-b") or ("years", "2024")
NEWEST = 6
COLOUR = "#3b6e8f"
HEAT = "blues"
CELL = 15  # pixels per heat-map cell: 25 values still fit beside the list


def _picked(chart_key: str, facet: str) -> None:
    """Chart callback: remember which bar or cell was clicked (an empty click clears the pick)."""
    points = st.session_state[chart_key].selection.get("pick") or []
    value = points[0].get("term") if points and isinstance(points[0], dict) else None
    st.session_state[PICK] = (facet, str(value)) if value is not None else None


def _bar(facet: str, counts: Counter, kind: str | None) -> None:
    lang = language()
    frame = pd.DataFrame(
        [
            {"term": str(term), "label": label(kind, term, lang) if kind else str(term), "n": n}
            for term, n in counts.items()
        ]
    )
    pick = alt.selection_point(name="pick", fields=["term"], on="click")
    sort = "-x" if kind else alt.SortField("term", order="descending")
    chart = (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=3, color=COLOUR)
        .encode(
            x=alt.X("n:Q", title=t("overview.count_axis"), axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("label:N", sort=sort, title=None, axis=alt.Axis(labelLimit=280)),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)),
            tooltip=[alt.Tooltip("label:N", title=t(f"overview.facets.{facet}")), alt.Tooltip("n:Q", title="#")],
        )
        .add_params(pick)
        .properties(height=max(120, 24 * len(frame)))
    )
    key = f"overview_chart_{facet}"
    st.altair_chart(chart, key=key, on_select=partial(_picked, key, facet), selection_mode="pick", width="stretch")


def _counts(cases: list[Case]) -> dict[str, tuple[Counter, str | None]]:
    result: dict[str, tuple[Counter, str | None]] = {}
    for name, attribute, kind in FACETS:
        counter: Counter = Counter()
        for case in cases:
            value = getattr(case, attribute)
            counter.update(value if isinstance(value, list) else [value] if value else [])
        result[name] = (counter, kind)
    result["years"] = (Counter(case.year for case in cases), None)
    return result


def _tension(cases: list[Case]) -> None:
    """Heat map of how often two values are weighed in the same case."""
    lang = language()
    pairs = Counter(pair for case in cases for pair in combinations(sorted(set(case.values)), 2))
    if not pairs:
        return
    rows = []
    for (a, b), n in pairs.items():
        for x, y in ((a, b), (b, a)):
            rows.append({"x": label("values", x, lang), "y": label("values", y, lang), "term": f"{a}|{b}", "n": n})
    pick = alt.selection_point(name="pick", fields=["term"], on="click")
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X("x:N", title=None, axis=alt.Axis(labelAngle=-45, labelLimit=160, labelOverlap=False)),
            y=alt.Y("y:N", title=None, axis=alt.Axis(labelLimit=160, labelOverlap=False)),
            color=alt.Color(
                "n:Q", title=t("overview.count_axis"), scale=alt.Scale(scheme=HEAT), legend=alt.Legend(orient="bottom")
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.5)),
            tooltip=[alt.Tooltip("x:N", title="A"), alt.Tooltip("y:N", title="B"), alt.Tooltip("n:Q", title="#")],
        )
        .add_params(pick)
        .properties(width=alt.Step(CELL), height=alt.Step(CELL))
    )
    key = "overview_chart_pair"
    st.altair_chart(chart, key=key, on_select=partial(_picked, key, "pair"), selection_mode="pick", width="content")


def _matches(case: Case, facet: str, term: str) -> bool:
    if facet == "pair":
        return set(term.split("|")) <= set(case.values)
    if facet == "years":
        return str(case.year) == term
    attribute = next(attr for name, attr, _ in FACETS if name == facet)
    value = getattr(case, attribute)
    return term in value if isinstance(value, list) else value == term


def _pick_title(facet: str, term: str) -> str:
    lang = language()
    if facet == "pair":
        a, b = (label("values", v, lang) for v in term.split("|"))
        return t("overview.picked_pair", a=a, b=b)
    if facet == "years":
        return t("overview.picked_year", year=term)
    kind = next(kind for name, _, kind in FACETS if name == facet)
    return t("overview.picked", facet=t(f"filters.{facet}"), term=label(kind, term, lang))


def _picked_list(cases: list[Case]) -> None:
    pick = st.session_state.get(PICK)
    if not pick:
        st.caption(t("overview.click_hint"))
        return
    facet, term = pick
    chosen = [case for case in cases if _matches(case, facet, term)]
    st.subheader(f"{widgets.md_inline(_pick_title(facet, term))} ({len(chosen)})", anchor=False)
    widgets.case_list(chosen)


def _is_officer() -> bool:
    try:
        actor = auth.current_actor()
    except MoresprudentieError:  # a broken officers list: the officer pages explain it
        return False
    return actor is not None and actor.is_officer


def _problems(problems: list[Problem]) -> None:
    """Invalid files, by file name only (no server paths), as plain text: for officers to fix."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors or not _is_officer():
        return
    with st.expander(t("overview.problems", count=len(errors)), icon=":material/report:"):
        st.caption(t("overview.problems_help"))
        for problem in errors:
            where = f"{Path(problem.path).name}:{problem.line}" if problem.line else Path(problem.path).name
            st.text(f"{where}: {problem.field + ': ' if problem.field else ''}{problem.message}")


engine = resources.engine()
cases = resources.published(engine)
st.title(t("overview.title"), anchor=False)
st.caption(t("overview.intro"))
if not cases:
    st.info(t("overview.empty"), icon=":material/inbox:")
else:
    counts = _counts(cases)
    metrics = st.columns(4)
    metrics[0].metric(t("overview.metric_cases"), len(cases))
    metrics[1].metric(t("overview.metric_themes"), len(counts["themes"][0]))
    metrics[2].metric(t("overview.metric_organisations"), len(counts["organisations"][0]))
    metrics[3].metric(t("overview.metric_years"), f"{min(counts['years'][0])}–{max(counts['years'][0])}")
    charts, listing = st.columns([3, 2], gap="large")
    with charts:
        facets = [*(name for name, _, _ in FACETS), "years"]
        tabs = st.tabs([t(f"overview.facets.{name}") for name in facets] + [t("overview.tension")])
        for tab, name in zip(tabs, facets, strict=False):
            with tab:
                _bar(name, *counts[name])
        with tabs[-1]:
            st.caption(t("overview.tension_help"))
            _tension(cases)
    with listing:
        _picked_list(cases)
        st.subheader(t("overview.newest"), anchor=False)
        for case in cases[:NEWEST]:
            widgets.compact_case(case)
_problems(engine.problems)
