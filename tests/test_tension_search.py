"""Search by value conflict: 'loyaliteit versus transparantie' finds the cases that weighed exactly
those two values against each other (either order). The CLI's --tension is in test_cli_search.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_case

from moresprudentie.cases.collection import load_cases
from moresprudentie.errors import UsageError
from moresprudentie.search.filters import Filters, parse_tension
from moresprudentie.ui.components import nav


@pytest.fixture
def conflicts(tmp_path: Path) -> Path:
    """Three cases naming loyalty and transparency; only two weighed them against each other."""
    folder = tmp_path / "cases"
    both = ["loyaliteit", "transparantie", "eerlijkheid"]
    write_case(
        folder,
        "rapport-afzwakken",
        values=both,
        tensions=[{"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"}],
        situation="Mijn leidinggevende vraagt het rapport voor de raad af te zwakken.",
        judgement="Oordeel over het rapport.",
    )
    write_case(
        folder,
        "vertraging-melden",
        values=both,
        tensions=[{"between": ["transparantie", "loyaliteit"], "prevailed": "loyaliteit"}],
        situation="De directeur wil een vertraging in het project nog niet aan de raad melden.",
        judgement="Oordeel over de vertraging.",
    )
    write_case(
        folder,
        "allebei-genoemd",  # names both values, but weighed loyalty against honesty
        values=both,
        tensions=[{"between": ["loyaliteit", "eerlijkheid"], "prevailed": "eerlijkheid"}],
        situation="Mijn leidinggevende vraagt het rapport voor de raad af te zwakken en het te verzwijgen.",
        judgement="Oordeel over het verzwijgen.",
    )
    return folder


def test_a_tension_is_read_in_any_order_and_spelling() -> None:
    assert parse_tension("Loyaliteit : transparantie") == ("loyaliteit", "transparantie")
    assert parse_tension("loyaliteit versus transparantie") == ("loyaliteit", "transparantie")
    for wrong in ("loyaliteit", "loyaliteit:loyaliteit", "a:b:c"):
        with pytest.raises(UsageError):
            parse_tension(wrong)


def test_the_filter_keeps_exactly_the_cases_that_weighed_the_pair(conflicts: Path) -> None:
    cases = load_cases(conflicts).cases.values()
    for asked in ("loyaliteit:transparantie", "transparantie:loyaliteit", ("transparantie", "loyaliteit")):
        kept = sorted(case.id for case in cases if Filters(tension=asked).accepts(case))
        assert kept == ["rapport-afzwakken", "vertraging-melden"]
    assert Filters(values=["loyaliteit", "transparantie"]).accepts(next(iter(cases)))  # --value is "either"
    one_side = sorted(case.id for case in cases if Filters(tension=("eerlijkheid",)).accepts(case))
    assert one_side == ["allebei-genoemd"]  # one value: weighed against any other


def test_the_search_page_combines_the_tension_picker_with_free_text(conflicts: Path, open_app) -> None:
    at = open_app(conflicts, nav.SEARCH)
    at.selectbox(key="search_tension_a").set_value("transparantie").run()
    at.selectbox(key="search_tension_b").set_value("loyaliteit").run()
    assert not at.exception
    headings = [e.value for e in at.subheader]
    assert any(heading.startswith("2 ") for heading in headings), headings  # browsing: only the two
    at.text_area[0].input("rapport voor de raad afzwakken en verzwijgen")
    at.button[0].click().run()
    assert not at.exception
    shown = " ".join(e.value for e in at.markdown)
    assert "Oordeel over het rapport." in shown  # the closest of the two, ranked by the text
    assert "Oordeel over het verzwijgen." not in shown  # names both values, weighed another pair
