"""The full case as employees see it: one renderer for the case page, session prep and previews.

The officer pages reuse `case_body` for the preview of a draft, so what an officer approves is
exactly what an employee will read. All case text goes through `widgets.md` (inert). The norms are
not a list here: the force-field panel draws them by source, beside the role and the tensions.
"""

from __future__ import annotations

import streamlit as st

from moresprudentie.cases.model import Case
from moresprudentie.ui.components import forcefield_panel
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import chips, md, md_inline, meta_line

OUTCOME_FIELDS = ("judgement", "reasoning", "dissent")


def case_header(case: Case, page_title: bool = True) -> None:
    """Title (the page's own, or a section header inside another page), meta line and chips."""
    (st.title if page_title else st.header)(md_inline(case.title), anchor=False)
    st.caption(meta_line(case))
    st.markdown(f"{chips('themes', case.themes, 'violet')} {chips('values', case.values, 'blue')}")


def section(field: str, value: str | list[str] | None) -> None:
    """One field under its heading: text as paragraphs, lists as bullets; nothing when empty."""
    if not value:
        return
    st.subheader(t(f"fields.{field}"), anchor=False)
    if isinstance(value, list):
        st.markdown("\n".join(f"- {md_inline(item)}" for item in value))
    else:
        st.markdown(md(value))


def case_body(case: Case, *, outcome: bool = True, questions: bool = True) -> None:
    """Situation to lessons, then the force field; `outcome=False` leaves out judgement, reasoning,
    dissent and lessons, and the panel then keeps quiet about what prevailed and why."""
    for field in ("situation", "dilemma", "options", "stakeholders"):
        section(field, getattr(case, field))
    if outcome:
        for field in (*OUTCOME_FIELDS, "lessons"):
            section(field, getattr(case, field))
    forcefield_panel.show(case, outcome=outcome)
    if questions:
        section("discussion_questions", case.discussion_questions)
        section("variations", case.variations)
