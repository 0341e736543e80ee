"""Loader problems (cases.loading.Problem) in the UI language.

The library words every problem in English for the CLI, and gives it a stable `code` and the `params`
of its wording. Here a code becomes a sentence from strings.yaml's `problems:` section, in Dutch or
English; a problem whose code has no template (or no code) keeps the library's English words, so a new
library message is never lost, only untranslated until it gets a template. Where a template has a
`<code>_hint` variant (a "did you mean …?"), it is used when the problem names a closest match.

The result contains case text (a term, an id, a tag): pass it through widgets.md_inline before it goes
into Markdown, as every caller here does.
"""

from __future__ import annotations

from typing import Any

from moresprudentie.cases.loading import Problem
from moresprudentie.ui.components.i18n import language, strings, text

SECTION = "problems"


def _language(lang: str | None) -> str:
    return lang or language()


def known(code: str) -> bool:
    """Whether the UI has its own wording for a problem code."""
    return bool(code) and code in strings()[SECTION]


def message(problem: Problem, lang: str | None = None) -> str:
    """The problem's message (without file or field) in the UI language, else the library's English."""
    if not known(problem.code):
        return problem.message
    params: dict[str, Any] = dict(problem.params)
    key = f"{problem.code}_hint" if params.get("hint") and known(f"{problem.code}_hint") else problem.code
    try:
        return text(f"{SECTION}.{key}", _language(lang), **params)
    except (KeyError, IndexError, ValueError):  # a template asking for a param this problem lacks
        return problem.message


def field_label(field: str | None, lang: str | None = None) -> str:
    """'tensions.0.between' → 'Waarden in spanning 1': the field's UI label and the item's number."""
    if not field:
        return ""
    name, *rest = field.split(".")
    if name not in strings()["fields"]:
        return field
    label = text(f"fields.{name}", _language(lang))
    number = next((part for part in rest if part.isdigit()), None)
    return f"{label} {int(number) + 1}" if number is not None else label


def with_field(problem: Problem, lang: str | None = None) -> str:
    """'Titel: verplicht veld ontbreekt': the message with the field it is about, as the check tab lists it."""
    label = field_label(problem.field, lang)
    return f"{label}: {message(problem, lang)}" if label else message(problem, lang)


def located(problem: Problem, lang: str | None = None) -> str:
    """'kapot.yaml:3: Titel: …': where in the file, then the message; for an uploaded or opened file."""
    where = f"{problem.path}:{problem.line}" if problem.line else problem.path
    tag = f"{text('add.problem_warning', _language(lang))}: " if problem.severity == "warning" else ""
    return f"{where}: {tag}{with_field(problem, lang)}"
