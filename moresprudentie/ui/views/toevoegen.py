"""Casus toevoegen (officers only): write, edit or upload a case, see what an employee will see,
fix identifying details in one click (or all at once), and save it as a draft (optionally submitting
it for review).

Everything here goes through the library: authoring.case_from_fields validates exactly as the case
file reader does (its problems worded in the UI language by messages.py), the anonymisation check runs
per field, and CaseStore.save_draft enforces the officer role, exclusive creation and the "changed
since you opened it" check.

No personal data at rest: a draft with red findings is not saved, because the case folder is often in
git and in back-ups (AVG: data minimisation). The save buttons are disabled with the reason beside
them, this page refuses again when clicked, and the store refuses too (its refusal is shown in the UI
language). What a message says happens next is what happens: "submitted" only after the store took
the step.
"""

import functools
import re
from typing import Any

import streamlit as st

from moresprudentie.anonymisation.check import Finding
from moresprudentie.cases.loading import MAX_FILE_BYTES, Problem, parse_case
from moresprudentie.cases.model import REQUIRED_FIELDS, Case, force_field_gaps
from moresprudentie.errors import CaseFileError, MoresprudentieError, WorkflowError
from moresprudentie.review.authoring import case_from_fields, usable_fields
from moresprudentie.review.roles import Actor
from moresprudentie.ui.components import auth, case_form, duplicate_choice, messages, nav, officer, render, resources
from moresprudentie.ui.components.i18n import t
from moresprudentie.ui.components.widgets import md_inline, uploaded_file

MODES = ("new", "edit", "upload")
MODE, PICK, UPLOAD, UPLOAD_PROBLEMS = "add_mode", "add_pick", "add_upload", "add_upload_problems"
UPLOAD_PARTLY = "add_upload_partly"  # the file was not a case, but its valid fields filled the form
OUTCOME = "add_outcome"  # what the last save did: (kind, markdown, error), shown once beside the buttons
PLACEHOLDER = re.compile(r"\[[^\[\]\n]{2,40}\]")  # what a replacement leaves: [naam], [telefoonnummer]


def _open(case_id: str | None) -> None:
    """Load a case (its revision, if one is being prepared) into the form, remembering its hash."""
    if not case_id:
        return
    try:
        version = resources.case_store().editable_version(case_id)
    except MoresprudentieError as exc:
        officer.flash(exc)
        return
    if version.case is None:
        officer.flash(CaseFileError("; ".join(messages.located(p) for p in version.problems)))
        return
    published = not version.is_revision and version.case.is_published
    case_form.load(version.case, version.hash, published)


def _form_holds(case_id: str) -> bool:
    """Whether the form already holds the version of this case that is on disk now (then "Bewerken"
    keeps what the officer typed since). A version changed meanwhile is loaded afresh: editing the
    old one could only end in a conflict."""
    if case_id != st.session_state.get(case_form.EDITING):
        return False
    try:
        return resources.case_store().editable_version(case_id).hash == st.session_state.get(case_form.EXPECTED_HASH)
    except MoresprudentieError:
        return False


def _upload() -> None:
    """An uploaded YAML file goes through the file reader's checks, then fills the form as a new case."""
    file = uploaded_file(UPLOAD)
    st.session_state[UPLOAD_PROBLEMS], st.session_state[UPLOAD_PARTLY] = [], False
    if file is None:
        return
    data = file.getvalue()
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 1024
        st.session_state[UPLOAD_PROBLEMS] = [t("add.upload_too_big", kib=len(data) // 1024, limit=limit)]
        return
    case, problems = parse_case(data, file.name)
    if case is not None:
        case_form.load(case)
        officer.flash(t("add.upload_loaded"))
        return
    st.session_state[UPLOAD_PROBLEMS] = [messages.located(problem) for problem in problems]
    fields = usable_fields(data)
    if any(value not in (None, "", []) for value in fields.values()):  # a scaffold, or a draft with gaps
        case_form.start_from(fields)
        st.session_state[UPLOAD_PARTLY] = True


def _personal_data(findings: list[Finding], step: str) -> str:
    """Why a draft with personal data is not saved (or not submitted), with each finding's field and kind."""
    listed = "; ".join(
        f"{messages.field_label(finding.field) or finding.field}: {officer.kind_label(finding)}" for finding in findings
    )
    return t(f"add.refused.{step}", listed=md_inline(listed))


def _refused(exc: MoresprudentieError, step: str) -> tuple[str, MoresprudentieError | None]:
    """A store's refusal in the UI language: the personal data it names, else the error itself (shown
    with a headline in the UI language by officer.show_error)."""
    findings = [finding for finding in getattr(exc, "findings", None) or [] if getattr(finding, "blocks", True)]
    if isinstance(exc, WorkflowError) and findings:
        return _personal_data(findings, step), None
    return "", exc


def _save(actor: Actor, submit: bool, choice: duplicate_choice.Choice | None = None) -> None:
    """Save the form as a draft (and submit it); the outcome is shown beside the buttons on the next run.

    `choice` is what the officer said about a near-copy (duplicate_choice): without it, a near-copy is
    saved but not submitted, and the choice is asked for first."""
    values = case_form.values()
    case, _ = case_from_fields(values)
    if case is None:
        return
    found = [finding for field_findings in case_form.check(values).values() for finding in field_findings]
    blocking = [finding for finding in found if finding.blocks]
    if blocking:  # the buttons were disabled; a click that raced an edit is refused here too
        st.session_state[OUTCOME] = ("error", _personal_data(blocking, "save"), None)
        return
    store = resources.case_store()
    try:
        saved = store.save_draft(case, actor, st.session_state.get(case_form.EXPECTED_HASH))
    except MoresprudentieError as exc:
        st.session_state[OUTCOME] = ("error", *_refused(exc, "save"))
        return
    st.session_state[case_form.EXPECTED_HASH] = saved.hash
    st.session_state[case_form.EDITING] = case.id
    if not submit:
        message = t("add.saved" if saved.changed else "add.unchanged", id=md_inline(case.id))
        st.session_state[OUTCOME] = ("success", message, None)
        return
    _submit(actor, case, len(found), choice)


def _submit(actor: Actor, case: Case, warnings: int, choice: duplicate_choice.Choice | None) -> None:
    """Submit the saved draft, with the near-copy note in the audit log as `review submit` records it; a
    near-copy without a choice waits for one (duplicate_choice shows it beside the buttons)."""
    store, submitted = resources.case_store(), False
    try:
        note = duplicate_choice.submit_note(actor, case, choice)
        if note is None:
            return
        store.submit(case.id, actor, note)
        submitted = True
    except MoresprudentieError as exc:
        text, error = _refused(exc, "submit")
        note = t("add.saved_not_submitted", id=md_inline(case.id))
        st.session_state[OUTCOME] = ("error", f"{note}  \n{text}" if text else note, error)
    finally:
        if choice is not None and choice.links:  # a link may be saved into the draft: the form shows it
            _open(case.id)
    if not submitted:
        return
    message = " ".join(
        part for part in (t("add.submitted", id=md_inline(case.id)), duplicate_choice.chosen_text(choice)) if part
    )
    if warnings:  # only warnings are left (red ones were refused above): the reviewer will weigh them
        message += " " + t("add.submitted_warnings", count=warnings)
    st.session_state[OUTCOME] = ("success", message, None)


def _show_outcome() -> None:
    """The last save's outcome, once: a success, or a refusal in the UI language (and the error behind it)."""
    outcome = st.session_state.pop(OUTCOME, None)
    if outcome is None:
        return
    kind, text, error = outcome
    if kind == "success":
        st.success(text, icon=":material/check_circle:")
        return
    if text:
        st.error(text, icon=":material/block:")
    if error is not None:
        officer.show_error(error)


def _choose_source() -> None:
    """New, edit or upload: the three ways into the form."""
    mode = st.segmented_control(
        t("add.mode"), MODES, key=MODE, format_func=lambda m: t(f"add.modes.{m}"), default="new", required=True
    )
    if mode == "edit":
        drafts = resources.review_queue()
        ids = sorted(set(resources.engine().cases) | {item.version.case_id for item in drafts})
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.selectbox(t("add.edit_pick"), ids, key=PICK, index=None, placeholder=t("add.edit_placeholder"))
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
        listed = "\n".join(f"- {md_inline(p)}" for p in problems)
        if problems and st.session_state.get(UPLOAD_PARTLY):
            st.warning(t("add.upload_partly") + "\n\n" + listed, icon=":material/edit_note:")
        elif problems:
            st.error(t("add.upload_invalid") + "\n\n" + listed)
    else:
        st.button(t("add.clear"), on_click=case_form.load, args=(None,), icon=":material/note_add:")


def _status_note() -> None:
    """Which case is being edited and, when a reviewer sent it back, what they asked for: the author
    edits here, and should not have to keep the review page open beside the form."""
    editing = st.session_state.get(case_form.EDITING)
    if editing:
        st.info(t("add.editing", id=md_inline(editing)), icon=":material/edit:")
        if st.session_state.get(case_form.PUBLISHED):
            st.caption(t("add.editing_published"))
        try:
            _, review = resources.case_store().current_review(editing)
        except MoresprudentieError:  # removed or published meanwhile: the save says so
            return
        officer.show_remark(review, next_step="add.remark_next")


def _labels(fields: list[str]) -> str:
    """Field names as the form shows them, each once, in form order."""
    unique = list(dict.fromkeys(field.split(".")[0] for field in fields))
    return ", ".join(md_inline(messages.field_label(field)) for field in unique)


def save_reasons(errors: list[Problem], blocking: list[Finding]) -> list[str]:
    """Why saving is not possible yet: empty required fields, invalid fields, personal data."""
    empty = [p for p in errors if p.code == "missing_field" and (p.field or "") in REQUIRED_FIELDS]
    invalid = [p for p in errors if p not in empty]
    missing = [p.field or "" for p in empty]
    reasons = [t("add.reasons.missing", fields=_labels(missing))] if missing else []
    if invalid:
        named = [p.field for p in invalid if p.field]
        reasons.append(t("add.reasons.invalid", fields=_labels(named)) if named else t("add.reasons.invalid_other"))
    if blocking:
        reasons.append(t("add.reasons.personal_data", count=len(blocking)))
        picked = [f.field for f in blocking if f.field.split(".")[0] in case_form.VOCABULARY_FIELDS]
        if picked:
            reasons.append(t("add.reasons.personal_data_terms", fields=_labels(picked)))
    return reasons


def submit_reasons(saving: list[str], gaps: list[str]) -> list[str]:
    """Why submitting is not possible yet: what stops saving (said once, beside that button), and the
    force field still to fill in."""
    reasons = [t("add.reasons.as_save")] if saving else []
    if gaps:
        reasons += [t("add.gaps.submit_later")] if not saving else []
        reasons.append(t("add.reasons.force_field", fields=_labels(gaps)))
    return reasons


def _placeholders_left(form: dict[str, Any]) -> bool:
    """Whether a text still holds a replacement's placeholder ("[naam] belde"), to be rewritten."""
    texts = [item for value in form.values() for item in (value if isinstance(value, list) else [value])]
    return any(PLACEHOLDER.search(item) for item in texts if isinstance(item, str))


def _replace_all(found: dict[str, list[Finding]], form: dict[str, Any]) -> None:
    """One click for every finding with a suggested replacement; after it, until the placeholders are
    rewritten, the hint to make the sentences read naturally."""
    count = sum(len(field_findings) for field_findings in case_form.replaceable(found).values())
    if st.session_state.get(case_form.REPLACED) and _placeholders_left(form):
        st.info(t("findings.replaced"), icon=":material/edit_note:")
    if not count:
        return
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.button(
        t("findings.replace_all", count=count),
        key="replace_all",
        on_click=case_form.replace_all,
        icon=":material/find_replace:",
        width="stretch",
    )
    right.caption(t("findings.replace_all_help"))


def _buttons(actor: Actor, saving: list[str], submitting: list[str], case_id: str | None) -> None:
    """The two save buttons, each with the reason beside it when it is disabled; above them, while one
    is owed, the choice about a near-copy (whose Aanbieden submits with it)."""
    _show_outcome()
    duplicate_choice.render(case_id, functools.partial(_save, actor, True), disabled=bool(submitting))
    left, right = st.columns(2)
    officer.wide_button(
        left, t("add.save"), (_save, (actor, False)), ":material/save:", primary=True, disabled=bool(saving)
    )
    officer.wide_button(
        right, t("add.save_submit"), (_save, (actor, True)), ":material/send:", disabled=bool(submitting)
    )
    for slot, reasons in ((left, saving), (right, submitting)):
        if reasons:
            slot.caption(":material/info: " + "  \n".join(reasons))


st.title(t("nav.add_case"), anchor=False)  # first: a visitor, too, sees which page this is
actor = auth.officer_or_stop()
case_form.init()
deep_link = st.query_params.pop("edit", None)  # "Bewerken" from the review page
if deep_link and not _form_holds(deep_link):
    _open(deep_link)

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
gaps = [field for field, _ in force_field_gaps(case)] if case is not None else []
if case is None:
    gaps = [field for field in case_form.FORCE_FIELD if not values.get(field)]

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
    if gaps:
        st.warning(t("add.gaps.intro") + "\n\n" + "\n".join(f"- {case_form.gap_text(field)}" for field in gaps))
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

_replace_all(found, values)
saving = save_reasons(errors, [finding for finding in all_found if finding.blocks])
_buttons(actor, saving, submit_reasons(saving, gaps), case.id if case is not None else values.get("id"))
st.page_link(nav.REVIEW.path, label=t("add.to_review"), icon=":material/fact_check:")
