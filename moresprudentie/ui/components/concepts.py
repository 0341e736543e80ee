"""The concepts of the Begrippen page as data: texts in concepts.yaml, example cases by a declared rule.

Each concept names a rule that picks the published cases which show it (a theme, a role, a tension
across the two value systems, norms from given sources …). The rule sits beside the text, so the
page can say why a case is listed and a test can check that every listed case meets its rule. The
file is checked when it is read: a misspelt condition or term fails loudly instead of quietly
listing nothing. No Streamlit here: reading and selecting are pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any

import yaml

from moresprudentie.cases.model import NORM_SOURCES, ROLES, Case, Relation, crosses_systems, vocabulary

EXAMPLES = 3  # at most this many example cases per concept: a few good links, not a list
SHOWS = ("value_systems", "norm_sources")
_TERMS = {  # condition → the terms it may name (checked when the file is read)
    "themes": lambda: set(vocabulary()["themes"]),
    "values": lambda: set(vocabulary()["values"]),
    "roles": lambda: set(ROLES),
    "methods": lambda: set(vocabulary()["methods"]),
    "relations": lambda: {relation.value for relation in Relation},
    "norm_sources": lambda: set(NORM_SOURCES),
}


@dataclass(frozen=True)
class Clause:
    """Conditions a case must all meet; an empty condition asks nothing."""

    themes: frozenset[str] = frozenset()  # any of these
    values: frozenset[str] = frozenset()  # any of these
    roles: frozenset[str] = frozenset()  # any of these
    methods: frozenset[str] = frozenset()  # any of these
    relations: frozenset[str] = frozenset()  # a related case with any of these relations
    norm_sources: frozenset[str] = frozenset()  # norms from each of these sources
    min_norm_sources: int = 0  # norms from at least this many sources
    crosses_systems: bool = False  # a tension across the two value systems

    def accepts(self, case: Case) -> bool:
        sources = {norm.source for norm in case.norms if norm.source}
        return (
            _any(self.themes, case.themes)
            and _any(self.values, case.values)
            and _any(self.roles, [case.role])
            and _any(self.methods, [case.method])
            and _any(self.relations, [str(link.relation) for link in case.related])
            and self.norm_sources <= sources
            and len(sources) >= self.min_norm_sources
            and (not self.crosses_systems or any(crosses_systems(tension) for tension in case.tensions))
        )


def _any(wanted: frozenset[str], present: Iterable[str | None]) -> bool:
    return not wanted or any(term in wanted for term in present)


@dataclass(frozen=True)
class Rule:
    """A case meets the rule when it meets any of its clauses."""

    clauses: tuple[Clause, ...]

    def accepts(self, case: Case) -> bool:
        return any(clause.accepts(case) for clause in self.clauses)


@dataclass(frozen=True)
class Concept:
    id: str
    title: dict[str, str]
    text: dict[str, str]
    because: dict[str, str]  # the rule in words
    rule: Rule
    show: str | None = None  # one of SHOWS: a fixed part drawn from the vocabulary


def examples(cases: Iterable[Case], rule: Rule, limit: int = EXAMPLES, avoid: Iterable[str] = ()) -> list[Case]:
    """Up to `limit` cases that meet the rule, in the order given (the page passes newest first), but
    those whose id is in `avoid` (shown for an earlier concept) only when too few others meet it."""
    avoid = set(avoid)
    meeting = [case for case in cases if rule.accepts(case)]
    return sorted(meeting, key=lambda case: case.id in avoid)[:limit]


def all_examples(concepts: Iterable[Concept], cases: Iterable[Case], limit: int = EXAMPLES) -> dict[str, list[Case]]:
    """The examples of each concept, spread so that one case does not illustrate every concept."""
    cases = list(cases)
    shown: set[str] = set()
    result = {}
    for concept in concepts:
        result[concept.id] = examples(cases, concept.rule, limit, shown)
        shown.update(case.id for case in result[concept.id])
    return result


def localised(texts: dict[str, str], language: str) -> str:
    """The text in the language, Dutch when it has none."""
    return texts.get(language) or texts["nl"]


def parse_clause(data: dict[str, Any]) -> Clause:
    """One clause from the file; an unknown condition or term is an error that names it."""
    known = {item.name for item in fields(Clause)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"concepts.yaml: unknown condition '{unknown[0]}'; use one of {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in _TERMS:
            terms = frozenset([value] if isinstance(value, str) else value)
            strange = sorted(terms - _TERMS[name]())
            if strange:
                raise ValueError(f"concepts.yaml: '{strange[0]}' is not a known term for {name}")
            values[name] = terms
        elif name == "min_norm_sources":
            values[name] = int(value)
        else:
            values[name] = bool(value)
    return Clause(**values)


def parse_concept(data: dict[str, Any]) -> Concept:
    show = data.get("show")
    if show is not None and show not in SHOWS:
        raise ValueError(f"concepts.yaml: {data['id']}: show '{show}' is not one of {', '.join(SHOWS)}")
    clauses = tuple(parse_clause(clause) for clause in data["rule"]["any"])
    if not clauses:
        raise ValueError(f"concepts.yaml: {data['id']}: a rule needs at least one clause under 'any'")
    return Concept(data["id"], data["title"], data["text"], data["because"], Rule(clauses), show)


@cache
def _file() -> dict[str, Any]:
    source = resources.files("moresprudentie.ui.components").joinpath("concepts.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(source)


@cache
def concepts() -> tuple[Concept, ...]:
    """Every concept of the page, in the file's order."""
    return tuple(parse_concept(entry) for entry in _file()["concepts"])


def source_explanation(source: str, language: str) -> str:
    """What one of the four sources of norms means, in the language."""
    return localised(_file()["norm_sources"][source], language)
