"""Uitkomst van het beraad vastleggen: the session page's form that turns a group's outcome into a draft.

The leader writes the conclusion, the main arguments and the dissent, picks the values that clashed
and says how the outcome relates to the discussed case. review/session_outcome.py builds the draft.
Then it goes the way of every draft, through the same gate:
- an integrity officer saves it (CaseStore.save_draft, which refuses personal data and says which)
  and offers it on the review page, where a second officer approves it;
- anyone else downloads it as a case file for the integrity officer, who uploads it in "Casus
  toevoegen". The download is refused while the check finds a name, phone number or the like: such a
  file should not land in a mailbox either.
No participant's name is asked for; the form says not to write one, and the check refuses one anyway.
"""

from __future__ import annotations

import hashlib
import itertools
from contextlib import suppress
from typing import Any

import streamlit as st

from moresprudentie.anonymisation.check import Finding, case_texts, check_case
from moresprudentie.cases.loading import dump_case
from moresprudentie.cases.model import BALANCED, Case, Tension, label, vocabulary
from moresprudentie.errors import MoresprudentieError, PersonalDataError, UsageError
from moresprudentie.review.roles import Actor
from moresprudentie.review.session_outcome import MAX_CLASHED, SESSION_RELATIONS, SessionOutcome, draft_from_session
from moresprudentie.ui.components import auth, messages, nav, officer, resources
from moresprudentie.ui.components.i18n import language, t
from moresprudentie.ui.components.widgets import md_inline

KEY = "session_outcome"
SAVED = "session_outcome_saved"  # {discussed case id: draft id} saved from this browser session
REFUSED = "session_outcome_refused"  # {discussed case id: (draft digest, findings, error)} of the last save
CHECKED = "session_outcome_checked"  # (draft digest, findings): the last check, not redone on every rerun
FORM_FIELDS = {"judgement": "conclusion", "reasoning": "arguments", "dissent": "dissent"}  # draft → form


def key(name: str, case_id: str) -> str:
    """The widget key of a form field for one discussed case (each case keeps its own outcome)."""
    return f"{KEY}.{name}.{case_id}"


def section(case: Case, method: str | None = None) -> None:
    """The expander under a chosen case: the four fields, then save (officers) or download (others)."""
    with st.expander(t("session_outcome.title"), icon=":material/edit_note:"):
        st.markdown(t("session_outcome.intro"))
        st.info(t("session_outcome.no_names"), icon=":material/person_off:")
        outcome, missing = _form(case, method)
        if outcome is None:
            st.caption(":material/info: " + t("session_outcome.missing", fields=", ".join(missing)))
            return
        draft = draft_from_session(case, outcome, existing=_existing_ids())
        actor = _officer()
        if actor is not None:
            _save_part(case, draft, actor)
        else:
            _download_part(draft)


def _form(case: Case, method: str | None) -> tuple[SessionOutcome | None, list[str]]:
    """The fields; a SessionOutcome once everything required is given, else what is still missing."""
    lang = language()
    texts = {
        name: st.text_area(t(f"session_outcome.{name}"), key=key(name, case.id), help=t(f"session_outcome.{name}_help"))
        for name in ("conclusion", "arguments", "dissent")
    }
    values = st.multiselect(
        t("session_outcome.values"),
        list(vocabulary()["values"]),
        key=key("values", case.id),
        format_func=lambda term: label("values", term, lang),
        max_selections=MAX_CLASHED,
        select_all=False,  # Streamlit's "Select all" is English only
        placeholder=t("session_outcome.values_placeholder"),
        help=t("session_outcome.values_help", most=MAX_CLASHED),
    )
    tensions = _tensions(case, values)
    relation = st.radio(
        t("session_outcome.relation"),
        SESSION_RELATIONS,
        index=None,
        key=key("relation", case.id),
        format_func=lambda term: label("relations", term, lang),
        horizontal=True,
        help=t("session_outcome.relation_help"),
    )
    missing = [t(f"session_outcome.{name}").lower() for name in ("conclusion", "arguments") if not texts[name].strip()]
    if len(values) < 2:
        missing.append(t("session_outcome.values_too_few"))
    if relation is None:
        missing.append(t("session_outcome.relation").rstrip("?").lower())
    if missing:
        return None, missing
    outcome = SessionOutcome(
        conclusion=texts["conclusion"],
        arguments=texts["arguments"],
        dissent=texts["dissent"],
        clashed_values=values,
        tensions=tensions,
        relation=relation,
        language=case.language,
        method=method,
    )
    return outcome, []


def _tensions(case: Case, values: list[str]) -> list[Tension]:
    """For each pair of clashed values, which weighed most ('balanced' unless the leader says)."""
    lang = language()
    pairs = list(itertools.combinations(values, 2))
    if not pairs:
        return []
    columns = st.columns(2)
    tensions = []
    for number, (first, second) in enumerate(pairs):
        options = (BALANCED, first, second)
        prevailed = columns[number % 2].selectbox(
            t("session_outcome.prevailed", first=label("values", first, lang), second=label("values", second, lang)),
            options,
            key=key(f"prevailed.{first}.{second}", case.id),
            format_func=lambda term: label("outcomes", term, lang) if term == BALANCED else label("values", term, lang),
            help=t("session_outcome.prevailed_help"),
        )
        tensions.append(Tension(between=(first, second), prevailed=prevailed or BALANCED))
    return tensions


def _existing_ids() -> set[str]:
    """Every id in the collection, drafts and revisions included, so the new draft's id is free."""
    ids = set(resources.engine().cases)
    with suppress(MoresprudentieError):  # an unreadable draft folder must not hide the form; saving says more
        ids |= {item.version.case_id for item in resources.case_store().review_queue()}
    return ids


def _officer() -> Actor | None:
    """The integrity officer using the page, if any (a broken officers list counts as none here)."""
    try:
        actor = auth.current_actor()
    except UsageError:
        return None
    return actor if actor is not None and actor.is_officer else None


def _digest(draft: Case) -> str:
    return hashlib.sha256(dump_case(draft).encode("utf-8")).hexdigest()


def _save(case_id: str, draft: Case, actor: Actor) -> None:
    """The save button: through the store's gate, remembering what happened for the next run."""
    refused = st.session_state.setdefault(REFUSED, {})
    refused.pop(case_id, None)
    try:
        resources.case_store().save_draft(draft, actor)
    except PersonalDataError as exc:
        refused[case_id] = (_digest(draft), [f for f in exc.findings if getattr(f, "blocks", True)], None)
        return
    except MoresprudentieError as exc:
        refused[case_id] = (_digest(draft), [], exc)
        return
    st.session_state.setdefault(SAVED, {})[case_id] = draft.id


def _save_part(case: Case, draft: Case, actor: Actor) -> None:
    """For an officer: save as a draft, or (once saved) where it went and what comes next."""
    saved = st.session_state.get(SAVED, {}).get(case.id)
    if saved:
        st.success(t("session_outcome.saved", id=md_inline(saved)), icon=":material/check_circle:")
        st.page_link(nav.REVIEW.path, label=t("session_outcome.to_review"), icon=":material/fact_check:")
        link = {"edit": saved}
        st.page_link(nav.ADD_CASE.path, label=t("session_outcome.to_edit"), icon=":material/edit:", query_params=link)
        return
    digest, findings, error = st.session_state.get(REFUSED, {}).get(case.id, ("", [], None))
    if digest == _digest(draft):  # the refusal is about exactly this text
        if error is not None:
            officer.show_error(error)
        if findings:
            st.error(t("session_outcome.refused", count=len(findings)), icon=":material/block:")
            _rows(draft, findings)
    st.button(
        t("session_outcome.save"),
        key=key("save", case.id),
        on_click=_save,
        args=(case.id, draft, actor),
        type="primary",
        icon=":material/save:",
        help=t("session_outcome.save_help"),
    )


def _checked(draft: Case) -> list[Finding]:
    """The anonymisation check of the draft, redone only when its text changed."""
    digest = _digest(draft)
    last = st.session_state.get(CHECKED)
    if last is not None and last[0] == digest:
        return last[1]
    officer.ready()
    found = check_case(draft)
    st.session_state[CHECKED] = (digest, found)
    return found


def _download_part(draft: Case) -> None:
    """For a session leader: the draft as a case file for the integrity officer, once it is clean."""
    found = _checked(draft)
    blocking = [finding for finding in found if finding.blocks]
    if blocking:
        st.error(t("session_outcome.download_refused", count=len(blocking)), icon=":material/block:")
        _rows(draft, blocking)
        return
    if found:
        st.warning(t("session_outcome.warnings", count=len(found)), icon=":material/warning:")
        _rows(draft, found)
    st.info(
        t("session_outcome.send", page=t("nav.add_case"), mode=t("add.modes.upload")),
        icon=":material/forward_to_inbox:",
    )
    st.download_button(
        t("session_outcome.download"),
        dump_case(draft),
        f"{draft.id}.yaml",
        "application/x-yaml",
        key=key("download", draft.id),
        icon=":material/download:",
        type="primary",
        on_click="ignore",
    )


def _rows(draft: Case, findings: list[Any]) -> None:
    """Each finding with the field it is in (named as this form names it) and its words highlighted."""
    texts = dict(case_texts(draft))
    for finding in findings:
        name = finding.field.split(".")[0]
        field = t(f"session_outcome.{FORM_FIELDS[name]}") if name in FORM_FIELDS else messages.field_label(name)
        text = texts.get(finding.field, finding.text)
        icon = ":material/block:" if finding.severity == "block" else ":material/warning:"
        exact = text[finding.start : finding.end] == finding.text
        shown = officer.snippet(text, finding) if exact else md_inline(finding.text)
        st.markdown(f"{icon} **{md_inline(field)}** · {md_inline(officer.kind_label(finding))} · {shown}")
