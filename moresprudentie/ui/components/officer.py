"""Shared pieces of the officer pages: anonymisation findings, workflow errors, flash messages.

A finding is shown in its context with the flagged words highlighted (red blocks publication,
orange warns), and on the add-case page with one-click buttons to replace it or to put it on the
case's allow-list. All case text is escaped (widgets.md_inline) before it is highlighted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.anonymisation.check import Finding
from moresprudentie.errors import MoresprudentieError
from moresprudentie.review import steps
from moresprudentie.review.audit import Event
from moresprudentie.review.roles import normalise_name
from moresprudentie.ui.components.i18n import strings, t
from moresprudentie.ui.components.widgets import md_inline, moment

CONTEXT_CHARS = 45
FLASH = "officer_flash"  # a message from a button callback, shown once on the next run
Callback = tuple[Callable[..., None], tuple[Any, ...]]


@st.cache_resource(show_spinner=False)
def _warm() -> bool:
    anonymisation.warm_up()  # Deduce builds its lookup structures once per server process
    return True


def ready() -> None:
    """Load the name detector once per process, with a spinner the first time."""
    with st.spinner(t("findings.loading")):
        _warm()


def snippet(text: str, finding: Finding) -> str:
    """The finding in its sentence, as inert Markdown with the flagged words highlighted."""
    return in_context(text, finding.start, finding.end, "red" if finding.severity == "block" else "orange")


def in_context(text: str, first: int, last: int, colour: str) -> str:
    """text[first:last] in its sentence, as inert Markdown, highlighted in `colour`."""
    start, end = max(0, first - CONTEXT_CHARS), min(len(text), last + CONTEXT_CHARS)
    before, hit, after = text[start:first], text[first:last], text[last:end]
    left = ("… " if start else "") + md_inline(before) + (" " if before[-1:].isspace() else "")
    right = (" " if after[:1].isspace() else "") + md_inline(after) + (" …" if end < len(text) else "")
    return f"{left}:{colour}-background[{md_inline(hit)}]{right}"


def allowed_places(texts: dict[str, str], terms: list[str]) -> list[tuple[str, str]]:
    """Where a case's allowed terms stand in its texts: (field, the place in its sentence, in blue).

    Why: an allowed term silences the check wherever it occurs, so the reviewer who approves the
    allow-list should read each place it silences, not only the list ("De Meeuwen" the football club
    is fine; the same words as a colleague's surname are not). Case-insensitive, as the check is."""
    places = []
    for field, text in texts.items():
        if field.startswith("allowed_terms"):
            continue
        for term in filter(None, (term.strip() for term in terms)):
            for found in re.finditer(re.escape(term), text, re.IGNORECASE):
                places.append((field, in_context(text, found.start(), found.end(), "blue")))
    return places


def kind_label(finding: Finding) -> str:
    return t(f"findings.kinds.{finding.kind}")


def row(
    text: str, finding: Finding, key: str, on_replace: Callback | None = None, on_allow: Callback | None = None
) -> None:
    """One finding: where it is, what it is, and (when callbacks are given) how to fix it in one click."""
    with st.container(border=True):
        icon = ":material/block:" if finding.severity == "block" else ":material/warning:"
        st.markdown(f"{icon} **{md_inline(kind_label(finding))}** · {snippet(text, finding)}")
        if on_replace is None and on_allow is None:
            return
        left, right = st.columns(2)
        if on_replace is not None:
            label = t("findings.replace", replacement=finding.replacement)
            wide_button(left, label, on_replace, ":material/find_replace:", key=f"replace.{key}")
        if on_allow is not None:
            label, tip = t("findings.allow"), t("findings.allow_help")
            wide_button(right, label, on_allow, ":material/check:", key=f"allow.{key}", help=tip)


def wide_button(
    slot: DeltaGenerator,
    label: str,
    callback: Callback,
    icon: str,
    *,
    primary: bool = False,
    disabled: bool = False,
    key: str | None = None,
    help: str | None = None,
) -> None:
    """A button filling its column that acts through a callback (which flashes the outcome for the next run)."""
    slot.button(
        label,
        key=key,
        help=help,
        on_click=callback[0],
        args=callback[1],
        type="primary" if primary else "secondary",
        icon=icon,
        disabled=disabled,
        width="stretch",
    )


def step_button(
    label: str, callback: Callback, icon: str, *, primary: bool = False, why: str | None = None, key: str | None = None
) -> None:
    """One workflow step as a full-width button; with `why` it is disabled and says why right under it.

    Full width, one under the other: the whole label shows in a narrow side column (1400 px) and on a
    phone (390 px), where buttons side by side were cut to "Goedk…". A greyed-out button without a
    reason leaves an officer guessing what to do, so a disabled one never comes without its reason.
    `key` where one page has the same step more than once (a button per proposed withdrawal).
    """
    box = st.container(gap="small")
    wide_button(box, label, callback, icon, primary=primary and why is None, disabled=why is not None, key=key)
    if why is not None:
        box.caption(f":material/info: {why}")


def summary(found: list[Finding]) -> None:
    """Counts of blocking findings and warnings, or a calm 'nothing found', plus the check's limits."""
    blocking = sum(1 for finding in found if finding.severity == "block")
    warnings = len(found) - blocking
    if blocking:
        st.error(t("findings.blocking", count=blocking), icon=":material/block:")
    if warnings:
        st.warning(t("findings.warnings", count=warnings), icon=":material/warning:")
    if not found:
        st.success(t("findings.none"), icon=":material/verified_user:")
    st.caption(t("findings.limits"))


def show_error(exc: MoresprudentieError) -> None:
    """A library error: a headline in the UI language, then the library's own words (what and how to fix)."""
    name = type(exc).__name__
    headline = t(f"workflow_errors.{name}" if name in strings()["workflow_errors"] else "workflow_errors.other")
    st.error(f"**{headline}**  \n{md_inline(str(exc))}", icon=":material/error:")


def flash(message: str | MoresprudentieError) -> None:
    """Remember a success text or an error for the next run (callbacks cannot draw where it belongs)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    """Show the remembered message once."""
    message = st.session_state.pop(FLASH, None)
    if isinstance(message, MoresprudentieError):
        show_error(message)
    elif message:
        st.success(message, icon=":material/check_circle:")


def when(timestamp: str) -> str:
    """An audit time as Markdown: Dutch clock time, or the text as written (escaped) if it is no time."""
    shown = moment(timestamp)
    return shown if shown != timestamp else md_inline(timestamp)


def reviewer_remark(review: steps.Review) -> Event | None:
    """The last remark by someone other than this version's authors: what the reviewer asked for."""
    others = (e for e in reversed(review.history) if e.comment and normalise_name(e.actor) not in review.authors)
    return next(others, None)


def show_remark(review: steps.Review, *, next_step: str) -> None:
    """The reviewer's last remark for the author, on the review page and on the form they edit in;
    `next_step` (a strings key) says what to do once the draft is back with its author."""
    remark = reviewer_remark(review)
    if remark is None:
        return
    title = t("review.remark_title", name=md_inline(remark.actor), when=when(remark.time))
    text = f"**{title}**\n\n{md_inline(remark.comment)}"
    if review.state in ("sent_back", "draft"):
        text += f"\n\n{t(next_step)}"
    st.warning(text, icon=":material/rate_review:")
