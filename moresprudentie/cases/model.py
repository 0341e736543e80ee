"""The Case model: the contract with the integrity officers who write case files.

Field names, types and limits live here once; `docs/case-format.md` describes them for people and a
test keeps the two in step. Vocabulary terms outside `vocabulary.yaml` are allowed (a warning, see
`vocabulary_warnings`), because a new theme should never block a case.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,78})[a-z0-9]$"
DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
TEXT_FIELDS = ("situation", "dilemma", "judgement", "reasoning")
LIST_TEXT_FIELDS = ("options", "stakeholders", "decisive_facts", "lessons", "discussion_questions", "variations")
VOCABULARY_FIELDS = {"themes": "themes", "values": "values", "organisation": "organisations", "method": "methods"}
# Unicode's Bidi_Control characters: invisible, and they reorder the text around them. In a title a
# RIGHT-TO-LEFT OVERRIDE makes "factuur\u202efdp.exe" read as "factuurexe.pdf", so a title can
# pose as a harmless file name in lists, handouts and downloads.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalise_text(value: Any) -> Any:
    """Text is stored NFC-normalised, with line ends as \\n and surrounding white space stripped."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return value


def visible(text: str) -> str:
    """Text for a message with its direction controls shown as <U+202E>, so the message itself
    cannot be reordered by what it quotes."""
    return "".join(f"<U+{ord(char):04X}>" if char in BIDI_CONTROLS else char for char in text)


class CodedValueError(ValueError):
    """A validator's refusal with a stable `code` and the `params` of its wording, so a UI can say it in
    its own language (cases.loading.Problem carries both); the message stays the English one."""

    def __init__(self, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code, self.params = code, params


def _direction_control_problem(text: str) -> CodedValueError | None:
    """Why `text` is refused if it holds a direction control, naming the first one and where it is."""
    position = next((i for i, char in enumerate(text) if char in BIDI_CONTROLS), None)
    if position is None:
        return None
    char = text[position]
    params = {"char": f"U+{ord(char):04X}", "name": unicodedata.name(char), "position": position + 1}
    return CodedValueError(
        f"contains an invisible text-direction character, {params['char']} {params['name']}, at "
        f"character {position + 1} ('{visible(text)}'); it makes text read differently from what it is: "
        "delete it, or retype the title",
        "direction_control",
        **params,
        text=visible(text),
    )


def normalise_term(value: Any) -> Any:
    """Terms are lower-case slugs: 'Discretionaire ruimte' and 'discretionaire-ruimte' are one term."""
    if isinstance(value, str):
        return re.sub(r"[\s_]+", "-", normalise_text(value).lower())
    return value


def _as_list(value: Any) -> Any:
    """A single scalar where a list is expected is unambiguous: treat it as a one-item list."""
    if isinstance(value, str | dict):
        return [value]
    return value


Text = Annotated[str, BeforeValidator(normalise_text), Field(min_length=1, max_length=20_000)]
Term = Annotated[str, BeforeValidator(normalise_term), Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]
TextList = Annotated[list[Text], BeforeValidator(_as_list), Field(max_length=100)]
TermList = Annotated[list[Term], BeforeValidator(_as_list), Field(min_length=1, max_length=20)]
CaseId = Annotated[str, BeforeValidator(normalise_text), Field(pattern=ID_PATTERN)]


class Relation(StrEnum):
    FOLLOWS = "follows"
    NUANCES = "nuances"
    DEPARTS = "departs"
    SEE_ALSO = "see-also"


class RelatedCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: CaseId
    relation: Relation = Relation.SEE_ALSO


def _related_item(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


# The force field (Buis & De Boer, 2018): whose dilemma it is, which values pulled against each other,
# and which norms, from which of the four sources, pulled where. Labels live in vocabulary.yaml.
Role = Literal["medewerker", "leidinggevende", "bestuurder", "team"]
NormSource = Literal["maatschappelijk", "organisatorisch", "professioneel", "persoonlijk"]
ROLES: tuple[str, ...] = get_args(Role)
NORM_SOURCES: tuple[str, ...] = get_args(NormSource)
BALANCED = "balanced"  # a tension's outcome when a third way honoured both values


class Norm(BaseModel):
    """A rule or expectation the case weighed, with the source of norms it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Text
    source: NormSource | None = None  # None only in older files: validate warns, review refuses


def _norm_item(value: Any) -> Any:
    """A norm written as plain text (the older format) is a norm whose source is not yet known."""
    return {"text": value} if isinstance(value, str) else value


class Tension(BaseModel):
    """Two of the case's values weighed against each other, and which prevailed (or `balanced`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    between: Annotated[tuple[Term, Term], Field(description="two different values of the case")]
    prevailed: Term

    @model_validator(mode="after")
    def _coherent(self) -> Tension:
        first, second = self.between
        if first == second:
            raise CodedValueError(
                f"between: '{first}' twice; a tension sets two different values against each other",
                "tension_twice",
                value=first,
            )
        if self.prevailed not in (first, second, BALANCED):
            raise CodedValueError(
                f"prevailed: '{self.prevailed}' is neither '{first}' nor '{second}'; name the value that "
                f"prevailed, or '{BALANCED}' when a third way honoured both",
                "tension_prevailed",
                prevailed=self.prevailed,
                first=first,
                second=second,
            )
        return self

    def involves(self, first: str, second: str) -> bool:
        """Whether this is the tension between these two values, in either order."""
        return {first, second} == set(self.between)


class Case(BaseModel):
    """One anonymised moral deliberation, as written in `cases/<id>.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    id: CaseId
    title: Annotated[Text, Field(max_length=120)]
    language: Literal["nl", "en"]
    date: str
    themes: TermList
    values: TermList
    role: Role | None = None
    tensions: Annotated[list[Tension], BeforeValidator(_as_list), Field(max_length=10)] = []
    situation: Text
    dilemma: Text
    judgement: Text
    reasoning: Text
    decisive_facts: TextList = []
    organisation: Term | None = None
    method: Term | None = None
    options: TextList = []
    stakeholders: TextList = []
    norms: Annotated[
        list[Annotated[Norm, BeforeValidator(_norm_item)]], BeforeValidator(_as_list), Field(max_length=30)
    ] = []
    dissent: Text | None = None
    lessons: TextList = []
    discussion_questions: TextList = []
    variations: TextList = []
    related: Annotated[list[Annotated[RelatedCase, BeforeValidator(_related_item)]], BeforeValidator(_as_list)] = []
    duration_minutes: Annotated[int, Field(ge=5, le=480)] | None = None
    status: Literal["draft", "published"] = "published"
    allowed_terms: TextList = []

    @field_validator("date", mode="before")
    @classmethod
    def _check_date(cls, value: Any) -> str:
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value).strip() if isinstance(value, str | int) else None
        match = DATE_PATTERN.match(text or "")
        if not match:
            raise CodedValueError(
                "use YYYY, YYYY-MM or YYYY-MM-DD, e.g. date: 2024-03", "bad_date", value=visible(text or "")
            )
        year, month, day = (int(part) if part else 1 for part in match.groups())
        try:
            dt.date(year, month, day)
        except ValueError as exc:
            raise CodedValueError(
                f"{text} is not a real date ({exc})", "not_a_real_date", value=visible(text)
            ) from None
        return text

    @field_validator("title")
    @classmethod
    def _no_direction_controls(cls, value: str) -> str:
        """A title shows in lists, page titles and file names, where a direction control can spoof
        what is shown; nobody needs one in a title (right-to-left script works without them)."""
        problem = _direction_control_problem(value)
        if problem:
            raise problem
        return value

    @field_validator("tensions")
    @classmethod
    def _tensions_among_values(cls, tensions: list[Tension], info: ValidationInfo) -> list[Tension]:
        """A tension weighs the case's own values: a value named only there is a typo or a missing value."""
        values = info.data.get("values")
        if values is None:  # values itself is invalid; that error says enough
            return tensions
        for number, tension in enumerate(tensions, start=1):
            for value in tension.between:
                if value not in values:
                    hint = suggest(value, values)
                    fix = (
                        f"did you mean '{hint}'?" if hint else "add it to values, or choose one of " + ", ".join(values)
                    )
                    raise CodedValueError(
                        f"'{value}' (in tension {number}) is not among this case's values; {fix}",
                        "tension_value_unknown",
                        value=value,
                        number=number,
                        hint=hint or "",
                        values=", ".join(values),
                    )
        return tensions

    @model_validator(mode="after")
    def _no_self_reference(self) -> Case:
        if any(link.id == self.id for link in self.related):
            raise CodedValueError("related: a case cannot be related to itself; remove its own id", "related_self")
        return self

    @property
    def year(self) -> int:
        return int(self.date[:4])

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def has_tension(self, first: str, second: str | None = None) -> bool:
        """Whether the case weighed these two values against each other (in either order); with one
        value, whether it weighed that value against any other."""
        if second is None:
            return any(first in tension.between for tension in self.tensions)
        return any(tension.involves(first, second) for tension in self.tensions)


FIELD_NAMES: tuple[str, ...] = tuple(Case.model_fields)
REQUIRED_FIELDS: tuple[str, ...] = tuple(name for name, info in Case.model_fields.items() if info.is_required())


def suggest(word: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate to a misspelt word, for 'did you mean …?' messages."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


@cache
def vocabulary() -> dict[str, dict[str, dict[str, str]]]:
    """The controlled vocabularies: {kind: {term: {"nl": label, "en": label}}}."""
    text = resources.files("moresprudentie.cases").joinpath("vocabulary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def label(kind: str, term: str, language: str = "nl") -> str:
    """A human label for a term (kind: themes, values, organisations, methods, relations)."""
    entry = vocabulary().get(kind, {}).get(term)
    if entry:
        return entry.get(language) or entry["nl"]
    return term.replace("-", " ").capitalize()


def vocabulary_terms(case: Case, field: str) -> list[str]:
    """The terms of a vocabulary field (see VOCABULARY_FIELDS), list or single, as a list."""
    value = getattr(case, field)
    return value if isinstance(value, list) else [value] if value else []


def force_field_gaps(case: Case) -> list[tuple[str, str]]:
    """(field, message) for each part of the force field a case does not yet record.

    Older files and imported collections may lack them, so loading only warns; submitting a draft for
    review requires them (review/steps.py), because a precedent is distinguished by exactly these.
    """
    gaps = []
    if case.role is None:
        gaps.append(("role", "whose dilemma is it? add role: " + " | ".join(ROLES)))
    if not case.tensions:
        gaps.append(("tensions", "add at least one tension: {between: [value, value], prevailed: value}"))
    if not case.norms:
        gaps.append(("norms", "add the norms that pulled, each {text: …, source: " + " | ".join(NORM_SOURCES) + "}"))
    gaps.extend(
        (
            f"norms.{number}",
            f"'{_shortened(norm.text)}' has no source; write {{text: …, source: " + " | ".join(NORM_SOURCES) + "}",
        )
        for number, norm in enumerate(case.norms)
        if norm.source is None
    )
    if not case.decisive_facts:
        gaps.append(("decisive_facts", "add at least one fact the judgement hinged on"))
    return gaps


GAP_CODES = {
    "role": "missing_role",
    "tensions": "missing_tensions",
    "norms": "missing_norms",
    "decisive_facts": "missing_decisive_facts",
}


def gap_code(case: Case, field: str) -> tuple[str, dict[str, Any]]:
    """The stable code and params of a force-field gap (a field of force_field_gaps), so a UI can word
    it in its own language; 'norms.2' is the third norm, without a source."""
    name, _, index = field.partition(".")
    if index:
        return "norm_without_source", {"number": int(index) + 1, "text": _shortened(case.norms[int(index)].text)}
    return GAP_CODES[name], {}


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def value_system(term: str) -> str:
    """The value system a value belongs to: 'ondernemend', 'bureaucratisch' or 'overig'."""
    return vocabulary()["values"].get(term, {}).get("system", "overig")


def crosses_systems(tension: Tension) -> bool:
    """Whether a tension sets an entrepreneurial value against a bureaucratic one: the essay's core."""
    return {value_system(value) for value in tension.between} == {"ondernemend", "bureaucratisch"}


def unknown_terms(case: Case) -> list[tuple[str, str, str]]:
    """(field, vocabulary kind, term) for every term outside the controlled vocabulary."""
    found = []
    for field, kind in VOCABULARY_FIELDS.items():
        known = vocabulary()[kind]
        found.extend((field, kind, term) for term in vocabulary_terms(case, field) if term not in known)
    return found


def vocabulary_warnings(case: Case) -> list[tuple[str, str]]:
    """(field, message) for every term outside the controlled vocabulary, with the closest known term."""
    return [(field, _unknown_term(kind, term)) for field, kind, term in unknown_terms(case)]


@lru_cache(maxsize=4096)
def unknown_term_params(kind: str, term: str) -> Mapping[str, str]:
    """The params of the unknown-term warning (code 'unknown_term'): the term, its kind and the closest
    known term or ''. Cached and read-only, shared like the message (see _unknown_term)."""
    return MappingProxyType({"term": term, "kind": kind, "hint": suggest(term, tuple(vocabulary()[kind])) or ""})


@lru_cache(maxsize=4096)
def _unknown_term(kind: str, term: str) -> str:
    """The warning for a term outside the vocabulary. Cached: a large collection repeats the same few
    unknown terms, and each message is then one shared string, not a new one per file."""
    hint = unknown_term_params(kind, term)["hint"]
    fix = f"; did you mean '{hint}'?" if hint else f"; add it to vocabulary.yaml under {kind} if it is agreed"
    return f"'{term}' is not in the vocabulary{fix}"
