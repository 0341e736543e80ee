"""What changed since a draft was sent back, above the draft on Beoordelen: its reviewer judges the edit.

The library compares (review/changes.py); this draws it. Each changed field under its own label with
its words marked, removed ones struck through on red and added ones bold on green (a mark besides the
colour, for whoever cannot tell red from green), and the unchanged fields only named, folded away.

Case text is user input: every word goes through widgets.md_inline (inert Markdown: no markup, HTML
or live link), as everywhere else in the app, and only then into the marks, Streamlit's own
background directives. No HTML is built from case text, so none can slip through.
"""

from __future__ import annotations

import streamlit as st

from moresprudentie.errors import MoresprudentieError
from moresprudentie.review.changes import Changes, Kind, Piece
from moresprudentie.review.store import CaseStore, QueueItem
from moresprudentie.ui.components import officer
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import md_inline

MARKS: dict[Kind, str] = {"removed": ":red-background[~~{}~~]", "added": ":green-background[**{}**]"}
LINE_BREAK = "¶"  # a removed or added line break, which would otherwise show as nothing at all


def _mark(kind: Kind, words: str) -> str:
    """Words already made inert (md_inline), marked as removed or added; the same ones as they are."""
    return MARKS[kind].format(words) if kind in MARKS else words


def marked(pieces: tuple[Piece, ...]) -> str:
    """A field's pieces as one inert Markdown text, its line breaks kept (as hard breaks).

    Each line of each piece is escaped on its own, its edge spaces kept outside the marks (a strike
    or bold that starts with a space is not drawn) and dropped at the start of a line (indentation
    would make a code block).
    """
    out: list[str] = []
    line_start = True
    for piece in pieces:
        for number, line in enumerate(piece.text.split("\n")):
            if number:
                out.append(_mark(piece.kind, LINE_BREAK) + "  \n" if piece.kind in MARKS else "  \n")
                line_start = True
            words = line.strip()
            if not words:
                out.append("" if line_start or not line else " ")
                continue
            lead = " " if line[0].isspace() and not line_start else ""
            trail = " " if line[-1].isspace() else ""
            out.append(lead + _mark(piece.kind, md_inline(words)) + trail)
            line_start = False
    return "".join(out)


def show(store: CaseStore, item: QueueItem) -> None:
    """The draft's changes since it was last sent back, in a bordered box; nothing when it was not."""
    try:
        found = store.changes_since_sent_back(item.version, item.review)
    except MoresprudentieError:  # the store cannot be read now: the case below is still the one judged
        return
    if found is not None:
        with st.container(border=True):
            _changes(found)


def _changes(found: Changes) -> None:
    event = found.sent_back
    st.subheader(t("review.changes.title"), anchor=False)
    st.caption(t("review.changes.sent_back_by", name=md_inline(event.actor), when=officer.when(event.time)))
    if event.comment:
        st.info(md_inline(event.comment), icon=":material/rate_review:")
    if found.fields is None:
        st.warning(t("review.changes.not_kept"), icon=":material/history_toggle_off:")
        return
    if not found.changed:
        st.success(t("review.changes.none"), icon=":material/check_circle:")
    else:
        st.caption(t("review.changes.legend"))
    for field in found.changed:
        st.markdown(f"**{t(f'fields.{field.field}')}**")
        st.markdown(marked(field.pieces))
    if found.changed and found.unchanged:
        with st.expander(t("review.changes.unchanged", count=len(found.unchanged))):
            st.markdown(", ".join(t(f"fields.{field.field}") for field in found.unchanged))
