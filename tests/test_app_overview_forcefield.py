"""The overview's force field: the tension heat map and ranked pairs, the two value systems, the norm
sources and roles, and the pick → case list behind each; plus the forcefield functions they count with.

The app runs in AppTest with the fake embedder, on a small collection written here (whose counts
are known by hand) and on the shipped collection (whose counts must equal the library's).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from conftest import make_case, write_case
from streamlit.testing.v1 import AppTest

from moresprudentie.cases import forcefield
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.model import BALANCED, NORM_SOURCES, ROLES, vocabulary
from moresprudentie.ui.components import nav, widgets

PICK = "overview_pick"
PAIR = "loyaliteit|transparantie"
PAIR_WORDS = "3 casussen, transparantie 2×, in evenwicht 1×"


def _norms(*sources: str) -> list[dict[str, str]]:
    return [{"text": f"Een {source}e norm", "source": source} for source in sources]


# Counted by hand: loyaliteit ↔ transparantie is weighed in a, b and c (transparantie 2×, balanced 1×);
# e names both values but weighs no tension, so it adds no pair; d is the one tension across the systems.
SMALL: dict[str, dict[str, Any]] = {
    "lek-a": {
        "date": "2024-01",
        "values": ["loyaliteit", "transparantie", "zorg"],
        "tensions": [{"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"}],
        "norms": _norms("maatschappelijk", "organisatorisch"),
        "role": "leidinggevende",
    },
    "lek-b": {
        "date": "2024-02",
        "values": ["transparantie", "loyaliteit"],
        "tensions": [{"between": ["transparantie", "loyaliteit"], "prevailed": BALANCED}],
        "norms": _norms("persoonlijk"),
        "role": "medewerker",
    },
    "lek-c": {
        "date": "2024-03",
        "values": ["loyaliteit", "transparantie"],
        "tensions": [{"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"}],
        "norms": _norms("organisatorisch"),
        "role": "medewerker",
    },
    "proef-d": {
        "date": "2024-04",
        "values": ["loyaliteit", "transparantie", "ondernemendheid", "rechtmatigheid"],
        "tensions": [{"between": ["ondernemendheid", "rechtmatigheid"], "prevailed": "ondernemendheid"}],
        "norms": _norms("professioneel"),
        "role": "team",
    },
    "zonder-spanning-e": {
        "date": "2024-05",
        "values": ["loyaliteit", "transparantie", "zorg"],
        "tensions": None,
        "norms": _norms("maatschappelijk"),
        "role": "medewerker",
    },
}


@pytest.fixture
def overview(tmp_path: Path, open_app):
    """The overview on the small collection (written here), optionally with a pick set before the second run."""
    small = tmp_path / "small"
    for case_id, fields in SMALL.items():
        write_case(small, case_id, **fields)

    def make(pick: tuple[str, str] | None = None, lang: str = "nl") -> AppTest:
        at = open_app(small, nav.OVERVIEW, lambda at: at.query_params.update(lang=lang))
        if pick is not None:
            at.session_state[PICK] = pick
            at.run()
        assert not at.exception, at.exception
        return at

    return make


# -- reading the page ------------------------------------------------------------------------------


def chart(at: AppTest, name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The Vega-Lite spec and the data of the overview chart `overview_chart_<name>`."""
    element = next(e for e in at.get("vega_lite_chart") if e.key == f"overview_chart_{name}")
    spec = json.loads(element.proto.spec)
    frame = pa.ipc.open_stream(element.proto.datasets[0].data.data).read_pandas()
    return spec, frame


def chart_counts(at: AppTest, name: str) -> dict[str, int]:
    """Each term of the overview chart `overview_chart_<name>` with the count it shows."""
    _, frame = chart(at, name)
    return dict(zip(frame["term"], frame["n"], strict=True))


def tooltip_titles(spec: dict[str, Any]) -> list[str]:
    return [tip["title"] for tip in spec["encoding"]["tooltip"]]


def _children(node: Any) -> list[Any]:
    children = getattr(node, "children", None) or {}
    return list(children.values()) if isinstance(children, dict) else list(children)


def _links(node: Any) -> list[str]:
    if getattr(node, "type", None) == "page_link":
        return [node.proto.label]
    return [link.proto.label for link in node.get("page_link")] if hasattr(node, "get") else []


def listed(at: AppTest, heading: str) -> tuple[str, list[str]] | None:
    """(the subheader, the case titles listed under it up to the next subheader), for the first
    subheader starting with `heading`; None when the page shows no such list."""
    stack = [at.main]
    while stack:
        block = stack.pop(0)
        items = _children(block)
        starts = [i for i, item in enumerate(items) if item.type == "subheader" and item.value.startswith(heading)]
        if starts:
            titles: list[str] = []
            for item in items[starts[0] + 1 :]:
                if item.type == "subheader":
                    break
                titles += _links(item)
            return items[starts[0]].value, titles
        stack.extend(item for item in items if _children(item))
    return None


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


# -- forcefield: the new counting functions ----------------------------------------------------------


def _small_cases() -> list:
    return [make_case(case_id, **fields) for case_id, fields in SMALL.items()]


def test_outcomes_put_the_winning_side_first_and_a_third_way_last() -> None:
    entry = forcefield.PairCount(("loyaliteit", "transparantie"))
    entry.prevailed.update({BALANCED: 2, "loyaliteit": 1, "transparantie": 4})
    assert forcefield.outcomes(entry) == [("transparantie", 4), ("loyaliteit", 1), (BALANCED, 2)]
    only = forcefield.PairCount(("a", "b"), prevailed=Counter({"b": 1, "a": 0}))
    assert forcefield.outcomes(only) == [("b", 1)]  # a side that never prevailed is not named


def test_tension_values_are_only_values_in_a_tension_grouped_by_system() -> None:
    pairs = forcefield.tension_pairs(_small_cases())
    # entrepreneurial first, then bureaucratic by weight (loyaliteit 3, rechtmatigheid 1), then the rest;
    # zorg is named by cases but weighed in no tension, so it has no row
    assert forcefield.tension_values(pairs) == ["ondernemendheid", "loyaliteit", "rechtmatigheid", "transparantie"]
    assert forcefield.tension_values([]) == []


def test_two_systems_lists_every_value_of_both_systems_with_zeros() -> None:
    systems = forcefield.two_systems(_small_cases())
    assert list(systems) == ["ondernemend", "bureaucratisch"]
    for system, counts in systems.items():
        expected = {term for term, entry in vocabulary()["values"].items() if entry.get("system") == system}
        assert set(counts) == expected
    assert systems["ondernemend"] == Counter({"ondernemendheid": 1, "durf": 0, "vernieuwing": 0, "verbinding": 0})
    assert systems["bureaucratisch"]["loyaliteit"] == 5
    assert systems["bureaucratisch"]["rechtmatigheid"] == 1
    assert systems["bureaucratisch"]["zuinigheid"] == 0
    assert "transparantie" not in systems["bureaucratisch"]  # an 'other' value belongs to neither


def test_has_norm_source_agrees_with_source_counts() -> None:
    cases = _small_cases()
    counts = forcefield.source_counts(cases)
    for source in NORM_SOURCES:
        assert counts[source] == sum(forcefield.has_norm_source(case, source) for case in cases)
    assert counts == Counter({"maatschappelijk": 2, "organisatorisch": 2, "professioneel": 1, "persoonlijk": 1})


def test_role_counts_keep_the_fixed_order_with_zeros_and_skip_unknown_roles() -> None:
    cases = [*_small_cases(), make_case("oud-zonder-rol", role=None)]
    counts = forcefield.role_counts(cases)
    assert list(counts) == list(ROLES)
    assert counts == Counter({"medewerker": 3, "leidinggevende": 1, "bestuurder": 0, "team": 1})


# -- the heat map and the ranked pairs ---------------------------------------------------------------


def test_heat_map_is_built_from_tensions_only(overview) -> None:
    at = overview()
    spec, frame = chart(at, "pair")
    assert set(frame["term"]) == {PAIR, "ondernemendheid|rechtmatigheid"}  # no pair from e's named values
    assert len(frame) == 4  # each pair twice: A×B and B×A
    assert set(frame["x"]) == set(frame["y"]) == {"Loyaliteit", "Transparantie", "Ondernemendheid", "Rechtmatigheid"}
    assert spec["encoding"]["x"]["sort"] == ["Ondernemendheid", "Loyaliteit", "Rechtmatigheid", "Transparantie"]
    counts = dict(zip(frame["term"], frame["n"], strict=True))
    assert counts == {PAIR: 3, "ondernemendheid|rechtmatigheid": 1}  # 3, not 4: e weighs no tension


def test_heat_map_tooltip_says_how_each_side_fared_in_dutch(overview) -> None:
    at = overview()
    spec, frame = chart(at, "pair")
    assert tooltip_titles(spec) == ["Spanning", "Afgewogen"]
    row = frame[frame["term"] == PAIR].iloc[0]
    assert row["pair"] == "Loyaliteit ↔ Transparantie"
    assert row["outcome"] == PAIR_WORDS
    other = frame[frame["term"] == "ondernemendheid|rechtmatigheid"].iloc[0]
    assert other["outcome"] == "1 casus, ondernemendheid 1×"


def test_no_chart_has_a_hash_in_its_tooltip(overview) -> None:
    at = overview()
    for element in at.get("vega_lite_chart"):
        titles = tooltip_titles(json.loads(element.proto.spec))
        assert titles and "#" not in titles, element.key
        assert "Casussen" in titles or "Spanning" in titles, element.key


def test_ranked_pairs_use_the_tooltip_words_and_pick_like_a_cell(overview) -> None:
    at = overview()
    buttons = [button for button in at.button if button.key and button.key.startswith("overview_top_")]
    assert [button.key for button in buttons] == [f"overview_top_{PAIR}", "overview_top_ondernemendheid|rechtmatigheid"]
    assert PAIR_WORDS in buttons[0].label and "Loyaliteit ↔ Transparantie" in buttons[0].label
    assert listed(at, "Spanning tussen") is None
    buttons[0].click().run()
    assert not at.exception
    assert at.session_state[PICK] == ("pair", PAIR)
    heading, titles = listed(at, "Spanning tussen")
    assert heading == "Spanning tussen loyaliteit en transparantie (3)"
    assert sorted(titles) == ["Case lek-a", "Case lek-b", "Case lek-c"]
    assert PAIR_WORDS in [caption.value for caption in at.caption]


def test_picking_a_pair_lists_only_the_cases_that_weigh_it(overview) -> None:
    at = overview(pick=("pair", "transparantie|loyaliteit"))  # either order
    heading, titles = listed(at, "Spanning tussen")
    assert heading.endswith("(3)")
    assert "Case zonder-spanning-e" not in titles and "Case proef-d" not in titles
    heading, titles = listed(overview(pick=("pair", "ondernemendheid|rechtmatigheid")), "Spanning tussen")
    assert (heading, titles) == ("Spanning tussen ondernemendheid en rechtmatigheid (1)", ["Case proef-d"])


@pytest.mark.parametrize("pick", [("pair", "zonder-streep"), ("pair", "a|b|c"), ("onbekend", "x"), ("pair",), "x"])
def test_a_malformed_pick_is_ignored_calmly(overview, pick) -> None:
    at = overview(pick=pick)  # asserts no exception
    assert listed(at, "Spanning tussen") is None


# -- the two value systems ---------------------------------------------------------------------------


def test_value_systems_side_by_side_with_one_scale(overview) -> None:
    at = overview()
    specs = {}
    for system in ("ondernemend", "bureaucratisch"):
        spec, frame = chart(at, f"system_{system}")
        specs[system] = spec
        assert set(frame["term"]) == {t for t, e in vocabulary()["values"].items() if e.get("system") == system}
    assert chart_counts(at, "system_ondernemend") == {
        "ondernemendheid": 1,
        "durf": 0,
        "vernieuwing": 0,
        "verbinding": 0,
    }
    assert chart_counts(at, "system_bureaucratisch")["loyaliteit"] == 5
    domains = {system: spec["encoding"]["x"]["scale"]["domain"] for system, spec in specs.items()}
    assert domains["ondernemend"] == domains["bureaucratisch"] == [0, 5]
    assert "**Ondernemend waardenstelsel**" in [m.value for m in at.markdown]
    assert "**Bureaucratisch waardenstelsel**" in [m.value for m in at.markdown]


def test_crossing_outcomes_and_the_essay_with_its_source(overview) -> None:
    at = overview()
    shown = metrics(at)
    assert shown["Ondernemende kant woog zwaarder"] == "1×"
    assert shown["Bureaucratische kant woog zwaarder"] == "0×"
    assert shown["Een derde weg"] == "0×"
    assert "**Als de twee stelsels botsten (1×)**" in [m.value for m in at.markdown]
    essay = next(caption.value for caption in at.caption if "Buis & De Boer" in caption.value)
    assert "ondernemende" in essay and "bureaucratische" in essay
    assert "Buis & De Boer, Binnenlands Bestuur, 2018" in essay


def test_picking_a_value_of_a_system_lists_its_cases(overview) -> None:
    heading, titles = listed(overview(pick=("system", "ondernemendheid")), "Waarde\\:")
    assert heading.endswith("Ondernemendheid (1)")
    assert titles == ["Case proef-d"]


# -- norm sources and roles --------------------------------------------------------------------------


def test_norm_source_chart_counts_cases_per_source_in_fixed_order(overview) -> None:
    at = overview()
    spec, frame = chart(at, "sources")
    assert list(frame["term"]) == list(NORM_SOURCES)
    assert list(frame["n"]) == [2, 2, 1, 1]
    assert spec["encoding"]["y"]["sort"] == ["Maatschappelijk", "Organisatorisch", "Professioneel", "Persoonlijk"]
    assert tooltip_titles(spec) == ["Bron van normen", "Casussen"]


def test_picking_a_norm_source_lists_its_cases(overview) -> None:
    heading, titles = listed(overview(pick=("sources", "organisatorisch")), "Bron van normen\\:")
    assert heading.endswith("Organisatorisch (2)")
    assert sorted(titles) == ["Case lek-a", "Case lek-c"]


def test_role_chart_and_its_pick(overview) -> None:
    at = overview()
    assert chart_counts(at, "roles") == {"medewerker": 3, "leidinggevende": 1, "bestuurder": 0, "team": 1}
    heading, titles = listed(overview(pick=("roles", "team")), "Rol\\:")
    assert heading.endswith("Team (1)")
    assert titles == ["Case proef-d"]


def test_the_existing_facet_picks_still_list_their_cases(overview) -> None:
    heading, titles = listed(overview(pick=("values", "zorg")), "Waarde\\:")
    assert heading.endswith("Zorg (2)")
    assert sorted(titles) == ["Case lek-a", "Case zonder-spanning-e"]  # the list stops before 'Nieuwste'
    heading, titles = listed(overview(pick=("years", "2024")), "Casussen uit")
    assert heading == "Casussen uit 2024 (5)"


# -- English, empty force field, the shipped collection ------------------------------------------------


def test_english_words_in_the_tooltip_and_the_ranked_list(overview) -> None:
    at = overview(lang="en")
    spec, frame = chart(at, "pair")
    assert tooltip_titles(spec) == ["Tension", "Weighed"]
    assert frame[frame["term"] == PAIR].iloc[0]["outcome"] == "3 cases, transparency 2×, balanced 1×"
    assert "Source: Buis & De Boer, Binnenlands Bestuur, 2018" in "\n".join(c.value for c in at.caption)
    assert metrics(at)["A third way"] == "0×"


def test_a_collection_without_force_field_says_so(tmp_path: Path, open_app) -> None:
    folder = tmp_path / "old"
    write_case(folder, "oud-a", values=["loyaliteit", "transparantie"], tensions=None, norms=None, role=None)
    at = open_app(folder, nav.OVERVIEW)
    captions = [caption.value for caption in at.caption]
    assert "Nog geen casus legt vast welke waarden tegen elkaar zijn afgewogen." in captions
    assert "Nog geen casus weegt een ondernemende waarde af tegen een bureaucratische." in captions
    assert "Nog geen casus noemt de bron van zijn normen." in captions
    assert "Nog geen casus noemt wiens dilemma het was." in captions
    assert {e.key for e in at.get("vega_lite_chart")} >= {"overview_chart_system_ondernemend", "overview_chart_themes"}
    assert "overview_chart_pair" not in {e.key for e in at.get("vega_lite_chart")}


def test_shipped_collection_counts_match_the_library(shipped_cases: Path, open_app) -> None:
    cases = [case for case in load_cases(shipped_cases).cases.values() if case.is_published]
    at = open_app(shipped_cases, nav.OVERVIEW)
    pairs = forcefield.tension_pairs(cases)
    _, frame = chart(at, "pair")
    assert len(frame) == 2 * len(pairs)
    counts = dict(zip(frame["term"], frame["n"], strict=True))
    assert counts == {"|".join(entry.values): entry.count for entry in pairs}
    named = {value for entry in pairs for value in entry.values}
    assert len(set(frame["x"])) == len(named)
    assert chart_counts(at, "sources") == dict(forcefield.source_counts(cases))
    ended = forcefield.crossing_outcomes(cases)
    shown = metrics(at)
    assert shown["Bureaucratische kant woog zwaarder"] == f"{ended['bureaucratisch']}×"
    assert shown["Een derde weg"] == f"{ended[BALANCED]}×"
    top = pairs[0]
    at.session_state[PICK] = ("pair", "|".join(top.values))
    at.run()
    assert not at.exception
    heading, titles = listed(at, "Spanning tussen")
    assert heading.endswith(f"({top.count})")
    assert sorted(titles) == sorted(widgets.md_inline(case.title) for case in cases if case.has_tension(*top.values))
