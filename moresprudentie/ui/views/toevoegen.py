"""Casus toevoegen (officers only): write, edit or upload a case, see what an employee will see,
fix identifying details in one click, and save it as a draft (optionally submitting it for review).

Everything here goes through the library: authoring.case_from_fields validates exactly as the case
file reader does, the anonymisation check runs per field, and CaseStore.save_draft enforces the
officer role, exclusive creation and the "changed since you opened it" check.
"""

import streamlit as st

from moresprudentie import settings
from moresprudentie.cases.loading import MAX_FILE_BYTES, parse_case
from moresprudentie.errors import CaseFileError, MoresprudentieError
from moresprudentie.review.authoring import case_from_fields
from moresprudentie.review.roles import Actor
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components import auth, case_form, nav, officer, render, resources
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import md_inline, uploaded_file

MODES = ("new", "edit", "upload")
MODE, PICK, UPLOAD, UPLOAD_PROBLEMS = "add_mode", "add_pick", "add_upload", "add_upload_problems"


def _open(case_id: str | None) -> None:
    """Load a case (its revision, if one is being prepared) into the form, remembering its hash."""
    if not case_id:
        return
    try:
        version = CaseStore(settings.cases_dir()).editable_version(case_id)
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    if version.case is None:
        officer.flash(CaseFileError("; ".join(str(p) for p in version.problems)))
        return
    published = not version.is_revision and version.case.is_published
    case_form.load(version.case, version.hash, published)


def _upload() -> None:
    """An uploaded YAML file goes through the file reader's checks, then fills the form as a new case."""
    file = uploaded_file(UPLOAD)
    st.session_state[UPLOAD_PROBLEMS] = []
    if file is None:
        return
    data = file.getvalue()
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 1024
        st.session_state[UPLOAD_PROBLEMS] = [t("add.upload_too_big", kib=len(data) // 1024, limit=limit)]
        return
    case, problems = parse_case(data, file.name)
    if case is None:
        st.session_state[UPLOAD_PROBLEMS] = [str(problem) for problem in problems]
        return
    case_form.load(case)
    officer.flash(t("add.upload_loaded"))


def _save(actor: Actor, submit: bool) -> None:
    """Save the form as a draft (and submit it); the outcome is shown on the next run."""
    case, _ = case_from_fields(case_form.values())
    if case is None:
        return
    store = CaseStore(settings.cases_dir())
    try:
        saved = store.save_draft(case, actor, st.session_state.get(case_form.EXPECTED_HASH))
        if submit:
            store.submit(case.id, actor)
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    st.session_state[case_form.EXPECTED_HASH] = saved.hash
    st.session_state[case_form.EDITING] = case.id
    message = "add.submitted" if submit else "add.saved" if saved.changed else "add.unchanged"
    officer.flash(t(message, id=case.id))


def _choose_source() -> None:
    """New, edit or upload: the three ways into the form."""
    mode = st.segmented_control(
        t("add.mode"), MODES, key=MODE, format_func=lambda m: t(f"add.modes.{m}"), default="new", required=True
    )
    if mode == "edit":
        drafts = CaseStore(settings.cases_dir()).review_queue()
        ids = sorted(set(resources.engine().cases) | {item.version.case_id for item in drafts})
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.selectbox(t("add.edit_pick"), ids, key=PICK, index=None)
        right.button(t("add.edit_open"), on_click=lambda: _open(st.session_state.get(PICK)), width="stretch")
    elif mode == "upload":
        kib = MAX_FILE_BYTES // 1024
        st.file_uploader(
            t("add.upload_label"),
            type=["yaml", "yml"],
            key=UPLOAD,
            on_change=_upload,
            help=t("add.upload_help", kib=kib),
        )
        problems = st.session_state.get(UPLOAD_PROBLEMS) or []
        if problems:
            st.error(t("add.upload_invalid") + "\n\n" + "\n".join(f"- {md_inline(p)}" for p in problems))
    else:
        st.button(t("add.clear"), on_click=case_form.load, args=(None,), icon=":material/note_add:")


def _status_note() -> None:
    editing = st.session_state.get(case_form.EDITING)
    if editing:
        st.info(t("add.editing", id=md_inline(editing)), icon=":material/edit:")
        if st.session_state.get(case_form.PUBLISHED):
            st.caption(t("add.editing_published"))


actor = auth.officer_or_stop()
case_form.init()
deep_link = st.query_params.get("edit")
if deep_link and deep_link != st.session_state.get(case_form.EDITING):  # "Bewerken" from the review page
    _open(deep_link)
    st.query_params.pop("edit", None)

st.title(t("nav.add_case"), anchor=False)
st.markdown(t("add.intro"))
officer.show_flash()
_choose_source()
_status_note()

officer.ready()
values = case_form.values()
case, problems = case_from_fields(values, "formulier")
found = case_form.check(values)
all_found = [finding for field_findings in found.values() for finding in field_findings]
errors = [problem for problem in problems if problem.severity == "error"]

form_tab, check_tab, preview_tab = st.tabs(
    [t("add.tabs.form"), t("add.tabs.check", count=len(errors) + len(all_found)), t("add.tabs.preview")]
)
with form_tab:
    case_form.render(problems, found)
with check_tab:
    if errors:
        st.error(t("add.problems") + "\n\n" + "\n".join(f"- {md_inline(case_form.problem_text(p))}" for p in errors))
    else:
        st.success(t("add.all_valid"), icon=":material/check_circle:")
    officer.summary(all_found)
    st.markdown(t("findings.intro"))
with preview_tab:
    if case is None:
        st.info(t("add.preview_invalid"), icon=":material/visibility_off:")
    else:
        st.caption(t("add.preview_intro"))
        with st.container(border=True):
            render.case_header(case)
            render.case_body(case)

left, right = st.columns(2)
officer.wide_button(
    left, t("add.save"), (_save, (actor, False)), ":material/save:", primary=True, disabled=case is None
)
officer.wide_button(right, t("add.save_submit"), (_save, (actor, True)), ":material/send:", disabled=case is None)
st.page_link(nav.REVIEW.path, label=t("add.to_review"), icon=":material/fact_check:")
