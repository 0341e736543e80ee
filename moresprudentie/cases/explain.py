"""A pydantic validation error in plain words: a message that names what is wrong and how to fix it
(for the command line), with a stable code and params the app words in its own language
(ui/components/messages.py). The loader (loading.py) adds the file, line and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from moresprudentie.cases import model
from moresprudentie.cases.model import FIELD_NAMES, suggest, visible

NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


def explained(item: Any, loc: tuple) -> tuple[str, str, Mapping[str, Any]]:
    """One validation error in plain words, with its code and params (see Problem)."""
    kind = item["type"]
    if kind == "extra_forbidden":
        hint = suggest(str(loc[-1]), FIELD_NAMES)
        fix = f"did you mean '{hint}'?" if hint else "see docs/case-format.md for the fields"
        return f"unknown field; {fix}", "unknown_field", {"name": visible(str(loc[-1])), "hint": hint or ""}
    if kind == "missing":
        return "required field is missing", "missing_field", NO_PARAMS
    if kind == "string_pattern_mismatch":
        shown = visible(str(item["input"]))  # a direction control must not reorder the message
        if loc[0] in ("id", "related"):
            example = "use 3–80 lower-case letters, digits and hyphens, e.g. geschenk-van-leverancier"
            return f"'{shown}' is not a valid id: {example}", "invalid_id", {"value": shown}
        example = "use lower-case words joined by hyphens, e.g. discretionaire-ruimte"
        return f"'{shown}' is not a valid term: {example}", "invalid_term", {"value": shown}
    if kind == "literal_error":
        return _not_allowed(item)
    if kind == "string_type" and isinstance(item.get("input"), list | dict):
        return "expected text, got a list or mapping; write it as one text", "expected_text", NO_PARAMS
    if kind == "string_type" and item.get("input") is None:  # `title:` left empty, as `new` writes it
        return _LIMIT_WORDS["empty_text"], "empty_text", NO_PARAMS
    message = item["msg"].removeprefix("Value error, ")
    if kind == "enum":  # the message is pydantic's own; the code and params are those of a literal
        return (message, *_not_allowed(item)[1:])
    error = (item.get("ctx") or {}).get("error")
    if isinstance(error, model.CodedValueError):
        return message, error.code, error.params
    code, params = _constraint(kind, item.get("ctx") or {}, isinstance(item.get("input"), list | tuple))
    return _LIMIT_WORDS[code].format(**params) if code in _LIMIT_WORDS else message, code, params


# The command line's words for a limit (pydantic says "Value should have at least 1 item after
# validation, not 0" of an empty text); the app words the same codes in its own language.
_LIMIT_WORDS = {
    "too_long": "is too long: at most {max} characters",
    "too_many": "has too many items: at most {max}",
    "too_few": "needs at least {min} item(s)",
    "empty_text": "is empty; write it",
    "not_a_number": "is not a whole number",
    "at_least": "must be at least {min}",
    "at_most": "must be at most {max}",
}


def _constraint(kind: str, ctx: Mapping[str, Any], listed: bool) -> tuple[str, Mapping[str, Any]]:
    """The code and params of a length or number limit pydantic reports; ("", {}) for anything else."""
    if kind in ("too_long", "string_too_long"):
        return ("too_many" if listed else "too_long"), {"max": ctx.get("max_length")}
    if kind in ("too_short", "string_too_short"):
        return ("too_few", {"min": ctx.get("min_length")}) if listed else ("empty_text", NO_PARAMS)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "not_a_number", NO_PARAMS
    if kind == "greater_than_equal":
        return "at_least", {"min": ctx.get("ge")}
    if kind == "less_than_equal":
        return "at_most", {"max": ctx.get("le")}
    return "", NO_PARAMS


def _not_allowed(item: Any) -> tuple[str, str, Mapping[str, Any]]:
    """'x' is not allowed; the allowed words, and the closest one when the input looks like a typo."""
    allowed = [word.strip("' ") for word in item["ctx"]["expected"].replace(" or ", ", ").split(",")]
    given = item.get("input")
    if not isinstance(given, str):
        return f"use one of: {', '.join(allowed)}", "choose_one", {"allowed": ", ".join(allowed)}
    hint = suggest(given.strip().lower(), allowed)
    fix = f"did you mean '{hint}'? " if hint else ""
    params = {"value": visible(given), "hint": hint or "", "allowed": ", ".join(allowed)}
    return f"'{visible(given)}' is not allowed; {fix}use one of: {', '.join(allowed)}", "not_allowed", params
