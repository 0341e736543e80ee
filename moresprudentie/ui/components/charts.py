"""The overview's charts (Altair) and the words they share with the page's lists.

Builders only: each returns a chart whose marks carry a `term`, and the page draws it and turns a
click into a pick (views/overzicht.py). The heat map's tooltip and the ranked list of pairs say a
tension in the same words (`pair_name`, `pair_summary`), so what a reader hovers is what they read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from moresprudentie.cases.forcefield import PairCount, outcomes, tension_values
from moresprudentie.cases.model import BALANCED, label, value_system
from moresprudentie.ui.components.i18n import language, t

COLOUR = "#3b6e8f"
# The two value systems keep one colour each, in the bars and in the heat map's axis labels.
SYSTEM_COLOURS = {"ondernemend": "#c0662b", "bureaucratisch": "#1f4e79", "overig": "#52606d"}
# Blues without the near-white end, so a pair weighed once still shows on a white page.
HEAT = alt.Scale(scheme={"name": "blues", "extent": [0.2, 1.0]}, domainMin=0)
# Pixels the heat map's cells may take across: with its labels the map then fits the page's column on
# a 1280-pixel screen with the sidebar open (820 pixels; 30 values get 20-pixel cells), and scrolls
# within its own frame on a narrower one.
GRID = 620
CELL_MIN, CELL_MAX = 14, 28
BAR_STEP = 24
AXIS_HEIGHT = 80  # a bar chart's height includes its x axis and title (Streamlit fits the chart)
LABEL_LIMIT = 170


def pick() -> alt.Parameter:
    """The click selection every overview chart carries; the page reads its `term`."""
    return alt.selection_point(name="pick", fields=["term"], on="click")


def lower_first(text: str) -> str:
    """A label inside a sentence: 'Transparantie' → 'transparantie' (the rest is left as it is)."""
    return text[:1].lower() + text[1:]


def pair_name(values: Sequence[str]) -> str:
    """'Loyaliteit ↔ Transparantie'."""
    lang = language()
    first, second = (label("values", value, lang) for value in values)
    return t("overview.pair", a=first, b=second)


def pair_summary(entry: PairCount) -> str:
    """'6 casussen, transparantie 5×, in evenwicht 1×': how often the pair was weighed, and how each
    time ended (the side that prevailed, or a third way)."""
    lang = language()
    cases = t("overview.pair_cases_one") if entry.count == 1 else t("overview.pair_cases", count=entry.count)
    sides = [
        t(
            "overview.side_count",
            side=t("overview.balanced_short") if side == BALANCED else lower_first(label("values", side, lang)),
            count=n,
        )
        for side, n in outcomes(entry)
    ]
    return ", ".join([cases, *sides])


def counted(counts: Counter, kind: str | None) -> list[dict[str, Any]]:
    """Rows for a bar chart: term, its label in the UI language (kind: a vocabulary), and the count."""
    lang = language()
    return [
        {"term": str(term), "label": label(kind, term, lang) if kind else str(term), "n": n}
        for term, n in counts.items()
    ]


def bars(
    rows: list[dict[str, Any]],
    tooltip_title: str,
    sort: Any = "-x",
    colour: str = COLOUR,
    x_max: int | None = None,
) -> alt.Chart:
    """Horizontal bars, one per row, clickable. `sort` is Altair's (a list keeps a fixed order);
    `x_max` gives charts shown side by side one scale and one label width, so equal bars mean equal
    counts."""
    selection = pick()
    scale = alt.Scale(domain=[0, max(x_max, 1)]) if x_max is not None else alt.Undefined
    labels: dict[str, Any] = {"labelLimit": 280, "labelOverlap": False}
    if x_max is not None:
        labels.update(labelLimit=LABEL_LIMIT, minExtent=LABEL_LIMIT, maxExtent=LABEL_LIMIT)
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar(cornerRadiusEnd=3, color=colour)
        .encode(
            x=alt.X("n:Q", title=t("overview.count_axis"), scale=scale, axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("label:N", sort=sort, title=None, axis=alt.Axis(**labels)),
            opacity=alt.condition(selection, alt.value(1.0), alt.value(0.45)),
            tooltip=[
                alt.Tooltip("label:N", title=tooltip_title),
                alt.Tooltip("n:Q", title=t("overview.tooltip_cases")),
            ],
        )
        .add_params(selection)
        .properties(height=BAR_STEP * len(rows) + AXIS_HEIGHT)
    )


def system_bars(system: str, counts: Counter, x_max: int) -> alt.Chart:
    """One value system's values with the number of cases naming each, in the system's colour."""
    rows = counted(counts, "values")
    title = label("value_systems", system, language())
    return bars(rows, title, colour=SYSTEM_COLOURS[system], x_max=x_max)


def _heat_rows(pairs: list[PairCount]) -> list[dict[str, Any]]:
    """Each pair twice (A×B and B×A), so every value's row shows all the values it met."""
    lang = language()
    rows = []
    for entry in pairs:
        first, second = entry.values
        words = {
            "term": f"{first}|{second}",
            "pair": pair_name(entry.values),
            "outcome": pair_summary(entry),
            "n": entry.count,
        }
        for x, y in ((first, second), (second, first)):
            rows.append({"x": label("values", x, lang), "y": label("values", y, lang), **words})
    return rows


def _system_colour(labels: dict[str, str]) -> alt.ExprRef:
    """A Vega expression that colours an axis label by its value's system."""
    expression = f"'{SYSTEM_COLOURS['overig']}'"
    for system in ("bureaucratisch", "ondernemend"):
        members = json.dumps([text for value, text in labels.items() if value_system(value) == system])
        expression = f"indexof({members}, datum.value) >= 0 ? '{SYSTEM_COLOURS[system]}' : ({expression})"
    return alt.expr(expression)


def tension_heatmap(pairs: list[PairCount]) -> alt.Chart:
    """The tension pairs as a symmetric value × value grid: colour is the number of cases, the
    tooltip says how each side fared. Only values that occur in a tension get a row and a column."""
    lang = language()
    order = tension_values(pairs)
    labels = {value: label("values", value, lang) for value in order}
    cell = max(CELL_MIN, min(CELL_MAX, GRID // max(len(order), 1)))
    colour = _system_colour(labels)
    axis = {"labelLimit": LABEL_LIMIT, "labelOverlap": False, "labelColor": colour, "labelFontSize": 12}
    selection = pick()
    return (
        alt.Chart(pd.DataFrame(_heat_rows(pairs)))
        .mark_rect(cornerRadius=2, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("x:N", title=None, sort=list(labels.values()), axis=alt.Axis(labelAngle=-45, **axis)),
            y=alt.Y("y:N", title=None, sort=list(labels.values()), axis=alt.Axis(**axis)),
            color=alt.Color(
                "n:Q",
                title=t("overview.count_axis"),
                scale=HEAT,
                legend=alt.Legend(orient="bottom", tickMinStep=1, format="d"),
            ),
            opacity=alt.condition(selection, alt.value(1.0), alt.value(0.5)),
            tooltip=[
                alt.Tooltip("pair:N", title=t("overview.tooltip_pair")),
                alt.Tooltip("outcome:N", title=t("overview.tooltip_outcome")),
            ],
        )
        .add_params(selection)
        .properties(width=alt.Step(cell), height=alt.Step(cell))
    )
