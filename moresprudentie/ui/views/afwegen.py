"""Weeg je eigen dilemma: an employee walks through their own dilemma in six steps, privately.

Dilemma and choices, the values in tension, the norms from four sources, the room and its limits,
whom to involve, and then the closest precedents. Nothing leaves this browser session: the answers
live in st.session_state only (each widget keeps its value across steps and pages with
persist_state="session"); no file is written, nothing is logged, nothing is indexed, and the search
only reads the shared engine. The one copy that leaves is the document the employee downloads
(moresprudentie.weighing). "Begin opnieuw" forgets everything.

This script is the stepper: the steps themselves are drawn by components/weigh_steps.py.
"""

import streamlit as st

from moresprudentie.ui.components import weigh_steps
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.weigh_steps import KEEP, STEP, STEPS

NAMES = tuple(STEPS)


def _stepper() -> int:
    """The steps as a row of buttons: any step can be opened at any time."""
    names = [f"{n + 1}. {t(f'weigh.steps.{step}')}" for n, step in enumerate(NAMES)]
    return st.segmented_control(
        t("weigh.stepper"),
        range(len(NAMES)),
        key=STEP,
        required=True,
        format_func=names.__getitem__,
        label_visibility="collapsed",
        width="stretch",
        persist_state=KEEP,
    )


def _navigation(step: int) -> None:
    previous, following, _, restart = st.columns([1, 1, 2, 1.3])
    previous.button(
        t("weigh.previous"),
        on_click=weigh_steps.go,
        args=(step - 1,),
        disabled=step == 0,
        icon=":material/arrow_back:",
        width="stretch",
    )
    following.button(
        t("weigh.next"),
        on_click=weigh_steps.go,
        args=(step + 1,),
        disabled=step == len(NAMES) - 1,
        type="primary",
        icon=":material/arrow_forward:",
        width="stretch",
    )
    restart.button(
        t("weigh.restart"),
        on_click=weigh_steps.restart,
        help=t("weigh.restart_help"),
        icon=":material/restart_alt:",
        width="stretch",
    )


weigh_steps.start()
st.title(t("weigh.title"), anchor=False)
st.caption(t("weigh.intro"))
st.caption(f":material/lock: {t('weigh.privacy')}")
current = _stepper()
with st.container(border=True):
    st.caption(t("weigh.step_of", number=current + 1, total=len(NAMES)))
    st.subheader(t(f"weigh.questions.{NAMES[current]}"), anchor=False)
    STEPS[NAMES[current]]()
_navigation(current)
