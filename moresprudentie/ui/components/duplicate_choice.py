"""The near-copy check of the add-case form (issue 15): a draft offered for review whose closest
published case is at or above the near-duplicate threshold is not submitted until the officer says
whether it is a new case or how it relates to the case it resembles.

The decision and the audit-log note are the library's (search/duplicates.py: near_duplicates and
submit_note, which the CLI's `review submit --new-case / --links` uses too), so the app and the CLI
record the same note and save a link into the draft's `related` the same way. This module only asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from moresprudentie.cases.model import Case, label
from moresprudentie.review.roles import Actor
from moresprudentie.search import duplicates
from moresprudentie.ui.components import resources
from moresprudentie.ui.components.i18n import language, t
from moresprudentie.ui.components.widgets import case_link, md_inline

PENDING = "dup_pending"  # {"id": draft id, "matches": [(case id, score), ...]} while a choice is owed
CHOICE, RELATION = "dup_choice", "dup_relation"  # the radio ("new" or "link:<id>") and the relation
NEW = "new"


@dataclass(frozen=True)
class Choice:
    """What the officer said about a near-copy: a new case, or a link "OTHER-ID:relation" (as --links)."""

    new_case: bool = False
    links: str | None = None


def submit_note(actor: Actor, case: Case, choice: Choice | None) -> str | None:
    """The audit-log note for submitting the saved draft `case` ("" when it is no near-copy); None when
    it is one and no choice was made yet: the choice is then asked for beside the buttons (pending).

    With a link, submit_note saves it into the draft's `related` before it is submitted."""
    engine, store = resources.engine(), resources.case_store()
    if choice is None:
        close = duplicates.near_duplicates(engine, case)
        if close:
            st.session_state[PENDING] = {"id": case.id, "matches": [(match.id, score) for match, score in close]}
            for key in (CHOICE, RELATION):
                st.session_state.pop(key, None)
            return None
    st.session_state.pop(PENDING, None)
    chosen = choice or Choice()
    return duplicates.submit_note(engine, store, case.id, actor, new_case=chosen.new_case, links=chosen.links)


def chosen_text(choice: Choice | None) -> str:
    """What the officer chose, for the success message ("" without a choice)."""
    if choice is None:
        return ""
    if choice.links:
        other, _, relation = choice.links.partition(":")
        found = resources.engine().cases.get(other)
        title = found.title if found is not None else other
        return t(
            "add_duplicates.done_linked", relation=label("relations", relation, language()), title=md_inline(title)
        )
    return t("add_duplicates.done_new") if choice.new_case else ""


def _strength(score: float) -> str:
    """A match in the UI language: the core similarity as a percentage with a Dutch (or English) label."""
    kind = "near" if score >= duplicates.DUPLICATE_THRESHOLD else "related"
    return t("add_duplicates.strength", percent=round(score * 100), label=t(f"add_duplicates.labels.{kind}"))


def _choice_label(option: str, titles: dict[str, str]) -> str:
    if option == NEW:
        return t("add_duplicates.new_case")
    return t("add_duplicates.link", title=md_inline(titles[option.removeprefix("link:")]))


def _confirm(on_submit: Callable[[Choice], None]) -> None:
    """The confirm button's callback: the choice as --new-case or --links would say it, then submit."""
    picked = st.session_state.get(CHOICE)
    if not picked:
        return
    if picked == NEW:
        on_submit(Choice(new_case=True))
        return
    relation = st.session_state.get(RELATION) or duplicates.LINKS[0]
    on_submit(Choice(links=f"{picked.removeprefix('link:')}:{relation}"))


def _cancel() -> None:
    st.session_state.pop(PENDING, None)


def _closest(matches: list[tuple[str, float]]) -> dict[str, str]:
    """The closest published cases, each a link with its match strength; their titles by id."""
    engine = resources.engine()
    titles: dict[str, str] = {}
    st.markdown(f"**{t('add_duplicates.closest')}**")
    for case_id, score in matches:
        found = engine.cases.get(case_id)
        if found is None or not found.is_published:
            continue
        titles[case_id] = found.title
        case_link(found, icon=":material/content_copy:")
        st.caption(_strength(score))
    return titles


def render(case_id: str | None, on_submit: Callable[[Choice], None], disabled: bool = False) -> None:
    """The warning and the choice, while a choice is owed for the draft in the form (else nothing)."""
    pending = st.session_state.get(PENDING)
    if not pending:
        return
    if pending["id"] != case_id:  # another case is in the form now: the question no longer applies
        st.session_state.pop(PENDING, None)
        return
    with st.container(border=True):
        st.warning(t("add_duplicates.warning", id=md_inline(case_id)), icon=":material/content_copy:")
        titles = _closest(pending["matches"])
        options = [NEW, *(f"link:{case}" for case in titles)]
        picked = st.radio(
            t("add_duplicates.choice"),
            options,
            index=None,
            key=CHOICE,
            format_func=lambda option: _choice_label(option, titles),
        )
        if picked and picked != NEW:
            st.radio(
                t("add_duplicates.relation", title=md_inline(titles[picked.removeprefix("link:")])),
                duplicates.LINKS,
                key=RELATION,
                horizontal=True,
                format_func=lambda relation: label("relations", relation, language()),
            )
        left, right = st.columns(2)
        left.button(
            t("add_duplicates.confirm"),
            on_click=_confirm,
            args=(on_submit,),
            type="primary",
            icon=":material/send:",
            disabled=disabled or not picked,
            width="stretch",
        )
        right.button(t("add_duplicates.cancel"), on_click=_cancel, icon=":material/close:", width="stretch")
        if not picked:
            st.caption(t("add_duplicates.choose_first"))


def worded(comment: str) -> str:
    """An audit comment for the review page, as inert Markdown: the near-copy note (written in the
    log's English by duplicates.submit_note) in the page's language, any other comment as written."""
    note = duplicates.parse_note(comment)
    if note is None:
        return md_inline(comment)
    percent = round(note.score * 100)
    if note.relation is None:
        return t("add_duplicates.note_new", id=md_inline(note.case_id), percent=percent)
    relation = label("relations", note.relation, language())
    return t(
        "add_duplicates.note_linked",
        id=md_inline(note.case_id),
        percent=percent,
        relation=relation,
        other=md_inline(note.other or ""),
    )
