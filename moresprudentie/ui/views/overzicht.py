"""Overzicht: the force field of the collection (which values meet in tension and how that ended, the
two value systems, the sources of norms, whose dilemma), what the cases are about, and what is new.

Clicking a bar, a heat-map cell or a pair in the ranked list lists the cases behind it, in the
section that was clicked. What the cases are about is one chart per tab; the list beside it always
belongs to the chart on screen (see _open_tab). The year chart has a bar for every year from the
first to the last, so every year is labelled, an empty one too. Files that could not be loaded are
listed for integrity officers at the bottom; a broken file never breaks this page.

"Nieuwste casussen" are the cases published last, by the first 'published' event of each case in
the audit log (the moment an officer published it in the app or with `moresprudentie review
publish`). A case without one (added to the folder through git, or published before there was an
audit log) counts as published at the start of its deliberation date: a file's modification time
is no publication moment (a git checkout, a copy or a restored backup gives every file the same
recent time), and a case cannot have been published before it was deliberated.

"Downloaden" at the bottom hands out the whole published collection in each format of export.py.
"""

import datetime as dt
from collections import Counter
from functools import partial
from pathlib import Path

import altair as alt
import streamlit as st

from moresprudentie import export, settings
from moresprudentie.cases import forcefield
from moresprudentie.cases.loading import Problem
from moresprudentie.cases.model import BALANCED, NORM_SOURCES, ROLES, Case, label
from moresprudentie.errors import MoresprudentieError
from moresprudentie.review.audit import read_events
from moresprudentie.search.engine import SearchEngine
from moresprudentie.ui.components import auth, charts, messages, resources, widgets
from moresprudentie.ui.components.facets import FACETS
from moresprudentie.ui.components.i18n import language, t

# The pick: (facet, term). Facets: a FACETS name or "years" (collection), "pair" with "value-a|value-b"
# (a tension), "system" with a value (the value-system bars), "sources" or "roles" (the force field).
PICK = "overview_pick"
TAB, TAB_SEEN = "overview_tab", "overview_tab_seen"  # the open collection tab (its label); its facet last run
NEWEST = 6
DOWNLOAD_STEM = "moresprudentie-casussen"  # + .csv, .xlsx, .jsonl, .md
TOP_PAIRS = 8
TENSION, SYSTEMS, FORCES = ("pair",), ("system",), ("sources", "roles")
COLLECTION = (*(name for name, _, _ in FACETS), "years")
# facet → (title key, vocabulary kind) for the heading of a picked list
PICK_TITLES = {
    **{name: (f"filters.{name}", kind) for name, _, kind in FACETS},
    "system": ("filters.values", "values"),
    "sources": ("overview.facets.sources", "norm_sources"),
    "roles": ("overview.facets.roles", "roles"),
}


def _picked(chart_key: str, facet: str) -> None:
    """Chart callback: remember which bar or cell was clicked (an empty click clears the pick)."""
    points = st.session_state[chart_key].selection.get("pick") or []
    value = points[0].get("term") if points and isinstance(points[0], dict) else None
    st.session_state[PICK] = (facet, str(value)) if value is not None else None


def _pick(facet: str, term: str) -> None:
    """Button callback (the ranked list of pairs): the same pick as a click on the heat map."""
    st.session_state[PICK] = (facet, term)


def _draw(chart: alt.Chart, facet: str, name: str | None = None, width: str = "stretch") -> None:
    key = f"overview_chart_{name or facet}"
    st.altair_chart(chart, key=key, on_select=partial(_picked, key, facet), selection_mode="pick", width=width)


def _counts(cases: list[Case]) -> dict[str, tuple[Counter, str | None]]:
    result: dict[str, tuple[Counter, str | None]] = {}
    for name, attribute, kind in FACETS:
        counter: Counter = Counter()
        for case in cases:
            value = getattr(case, attribute)
            counter.update(value if isinstance(value, list) else [value] if value else [])
        result[name] = (counter, kind)
    years = Counter(case.year for case in cases)
    every_year = range(min(years), max(years) + 1) if years else range(0)
    result["years"] = (Counter({year: years[year] for year in every_year}), None)  # empty years too
    return result


def _matches(case: Case, facet: str, term: str) -> bool:
    if facet == "pair":
        first, _, second = term.partition("|")
        return case.has_tension(first, second)
    if facet == "system":
        return term in case.values
    if facet == "sources":
        return forcefield.has_norm_source(case, term)
    if facet == "roles":
        return case.role == term
    if facet == "years":
        return str(case.year) == term
    attribute = next(attr for name, attr, _ in FACETS if name == facet)
    value = getattr(case, attribute)
    return term in value if isinstance(value, list) else value == term


def _pick_title(facet: str, term: str) -> str:
    if facet == "pair":
        first, second = (charts.lower_first(label("values", value, language())) for value in term.split("|"))
        return t("overview.picked_pair", a=first, b=second)
    if facet == "years":
        return t("overview.picked_year", year=term)
    title, kind = PICK_TITLES[facet]
    return t("overview.picked", facet=t(title), term=label(kind, term, language()))


def _current_pick(facets: tuple[str, ...]) -> tuple[str, str] | None:
    """The pick if it belongs to one of these facets (and is well formed: it lives in session state)."""
    pick = st.session_state.get(PICK)
    if not isinstance(pick, tuple | list) or len(pick) != 2 or pick[0] not in facets:
        return None
    facet, term = str(pick[0]), str(pick[1])
    return None if facet == "pair" and term.count("|") != 1 else (facet, term)


def _picked_list(cases: list[Case], facets: tuple[str, ...], hint: bool = False) -> None:
    """The cases behind the pick, where it was clicked: each section lists the picks of its facets."""
    pick = _current_pick(facets)
    if pick is None:
        if hint:
            st.caption(t("overview.click_hint"))
        return
    facet, term = pick
    chosen = [case for case in cases if _matches(case, facet, term)]
    st.subheader(f"{widgets.md_inline(_pick_title(facet, term))} ({len(chosen)})", anchor=False)
    if facet == "pair" and chosen:
        entry = next(entry for entry in forcefield.tension_pairs(chosen) if set(entry.values) == set(term.split("|")))
        st.caption(widgets.md_inline(charts.pair_summary(entry)))
    widgets.case_list(chosen)


def _ranked_pairs(pairs: list[forcefield.PairCount]) -> None:
    """The most frequent pairs in the heat map's words; each one picks like a click on its cell."""
    st.markdown(f"**{t('overview.top_pairs')}**")
    st.caption(t("overview.top_pairs_help"))
    for entry in pairs[:TOP_PAIRS]:
        term = "|".join(entry.values)
        words = t("overview.pair_line", pair=charts.pair_name(entry.values), summary=charts.pair_summary(entry))
        st.button(
            widgets.md_inline(words), key=f"overview_top_{term}", type="tertiary", on_click=_pick, args=("pair", term)
        )


def _tensions(cases: list[Case]) -> None:
    """The heat map of real tensions (two values weighed against each other), with the ranked pairs."""
    st.subheader(t("overview.tension"), anchor=False)
    pairs = forcefield.tension_pairs(cases)
    if not pairs:
        st.caption(t("overview.no_tensions"))
        return
    st.caption(t("overview.tension_help"))
    _draw(charts.tension_heatmap(pairs), "pair", width="content")  # full width: cells big enough to read
    ranked, picked = st.columns([3, 2], gap="large")
    with ranked:
        _ranked_pairs(pairs)
    with picked:
        _picked_list(cases, TENSION, hint=True)


def _crossing(cases: list[Case]) -> None:
    """How the tensions between an entrepreneurial and a bureaucratic value ended."""
    ended = forcefield.crossing_outcomes(cases)
    total = sum(ended.values())
    if not total:
        st.caption(t("overview.crossing_none"))
        return
    st.markdown(f"**{t('overview.crossing', count=total)}**")
    for column, side in zip(st.columns(3), ("ondernemend", "bureaucratisch", BALANCED), strict=True):
        column.metric(t(f"overview.crossing_{side}"), f"{ended[side]}×")


def _systems(cases: list[Case]) -> None:
    """The two value systems side by side, how their clashes ended, and the idea behind them."""
    st.subheader(t("overview.systems"), anchor=False)
    counts = forcefield.two_systems(cases)
    top = max((n for counter in counts.values() for n in counter.values()), default=0)
    lang = language()
    for column, (system, counter) in zip(st.columns(2, gap="large"), counts.items(), strict=True):
        with column:
            st.markdown(f"**{label('value_systems', system, lang)}**")
            _draw(charts.system_bars(system, counter, top), "system", name=f"system_{system}")
    st.caption(t("overview.systems_help"))
    _crossing(cases)
    st.caption(f"{t('overview.essay')}  \n{t('overview.essay_source')}")
    _picked_list(cases, SYSTEMS)


def _forces(cases: list[Case]) -> None:
    """The four sources of norms and whose dilemma it was, side by side."""
    lang = language()
    parts = (  # facet, vocabulary kind, strings prefix, counts, fixed order
        ("sources", "norm_sources", "norms", forcefield.source_counts(cases), NORM_SOURCES),
        ("roles", "roles", "roles", forcefield.role_counts(cases), ROLES),
    )
    for column, (facet, kind, prefix, counts, order) in zip(st.columns(2, gap="large"), parts, strict=True):
        with column:
            st.subheader(t(f"overview.{prefix}"), anchor=False)
            if not sum(counts.values()):
                st.caption(t(f"overview.no_{prefix}"))
                continue
            st.caption(t(f"overview.{prefix}_help"))
            order_labels = [label(kind, term, lang) for term in order]
            _draw(charts.bars(charts.counted(counts, kind), t(f"overview.facets.{facet}"), sort=order_labels), facet)
    _picked_list(cases, FORCES)


def _open_tab(labels: dict[str, str]) -> str:
    """The collection facet whose tab is open, with the pick kept to it (run before the tabs).

    Switching tabs drops the pick: its list belonged to a chart no longer on screen, and that chart
    is drawn afresh (nothing highlighted) on return. A pick made elsewhere opens its own tab instead.
    """
    facets = {text: name for name, text in labels.items()}
    open_facet = facets.get(st.session_state.get(TAB), COLLECTION[0])
    pick = _current_pick(COLLECTION)
    if st.session_state.get(TAB_SEEN, open_facet) != open_facet:
        if pick is not None:
            st.session_state[PICK] = None
    elif pick is not None and pick[0] != open_facet:
        open_facet = pick[0]
        st.session_state[TAB] = labels[open_facet]
    st.session_state[TAB_SEEN] = open_facet
    return open_facet


def _collection(cases: list[Case], counts: dict[str, tuple[Counter, str | None]], engine: SearchEngine) -> None:
    """What the cases are about (one facet per tab; only the open tab's chart is drawn) beside the
    cases behind its pick and the newest cases."""
    st.subheader(t("overview.collection"), anchor=False)
    bars, listing = st.columns([3, 2], gap="large")
    with bars:
        labels = {name: t(f"overview.facets.{name}") for name in COLLECTION}
        open_facet = _open_tab(labels)
        tabs = st.tabs(list(labels.values()), key=TAB, on_change="rerun")
        for tab, name in zip(tabs, COLLECTION, strict=True):
            if name != open_facet:
                continue
            counter, kind = counts[name]
            sort = "-x" if kind else alt.SortField("term", order="descending")
            with tab:
                _draw(charts.bars(charts.counted(counter, kind), labels[name], sort=sort), name)
    with listing:
        _picked_list(cases, (open_facet,), hint=True)
        _newest(cases, engine)


def _published_times(engine: SearchEngine) -> dict[str, str]:
    """Case id → the time (ISO 8601, UTC) of its first 'published' event in the audit log."""
    try:
        events = read_events(settings.audit_log_path(engine.cases_dir))
    except MoresprudentieError:  # an unreadable log: every case falls back to its date
        return {}
    first: dict[str, str] = {}
    for event in events:
        if event.action == "published":
            first.setdefault(event.case, event.time)
    return first


def _moment(case: Case, published: dict[str, str]) -> dt.datetime:
    """When the case was published, or else the start of its deliberation date (module docstring)."""
    with_time = published.get(case.id)
    if with_time:
        try:
            when = dt.datetime.fromisoformat(with_time)
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    year, month, day = ([*map(int, case.date.split("-")), 1, 1])[:3]
    return dt.datetime(year, month, day, tzinfo=dt.UTC)


def _by_publication(cases: list[Case], published: dict[str, str], count: int = NEWEST) -> list[Case]:
    """The `count` cases published last, newest first."""
    return sorted(cases, key=lambda case: (_moment(case, published), case.id), reverse=True)[:count]


def _newest(cases: list[Case], engine: SearchEngine) -> None:
    st.subheader(t("overview.newest"), anchor=False)
    published = _published_times(engine)
    for case in _by_publication(cases, published):
        with st.container(border=True):
            widgets.case_link(case)
            when = published.get(case.id)
            extra = f" · {widgets.md_inline(t('overview.published_on', when=widgets.moment(when)))}" if when else ""
            st.caption(widgets.meta_line(case) + extra)


def _downloads(cases: list[Case]) -> None:
    """The whole published collection as a file, in each export format.

    Each file is written only when its button is clicked (a callable, run by Streamlit then): the page
    reruns on every chart click, and four files of the whole collection would be written each time.
    on_click="ignore": a download leaves what is on screen as it is.
    """
    st.subheader(t("overview.downloads"), anchor=False)
    st.caption(t("overview.downloads_help", count=len(cases)))
    chosen, lang = tuple(cases), language()
    for column, (name, kind) in zip(st.columns(len(export.FORMATS)), export.FORMATS.items(), strict=True):
        column.download_button(
            t(f"overview.download.{name}"),
            partial(export.export, chosen, name, lang),
            f"{DOWNLOAD_STEM}.{kind.suffix}",
            kind.media_type,
            key=f"overview_download_{name}",
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
        )


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
    files = len({problem.path for problem in errors})  # one scaffold has seven problems, but is one file
    with st.expander(t("overview.problems", count=files), icon=":material/report:"):
        st.caption(t("overview.problems_help"))
        for problem in errors:
            where = f"{Path(problem.path).name}:{problem.line}" if problem.line else Path(problem.path).name
            st.text(f"{where}: {messages.with_field(problem)}")


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
    _tensions(cases)
    _systems(cases)
    _forces(cases)
    _collection(cases, counts, engine)
    _downloads(cases)
_problems(engine.problems)
