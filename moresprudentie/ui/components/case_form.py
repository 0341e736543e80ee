"""The case form of "Casus toevoegen": one widget per field, its session state, and values ⇄ Case.

Widget values live in st.session_state under `form.<field>` (persisted across pages), so a half-
written case survives a look at the review queue. Validation is the loader's own
(authoring.case_from_fields), the help texts come from field_help.yaml, and the anonymisation check
runs per field on exactly the text in the widget, so a one-click replacement edits what was checked.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.anonymisation.check import Finding
from moresprudentie.anonymisation.normalise import without_hidden
from moresprudentie.cases.loading import Problem
from moresprudentie.cases.model import LIST_TEXT_FIELDS, TEXT_FIELDS, VOCABULARY_FIELDS, Case, label, vocabulary
from moresprudentie.review.authoring import field_help, field_order
from moresprudentie.ui.components import officer
from moresprudentie.ui.components.i18n import language, t
from moresprudentie.ui.components.widgets import md_inline

PREFIX = "form."
EXPECTED_HASH = "form_expected_hash"  # hash of the file as opened; None for a new case
EDITING = "form_editing"  # id of the case being edited, or None
PUBLISHED = "form_published"  # the opened case is published: a save makes a revision
GROUPS = {  # rows of fields per group; short fields share a row
    "basics": (
        ("id",),
        ("title",),
        ("language", "date", "duration_minutes"),
        ("organisation", "method"),
        ("themes", "values"),
    ),
    "case": (("situation",), ("dilemma",), ("options",), ("stakeholders",), ("norms",)),
    "outcome": (("judgement",), ("reasoning",), ("dissent",), ("lessons",)),
    "session": (("discussion_questions",), ("variations",), ("related",), ("allowed_terms",)),
}
LONG_FIELDS = (*TEXT_FIELDS, "dissent")
LINE_FIELDS = (*LIST_TEXT_FIELDS, "allowed_terms")  # lists edited as one item per line
# every string a reader or reviewer sees: the free texts, and the id, terms and allowed terms too
CHECKED_FIELDS = ("title", *LONG_FIELDS, *LIST_TEXT_FIELDS, "id", *VOCABULARY_FIELDS, "related", "allowed_terms")
MAX_TEXT = 20_000
MISSING = "required field is missing"  # the loader's words for an empty required field
RELATED_SEPARATOR = ":"  # a related line is "id" or "id: relation"


def _key(field: str) -> str:
    return PREFIX + field


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _widget_value(name: str, value: Any) -> Any:
    """A case field as its widget holds it: lines of text, a list of terms, a number or None, text."""
    if name in LINE_FIELDS:
        return "\n".join(value or [])
    if name == "related":
        return "\n".join(
            link["id"] + ("" if link["relation"] == "see-also" else f"{RELATED_SEPARATOR} {link['relation']}")
            for link in value or []
        )
    if name in ("themes", "values"):
        return list(value or [])
    if name in ("organisation", "method", "duration_minutes"):
        return value
    return value or ""


def _widget_values(case: Case | None) -> dict[str, Any]:
    """The widget value of every field, for a case or for an empty form (in the UI language)."""
    data = case.model_dump(mode="json") if case is not None else {"language": language()}
    return {name: _widget_value(name, data.get(name)) for name in field_order() if name != "status"}


def load(case: Case | None, expected_hash: str | None = None, published: bool = False) -> None:
    """Fill the form (from a callback or before the widgets are drawn); None empties it."""
    for name, value in _widget_values(case).items():
        st.session_state[_key(name)] = value
    st.session_state[EXPECTED_HASH] = expected_hash
    st.session_state[EDITING] = case.id if case is not None and expected_hash is not None else None
    st.session_state[PUBLISHED] = published


def init() -> None:
    """An empty form on the first visit of this browser session."""
    if EXPECTED_HASH not in st.session_state:
        load(None)


def values() -> dict[str, Any]:
    """The form as case fields (status always draft), ready for authoring.case_from_fields."""
    raw = {name: st.session_state.get(_key(name)) for name in field_order() if name != "status"}
    for name in LINE_FIELDS:
        raw[name] = _lines(raw[name])
    raw["related"] = [_related_item(line) for line in _lines(raw["related"])]
    for name in ("id", "title", "date"):
        raw[name] = (raw[name] or "").strip()
    return raw | {"status": "draft"}


def _related_item(line: str) -> str | dict[str, str]:
    case_id, _, relation = line.partition(RELATED_SEPARATOR)
    return {"id": case_id.strip(), "relation": relation.strip()} if relation.strip() else case_id.strip()


def _field_text(field: str) -> str:
    """A checked field's widget value as one text (the terms of a multiselect one per line)."""
    value = st.session_state.get(_key(field))
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value or "")


def check(form: dict[str, Any]) -> dict[str, list[Finding]]:
    """Anonymisation findings per form field, on the widget text itself (so replacements line up)."""
    texts = {name: _field_text(name) for name in CHECKED_FIELDS}
    lang = form.get("language") or "nl"
    return anonymisation.check_fields(texts, language=lang, allowed_terms=form.get("allowed_terms") or [])


def _replace(field: str, finding: Finding) -> None:
    st.session_state[_key(field)] = anonymisation.apply_replacement(st.session_state[_key(field)], finding)


def _allow(term: str) -> None:
    terms = _lines(st.session_state.get(_key("allowed_terms")))
    if term not in terms:
        st.session_state[_key("allowed_terms")] = "\n".join([*terms, term])


def _help(field: str) -> str:
    lang = language()
    help_ = field_help(field, lang)
    extra = f" {t('add.one_per_line')}" if field in LINE_FIELDS else ""
    return help_.hint + (f" {t('add.related_format')}" if field == "related" else extra)


def _vocabulary_widget(field: str) -> None:
    kind = VOCABULARY_FIELDS[field]
    terms = list(vocabulary()[kind])
    current = st.session_state.get(_key(field))
    extra = [term for term in (current if isinstance(current, list) else [current]) if term and term not in terms]
    options = terms + extra
    common = dict(
        label=t(f"fields.{field}"),
        options=options,
        format_func=lambda term: label(kind, term, language()),
        key=_key(field),
        help=_help(field),
        accept_new_options=True,
        persist_state="session",
    )
    if field in ("themes", "values"):
        st.multiselect(**common)
    else:
        st.selectbox(index=None, placeholder=t("add.choose"), **common)
    if extra:
        st.caption(f":orange[{md_inline(t('add.free_term', terms=', '.join(extra)))}]")


def _widget(field: str, editing: bool) -> None:
    """The input for one field, with its Dutch/English hint and an example as placeholder."""
    name, help_text = t(f"fields.{field}"), _help(field)
    example = field_help(field, language()).example
    placeholder = t("add.example", example=example) if example else None
    key, persist = _key(field), "session"
    if field in VOCABULARY_FIELDS:
        _vocabulary_widget(field)
    elif field == "language":
        options = ("nl", "en")
        st.segmented_control(
            name,
            options,
            key=key,
            format_func=lambda code: t(f"languages.{code}"),
            required=True,
            persist_state=persist,
        )
    elif field == "duration_minutes":
        st.number_input(name, min_value=5, max_value=480, step=5, key=key, help=help_text, persist_state=persist)
    elif field in LONG_FIELDS or field in LINE_FIELDS or field == "related":
        height = 160 if field in ("situation", "reasoning") else 100
        st.text_area(
            name,
            key=key,
            help=help_text,
            placeholder=placeholder,
            height=height,
            max_chars=MAX_TEXT,
            persist_state=persist,
        )
    else:
        st.text_input(
            name,
            key=key,
            help=help_text,
            placeholder=placeholder,
            max_chars=120 if field == "title" else 80,
            disabled=field == "id" and editing,
            persist_state=persist,
        )


def render(problems: list[Problem], found: dict[str, list[Finding]]) -> None:
    """Every field in its group, each followed by its own problems and anonymisation findings.

    A field that is merely still empty is not marked here (the check tab lists what is missing),
    so a fresh form is calm rather than red.
    """
    by_field: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.message != MISSING:
            by_field.setdefault((problem.field or "").split(".")[0], []).append(problem)
    editing = st.session_state.get(EDITING) is not None
    for group, rows in GROUPS.items():
        st.subheader(t(f"add.groups.{group}"), anchor=False, divider="gray")
        for row in rows:
            for column, field in zip(st.columns(len(row)), row, strict=True):
                with column:
                    _widget(field, editing)
                    for problem in by_field.get(field, []):
                        colour = "red" if problem.severity == "error" else "orange"
                        st.caption(f":{colour}[{md_inline(problem_text(problem))}]")
            for field in row:
                _findings(field, found.get(field, []))


def _findings(field: str, field_findings: list[Finding]) -> None:
    """Replace where the widget holds text (not a vocabulary pick list); allow only names and places."""
    text = _field_text(field)
    for number, finding in enumerate(field_findings):
        allow = finding.allowable and field != "allowed_terms"
        officer.row(
            text,
            finding,
            key=f"{field}.{number}.{finding.start}",
            on_replace=None if field in VOCABULARY_FIELDS else (_replace, (field, finding)),
            on_allow=(_allow, (without_hidden(finding.text),)) if allow else None,
        )


def problem_text(problem: Problem) -> str:
    """A loader problem in the UI language where it is a common one, else as the loader wrote it."""
    message = t("add.required") if problem.message == MISSING else problem.message
    field = (problem.field or "").split(".")[0]
    return f"{t(f'fields.{field}')}: {message}" if field in field_order() else message
