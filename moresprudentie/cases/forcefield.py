"""The force field of a collection: norms by source, tensions with their outcome, the two value systems.

Buis & De Boer (2018) describe a civil servant steering between an entrepreneurial and a bureaucratic
value system, in a force field of societal, organisational, professional and personal norms. The case
page, the overview, the handout and the CLI all read those ideas through these few functions, so they
count the same way everywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from moresprudentie.cases.model import (
    BALANCED,
    NORM_SOURCES,
    ROLES,
    Case,
    Norm,
    Tension,
    crosses_systems,
    value_system,
    vocabulary,
)

VALUE_SYSTEMS = ("ondernemend", "bureaucratisch", "overig")


def norms_by_source(case: Case) -> dict[str | None, list[Norm]]:
    """The case's norms grouped by source, in the fixed order of the four sources (then unsourced)."""
    grouped: dict[str | None, list[Norm]] = {source: [] for source in (*NORM_SOURCES, None)}
    for norm in case.norms:
        grouped[norm.source].append(norm)
    return {source: norms for source, norms in grouped.items() if norms}


def pair(tension: Tension) -> tuple[str, str]:
    """A tension's two values in a fixed (alphabetical) order, so A↔B and B↔A count as one pair."""
    first, second = sorted(tension.between)
    return first, second


@dataclass
class PairCount:
    """How often two values were weighed against each other, and how often each side prevailed."""

    values: tuple[str, str]
    cases: list[str] = field(default_factory=list)
    prevailed: Counter = field(default_factory=Counter)  # value or BALANCED → number of cases

    @property
    def count(self) -> int:
        return len(self.cases)

    @property
    def crosses_systems(self) -> bool:
        return crosses_systems(Tension(between=self.values, prevailed=BALANCED))


def tension_pairs(cases: Iterable[Case]) -> list[PairCount]:
    """Every tension pair in the cases, most frequent first; a case counts once per pair."""
    counts: dict[tuple[str, str], PairCount] = {}
    for case in cases:
        for tension in case.tensions:
            entry = counts.setdefault(pair(tension), PairCount(pair(tension)))
            if case.id not in entry.cases:
                entry.cases.append(case.id)
                entry.prevailed[tension.prevailed] += 1
    return sorted(counts.values(), key=lambda entry: (-entry.count, entry.values))


def source_counts(cases: Iterable[Case]) -> Counter:
    """For each norm source, the number of cases with at least one norm from it."""
    counts: Counter = Counter()
    for case in cases:
        counts.update({norm.source for norm in case.norms if norm.source})
    return Counter({source: counts[source] for source in NORM_SOURCES})


def system_values(cases: Iterable[Case]) -> dict[str, Counter]:
    """For each value system, how many cases name each of its values."""
    result: dict[str, Counter] = {system: Counter() for system in VALUE_SYSTEMS}
    for case in cases:
        for value in case.values:
            result[value_system(value)][value] += 1
    return result


def crossing_outcomes(cases: Iterable[Case]) -> Counter:
    """Of the tensions that set an entrepreneurial value against a bureaucratic one: how often the
    entrepreneurial side prevailed, the bureaucratic side, or a third way ('balanced')."""
    outcomes: Counter = Counter()
    for case in cases:
        for tension in case.tensions:
            if crosses_systems(tension):
                side = BALANCED if tension.prevailed == BALANCED else value_system(tension.prevailed)
                outcomes[side] += 1
    return outcomes


def outcomes(entry: PairCount) -> list[tuple[str, int]]:
    """How a pair's tensions ended, for a reader: the sides that prevailed, most often first (then by
    name), and a third way ('balanced') last, as it is the exception to "one side won"."""
    sides = sorted(
        ((value, n) for value, n in entry.prevailed.items() if value != BALANCED and n),
        key=lambda side: (-side[1], side[0]),
    )
    balanced = entry.prevailed.get(BALANCED, 0)
    return [*sides, (BALANCED, balanced)] if balanced else sides


def tension_values(pairs: Iterable[PairCount]) -> list[str]:
    """The values that occur in a tension, ordered for a heat map: by value system (entrepreneurial,
    bureaucratic, other; so the tensions between the two systems sit together), then by how often
    the value is weighed, then by name."""
    weight: Counter = Counter()
    for entry in pairs:
        for value in entry.values:
            weight[value] += entry.count
    rank = {system: position for position, system in enumerate(VALUE_SYSTEMS)}
    return sorted(weight, key=lambda value: (rank[value_system(value)], -weight[value], value))


def two_systems(cases: Iterable[Case]) -> dict[str, Counter]:
    """The entrepreneurial and the bureaucratic system, each with every value of its vocabulary and the
    number of cases naming it: a value nobody names (zero) says as much as one everybody names."""
    named = system_values(cases)
    result: dict[str, Counter] = {}
    for system in VALUE_SYSTEMS[:2]:
        counts = Counter({term: 0 for term, entry in vocabulary()["values"].items() if entry.get("system") == system})
        counts.update(named[system])
        result[system] = counts
    return result


def has_norm_source(case: Case, source: str) -> bool:
    """Whether the case weighed at least one norm from this source (what source_counts counts)."""
    return any(norm.source == source for norm in case.norms)


def role_counts(cases: Iterable[Case]) -> Counter:
    """For each role, in the fixed order of ROLES, the number of cases that are that role's dilemma
    (zero included; cases without a role, from older files, are not counted)."""
    counts = Counter(case.role for case in cases if case.role)
    return Counter({role: counts[role] for role in ROLES})
