"""Filter widgets shared by the search and session pages, turned into a library `Filters`.

Options are the terms that occur in the published collection (so no choice leads to nothing),
labelled in the UI language and sorted by label.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from moresprudentie.cases.model import Case, label
from moresprudentie.search.engine import Filters
from moresprudentie.ui.components.i18n import language, t

# (Filters field, Case attribute, vocabulary kind)
FACETS = (
    ("themes", "themes", "themes"),
    ("values", "values", "values"),
    ("organisations", "organisation", "organisations"),
    ("methods", "method", "methods"),
)


def terms(cases: Iterable[Case], attribute: str) -> set[str]:
    """Every term of one attribute (list or single value) that occurs in the cases."""
    found: set[str] = set()
    for case in cases:
        value = getattr(case, attribute)
        found.update(value if isinstance(value, list) else [value] if value else [])
    return found


def _options(cases: list[Case], attribute: str, kind: str) -> list[str]:
    lang = language()
    return sorted(terms(cases, attribute), key=lambda term: label(kind, term, lang).casefold())


def facet(cases: list[Case], name: str, key: str, label_key: str | None = None) -> list[str]:
    """A multiselect for one facet (themes, values, organisations, methods); returns the chosen terms."""
    attribute, kind = next((attr, kind) for field, attr, kind in FACETS if field == name)
    lang = language()
    return st.multiselect(
        t(label_key or f"filters.{name}"),
        _options(cases, attribute, kind),
        key=key,
        format_func=lambda term: label(kind, term, lang),
        placeholder=t("filters.any"),
        select_all=False,  # Streamlit's "Select all" is English only, and a filter of all is no filter
    )


def tension_picker(cases: list[Case], key: str, left: DeltaGenerator, right: DeltaGenerator) -> tuple[str, ...]:
    """'Waarden in spanning': value A, then value B among A's counterparts, from the values that stand
    in a tension in these cases. A alone keeps the cases that weighed A against anything; B offers
    only A's counterparts, so no pair finds nothing. A versus B finds the same cases as B versus A."""
    lang = language()
    pairs = [tension.between for case in cases for tension in case.tensions]
    by_label = partial(sorted, key=lambda value: label("values", value, lang).casefold())
    first = left.selectbox(
        t("filters.tension"),
        by_label({value for pair in pairs for value in pair}),
        index=None,
        key=f"{key}_a",
        format_func=lambda value: label("values", value, lang),
        placeholder=t("filters.any"),
        help=t("filters.tension_help"),
    )
    counterparts = by_label({value for pair in pairs if first in pair for value in pair if value != first})
    if st.session_state.get(f"{key}_b") not in counterparts:
        st.session_state.pop(f"{key}_b", None)  # a B left over from another A would match nothing
    second = right.selectbox(
        t("filters.tension_other"),
        counterparts,
        index=None,
        key=f"{key}_b",
        format_func=lambda value: label("values", value, lang),
        placeholder=t("filters.any"),
        disabled=first is None,
    )
    return tuple(value for value in (first, second) if value)


def year_range(cases: list[Case], key: str) -> tuple[str | None, str | None]:
    """A period slider over the years in the collection; (None, None) while it spans everything."""
    years = sorted({case.year for case in cases})
    if len(years) < 2:
        return None, None
    low, high = st.slider(t("filters.period"), years[0], years[-1], (years[0], years[-1]), key=key)
    return (str(low) if low > years[0] else None, str(high) if high < years[-1] else None)


def languages(key: str) -> list[str]:
    return st.multiselect(
        t("filters.languages"),
        ["nl", "en"],
        key=key,
        format_func=lambda code: t(f"languages.{code}"),
        placeholder=t("filters.any"),
        select_all=False,  # Streamlit's "Select all" is English only, and a filter of all is no filter
    )


def filter_panel(cases: list[Case], prefix: str) -> Filters:
    """All facets, language and period as widgets (keys start with prefix); the Filters they make."""
    chosen = {name: facet(cases, name, f"{prefix}_{name}") for name, _, _ in FACETS}
    chosen["languages"] = languages(f"{prefix}_languages")
    date_from, date_to = year_range(cases, f"{prefix}_period")
    return Filters(**{name: frozenset(value) for name, value in chosen.items()}, date_from=date_from, date_to=date_to)
