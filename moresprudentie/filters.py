"""Filters: which cases may appear in a result list, applied before ranking (see search.py).

Shells pass what users picked (lists or single strings, in any spelling); the filter normalises
them the way case files are normalised, so 'Discretionaire ruimte' matches discretionaire-ruimte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .case import DATE_PATTERN, Case, normalise_term
from .errors import UsageError


def _terms(values: Iterable[str] | str | None) -> frozenset[str]:
    if values is None:
        return frozenset()
    if isinstance(values, str):
        values = [values]
    return frozenset(normalise_term(v) for v in values if v and v.strip())


def _date_bounds(date: str) -> tuple[str, str]:
    """'2024' → ('2024-01-01', '2024-12-31'): partial dates are periods, compared as ISO strings."""
    return (date + "-01-01"[len(date) - 4 :], date + "-12-31"[len(date) - 4 :])


@dataclass(frozen=True)
class Filters:
    """Which cases may appear. Empty sets mean 'any'; themes and values match on any overlap."""

    themes: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    methods: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    date_from: str | None = None
    date_to: str | None = None
    include_drafts: bool = False

    def __post_init__(self) -> None:
        # Accept lists or single strings from shells, in any spelling ('Discretionaire ruimte').
        for name in ("themes", "values", "organisations", "methods"):
            object.__setattr__(self, name, _terms(getattr(self, name)))
        object.__setattr__(self, "languages", frozenset(v.strip().lower() for v in _terms(self.languages)))
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
        )
        if any(wanted and not wanted & present for wanted, present in checks):
            return False
        first, last = _date_bounds(case.date)
        if self.date_from and last < _date_bounds(self.date_from)[0]:
            return False
        return not (self.date_to and first > _date_bounds(self.date_to)[1])
