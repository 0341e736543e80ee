"""The shipped collection: valid, big enough, varied, and documented fields match the model."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from moresprudentie.cases import forcefield
from moresprudentie.cases.collection import case_files, load_cases
from moresprudentie.cases.model import FIELD_NAMES, NORM_SOURCES, crosses_systems, force_field_gaps, vocabulary

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def shipped():
    return load_cases(ROOT / "cases")


def test_every_shipped_case_is_valid_without_warnings(shipped) -> None:
    assert [str(p) for p in shipped.problems] == []
    assert len(shipped.cases) == len(case_files(ROOT / "cases"))


def test_collection_size_and_languages(shipped) -> None:
    languages = Counter(case.language for case in shipped.cases.values())
    assert len(shipped.cases) >= 90
    assert languages["nl"] >= 45
    assert languages["en"] >= 10


def test_collection_richness(shipped) -> None:
    cases = list(shipped.cases.values())
    assert sum(bool(c.variations) for c in cases) >= 15
    assert sum(bool(c.related) for c in cases) >= 15
    assert sum(bool(c.options and c.lessons and c.discussion_questions) for c in cases) > len(cases) / 2
    assert len({c.organisation for c in cases}) >= 6
    assert len({c.method for c in cases}) >= 4


def test_case_format_doc_covers_every_field() -> None:
    doc = (ROOT / "docs" / "case-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", doc, flags=re.MULTILINE))
    assert documented == set(FIELD_NAMES)


def test_vocabulary_has_both_languages() -> None:
    systems = set(vocabulary()["value_systems"])
    for kind, terms in vocabulary().items():
        for term, labels in terms.items():
            extra = {"system"} if kind == "values" else set()
            assert set(labels) == {"nl", "en"} | extra, f"{kind}.{term}"
            if kind == "values":
                assert labels["system"] in systems, f"values.{term}: unknown system {labels['system']}"


def test_the_two_value_systems_hold_the_essays_values() -> None:
    values = vocabulary()["values"]
    entrepreneurial = {term for term, entry in values.items() if entry["system"] == "ondernemend"}
    bureaucratic = {term for term, entry in values.items() if entry["system"] == "bureaucratisch"}
    assert {"ondernemendheid", "durf", "vernieuwing", "verbinding"} <= entrepreneurial
    assert {"onpartijdigheid", "loyaliteit", "voorspelbaarheid", "regelgetrouwheid", "zuinigheid"} <= bureaucratic


def test_every_shipped_case_records_its_force_field(shipped) -> None:
    """Role, a tension between two of its own values, norms each with a source, a decisive fact."""
    for case in shipped.cases.values():
        assert force_field_gaps(case) == [], case.id
        assert all(set(tension.between) <= set(case.values) for tension in case.tensions), case.id


def test_the_force_field_is_covered_across_the_collection(shipped) -> None:
    """Issue 13's coverage: each norm source, crossing tensions, managers, the essay's themes, a citator."""
    cases = list(shipped.cases.values())
    sources = forcefield.source_counts(cases)
    assert all(sources[source] >= 15 for source in NORM_SOURCES), sources
    crossing = sum(crosses_systems(tension) for case in cases for tension in case.tensions)
    assert crossing >= 15
    assert sum(case.role in ("leidinggevende", "bestuurder") for case in cases) >= 8
    themes = Counter(theme for case in cases for theme in case.themes)
    for theme in ("vertrouwen", "leiderschap", "eigen-grenzen", "reflectie"):
        assert themes[theme] >= 3, theme
    citator = [link for case in cases for link in case.related if link.relation != "see-also"]
    assert len(citator) >= 12
    dates = {case.id: case.date for case in cases}
    for case in cases:  # a later case builds on, refines or departs from an earlier one
        for link in case.related:
            if link.relation != "see-also":
                assert dates[link.id] <= case.date, f"{case.id} {link.relation} the later {link.id}"
