"""Filters: which cases may appear in a result list, applied before ranking (see search.py).

Shells pass what users picked (lists or single strings, in any spelling); the filter normalises
them the way case files are normalised, so 'Discretionaire ruimte' matches discretionaire-ruimte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import get_args

from moresprudentie.cases.model import (
    DATE_PATTERN,
    ROLES,
    VOCABULARY_FIELDS,
    Case,
    normalise_term,
    suggest,
    vocabulary,
    vocabulary_terms,
)
from moresprudentie.errors import UsageError


def _terms(values: Iterable[str] | str | None) -> frozenset[str]:
    if values is None:
        return frozenset()
    if isinstance(values, str):
        values = [values]
    return frozenset(normalise_term(v) for v in values if v and v.strip())


def _date_bounds(date: str) -> tuple[str, str]:
    """'2024' → ('2024-01-01', '2024-12-31'): partial dates are periods, compared as ISO strings."""
    return (date + "-01-01"[len(date) - 4 :], date + "-12-31"[len(date) - 4 :])


def parse_tension(text: str) -> tuple[str, str]:
    """'loyaliteit:transparantie' (or 'A versus B', 'A↔B') → the two values, normalised like terms."""
    parts = [part for part in re.split(r"\s*(?::|↔|<->|\bversus\b|\bvs\.?)\s*", text.strip()) if part]
    if len(parts) != 2:
        raise UsageError(f"tension '{text}': give two values as A:B, e.g. --tension loyaliteit:transparantie")
    first, second = (normalise_term(part) for part in parts)
    if first == second:
        raise UsageError(f"tension '{text}': a tension sets two different values against each other")
    return first, second


@dataclass(frozen=True)
class Filters:
    """Which cases may appear. Empty sets mean 'any'; themes and values match on any overlap.

    `tension` asks for cases that weighed exactly these two values against each other (either order),
    which is not the same as cases that merely name both values; a single value asks for cases that
    weighed it against any other.
    """

    themes: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    methods: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    date_from: str | None = None
    date_to: str | None = None
    tension: tuple[str, str] | tuple[str] | None = None
    roles: frozenset[str] = frozenset()
    include_drafts: bool = False

    def __post_init__(self) -> None:
        # Accept lists or single strings from shells, in any spelling ('Discretionaire ruimte').
        for name in ("themes", "values", "organisations", "methods"):
            object.__setattr__(self, name, _terms(getattr(self, name)))
        object.__setattr__(self, "languages", frozenset(v.strip().lower() for v in _terms(self.languages)))
        object.__setattr__(self, "roles", _terms(self.roles))
        if isinstance(self.tension, str):
            object.__setattr__(self, "tension", parse_tension(self.tension))
        elif self.tension is not None:
            object.__setattr__(self, "tension", tuple(normalise_term(value) for value in self.tension) or None)
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and not DATE_PATTERN.match(value):
                raise UsageError(f"{name.replace('_', '-')} '{value}': use YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2023-06")

    @property
    def is_default(self) -> bool:
        return self == Filters(include_drafts=self.include_drafts)

    def accepts(self, case: Case) -> bool:
        if not self.include_drafts and not case.is_published:
            return False
        checks = (
            (self.themes, set(case.themes)),
            (self.values, set(case.values)),
            (self.organisations, {case.organisation}),
            (self.methods, {case.method}),
            (self.languages, {case.language}),
            (self.roles, {case.role}),
        )
        if any(wanted and not wanted & present for wanted, present in checks):
            return False
        if self.tension and not case.has_tension(*self.tension):
            return False
        first, last = _date_bounds(case.date)
        if self.date_from and last < _date_bounds(self.date_from)[0]:
            return False
        return not (self.date_to and first > _date_bounds(self.date_to)[1])

    def check_against(self, cases: Iterable[Case]) -> None:
        """Refuse a term that neither the vocabulary nor any case knows: a typo in a filter would
        otherwise come back as an empty result, with nothing to say why."""
        cases = list(cases)
        for field, kind in VOCABULARY_FIELDS.items():
            wanted = getattr(self, kind)
            if not wanted:
                continue
            known = set(vocabulary()[kind]).union(*(vocabulary_terms(case, field) for case in cases))
            unknown = sorted(wanted - known)
            if unknown:
                hint = suggest(unknown[0], sorted(known))
                guess = f"did you mean '{hint}'? " if hint else ""
                raise UsageError(
                    f"{kind[:-1]} '{unknown[0]}' is not a known term; {guess}the terms are in docs/case-format.md"
                )
        unknown = sorted(self.languages - set(get_args(Case.model_fields["language"].annotation)))
        if unknown:
            raise UsageError(f"language '{unknown[0]}': use nl or en")
        unknown = sorted(self.roles - set(ROLES))
        if unknown:
            raise UsageError(f"role '{unknown[0]}': use one of {', '.join(ROLES)}")
        self._check_tension(cases)

    def _check_tension(self, cases: list[Case]) -> None:
        if not self.tension:
            return
        known = set(vocabulary()["values"]).union(*(case.values for case in cases))
        for value in self.tension:
            if value not in known:
                hint = suggest(value, sorted(known))
                guess = f"did you mean '{hint}'? " if hint else ""
                raise UsageError(
                    f"tension: value '{value}' is not a known value; {guess}the values are in docs/case-format.md"
                )
