"""Begrippen: the concepts file, the rules that pick example cases, and the page in both languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import make_case
from streamlit.testing.v1 import AppTest

from moresprudentie import load_cases
from moresprudentie.cases.model import NORM_SOURCES, Case
from moresprudentie.ui.components import concepts, nav
from moresprudentie.ui.components.concepts import Clause, Rule, examples, parse_clause, parse_concept

REQUIRED = {
    "moresprudentie",
    "moreel-beraad",
    "discretionaire-ruimte",
    "normatieve-professionaliteit",
    "krachtenveld",
    "integer-leiderschap",
    "waardenstelsels",
}


def _published(folder: Path) -> list[Case]:
    cases = [case for case in load_cases(folder).cases.values() if case.is_published]
    return sorted(cases, key=lambda case: (case.date, case.id), reverse=True)


def _linked(block) -> list[str]:
    return [
        node.proto.query_string.removeprefix("case=")
        for node in block
        if getattr(node, "type", None) == "page_link" and node.proto.query_string
    ]


# -- the file ------------------------------------------------------------------------------------


def test_every_concept_is_complete_in_both_languages() -> None:
    every = concepts.concepts()
    assert {concept.id for concept in every} >= REQUIRED
    assert len({concept.id for concept in every}) == len(every)
    for concept in every:
        for texts in (concept.title, concept.text, concept.because):
            assert set(texts) == {"nl", "en"} and all(text.strip() for text in texts.values()), concept.id
    for source in NORM_SOURCES:
        assert concepts.source_explanation(source, "nl") != concepts.source_explanation(source, "en")


def test_a_misspelt_condition_or_term_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown condition 'theme'"):
        parse_clause({"theme": ["leiderschap"]})
    with pytest.raises(ValueError, match="'leiderchap' is not a known term for themes"):
        parse_clause({"themes": ["leiderchap"]})
    with pytest.raises(ValueError, match="show 'tabel'"):
        parse_concept({"id": "x", "title": {}, "text": {}, "because": {}, "show": "tabel", "rule": {"any": [{}]}})


# -- the rules -----------------------------------------------------------------------------------


def test_clauses_combine_all_conditions_and_rules_any_clause() -> None:
    leader = make_case("leider", themes=["leiderschap"], role="leidinggevende")
    employee = make_case("medewerker", themes=["geschenken"], role="medewerker")
    both = Clause(themes=frozenset({"leiderschap"}), roles=frozenset({"leidinggevende"}))
    assert both.accepts(leader) and not both.accepts(employee)
    either = Rule((Clause(themes=frozenset({"leiderschap"})), Clause(roles=frozenset({"medewerker"}))))
    assert either.accepts(leader) and either.accepts(employee)


def test_norm_sources_need_every_source_and_crossing_needs_both_systems() -> None:
    norms = [{"text": "Beroepscode", "source": "professioneel"}, {"text": "Geweten", "source": "persoonlijk"}]
    personal = make_case("twee-bronnen", norms=norms)
    organisational = make_case("een-bron")  # the default: one organisational norm
    rule = Clause(norm_sources=frozenset({"professioneel", "persoonlijk"}))
    assert rule.accepts(personal) and not rule.accepts(organisational)
    assert Clause(min_norm_sources=2).accepts(personal) and not Clause(min_norm_sources=2).accepts(organisational)
    crossing = make_case(
        "durf-tegen-regels",
        values=["durf", "regelgetrouwheid"],
        tensions=[{"between": ["durf", "regelgetrouwheid"], "prevailed": "durf"}],
    )
    inside = make_case("zorg-tegen-regels", values=["zorg", "regelgetrouwheid"])
    assert Clause(crosses_systems=True).accepts(crossing) and not Clause(crosses_systems=True).accepts(inside)


def test_examples_keep_the_order_limit_and_spread() -> None:
    cases = [make_case(f"casus-{n}", themes=["leiderschap"]) for n in range(8)]
    rule = Rule((Clause(themes=frozenset({"leiderschap"})),))
    assert [case.id for case in examples(cases, rule, limit=3)] == ["casus-0", "casus-1", "casus-2"]
    spread = examples(cases, rule, limit=3, avoid={"casus-0", "casus-1"})
    assert [case.id for case in spread] == ["casus-2", "casus-3", "casus-4"]
    assert len(examples(cases[:2], rule, limit=3, avoid={"casus-0"})) == 2  # shown before, still better than none


def test_every_concept_has_examples_in_the_shipped_collection_that_meet_its_rule(shipped_cases: Path) -> None:
    published = _published(shipped_cases)
    chosen = concepts.all_examples(concepts.concepts(), published)
    for concept in concepts.concepts():
        assert 1 <= len(chosen[concept.id]) <= concepts.EXAMPLES, concept.id
        assert all(concept.rule.accepts(case) for case in chosen[concept.id]), concept.id


# -- the page ------------------------------------------------------------------------------------


def test_page_links_cases_per_concept_that_meet_its_rule(open_app: Callable[..., AppTest], shipped_cases: Path) -> None:
    at = open_app(shipped_cases, nav.CONCEPTS)
    by_id = {case.id: case for case in _published(shipped_cases)}
    headings = [heading.value for heading in at.subheader]
    for concept in concepts.concepts():
        assert concept.title["nl"] in headings
        linked = _linked(at.get_by_key(f"concept-{concept.id}"))
        assert 1 <= len(linked) <= concepts.EXAMPLES, concept.id
        assert all(concept.rule.accepts(by_id[case_id]) for case_id in linked), concept.id
    shown = "\n".join(str(element.value) for element in [*at.markdown, *at.caption])
    assert "Buis, H. & De Boer, N. (2018)" in shown and "Binnenlands Bestuur" in shown
    assert "Ondernemend waardenstelsel" in shown and "Durf" in shown  # the systems' values, from the vocabulary
    assert "Maatschappelijk" in shown  # the four sources, explained


def test_english_page_is_english_and_dutch_page_is_dutch(open_app: Callable[..., AppTest], shipped_cases: Path) -> None:
    english = open_app(shipped_cases, nav.CONCEPTS, lambda at: at.query_params.update(lang="en"))
    dutch = open_app(shipped_cases, nav.CONCEPTS)

    def shown(at: AppTest) -> str:
        parts = [element.value for kind in ("title", "subheader", "markdown", "caption") for element in at.get(kind)]
        return "\n".join(str(part) for part in parts)

    in_english, in_dutch = shown(english), shown(dutch)
    for concept in concepts.concepts():
        assert concept.title["en"] in in_english and concept.title["nl"] in in_dutch
    dutch_words = (
        "Casussen die dit laten zien",
        "Gekozen:",
        "Bron van het idee",
        "Ondernemend waardenstelsel",
        "Maatschappelijk",
    )
    english_words = (
        "Cases that show this",
        "Chosen:",
        "Source of the idea",
        "Entrepreneurial value system",
        "Societal",
    )
    assert all(word in in_english for word in english_words)
    assert not [word for word in dutch_words if word in in_english]
    assert all(word in in_dutch for word in dutch_words)
    assert not [word for word in english_words if word in in_dutch]
