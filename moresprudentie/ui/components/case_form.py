"""The case form of "Casus toevoegen": one widget per field, its session state, and values ⇄ Case.

Widget values live in st.session_state under `form.<field>` (persisted across pages), so a half-
written case survives a look at the review queue. Validation is the loader's own
(authoring.case_from_fields), worded in the UI language by messages.py; the help texts come from
field_help.yaml, and the anonymisation check runs per field on exactly the text in the widget, so a
one-click replacement (or "Alles vervangen") edits what was checked.

Labels say what a field is needed for: " *" to save (cases.model.REQUIRED_FIELDS), " **" to submit
(the force field). Pick lists hold only their options: Streamlit's own "Select all" and "Add: …" are
English and cannot be translated, so a new term is typed into a small field of its own instead.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.anonymisation.check import Finding
from moresprudentie.anonymisation.normalise import without_hidden
from moresprudentie.cases.loading import Problem
from moresprudentie.cases.model import (
    LIST_TEXT_FIELDS,
    REQUIRED_FIELDS,
    ROLES,
    TEXT_FIELDS,
    VOCABULARY_FIELDS,
    Case,
    label,
    normalise_term,
    unknown_term_params,
    vocabulary,
)
from moresprudentie.review.authoring import field_help, field_order
from moresprudentie.ui.components import messages, officer
from moresprudentie.ui.components.form_lines import (
    LINE_FIELDS,
    SHAPED_LINE_FIELDS,
    example,
    lines,
    norm_item,
    related_item,
    tension_item,
    widget_value,
)
from moresprudentie.ui.components.i18n import language, t
from moresprudentie.ui.components.widgets import md_inline

PREFIX = "form."
EXPECTED_HASH = "form_expected_hash"  # hash of the file as opened; None for a new case
EDITING = "form_editing"  # id of the case being edited, or None
PUBLISHED = "form_published"  # the opened case is published: a save makes a revision
REPLACED = "form_replaced"  # "Alles vervangen" just ran: show the hint to rewrite the sentences
NEW_TERM = "new_term."  # + field: the small input for a term that is not in the pick list
GROUPS = {  # rows of fields per group; short fields share a row
    "basics": (
        ("id",),
        ("title",),
        ("language", "date", "duration_minutes"),
        ("organisation", "method"),
        ("themes", "values"),
    ),
    "case": (("situation",), ("dilemma",), ("options",), ("stakeholders",)),
    "outcome": (("judgement",), ("reasoning",), ("dissent",), ("lessons",)),
    "forcefield": (("role",), ("tensions",), ("norms",), ("decisive_facts",)),
    "session": (("discussion_questions",), ("variations",), ("related",), ("allowed_terms",)),
}
LONG_FIELDS = (*TEXT_FIELDS, "dissent")
# every string a reader or reviewer sees: the free texts, and the id, terms and allowed terms too
CHECKED_FIELDS = (
    "title",
    *LONG_FIELDS,
    *LIST_TEXT_FIELDS,
    "norms",
    "id",
    *VOCABULARY_FIELDS,
    "tensions",
    "related",
    "allowed_terms",
)
MAX_TEXT = 20_000
FORCE_FIELD = ("role", "tensions", "norms", "decisive_facts")  # needed to submit (model.force_field_gaps)
REQUIRED_MARK, SUBMIT_MARK = " *", " **"  # after the label: needed to save, needed to submit


def _key(field: str) -> str:
    return PREFIX + field


def _widget_values(data: dict[str, Any]) -> dict[str, Any]:
    """The widget value of every field, from a case's fields (model_dump(mode="json")); an empty form
    for {} (in the UI language)."""
    data = data or {"language": language()}
    return {name: widget_value(name, data.get(name)) for name in field_order() if name != "status"}


def load(case: Case | None, expected_hash: str | None = None, published: bool = False) -> None:
    """Fill the form (from a callback or before the widgets are drawn); None empties it."""
    _fill(case.model_dump(mode="json") if case is not None else {})
    st.session_state[EXPECTED_HASH] = expected_hash
    st.session_state[EDITING] = case.id if case is not None and expected_hash is not None else None
    st.session_state[PUBLISHED] = published


def start_from(fields: dict[str, Any]) -> None:
    """Fill the form as a new case from the valid fields of a file that is not yet a case
    (authoring.usable_fields); the fields it lacks stay empty."""
    _fill(fields)
    st.session_state[EXPECTED_HASH] = st.session_state[EDITING] = None
    st.session_state[PUBLISHED] = False


def _fill(data: dict[str, Any]) -> None:
    for name, value in _widget_values(data).items():
        st.session_state[_key(name)] = value
    st.session_state.pop(REPLACED, None)


def init() -> None:
    """An empty form on the first visit of this browser session."""
    if EXPECTED_HASH not in st.session_state:
        load(None)


def values() -> dict[str, Any]:
    """The form as case fields (status always draft), ready for authoring.case_from_fields."""
    raw = {name: st.session_state.get(_key(name)) for name in field_order() if name != "status"}
    for name in LINE_FIELDS:
        raw[name] = lines(raw[name])
    raw["related"] = [related_item(line) for line in lines(raw["related"])]
    raw["tensions"] = [tension_item(line) for line in lines(raw["tensions"])]
    raw["norms"] = [norm_item(line) for line in lines(raw["norms"])]
    for name in ("id", "title", "date"):
        raw[name] = (raw[name] or "").strip()
    return raw | {"status": "draft"}


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


def replaceable(found: dict[str, list[Finding]]) -> dict[str, list[Finding]]:
    """The findings "Alles vervangen" fixes: those with a suggested replacement, in fields whose widget
    holds text (not a pick list, and not the id of a case being edited, which cannot change)."""
    fixed = set(VOCABULARY_FIELDS) | ({"id"} if st.session_state.get(EDITING) else set())
    result = {
        field: [finding for finding in field_findings if finding.replacement and finding.replacement != finding.text]
        for field, field_findings in found.items()
        if field not in fixed
    }
    return {field: field_findings for field, field_findings in result.items() if field_findings}


def replace_all() -> None:
    """Callback: replace every replaceable finding in every field at once (each text from its end,
    so offsets stay valid), then check again, since a replacement can shift or join text."""
    for _ in range(3):
        found = replaceable(check(values()))
        if not found:
            break
        for field, field_findings in found.items():
            st.session_state[_key(field)] = anonymisation.apply_replacements(_field_text(field), field_findings)
    st.session_state[REPLACED] = True


def _add_term(field: str) -> None:
    """Callback: the typed new term joins the field's terms (or becomes its term), as a slug."""
    term = normalise_term(st.session_state.get(NEW_TERM + field) or "")
    st.session_state[NEW_TERM + field] = ""
    if not term:
        return
    if field in ("themes", "values"):
        current = list(st.session_state.get(_key(field)) or [])
        st.session_state[_key(field)] = current if term in current else [*current, term]
    else:
        st.session_state[_key(field)] = term


def field_label(field: str) -> str:
    """The field's name with its mark: " *" needed to save, " **" needed to submit for review."""
    mark = REQUIRED_MARK if field in REQUIRED_FIELDS else SUBMIT_MARK if field in FORCE_FIELD else ""
    return t(f"fields.{field}") + mark


def _allow(term: str) -> None:
    terms = lines(st.session_state.get(_key("allowed_terms")))
    if term not in terms:
        st.session_state[_key("allowed_terms")] = "\n".join([*terms, term])


def _help(field: str) -> str:
    lang = language()
    help_ = field_help(field, lang)
    extra = f" {t(f'add.{field}_format')}" if field in SHAPED_LINE_FIELDS else ""  # list hints say "one per line"
    return help_.hint + extra


def _vocabulary_widget(field: str) -> None:
    """A pick list in the UI language (own placeholder, no English "Select all" or "Add: …"), then a
    small input for a new term; a term not in the vocabulary is said once, below it."""
    kind = VOCABULARY_FIELDS[field]
    terms = list(vocabulary()[kind])
    current = st.session_state.get(_key(field))
    extra = [term for term in (current if isinstance(current, list) else [current]) if term and term not in terms]
    common = dict(
        label=field_label(field),
        options=terms + extra,
        format_func=lambda term: label(kind, term, language()),
        key=_key(field),
        help=_help(field),
        persist_state="session",
    )
    if field in ("themes", "values"):
        st.multiselect(placeholder=t("add.choose_many"), select_all=False, **common)
    else:
        st.selectbox(index=None, placeholder=t("add.choose"), **common)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input(
        t("add.new_term", field=t(f"fields.{field}")),
        key=NEW_TERM + field,
        placeholder=t("add.new_term_placeholder"),
        help=t("add.new_term_help"),
        max_chars=60,
    )
    right.button(t("add.new_term_add"), key=f"add_term.{field}", on_click=_add_term, args=(field,), width="stretch")
    for term in extra:
        params = unknown_term_params(kind, normalise_term(str(term)))
        note = Problem("", None, field, "", "warning", "unknown_term", params)
        st.caption(f":orange[{md_inline(messages.message(note))}]")


def _widget(field: str, editing: bool) -> None:
    """The input for one field, with its Dutch/English hint and an example as placeholder."""
    name, help_text = field_label(field), _help(field)
    shown = example(field, language())
    placeholder = t("add.example", example=shown) if shown else None
    key, persist = _key(field), "session"
    if field in VOCABULARY_FIELDS:
        _vocabulary_widget(field)
    elif field == "role":
        st.selectbox(
            name,
            ROLES,
            index=None,
            placeholder=t("add.choose_role"),
            format_func=lambda code: label("roles", code, language()),
            key=key,
            help=help_text,
            persist_state=persist,
        )
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
        # no min or max here: Streamlit would refuse in English; the model's limits are said in Dutch
        st.number_input(name, step=5, key=key, help=help_text, persist_state=persist)
    elif field in LONG_FIELDS or field in LINE_FIELDS or field in SHAPED_LINE_FIELDS:
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

    A field that is merely still empty is not marked here (its label's " *" says it is needed, and the
    check tab lists what is missing), so a fresh form is calm rather than red. A new term is said once,
    below its pick list.
    """
    by_field: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.code not in ("missing_field", "unknown_term"):
            by_field.setdefault((problem.field or "").split(".")[0], []).append(problem)
    editing = st.session_state.get(EDITING) is not None
    st.caption(t("add.required_legend"))
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


def gap_text(field: str) -> str:
    """What a force-field gap (cases.model.force_field_gaps) asks for, in the UI language."""
    name, _, index = field.partition(".")
    return t(f"add.gaps.{name}") if not index else t("add.gaps.norm_source", number=int(index) + 1)


def problem_text(problem: Problem) -> str:
    """A loader problem in the UI language, with the field it is about (a force-field gap as the form
    asks for it)."""
    field = (problem.field or "").split(".")[0]
    if problem.severity == "warning" and field in FORCE_FIELD:
        return gap_text(problem.field or field)
    return messages.with_field(problem)
