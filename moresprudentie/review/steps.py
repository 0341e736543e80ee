"""The review workflow as rules, without file access: where a draft stands and which step is allowed.

A draft goes draft → submitted → approved (by a second officer) → published; "sent back" returns it
to its author. Its state is replayed from the audit log (review_of). Every audit event names the
sha256 of the draft bytes it is about, so the review state belongs to exactly one text: an edit
starts a new round.

Every step has one list of requirements here. CaseStore (store.py) raises the first unmet one before
it writes; the officer pages offer exactly the steps allowed_steps returns. So "may this officer do
this now" is decided in one place, and the app and the command line can never disagree about it.

A step that judges a text (approve, send back, publish) also names the version the officer was shown:
the sha256 of its file (Version.hash). Between reading a draft and clicking, its author may swap in
another text and resubmit it; without that name the click would approve a text its approver never
saw, and four eyes would be two (require_seen).

A published case is withdrawn the same way, by two officers: one proposes it with a reason (naming the
published version read), a second one approves it (withdrawal.WITHDRAWAL_RULES); only then does its file leave the
collection for the archive (archive.py). A proposal belongs to one version: edited since, it is stale.
Those rules are written as these are, in withdrawal.py (this module would outgrow its size otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from moresprudentie.cases.model import force_field_gaps
from moresprudentie.errors import (
    CaseFileError,
    ConflictError,
    MoresprudentieError,
    PersonalDataError,
    UsageError,
    WorkflowError,
)
from moresprudentie.review.audit import Action, Event
from moresprudentie.review.roles import Actor, normalise_name, permission_error, require_officer

if TYPE_CHECKING:
    from moresprudentie.anonymisation.check import Finding
    from moresprudentie.review.layout import Version

State = Literal["draft", "submitted", "approved", "sent_back"]
Step = Literal["submit", "approve", "send_back", "publish", "edit"]
STEPS: tuple[Step, ...] = get_args(Step)
STATE_ORDER: tuple[State, ...] = ("submitted", "approved", "sent_back", "draft")
UNDER_REVIEW: tuple[State, ...] = ("submitted", "approved")
DOING: dict[Step, str] = {  # for "… may not <doing>: only integrity officers may write"
    "edit": "save a draft",
    "submit": "submit a case for review",
    "approve": "approve a case",
    "send_back": "send a case back",
    "publish": "publish a case",
}
RECORDED_AS: dict[Step, Action] = {
    "edit": "drafted",
    "submit": "submitted",
    "approve": "approved",
    "send_back": "sent_back",
    "publish": "published",
}
# Offering, approving or publishing a text with personal data in it is refused (saving it too: store.py).
NEEDS_CLEAN: frozenset[Step] = frozenset({"submit", "approve", "publish"})
JUDGES_A_VERSION: frozenset[Step] = frozenset({"approve", "send_back", "publish"})  # they name the version seen
SHOWN_DIGITS = 12  # how much of a version hash people are shown (review list, messages)
MIN_DIGITS = 8  # the shortest prefix of a version hash accepted as its name
WITHDRAWAL_ACTIONS: frozenset[str] = frozenset(  # about a published file, not a draft
    {"withdrawal_proposed", "withdrawal_cancelled", "withdrawn"}
)
# After these a case starts afresh: nothing approved or proposed before carries over (an import is a publication).
ROUND_ENDS: frozenset[str] = frozenset({"published", "withdrawn", "imported"})


@dataclass(frozen=True)
class Review:
    """Where a draft version stands, derived from the audit log (events since the last publication)."""

    state: State = "draft"
    authors: frozenset[str] = frozenset()
    approvers: tuple[str, ...] = ()
    history: tuple[Event, ...] = field(default_factory=tuple)

    @property
    def second_officer_approved(self) -> bool:
        return any(normalise_name(name) not in self.authors for name in self.approvers)

    @property
    def last_comment(self) -> str:
        return next((e.comment for e in reversed(self.history) if e.comment), "")


def review_of(events: list[Event], draft_hash: str) -> Review:
    """Replay the log of one case for the draft with this hash; a publication starts a new round.

    After a crash between a 'published' event and its write, the draft simply needs a new
    approval: replaying never grants more than was reviewed.
    """
    drafters: set[str] = set()
    submitter: str | None = None
    approvers: list[str] = []
    history: list[Event] = []
    state: State = "draft"
    for event in events:
        if event.action in ROUND_ENDS:
            drafters, submitter, approvers, history, state = set(), None, [], [], "draft"
            continue
        if event.action in WITHDRAWAL_ACTIONS:
            continue  # about the published file, not a draft (see pending_withdrawal)
        history.append(event)
        if event.hash != draft_hash:
            continue  # about an earlier version of the text
        if event.action == "drafted":
            drafters.add(normalise_name(event.actor))
            state = "draft"
        elif event.action == "submitted":
            submitter = submitter or normalise_name(event.actor)
            state = "submitted"
        elif event.action == "approved":
            approvers.append(event.actor)
            state = "approved"
        elif event.action == "sent_back":
            approvers, state = [], "sent_back"
    authors = frozenset(drafters or ({submitter} if submitter else set()))
    return Review(state, authors, tuple(approvers), tuple(history))


def wrote(actor: Actor, review: Review) -> bool:
    """Whether the actor is an author of this version (and so may not approve it: four eyes)."""
    return normalise_name(actor.name) in review.authors


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that stop saving, submission, approval and publication (red); warnings do not."""
    return [finding for finding in findings if finding.severity == "block"]


# -- the requirements, each the error to raise when it is not met ------------------------------------

Rule = Callable[[Actor, "Version", Review], MoresprudentieError | None]


def invalid_error(version: Version) -> CaseFileError:
    """The error for a draft file that is not a valid case, listing what to fix."""
    problems = "; ".join(str(p) for p in version.problems if p.severity == "error")
    return CaseFileError(f"{problems} (fix the case file, then try again)")


def published_error(version: Version) -> WorkflowError | None:
    """A published case file without a revision has no draft: nothing to submit, approve or publish."""
    if version.is_published:
        return WorkflowError(f"'{version.case_id}' is published and has no draft; edit it first to start a revision")
    return None


def _has_draft(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    return published_error(version)


def _valid(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    return invalid_error(version) if version.case is None else None


def _force_field_recorded(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    """A precedent is read by its force field (role, tensions, norms by source, decisive facts): a case
    without one cannot be distinguished from a reader's own, so it is not reviewed or published."""
    gaps = force_field_gaps(version.case) if version.case is not None else []
    if not gaps:
        return None
    listed = "; ".join(f"{field}: {message}" for field, message in gaps)
    return CaseFileError(f"'{version.case_id}' does not yet record its force field ({listed})")


def _not_under_review(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    if review.state in UNDER_REVIEW:
        return WorkflowError(f"'{version.case_id}' is already {review.state}; it is waiting for a second officer")
    return None


def _under_review(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    if review.state not in UNDER_REVIEW:
        return WorkflowError(f"'{version.case_id}' is not submitted for review (state: {review.state})")
    return None


def _reviewable(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    if review.state not in UNDER_REVIEW:
        hint = "submit it first" if review.state == "draft" else "it was sent back; its author must resubmit it"
        return WorkflowError(f"'{version.case_id}' is not submitted for review (state: {review.state}); {hint}")
    return None


def _second_pair_of_eyes(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    if wrote(actor, review):
        return WorkflowError(
            f"you wrote this version of '{version.case_id}'; a second officer must approve it (four-eyes rule)"
        )
    return None


def _not_yet_approved_by_actor(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    if normalise_name(actor.name) in {normalise_name(name) for name in review.approvers}:
        return WorkflowError(f"you already approved '{version.case_id}'; it can be published now")
    return None


def _approved_by_second_officer(actor: Actor, version: Version, review: Review) -> MoresprudentieError | None:
    if review.state != "approved" or not review.second_officer_approved:
        return WorkflowError(
            f"'{version.case_id}' needs approval of this exact version by a second officer (not its author) "
            f"before it can be published (state: {review.state})"
        )
    return None


def unclean_error(version: Version, findings: Iterable[Finding], step: Step = "approve") -> PersonalDataError | None:
    """The error for a draft that still contains personal data (blocking findings), carrying them."""
    found = blocking(findings)
    return PersonalDataError(version.case_id, found, step) if found else None


# -- the version the officer was shown -----------------------------------------------------------------


class StaleVersionError(ConflictError):
    """The officer judged another version than the one on disk now: nothing was recorded.

    `shown` and `current` are the two hashes (shown: as given, when it names no known version), so a
    page can say in its own language what happened.
    """

    def __init__(self, case_id: str, shown: str, current: str, known: bool = True) -> None:
        self.case_id, self.shown, self.current, self.known = case_id, shown, current, known
        seen, now = f"{shown[:SHOWN_DIGITS]}…", f"{current[:SHOWN_DIGITS]}…"
        if known:
            message = f"'{case_id}' changed since you opened it (shown version {seen}, now {now})"
            super().__init__(f"{message}; open it again and review the new version")
        else:  # a typo, or a text that was never recorded: either way not the one on disk
            message = f"'{case_id}': no version of it has the hash {seen} (now {now})"
            super().__init__(f"{message}; check the hash, or open it again and review the version on disk now")

    def __reduce__(self) -> tuple[type, tuple[str, str, str, bool]]:
        """Pickle by the fields (the default would call __init__ with the message alone)."""
        return type(self), (self.case_id, self.shown, self.current, self.known)


def short(version_hash: str) -> str:
    """The prefix of a version hash shown to people; long enough to name it (require_seen)."""
    return version_hash[:SHOWN_DIGITS]


def require_seen(version: Version, seen_hash: str, known: Iterable[str] = ()) -> None:
    """Raise unless `seen_hash` names the version on disk now: the one the officer judges must be this one.

    `seen_hash` is the full sha256 or a prefix of at least MIN_DIGITS hex digits. A prefix must name one
    version among `known` (every hash in the case's audit history) and the file now: an author who
    crafts a new text whose hash starts like the one the reviewer saw makes the prefix ambiguous, so it
    is refused instead of accepted. A prefix naming an older version is a StaleVersionError.
    """
    seen, known = seen_hash.strip().lower(), set(known)
    if not re.fullmatch(rf"[0-9a-f]{{{MIN_DIGITS},64}}", seen):
        raise UsageError(
            f"'{seen_hash}' is not a version hash: give the hash `moresprudentie review list` shows "
            f"(at least {MIN_DIGITS} of its hex digits)"
        )
    if not version.hash.startswith(seen):
        earlier = sorted({h for h in known if h.startswith(seen)})
        shown = earlier[0] if len(earlier) == 1 else seen
        raise StaleVersionError(version.case_id, shown, version.hash, known=bool(earlier))
    if any(h.startswith(seen) and h != version.hash for h in known):
        raise UsageError(
            f"the hash {seen} fits more than one version of '{version.case_id}'; give more digits "
            "(`moresprudentie review list --json` shows the whole hash)"
        )


# In the order they are checked, so an officer hears first about what to do first. Every step also needs
# the officer role (checked before these), and submit, approve and publish a clean anonymisation check
# (after them: NEEDS_CLEAN).
RULES: dict[Step, tuple[Rule, ...]] = {
    "edit": (),
    "submit": (_has_draft, _valid, _force_field_recorded, _not_under_review),
    "approve": (
        _has_draft,
        _valid,
        _force_field_recorded,
        _reviewable,
        _second_pair_of_eyes,
        _not_yet_approved_by_actor,
    ),
    "send_back": (_has_draft, _under_review),
    "publish": (_has_draft, _valid, _force_field_recorded, _approved_by_second_officer),
}


def refusal(
    step: Step,
    actor: Actor,
    version: Version,
    review: Review,
    findings: Callable[[], Iterable[Finding]] = tuple,
) -> MoresprudentieError | None:
    """The first requirement of `step` that is not met, as the error to raise; None when it is allowed.

    `findings` gives the draft's anonymisation findings. It is called last, and only for the steps in
    NEEDS_CLEAN (submit, approve, publish), because the name detector behind it takes seconds to load.
    A draft with personal data is not offered for review: its reviewer could only send it back, and
    "a second officer can approve it now" would not be true.
    """
    if (denied := permission_error(actor, DOING[step])) is not None:
        return denied
    for rule in RULES[step]:
        if (error := rule(actor, version, review)) is not None:
            return error
    return unclean_error(version, findings(), step) if step in NEEDS_CLEAN else None


def require_role(step: Step, actor: Actor, doing: str | None = None) -> None:
    """Raise PermissionDeniedError unless the actor may take steps at all (checked before any disk access)."""
    require_officer(actor, doing or DOING[step])


def require_step(
    step: Step,
    actor: Actor,
    version: Version,
    review: Review,
    findings: Callable[[], Iterable[Finding]] = tuple,
) -> None:
    """Raise the first unmet requirement of `step` (see refusal): what is wrong and what to do."""
    error = refusal(step, actor, version, review, findings)
    if error is not None:
        raise error


def allowed_steps(actor: Actor, version: Version, review: Review, findings: Iterable[Finding] = ()) -> frozenset[Step]:
    """The steps this actor may take on this version now; a non-officer gets none.

    Pass the draft's anonymisation findings (the officer pages have them at hand): without them the
    check counts as clean, and submit, approve or publish would be offered and then refused by the store.
    """
    found = list(findings)
    return frozenset(step for step in STEPS if refusal(step, actor, version, review, lambda: found) is None)
