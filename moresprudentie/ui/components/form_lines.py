"""How the case form writes a case's list fields as lines of text, and reads the lines back.

Officers type a tension as "loyaliteit / transparantie: transparantie", a norm as "organisatorisch:
Gedragscode, artikel 4" and a link as "id: nuanceert", one per line; the case file holds them as
YAML (cases/model.py). Both directions live here, beside each other, so what the form shows is
what it takes; case_form.py draws the widgets. No Streamlit here: these are plain functions.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import yaml

from moresprudentie.cases.model import BALANCED, LIST_TEXT_FIELDS, NORM_SOURCES, label, vocabulary
from moresprudentie.review.authoring import field_help
from moresprudentie.search.text import LANGUAGES

LINE_FIELDS = (*LIST_TEXT_FIELDS, "allowed_terms")  # lists edited as one item per line
SHAPED_LINE_FIELDS = ("tensions", "norms", "related")  # one item per line, with a little syntax each
RELATED_SEPARATOR = ":"  # a related line is "id" or "id: relation"; a norm line "source: text"
PAIR_SEPARATOR = re.compile(r"\s*(?:/|↔|<->|\bversus\b|\bvs\.?|\btegen\b)\s*")  # "A / B: prevailed"
BALANCED_WORDS = {BALANCED, "in evenwicht", "evenwicht", "beide", "both"}


def lines(text: str | None) -> list[str]:
    """The non-empty lines of a text area, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def widget_value(name: str, value: Any) -> Any:
    """A case field as its widget holds it: lines of text, a list of terms, a number or None, text."""
    if name in LINE_FIELDS:
        return "\n".join(value or [])
    if name == "related":
        return "\n".join(
            link["id"] + ("" if link["relation"] == "see-also" else f"{RELATED_SEPARATOR} {link['relation']}")
            for link in value or []
        )
    if name == "tensions":
        return "\n".join(f"{' / '.join(item['between'])}: {item['prevailed']}" for item in value or [])
    if name == "norms":
        return "\n".join(
            f"{item['source']}: {item['text']}" if item.get("source") else item["text"] for item in value or []
        )
    if name in ("themes", "values"):
        return list(value or [])
    if name in ("organisation", "method", "duration_minutes", "role"):
        return value
    return value or ""


def related_item(line: str) -> str | dict[str, str]:
    """'id: nuanceert' → a link; the relation as its code or its label in either language."""
    case_id, _, relation = line.partition(RELATED_SEPARATOR)
    relation = _by_label("relations").get(relation.strip().lower(), relation.strip())
    return {"id": case_id.strip(), "relation": relation} if relation else case_id.strip()


def tension_item(line: str) -> dict[str, Any]:
    """'loyaliteit / transparantie: transparantie' → a tension; the model says what is wrong with it.

    A value may be written as its label in either language, as the pick list shows it ("Gelijke
    behandeling" is the term `gelijkheid`); a line without ": …" lacks what prevailed, which the
    model then reports as missing rather than as an empty term."""
    pair, separated, prevailed = line.partition(RELATED_SEPARATOR)
    outcome = prevailed.strip().lower()
    item: dict[str, Any] = {"between": [_value_term(part) for part in PAIR_SEPARATOR.split(pair.strip()) if part]}
    if separated and outcome:
        item["prevailed"] = BALANCED if outcome in BALANCED_WORDS else _value_term(outcome)
    return item


def _value_term(text: str) -> str:
    """A value's term from its label in either language, else the text as typed (a term stays one)."""
    return _by_label("values").get(text.strip().lower(), text.strip())


@cache  # the vocabulary is read once per process; this runs for every line of every shaped field
def _by_label(kind: str) -> dict[str, str]:
    """The terms of a vocabulary by their lower-cased labels in both languages: a line may name a term
    as the pick lists show it ("Gelijke behandeling", "nuanceert", "Organisatorisch")."""
    return {label(kind, term, lang).lower(): term for term in vocabulary()[kind] for lang in LANGUAGES}


def norm_item(line: str) -> str | dict[str, str]:
    """'organisatorisch: Gedragscode, artikel 4' → a sourced norm; a line without a source stays text
    (the check tab then asks for its source)."""
    source, _, text = line.partition(RELATED_SEPARATOR)
    source = source.strip().lower()
    sources = {code: code for code in NORM_SOURCES} | _by_label("norm_sources")
    return {"text": text.strip(), "source": sources[source]} if source in sources and text.strip() else line


def example(field: str, language: str) -> str:
    """The field's example as this form takes it. field_help.yaml writes a tension or a norm as YAML
    (`{between: [loyaliteit, transparantie], prevailed: transparantie}`), for `moresprudentie new`;
    here they are lines ("loyaliteit / transparantie: transparantie"), and an example in the other
    format was typed in and refused."""
    text = field_help(field, language).example
    if field in ("tensions", "norms") and text:
        return str(widget_value(field, [yaml.safe_load(text)]))
    return text
