"""Writing a case: help for every field, the scaffold of `moresprudentie new`, form values → Case.

The hints live once, in field_help.yaml: the scaffold turns them into YAML comments and the app's
add-case form shows them as help texts, so an officer reads the same guidance in git and in the app.
The scaffold is deliberately not yet a valid case: its required texts are empty, so `validate`
points at what is still to be written instead of letting a placeholder slip into the collection.
Form values are checked by the very reader that checks case files, so the app and `validate`
can never disagree about what a valid case is. An invalid file (that scaffold, or a draft written
elsewhere) can still start the form with the fields that are valid (`usable_fields`).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from moresprudentie.cases.loading import Problem, decode, parse_case, parse_yaml
from moresprudentie.cases.model import (
    LIST_TEXT_FIELDS,
    REQUIRED_FIELDS,
    TEXT_FIELDS,
    VOCABULARY_FIELDS,
    Case,
    vocabulary,
)
from moresprudentie.errors import CaseFileError

COMMENT_WIDTH = 100
LIST_FIELDS = (*LIST_TEXT_FIELDS, "themes", "values", "tensions", "norms", "related", "allowed_terms")


@dataclass(frozen=True)
class FieldHelp:
    """What to write in a field (hint) and a short anonymised example, in one language."""

    hint: str
    example: str


@cache
def _help_data() -> dict[str, dict[str, dict[str, str]]]:
    text = resources.files("moresprudentie.review").joinpath("field_help.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def field_order() -> tuple[str, ...]:
    """The case fields in the order an officer fills them in (the order of field_help.yaml)."""
    return tuple(_help_data())


def field_help(field: str, language: str = "nl") -> FieldHelp:
    """The hint and example for a field, in Dutch or English (Dutch when the language is unknown)."""
    entry = _help_data()[field]
    return FieldHelp(
        hint=entry["hint"].get(language, entry["hint"]["nl"]),
        example=entry["example"].get(language, entry["example"]["nl"]),
    )


def _comment(field: str) -> list[str]:
    help_ = field_help(field, "nl")
    text = help_.hint
    if field in VOCABULARY_FIELDS:
        text += " Kies uit: " + ", ".join(vocabulary()[VOCABULARY_FIELDS[field]]) + "."
    elif help_.example and field not in ("id", "language", "status"):
        text += f" Bijv.: {help_.example}"
    required = " (verplicht)" if field in REQUIRED_FIELDS else ""
    return textwrap.wrap(
        f"{field}{required}: {text}",
        COMMENT_WIDTH,
        initial_indent="# ",
        subsequent_indent="#   ",
        break_on_hyphens=False,
    )


def _value_line(field: str, case_id: str, language: str, today: dt.date) -> str:
    if field == "id":
        return f"id: {case_id}"
    if field == "language":
        return f"language: {language}"
    if field == "date":
        return f"date: {today:%Y-%m}"
    if field == "status":
        return "status: draft"
    if field in TEXT_FIELDS:  # required long texts; the optional `dissent:` stays null when empty
        return f"{field}: |\n  "
    if field in LIST_FIELDS:
        return f"{field}: []"
    return f"{field}:"


def scaffold(case_id: str, language: str = "nl", today: dt.date | None = None) -> str:
    """A new case file with every field, Dutch hints as comments, and status: draft."""
    today = today or dt.date.today()
    header = [
        "# Nieuwe casus (concept). Vul elk veld in; velden met (verplicht) mogen niet leeg blijven.",
        "# Schrijf rollen in plaats van namen en laat plaatsen, data en nummers weg.",
        f"# Controleren: moresprudentie validate en moresprudentie check cases/{case_id}.yaml",
        f"# Daarna: moresprudentie review submit {case_id} --as <jouw naam>  (zie docs/deployment.md)",
        "",
    ]
    body = []
    for field in field_order():
        body.extend(_comment(field))
        body.append(_value_line(field, case_id, language, today))
        body.append("")
    return "\n".join(header + body)


def case_from_fields(values: Mapping[str, Any], source: str = "form") -> tuple[Case | None, list[Problem]]:
    """Form values → (Case or None, problems), with exactly the checks and messages of a case file.

    Empty values count as not given, so a blank required field reads "required field is missing".
    """
    given = {name: _as_text(value) for name, value in values.items() if value not in (None, "", [])}
    # Every scalar double-quoted text: escapes are explicit, so any typed character survives the trip
    # (a plain scalar would turn a typed U+0085 into a line break, for one).
    return parse_case(yaml.safe_dump(given, allow_unicode=True, sort_keys=False, default_style='"'), source)


def _as_text(value: Any) -> Any:
    """Numbers as the text the reader would see in a file (the case model converts them back)."""
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    return str(value)


# Stand-ins for required fields a file lacks, only so the fields it has can be validated together;
# they never reach the form. Their values are valid on their own and weigh no tension.
_STAND_INS: dict[str, Any] = {
    "id": "stand-in",
    "title": "-",
    "language": "nl",
    "date": "2000",
    "themes": ["stand-in"],
    "values": ["stand-in"],
    **{name: "-" for name in TEXT_FIELDS},
}


def usable_fields(data: bytes | str) -> dict[str, Any]:
    """The fields of a case file that are valid, as `Case.model_dump(mode="json")` gives them: for a
    file parse_case refuses, whose problems then say what is still to be done.

    Why: `moresprudentie new` writes a scaffold that is invalid by design (its texts are empty), and
    a draft written elsewhere may miss a field or two. Refusing the whole file meant copying it into
    the form by hand. A field is kept only if the model accepts it beside the others it keeps (one
    the model refuses is left out, never coerced, so a hostile value does not reach the form)."""
    try:
        raw, _ = parse_yaml(decode(data) if isinstance(data, bytes) else data)
    except CaseFileError:
        return {}
    if not isinstance(raw, dict):
        return {}
    kept = {name: value for name, value in raw.items() if name in Case.model_fields and name != "status"}
    while kept:  # each round drops at least one field, so this ends
        stand_ins = {name: value for name, value in _STAND_INS.items() if name not in kept}
        try:
            valid = Case.model_validate(stand_ins | kept)
        except ValidationError as exc:
            refused = {error["loc"][0] for error in exc.errors() if error["loc"] and error["loc"][0] in kept}
            if not refused:  # a rule across fields: a case related to itself (or one unknown: keep nothing)
                refused = {"related"} if "related" in kept else set(kept)
            kept = {name: value for name, value in kept.items() if name not in refused}
            continue
        dumped = valid.model_dump(mode="json")
        return {name: dumped[name] for name in kept}
    return {}
