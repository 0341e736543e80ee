"""Beoordelen (officers only): the review queue, a draft with its findings, and the next step —
submit, approve or send back with a comment, publish. A draft back after a send-back shows first what
changed since (components/changes.py).

The buttons offered are the steps the library allows (review/steps.py: allowed_steps), and the
library checks the same rules again when a step is taken (review/store.py: CaseStore): the four-eyes
rule, a clean anonymisation check and an approval of this exact version. Publishing refreshes the
shared search engine, so employees find the case seconds later.

What the page shows follows the last step: it reads the queue after a button's callback has run, and
the case picker redraws a label whose state changed (see _pick). Every step is a full-width button
(whole labels at 1400 px and on a phone), and a disabled one says why right under it, in trial mode
including how to switch to the second trial name. The comment box is for the second officer; the
author sees that officer's last remark above the case instead. Times are Dutch clock times
(widgets.moment), never the audit log's UTC.

Approve, send back and publish pass the hash of the version this page rendered (bound to the button
when it was drawn), not of whatever is on disk when it is clicked: a text swapped in meanwhile is
refused by the library, and the page says so and shows the new version to read.

Below the drafts, published cases can be withdrawn by two officers (components/withdrawals.py).
"""

import streamlit as st

from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.cases.model import force_field_gaps
from moresprudentie.errors import MoresprudentieError
from moresprudentie.review import steps
from moresprudentie.review.roles import Actor, normalise_name
from moresprudentie.review.store import QueueItem
from moresprudentie.ui.components import (
    auth,
    changes,
    duplicate_choice,
    messages,
    nav,
    officer,
    render,
    resources,
    withdrawals,
)
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import md_inline

PICK, COMMENT, PUBLISHED, STALE = "review_pick", "review_comment", "review_published", "review_stale"
NO_COMMENT = "review_no_comment"  # set when "send back" was clicked with an empty comment box
LABELS = "review_labels"  # the picker's labels as last drawn (_pick)
STATE_COLOURS = {"draft": "gray", "submitted": "blue", "approved": "green", "sent_back": "orange"}
DECISIONS: dict[steps.Step, str] = {  # the steps on a draft under review, with their icons
    "approve": ":material/thumb_up:",
    "send_back": ":material/undo:",
    "publish": ":material/publish:",
}
DONE = {"submit": "review.done_submit", "approve": "review.done_approve", "send_back": "review.done_send_back"}


def _act(action: str, case_id: str, actor: Actor, seen_hash: str = "") -> None:
    """Run one workflow step from a button; publishing also refreshes the shared search engine.

    `seen_hash` is the hash of the version rendered with the button (none for submit: it judges no text).
    """
    store = resources.case_store()
    comment = st.session_state.get(COMMENT, "")
    if action == "send_back" and not comment.strip():  # the library refuses it too, in English, at the top
        st.session_state[NO_COMMENT] = True
        return
    try:
        if action == "publish":
            store.publish(case_id, actor, seen_hash=seen_hash)
            resources.refresh_after_write()
            st.session_state[PUBLISHED] = case_id
            officer.flash(t("review.done_publish", id=case_id))
            return
        if action == "submit":
            store.submit(case_id, actor, comment)
        else:
            step = {"approve": store.approve, "send_back": store.send_back}[action]
            step(case_id, actor, comment, seen_hash=seen_hash)
    except steps.StaleVersionError as exc:  # the comment stays: it may still apply to the new version
        st.session_state[STALE] = (exc.case_id, exc.shown, exc.current)
        return
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    st.session_state[COMMENT] = ""
    officer.flash(t(DONE[action], id=case_id))


def _show_stale() -> None:
    """Say once, in the page's language, that a click was refused because the draft changed under it."""
    stale = st.session_state.pop(STALE, None)
    if stale is not None:
        case_id, shown, current = (md_inline(value) for value in stale)
        text = t("review.stale", id=case_id, shown=steps.short(shown), now=steps.short(current))
        st.error(text, icon=":material/sync_problem:")


def _label(item: QueueItem) -> str:
    title = item.version.case.title if item.version.case else item.version.case_id
    return f"{t(f'review.states.{item.review.state}')} · {title}"


def _pick(queue: list[QueueItem]) -> QueueItem:
    """The case picker, each label with the draft's state as it is now (read after the last step).

    A keyed selectbox keeps showing the label it was drawn with when that label changes (it said
    "nog niet aangeboden" after submitting), so a changed label is drawn again by setting the same
    choice anew before the widget: Streamlit then sends the new label to the browser.
    """
    items = {item.version.case_id: item for item in queue}
    labels = {case_id: _label(item) for case_id, item in items.items()}
    chosen = st.session_state.get(PICK)
    if chosen in items and st.session_state.get(LABELS, {}).get(chosen) != labels[chosen]:
        st.session_state[PICK] = chosen
    st.session_state[LABELS] = labels
    chosen = st.selectbox(
        t("review.pick"), list(items), key=PICK, format_func=lambda case_id: labels.get(case_id, case_id)
    )
    return items.get(chosen or "") or next(iter(items.values()))


def _remark_for_author(item: QueueItem, actor: Actor) -> None:
    """The author reads the reviewer's last remark first, above the case, not in a box meant for a reply."""
    if steps.wrote(actor, item.review):
        officer.show_remark(item.review, next_step="review.remark_next")


def _status(item: QueueItem, actor: Actor) -> None:
    review = item.review
    colour = STATE_COLOURS[review.state]
    badges = f":{colour}-badge[{t(f'review.states.{review.state}')}]"
    if item.version.is_revision:
        badges += f" :violet-badge[{t('review.revision')}]"
    st.markdown(badges)
    if review.authors:
        st.caption(t("review.authors", names=md_inline(", ".join(sorted(review.authors)))))
    if review.approvers:
        st.caption(t("review.approvers", names=md_inline(", ".join(review.approvers))))
    if review.last_comment and not steps.wrote(actor, review):  # the author has it above (_remark_for_author)
        st.info(duplicate_choice.worded(review.last_comment), icon=":material/comment:")


def _findings(item: QueueItem) -> list[anonymisation.Finding]:
    case = item.version.case
    found = anonymisation.check_case(case) if case is not None else []
    st.subheader(t("findings.title"), anchor=False, divider="gray")
    officer.summary(found)
    texts = dict(anonymisation.case_texts(case)) if case is not None else {}
    for number, finding in enumerate(found):
        officer.row(texts.get(finding.field, ""), finding, key=f"review.{number}")
    if case is not None and case.allowed_terms:
        st.warning(t("review.allowed_terms", terms=md_inline(", ".join(case.allowed_terms))), icon=":material/rule:")
        places = officer.allowed_places(texts, case.allowed_terms)
        with st.expander(t("review.allowed_places", count=len(places)), expanded=bool(places)):
            for field, place in places:
                st.markdown(f":material/check: **{md_inline(messages.field_label(field))}** · {place}")
    return found


def _own_draft(actor: Actor, review: steps.Review) -> str:
    """Why an author cannot approve; in trial mode also how: switch to a trial name that did not write it."""
    others = [name for name in auth.TRIAL_NAMES if normalise_name(name) not in review.authors]
    if not others or not auth.trial_active():
        return t("review.own_draft")
    return t("review.why.own_draft_trial", control=t("auth.trial_name"), other=others[0])


def _why(step: steps.Step, actor: Actor, item: QueueItem, found: list[anonymisation.Finding]) -> str:
    """Why `step` is not possible now, in the page's language, in the order steps.RULES checks it.

    The library says the same in its own (English) words when a step is tried anyway.
    """
    version, review = item.version, item.review
    if version.case is None:
        return t("review.why.invalid")
    if force_field_gaps(version.case):
        return t("review.why.force_field")
    approvers = {normalise_name(name) for name in review.approvers}
    if step == "approve" and steps.wrote(actor, review):
        return _own_draft(actor, review)
    if step == "approve" and normalise_name(actor.name) in approvers:
        return t("review.why.already_approved")
    if step == "send_back" and steps.wrote(actor, review):
        return t("review.why.author_send_back")
    if step == "publish" and not (review.state == "approved" and review.second_officer_approved):
        return t("review.why.needs_approval")
    if step in steps.NEEDS_CLEAN and steps.blocking(found):
        return t("review.blocked")
    return t("review.why.other")


def _actions(item: QueueItem, actor: Actor, found: list[anonymisation.Finding]) -> None:
    """The steps the library allows (steps.allowed_steps), one under the other; each other one disabled
    with its reason. Sending back needs a remark for the author, so the author gets neither the box
    nor the button (editing is how an author changes a submitted text)."""
    review, case_id = item.review, item.version.case_id
    allowed = steps.allowed_steps(actor, item.version, review, found)
    if steps.wrote(actor, review):
        allowed -= {"send_back"}
    st.subheader(t("review.next_step"), anchor=False, divider="gray")
    if "edit" in allowed:
        link = {"edit": case_id}
        st.page_link(nav.ADD_CASE.path, label=t("review.edit"), icon=":material/edit:", query_params=link)
    if review.state not in steps.UNDER_REVIEW:
        why = None if "submit" in allowed else _why("submit", actor, item, found)
        officer.step_button(t("review.submit"), (_act, ("submit", case_id, actor)), ":material/send:", why=why)
        return
    if allowed & {"approve", "send_back"}:  # a second officer: the remark goes with the decision
        st.text_area(t("review.comment"), key=COMMENT, help=t("review.comment_help"), height=90)
        if st.session_state.pop(NO_COMMENT, False):  # said here, under the box, not at the top of the page
            st.error(t("review.needs_comment"), icon=":material/edit_note:")
    for action, icon in DECISIONS.items():
        why = None if action in allowed else _why(action, actor, item, found)
        step = (_act, (action, case_id, actor, item.version.hash))
        officer.step_button(t(f"review.{action}"), step, icon, primary=action != "send_back", why=why)


def _history(item: QueueItem) -> None:
    if not item.review.history:
        return
    with st.expander(t("review.history")):
        for event in reversed(item.review.history):
            note = f" — {duplicate_choice.worded(event.comment)}" if event.comment else ""
            action = t(f"review.actions.{event.action}")
            st.caption(f"{officer.when(event.time)} · {md_inline(event.actor)} · {action}{note}")


def _drafts(queue: list[QueueItem], actor: Actor) -> None:
    """The chosen draft: its text beside its state, findings, next step and history."""
    item = _pick(queue)
    _remark_for_author(item, actor)
    preview, side = st.columns([3, 2], gap="large")
    with preview:  # first: it is quick, and it is what the reviewer reads
        if item.version.case is None:
            problems = "\n".join(f"- {md_inline(str(p))}" for p in item.version.problems)
            st.error(t("review.invalid") + "\n\n" + problems)
        else:
            changes.show(resources.case_store(), item)  # back after a send-back: what changed since
            with st.container(border=True):
                render.case_header(item.version.case)
                render.case_body(item.version.case)
    with side:
        _status(item, actor)
        officer.ready()
        found = _findings(item)
        _actions(item, actor, found)
        _history(item)


st.title(t("nav.review"), anchor=False)  # first: a visitor, too, sees which page this is
actor = auth.officer_or_stop()
st.markdown(t("review.intro"))
officer.show_flash()
_show_stale()
published = st.session_state.pop(PUBLISHED, None)
if published:
    st.page_link(
        nav.CASE.path, label=t("review.open_case"), icon=":material/article:", query_params={"case": published}
    )

queue = resources.review_queue()  # read after the last step's callback
if queue:
    _drafts(queue, actor)
else:
    st.info(t("review.empty"), icon=":material/inbox:")
withdrawals.section(actor)
