"""Beoordelen (officers only): the review queue, a draft with its findings, and the next step —
submit, approve or send back with a comment, publish.

The buttons offered are the steps the library allows (review/steps.py: allowed_steps), and the
library checks the same rules again when a step is taken (review/store.py: CaseStore): the four-eyes
rule, a clean anonymisation check and an approval of this exact version. Publishing refreshes the
shared search engine, so employees find the case seconds later.

Approve, send back and publish pass the hash of the version this page rendered (bound to the button
when it was drawn), not of whatever is on disk when it is clicked: a text swapped in meanwhile is
refused by the library, and the page says so and shows the new version to read.
"""

import streamlit as st

from moresprudentie import settings
from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.errors import MoresprudentieError
from moresprudentie.review import steps
from moresprudentie.review.roles import Actor
from moresprudentie.review.store import CaseStore, QueueItem
from moresprudentie.ui.components import auth, nav, officer, render, resources
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import md_inline

PICK, COMMENT, PUBLISHED, STALE = "review_pick", "review_comment", "review_published", "review_stale"
STATE_COLOURS = {"draft": "gray", "submitted": "blue", "approved": "green", "sent_back": "orange"}
DECISIONS: tuple[steps.Step, ...] = ("approve", "send_back", "publish")
DONE = {"submit": "review.done_submit", "approve": "review.done_approve", "send_back": "review.done_send_back"}


def _act(action: str, case_id: str, actor: Actor, seen_hash: str = "") -> None:
    """Run one workflow step from a button; publishing also refreshes the shared search engine.

    `seen_hash` is the hash of the version rendered with the button (none for submit: it judges no text).
    """
    store = CaseStore(settings.cases_dir())
    comment = st.session_state.get(COMMENT, "")
    try:
        if action == "publish":
            store.publish(case_id, actor, seen_hash=seen_hash)
            resources.engine().refresh()
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


def _status(item: QueueItem) -> None:
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
    if review.last_comment:
        st.info(md_inline(review.last_comment), icon=":material/comment:")


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
    return found


def _actions(item: QueueItem, actor: Actor, found: list[anonymisation.Finding]) -> None:
    """The steps the library allows (steps.allowed_steps); a reason where approving is not possible."""
    review, case_id = item.review, item.version.case_id
    allowed = steps.allowed_steps(actor, item.version, review, found)
    st.subheader(t("review.next_step"), anchor=False, divider="gray")
    if "edit" in allowed:
        link = {"edit": case_id}
        st.page_link(nav.ADD_CASE.path, label=t("review.edit"), icon=":material/edit:", query_params=link)
    if "submit" in allowed:
        st.button(t("review.submit"), on_click=_act, args=("submit", case_id, actor), icon=":material/send:")
        return
    if not allowed.intersection(DECISIONS):  # not under review: nothing to decide yet
        return
    if steps.wrote(actor, review):
        st.caption(t("review.own_draft"))
    elif steps.blocking(found):
        st.caption(t("review.blocked"))
    st.text_area(t("review.comment"), key=COMMENT, help=t("review.comment_help"), height=90)
    left, middle, right = st.columns(3)
    approve, send_back, publish = ((_act, (action, case_id, actor, item.version.hash)) for action in DECISIONS)
    officer.wide_button(
        left, t("review.approve"), approve, ":material/thumb_up:", primary=True, disabled="approve" not in allowed
    )
    officer.wide_button(
        middle, t("review.send_back"), send_back, ":material/undo:", disabled="send_back" not in allowed
    )
    officer.wide_button(
        right, t("review.publish"), publish, ":material/publish:", primary=True, disabled="publish" not in allowed
    )


def _history(item: QueueItem) -> None:
    if not item.review.history:
        return
    with st.expander(t("review.history")):
        for event in reversed(item.review.history):
            note = f" — {md_inline(event.comment)}" if event.comment else ""
            st.caption(f"{event.time} · {md_inline(event.actor)} · {t(f'review.actions.{event.action}')}{note}")


actor = auth.officer_or_stop()
st.title(t("nav.review"), anchor=False)
st.markdown(t("review.intro"))
officer.show_flash()
_show_stale()
published = st.session_state.pop(PUBLISHED, None)
if published:
    st.page_link(
        nav.CASE.path, label=t("review.open_case"), icon=":material/article:", query_params={"case": published}
    )

queue = CaseStore(settings.cases_dir()).review_queue()
if not queue:
    st.info(t("review.empty"), icon=":material/inbox:")
    st.stop()
items = {item.version.case_id: item for item in queue}
chosen = st.selectbox(t("review.pick"), list(items), key=PICK, format_func=lambda case_id: _label(items[case_id]))
item = items.get(chosen or "") or next(iter(items.values()))

preview, side = st.columns([3, 2], gap="large")
with preview:  # first: it is quick, and it is what the reviewer reads
    if item.version.case is None:
        st.error(t("review.invalid") + "\n\n" + "\n".join(f"- {md_inline(str(p))}" for p in item.version.problems))
    else:
        with st.container(border=True):
            render.case_header(item.version.case)
            render.case_body(item.version.case)
with side:
    _status(item)
    officer.ready()
    found = _findings(item)
    _actions(item, actor, found)
    _history(item)
