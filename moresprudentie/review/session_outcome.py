"""From session to case: what a group concluded about a case becomes a draft linked to that case.

After a moral deliberation the session leader records four things: what the group concluded, the main
arguments, the dissent, and the values that clashed (with, where the group said so, which prevailed).
`draft_from_session` turns that into a complete draft: the group deliberated on the discussed case's
dilemma, so its situation, question and force field (role, norms, decisive facts) are carried over,
and the new case says how its outcome relates to the old one (follows, nuances or departs), which is
how moresprudentie grows: a precedent followed, refined or left.

The draft is built by the very reader that checks case files (authoring.case_from_fields), so the
page, `validate` and review can never disagree about it. It then goes the way every draft goes: the
anonymisation check (CaseStore.save_draft refuses personal data), submit, approval by a second
officer, publish. No participant is named: there is no field for it, the conclusion is the group's,
and a name typed into a text anyway is caught by that check.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Collection
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from moresprudentie.cases.model import BALANCED, Case, Relation, Tension, Term, Text, vocabulary
from moresprudentie.errors import CaseFileError
from moresprudentie.review.authoring import case_from_fields

SESSION_RELATIONS: tuple[str, ...] = (Relation.FOLLOWS, Relation.NUANCES, Relation.DEPARTS)
TITLE_PREFIX = {"nl": "Beraad over: ", "en": "Deliberation on: "}
ID_INFIX = "-beraad-"
MAX_ID_CHARS = 80  # cases.model.ID_PATTERN: 3-80 characters
MAX_TITLE_CHARS = 120
MAX_CLASHED = 5  # five values make ten pairs: the most tensions a case holds
CARRIED = ("themes", "role", "situation", "dilemma", "options", "stakeholders", "norms", "decisive_facts")


class SessionOutcome(BaseModel):
    """What a session leader records after a deliberation; deliberately without any participant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conclusion: Text
    arguments: Text
    dissent: Text | None = None
    clashed_values: Annotated[list[Term], Field(min_length=2, max_length=MAX_CLASHED)]
    tensions: Annotated[list[Tension], Field(max_length=10)] = []
    relation: Literal["follows", "nuances", "departs"]
    session_date: dt.date = Field(default_factory=dt.date.today)
    language: Literal["nl", "en"] = "nl"
    method: Term | None = None

    @field_validator("dissent", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """An empty dissent box means the group was unanimous, not an invalid text."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("clashed_values")
    @classmethod
    def _known_values(cls, values: list[str]) -> list[str]:
        """Only vocabulary values: the leader picks them from a list, and search and counts read them."""
        unknown = [value for value in values if value not in vocabulary()["values"]]
        if unknown:
            raise ValueError(f"not in the vocabulary of values: {', '.join(unknown)}")
        if len(set(values)) != len(values):
            raise ValueError("a value is named twice")
        return values

    @model_validator(mode="after")
    def _tensions_among_clashed(self) -> SessionOutcome:
        for tension in self.tensions:
            outside = [value for value in tension.between if value not in self.clashed_values]
            if outside:
                raise ValueError(f"tension between {' and '.join(tension.between)}: not among the clashed values")
        return self


def tensions_of(outcome: SessionOutcome) -> list[Tension]:
    """The tensions the leader recorded, else every pair of clashed values as `balanced`.

    Unsaid, neither value is claimed to have prevailed; the reviewing officer may sharpen it.
    """
    if outcome.tensions:
        return list(outcome.tensions)
    pairs = itertools.combinations(outcome.clashed_values, 2)
    return [Tension(between=pair, prevailed=BALANCED) for pair in pairs]


def session_case_id(discussed_id: str, session_date: dt.date, existing: Collection[str] = ()) -> str:
    """`<discussed id>-beraad-<yyyymmdd>`, within the id pattern, and unused (`-2`, `-3` … when taken)."""
    taken = set(existing)
    for number in itertools.count(1):
        suffix = f"{ID_INFIX}{session_date:%Y%m%d}" + (f"-{number}" if number > 1 else "")
        base = discussed_id[: MAX_ID_CHARS - len(suffix)].rstrip("-")
        candidate = base + suffix
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover - itertools.count never ends


def session_title(discussed: Case, language: str) -> str:
    """'Beraad over: <title>', shortened with … to the title limit."""
    prefix = TITLE_PREFIX.get(language, TITLE_PREFIX["nl"])
    title = prefix + discussed.title
    if len(title) <= MAX_TITLE_CHARS:
        return title
    return re.sub(r"\s+\S*$", "", title[: MAX_TITLE_CHARS - 1]).rstrip(" ,;:") + "…"


def draft_from_session(
    discussed: Case, outcome: SessionOutcome, case_id: str | None = None, existing: Collection[str] = ()
) -> Case:
    """A complete draft case from a session's outcome, linked to the case the group discussed.

    `case_id` is used as given; without it one is derived from the discussed case and the session
    date, unused among `existing` (the ids in the collection, drafts included). The result is a
    valid Case with status draft; it is not checked for personal data here: saving does that.
    Raises CaseFileError when the combination is not a valid case (a discussed case that is itself
    invalid as a draft, say), with the reader's own problems.
    """
    carried = {name: getattr(discussed, name) for name in CARRIED}
    fields = {
        "id": case_id or session_case_id(discussed.id, outcome.session_date, [*existing, discussed.id]),
        "title": session_title(discussed, outcome.language),
        "language": outcome.language,
        "date": f"{outcome.session_date:%Y-%m}",
        **carried,
        "values": list(outcome.clashed_values),
        "tensions": [{"between": list(t.between), "prevailed": t.prevailed} for t in tensions_of(outcome)],
        "norms": [{"text": norm.text, "source": norm.source} for norm in discussed.norms],
        "judgement": outcome.conclusion,
        "reasoning": outcome.arguments,
        "dissent": outcome.dissent,
        "method": outcome.method,
        "related": [{"id": discussed.id, "relation": outcome.relation}],
        "allowed_terms": list(discussed.allowed_terms),  # the carried text was cleared with these
        "status": "draft",
    }
    fields["norms"] = [{k: v for k, v in norm.items() if v is not None} for norm in fields["norms"]]
    case, problems = case_from_fields(fields, source="beraad")
    if case is None:
        raise CaseFileError("; ".join(f"{p.field or ''}: {p.message}" for p in problems if p.severity == "error"))
    return case
