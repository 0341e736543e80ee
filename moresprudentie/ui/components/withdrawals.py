"""The review page's section for published cases: withdrawing one takes two officers.

An officer picks a published case and proposes its withdrawal with a reason; a second officer approves
the proposal (the proposer sees the button disabled, with why). A proposal can be cancelled instead: by
its proposer with one click, by another officer after saying why (the box for that is theirs alone). The rules are the library's
(review/withdrawal.py: allowed_withdrawal_steps), checked again by CaseStore when a button is clicked.
Every button names the published version this page showed (its hash, bound when it was drawn).
Approving refreshes the shared engine, so the case leaves search at once.
"""

from __future__ import annotations

import streamlit as st

from moresprudentie.errors import MoresprudentieError
from moresprudentie.review import withdrawal
from moresprudentie.review.roles import Actor, normalise_name
from moresprudentie.review.store import CaseStore
from moresprudentie.review.withdrawal import PendingWithdrawal, Withdrawal, WithdrawalStep
from moresprudentie.ui.components import auth, officer, resources
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import md_inline

PICK, REASON, MISSING = "withdraw_pick", "withdraw_reason", "withdraw_missing"  # widget and state keys
CANCEL_REASON = "withdraw_cancel_reason"  # + ".<case id>": one box per proposal
CANCEL_MISSING = "withdraw_cancel_missing"  # the case whose cancel was clicked without a reason


def _own_proposal(proposer: str) -> str:
    """Why a proposer cannot approve the withdrawal; in trial mode also how: switch to the other trial name."""
    others = [name for name in auth.TRIAL_NAMES if normalise_name(name) != normalise_name(proposer)]
    if not auth.trial_active():
        return t("review.withdraw.why_own")
    return t("review.withdraw.why_own_trial", control=t("auth.trial_name"), other=others[0])


def _propose(case_id: str, actor: Actor, seen_hash: str) -> None:
    """Propose to withdraw the published version this page showed, with the reason typed."""
    reason = st.session_state.get(REASON, "")
    if not reason.strip():
        st.session_state[MISSING] = True
        return
    try:
        resources.case_store().propose_withdrawal(case_id, actor, reason, seen_hash)
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    st.session_state[REASON] = ""
    officer.flash(t("review.withdraw.done_propose", id=case_id))


def _withdraw(case_id: str, actor: Actor, seen_hash: str) -> None:
    """Approve a proposed withdrawal; the shared engine is refreshed, so the case leaves search at once."""
    try:
        resources.case_store().withdraw(case_id, actor, seen_hash=seen_hash)
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    resources.refresh_after_write()
    officer.flash(t("review.withdraw.done", id=case_id))


def _cancel(actor: Actor, seen_hash: str, seen: Withdrawal) -> None:
    """Cancel the proposal shown (`seen`, not one made again since): the proposer's own freely,
    another officer's with the reason typed."""
    case_id = seen.case_id
    key = f"{CANCEL_REASON}.{case_id}"
    reason = st.session_state.get(key, "")
    if not seen.by(actor) and not reason.strip():  # the library refuses it too, in English, at the top
        st.session_state[CANCEL_MISSING] = case_id
        return
    try:
        resources.case_store().cancel_withdrawal(case_id, actor, reason, seen_hash=seen_hash, seen=seen)
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    st.session_state.pop(key, None)
    officer.flash(t("review.withdraw.done_cancel", id=case_id))


def _approve_button(item: PendingWithdrawal, actor: Actor, allowed: frozenset[WithdrawalStep]) -> None:
    """The second officer's button; disabled for the proposer and for a stale proposal, saying why."""
    version, proposal = item.version, item.proposal
    why = None
    if "withdraw" not in allowed:
        why = t("review.withdraw.why_stale" if item.stale else "review.why.other")
        if proposal.by(actor) and not item.stale:
            why = _own_proposal(proposal.proposer)
    step = (_withdraw, (version.case_id, actor, version.hash))
    key = f"withdraw.{version.case_id}"
    officer.step_button(t("review.withdraw.approve"), step, ":material/archive:", primary=True, why=why, key=key)


def _cancel_controls(item: PendingWithdrawal, actor: Actor, allowed: frozenset[WithdrawalStep]) -> None:
    """Cancelling the proposal: its proposer with one click, another officer after saying why."""
    case_id, own = item.version.case_id, item.proposal.by(actor)
    if not own:
        reason_help = t("review.withdraw.cancel_reason_help")
        st.text_area(t("review.withdraw.cancel_reason"), key=f"{CANCEL_REASON}.{case_id}", help=reason_help, height=68)
        if st.session_state.get(CANCEL_MISSING) == case_id:  # said here, under the box, not at the top
            del st.session_state[CANCEL_MISSING]
            name = md_inline(item.proposal.proposer)
            st.error(t("review.withdraw.cancel_reason_missing", name=name), icon=":material/edit_note:")
    why = None if "cancel_withdrawal" in allowed else t("review.why.other")
    step = (_cancel, (actor, item.version.hash, item.proposal))
    officer.step_button(t("review.withdraw.cancel"), step, ":material/undo:", why=why, key=f"withdraw.cancel.{case_id}")


def _pending(item: PendingWithdrawal, actor: Actor) -> None:
    """One proposed withdrawal: the case, who proposed it and why, the second officer's button, and the
    way to cancel it."""
    version, proposal = item.version, item.proposal
    with st.container(border=True):
        title = version.case.title if version.case else version.case_id
        st.markdown(f"**{md_inline(title)}** · `{md_inline(version.case_id)}`")
        st.caption(
            t("review.withdraw.proposed_by", name=md_inline(proposal.proposer), when=officer.when(proposal.time))
        )
        st.info(md_inline(proposal.reason), icon=":material/comment:")
        allowed = withdrawal.allowed_withdrawal_steps(actor, version, proposal)
        _approve_button(item, actor, allowed)
        _cancel_controls(item, actor, allowed)


def _propose_form(store: CaseStore, actor: Actor) -> None:
    """Pick a published case and give the reason; the button names the published version shown."""
    published = {case.id: case.title for case in resources.published(resources.engine())}
    if not published:
        return
    chosen = st.selectbox(
        t("review.withdraw.pick"),
        list(published),
        index=None,
        key=PICK,
        placeholder=t("review.withdraw.pick_placeholder"),
        format_func=lambda case_id: published.get(case_id, case_id),
    )
    if not chosen:
        return
    try:
        version, proposal = store.withdrawal_of(chosen)
    except MoresprudentieError:  # withdrawn a moment ago: the engine has not caught up yet
        return
    st.text_area(t("review.withdraw.reason"), key=REASON, help=t("review.withdraw.reason_help"), height=90)
    if st.session_state.pop(MISSING, False):
        st.error(t("review.withdraw.reason_missing"), icon=":material/edit_note:")
    allowed = withdrawal.allowed_withdrawal_steps(actor, version, proposal)
    why = None if "propose_withdrawal" in allowed else t("review.withdraw.why_proposed")
    step = (_propose, (chosen, actor, version.hash))
    officer.step_button(
        t("review.withdraw.propose"), step, ":material/remove_circle:", primary=True, why=why, key="withdraw.propose"
    )


def section(actor: Actor) -> None:
    """The section for published cases: open proposals first (they wait for someone), then a new one."""
    st.subheader(t("review.withdraw.title"), anchor=False, divider="gray")
    st.markdown(t("review.withdraw.intro"))
    store = resources.case_store()
    for item in store.pending_withdrawals():
        _pending(item, actor)
    _propose_form(store, actor)
