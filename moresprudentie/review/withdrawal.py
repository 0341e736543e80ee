"""The rules of withdrawing a published case, without file access: the open proposal and who may do what.

An officer proposes to withdraw a published case with a reason, naming the version read; a second
officer (never the proposer: four eyes) approves it, and only then does the file leave search
(archive.py moves it; CaseStore.propose_withdrawal and .withdraw take the lock and record the events).
The proposal is replayed from the audit log (pending_withdrawal) and belongs to one version of the file:
if the file changed since, it is stale and must be proposed again for the text on disk now.

A proposal can be cancelled, stale or not: by its proposer (who changed their mind), or by any other
officer who disagrees, with a reason (they overrule a colleague, who will want to know why).
Cancelling keeps the case where it is, so it needs no second pair of eyes: four eyes guard what leaves
search, and after a cancellation nothing does until someone proposes it again.

Written as steps.py writes the review steps: each requirement is the error to raise when it is unmet,
one table per step (WITHDRAWAL_RULES), and the page and the command line ask the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from moresprudentie.errors import ConflictError, MoresprudentieError, UsageError, WorkflowError
from moresprudentie.review.audit import Event
from moresprudentie.review.roles import Actor, normalise_name, permission_error
from moresprudentie.review.steps import ROUND_ENDS, invalid_error, require_seen, short

if TYPE_CHECKING:
    from moresprudentie.review.layout import Version
    from moresprudentie.storage.base import Storage

WithdrawalStep = Literal["propose_withdrawal", "withdraw", "cancel_withdrawal"]
WITHDRAWAL_STEPS: tuple[WithdrawalStep, ...] = get_args(WithdrawalStep)
WITHDRAWAL_DOING: dict[WithdrawalStep, str] = {
    "propose_withdrawal": "propose to withdraw a case",
    "withdraw": "withdraw a case",
    "cancel_withdrawal": "cancel a proposed withdrawal",
}


@dataclass(frozen=True)
class Withdrawal:
    """A pending proposal to withdraw a published case: who, why, when, and for which version (hash)."""

    case_id: str
    proposer: str
    reason: str
    hash: str
    time: str

    def by(self, actor: Actor) -> bool:
        """Whether the actor made this proposal (names compared as the roles file compares them)."""
        return normalise_name(self.proposer) == normalise_name(actor.name)


def pending_withdrawal(events: Iterable[Event]) -> Withdrawal | None:
    """The proposal still open in the log of one case: the last one since the case was (re)published
    or withdrawn, unless it was cancelled since. Its hash names the file it was made for; if the file
    changed since, it is stale."""
    pending: Withdrawal | None = None
    for event in events:
        if event.action in ROUND_ENDS or event.action == "withdrawal_cancelled":
            pending = None
        elif event.action == "withdrawal_proposed":
            pending = Withdrawal(event.case, event.actor, event.comment, event.hash, event.time)
    return pending


WithdrawalRule = Callable[[Actor, "Version", "Withdrawal | None"], MoresprudentieError | None]


def _is_published(actor: Actor, version: Version, pending: Withdrawal | None) -> MoresprudentieError | None:
    """Only what employees can find is withdrawn; a draft or revision is not public, and is simply edited."""
    if version.is_published:
        return None
    if version.case is None:
        return invalid_error(version)
    return WorkflowError(
        f"'{version.case_id}' is not published (status: {version.case.status}); only a published case can be "
        "withdrawn. A draft never reached search: edit or remove its file instead"
    )


def _not_yet_proposed(actor: Actor, version: Version, pending: Withdrawal | None) -> MoresprudentieError | None:
    if pending is not None and pending.hash == version.hash:
        return WorkflowError(
            f"{pending.proposer} already proposed to withdraw '{version.case_id}'; a second officer can approve it"
        )
    return None


def _proposed_for_this_version(
    actor: Actor, version: Version, pending: Withdrawal | None
) -> MoresprudentieError | None:
    if pending is None:
        return WorkflowError(f"nobody proposed to withdraw '{version.case_id}'; propose it first, with a reason")
    if pending.hash != version.hash:
        return StaleProposalError(version.case_id, pending.hash, version.hash)
    return None


def _proposed(actor: Actor, version: Version, pending: Withdrawal | None) -> MoresprudentieError | None:
    """Any open proposal can be cancelled, a stale one too (it would otherwise wait in the list for good)."""
    if pending is None:
        return WorkflowError(f"nobody proposed to withdraw '{version.case_id}'; there is no proposal to cancel")
    return None


def _not_the_proposer(actor: Actor, version: Version, pending: Withdrawal | None) -> MoresprudentieError | None:
    if pending is not None and pending.by(actor):
        return WorkflowError(
            f"you proposed to withdraw '{version.case_id}'; a second officer must approve it (four-eyes rule)"
        )
    return None


def require_same_proposal(pending: Withdrawal, seen: Withdrawal | None) -> Withdrawal:
    """The open proposal, if it is the one the officer read (None: any): one cancelled and proposed
    again meanwhile, by someone else or for other reasons, is another officer's decision to judge."""
    if seen is not None and pending != seen:
        raise ConflictError(
            f"the proposal to withdraw '{pending.case_id}' changed since you read it ({pending.proposer} "
            f"proposed it at {pending.time}: {pending.reason}); read it and decide again"
        )
    return pending


class StaleProposalError(ConflictError):
    """The case file changed after its withdrawal was proposed: the proposal was about another text."""

    def __init__(self, case_id: str, proposed: str, current: str) -> None:
        self.case_id, self.proposed, self.current = case_id, proposed, current
        super().__init__(
            f"'{case_id}' changed since its withdrawal was proposed (proposed for version {short(proposed)}…, "
            f"now {short(current)}…): the proposal is stale; propose it again for the version on disk now"
        )

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        return type(self), (self.case_id, self.proposed, self.current)


WITHDRAWAL_RULES: dict[WithdrawalStep, tuple[WithdrawalRule, ...]] = {
    "propose_withdrawal": (_is_published, _not_yet_proposed),
    "withdraw": (_is_published, _proposed_for_this_version, _not_the_proposer),
    "cancel_withdrawal": (_proposed,),
}


def _reason_missing(
    step: WithdrawalStep, actor: Actor, pending: Withdrawal | None, reason: str | None
) -> MoresprudentieError | None:
    """A proposal needs a reason: it is what the audit log keeps and the second officer judges. So does
    cancelling another officer's proposal, which overrules them; the proposer takes theirs back freely."""
    if reason is None or reason.strip():
        return None
    if step == "propose_withdrawal":
        return UsageError("say why: withdrawing a case needs a reason (--reason), kept in the audit log")
    if step == "cancel_withdrawal" and pending is not None and not pending.by(actor):
        return UsageError(
            f"say why: {pending.proposer} proposed this withdrawal, and cancelling it needs a reason "
            "(--reason), kept in the audit log"
        )
    return None


def withdrawal_refusal(
    step: WithdrawalStep, actor: Actor, version: Version, pending: Withdrawal | None, reason: str | None = None
) -> MoresprudentieError | None:
    """The first unmet requirement of a withdrawal step, as the error to raise; None when it is allowed.

    Proposing, and cancelling another officer's proposal, need a reason (_reason_missing); pass
    reason=None to ask whether the step could be taken at all (the page asks before one is typed).
    """
    if (denied := permission_error(actor, WITHDRAWAL_DOING[step])) is not None:
        return denied
    if (missing := _reason_missing(step, actor, pending, reason)) is not None:
        return missing
    for rule in WITHDRAWAL_RULES[step]:
        if (error := rule(actor, version, pending)) is not None:
            return error
    return None


def require_withdrawal_step(
    step: WithdrawalStep, actor: Actor, version: Version, pending: Withdrawal | None, reason: str | None = None
) -> None:
    """Raise the first unmet requirement of a withdrawal step (see withdrawal_refusal)."""
    error = withdrawal_refusal(step, actor, version, pending, reason)
    if error is not None:
        raise error


def allowed_withdrawal_steps(actor: Actor, version: Version, pending: Withdrawal | None) -> frozenset[WithdrawalStep]:
    """The withdrawal steps this actor may take on this published file now (a reason still to be given)."""
    return frozenset(s for s in WITHDRAWAL_STEPS if withdrawal_refusal(s, actor, version, pending) is None)


@dataclass(frozen=True)
class PendingWithdrawal:
    """An open proposal and the published case as it is now; stale when the case changed since."""

    version: Version
    proposal: Withdrawal

    @property
    def stale(self) -> bool:
        return self.proposal.hash != self.version.hash


def checked(
    storage: Storage,
    events: list[Event],
    step: WithdrawalStep,
    actor: Actor,
    case_id: str,
    seen_hash: str,
    reason: str | None = None,
) -> tuple[Version, Withdrawal | None]:
    """The published version and its open proposal, once every requirement of `step` is met (under the lock).

    The rules first (so a draft hears "not published", not "changed"), then that `seen_hash` names the
    case stored now: nobody proposes or approves withdrawing a text they did not read.
    """
    version = storage.published(case_id)
    pending = pending_withdrawal(events)
    require_withdrawal_step(step, actor, version, pending, reason)
    require_seen(version, seen_hash, (event.hash for event in events))
    return version, pending


def pending_withdrawals(storage: Storage, events: Iterable[Event]) -> list[PendingWithdrawal]:
    """Every open proposal whose case is still published, by case id (stale ones included, marked)."""
    by_case: dict[str, list[Event]] = {}
    for event in events:
        by_case.setdefault(event.case, []).append(event)
    items = []
    for case_id, case_events in sorted(by_case.items()):
        proposal = pending_withdrawal(case_events)
        if proposal is None:
            continue
        version = storage.published_or_none(case_id)
        if version is not None:  # removed by hand meanwhile: nothing left to withdraw
            items.append(PendingWithdrawal(version, proposal))
    return items
