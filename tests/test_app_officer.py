"""The officer pages ("Casus toevoegen", "Beoordelen") with AppTest: login and roles, the form with
live validation and one-click fixes, upload, the four-eyes review and publication into search.

The name detector (Deduce) is replaced by a tiny fake that flags one seeded surname, so these tests
run in seconds; the real detectors are tested in test_anonymisation.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SURNAME, write_case
from streamlit.testing.v1 import AppTest

from moresprudentie import settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.loading import MAX_FILE_BYTES
from moresprudentie.review import audit
from moresprudentie.review.authoring import scaffold
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components import auth, nav
from moresprudentie.ui.components.i18n import text
from moresprudentie.ui.components.widgets import md_inline

ANNA = {"is_logged_in": True, "email": "anna@example.nl"}
BRAM = {"is_logged_in": True, "email": "Bram@Example.nl"}
PIET = {"is_logged_in": True, "email": "piet@example.nl"}


@pytest.fixture
def cases(search_cases: Path) -> Path:
    """The small search collection (conftest), named as the workflow calls here name it."""
    return search_cases


@pytest.fixture
def app(cases: Path, officer_page) -> Callable[..., AppTest]:
    """make(page, user=None, secrets=True): the app opened on an officer page as a given user."""
    return lambda page, user=None, secrets=True: officer_page(cases, page, user, secrets)


def shown(at: AppTest) -> str:
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success")
    links = [e.proto.label for e in at.get("page_link")]
    return "\n".join([*(str(e.value) for kind in kinds for e in at.get(kind)), *links])


def button(at: AppTest, label_key: str, **values: object):
    label = text(label_key, "nl", **values)
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button '{label}' in {[b.label for b in at.button]}"
    return matches[0]


def write_controls(at: AppTest) -> list:
    """Every input or button except logging in and out (in the sidebar on every page)."""
    account = {text("auth.login", "nl"), text("auth.logout", "nl")}
    buttons = [b for b in at.button if b.label not in account]
    return [*at.text_area, *at.text_input, *at.multiselect, *at.selectbox, *at.get("file_uploader"), *buttons]


def run(target) -> AppTest:
    """Run the app (or the app of a clicked widget) and check that no page raised."""
    at = target.run()
    assert not at.exception, at.exception
    return at


def trial_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial mode for the local browser that opened the start-up link (AppTest sends no headers)."""
    token = "t" * 43
    monkeypatch.setenv(auth.TRIAL_ENV, "1")
    monkeypatch.setenv(auth.TRIAL_TOKEN_ENV, token)
    monkeypatch.setattr(auth, "server_port", lambda: 8501)
    monkeypatch.setattr(auth, "_request_headers", lambda: {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501"})
    monkeypatch.setattr(auth, "_session_token", lambda: token)


# -- who may write ---------------------------------------------------------------------------------


ADMIN_WORDS = ("secrets.toml", "docs/deployment.md", "MORESPRUDENTIE_TRIAL_OFFICER", "[auth]", "[moresprudentie]")


def in_expanders(at: AppTest) -> tuple[list[str], str]:
    """The labels of the page's expanders, and every text inside them."""
    inside = [e for expander in at.expander for kind in ("markdown", "info", "caption") for e in expander.get(kind)]
    return [expander.label for expander in at.expander], "\n".join(str(e.value) for e in inside)


def outside_expanders(at: AppTest) -> str:
    """What a visitor reads without unfolding anything (the text of shown(), expanders' contents left out)."""
    folded = {id(e) for expander in at.expander for kind in ("markdown", "info", "caption") for e in expander.get(kind)}
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success")
    links = [e.proto.label for e in at.get("page_link")]
    return "\n".join([*(str(e.value) for kind in kinds for e in at.get(kind) if id(e) not in folded), *links])


@pytest.mark.parametrize("page", [nav.ADD_CASE, nav.REVIEW], ids=["add", "review"])
def test_without_login_configuration_a_visitor_reads_whom_the_page_is_for_and_admins_unfold_the_setup(
    app, page
) -> None:
    """An ordinary civil servant reads plainly that the page is for integrity officers and whom to
    contact; how to set up login (secrets.toml, the deployment guide, trial mode) is folded away."""
    at = app(page, secrets=False)
    visible = outside_expanders(at)
    assert text(page.title_key, "nl") in [title.value for title in at.title]
    assert "Deze pagina is voor integriteitsfunctionarissen" in visible
    assert "nog niet inloggen" in visible and "vertrouwenspersoon" in visible
    assert {"Zoeken", "Weeg je eigen dilemma", "Moreel beraad voorbereiden"} <= set(visible.split("\n"))
    assert not [word for word in ADMIN_WORDS if word in visible], visible
    labels, folded = in_expanders(at)
    assert labels == ["Voor beheerders: inloggen instellen"] and not at.expander[0].proto.expanded
    assert all(word in folded for word in ADMIN_WORDS)
    assert write_controls(at) == []


@pytest.mark.parametrize("page", [nav.ADD_CASE, nav.REVIEW], ids=["add", "review"])
def test_with_login_configured_a_visitor_reads_how_an_officer_logs_in_and_no_setup(app, page) -> None:
    at = app(page)
    assert "Deze pagina is voor integriteitsfunctionarissen" in shown(at) and "Log in met je werkaccount" in shown(at)
    assert not at.expander and not [word for word in ADMIN_WORDS if word in shown(at)]


def test_a_colleague_without_the_officer_role_is_told_whom_to_ask_and_the_admin_how(app) -> None:
    at = app(nav.REVIEW, PIET)
    visible = outside_expanders(at)
    assert "geen rol als integriteitsfunctionaris" in visible and "vraag dan de beheerder" in visible
    assert not [word for word in ADMIN_WORDS if word in visible], visible
    labels, folded = in_expanders(at)
    assert labels == ["Voor beheerders: een functionaris toevoegen"] and "[moresprudentie] officers" in folded


def test_the_officer_page_speaks_english_to_an_english_visitor_and_names_the_local_contacts(
    cases: Path, officer_page, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the organisation's contacts file, the visitor reads whom to contact by name."""
    from moresprudentie.ui.components import help_routes

    contacts = tmp_path / "contacts.yaml"
    contacts.write_text(
        "contacts:\n  - role: integriteitsfunctionaris\n    name: Bureau Integriteit Noord\n"
        "    email: integriteit@noord.example.nl\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(settings.CONTACTS.env, str(contacts))
    help_routes._read.cache_clear()
    at = officer_page(cases, nav.ADD_CASE, secrets=False, lang="en")
    assert not at.exception, at.exception
    visible = outside_expanders(at)
    assert "This page is for integrity officers" in visible and "Bureau Integriteit Noord" in visible
    assert "Deze pagina" not in visible and in_expanders(at)[0] == ["For administrators: setting up login"]


@pytest.mark.parametrize("page", [nav.ADD_CASE, nav.REVIEW], ids=["add", "review"])
def test_logged_out_visitor_gets_a_login_button_only(app, page) -> None:
    at = app(page)
    assert {b.label for b in at.button} == {"Inloggen"}  # on the page and in the sidebar
    assert not at.text_area and not at.text_input


@pytest.mark.parametrize("page", [nav.ADD_CASE, nav.REVIEW], ids=["add", "review"])
def test_logged_in_non_officer_sees_no_write_controls(app, page) -> None:
    at = app(page, PIET)
    assert "geen rol als integriteitsfunctionaris" in shown(at)
    assert write_controls(at) == []


def test_trial_mode_is_refused_unless_the_server_is_bound_to_localhost(app, monkeypatch) -> None:
    trial_proved(monkeypatch)
    monkeypatch.setattr(auth, "server_is_local", lambda: False)
    at = app(nav.ADD_CASE, secrets=False)
    assert "geweigerd" in shown(at) and write_controls(at) == []
    monkeypatch.setattr(auth, "server_is_local", lambda: True)
    at = app(nav.ADD_CASE, secrets=False)
    assert "Proefmodus" in shown(at)
    assert text("auth.trial_banner", "nl")[:40] in shown(at)
    assert at.text_input(key="form.id")
    for page in (nav.SEARCH, nav.SESSION, nav.OVERVIEW, nav.REVIEW):  # the banner is on every page
        assert "Proefmodus" in shown(app(page, secrets=False)), page.path


@pytest.mark.parametrize(
    "headers",
    [{"host": "127.0.0.1:8501", "x-forwarded-for": "203.0.113.9"}, {"host": "moresprudentie.example.nl"}],
    ids=["behind a proxy", "public host name"],
)
def test_trial_mode_is_refused_for_requests_relayed_from_elsewhere(app, monkeypatch, headers) -> None:
    """Bound to 127.0.0.1 but published by a reverse proxy: visitors must not become officers."""
    monkeypatch.setenv(auth.TRIAL_ENV, "1")
    monkeypatch.setattr(auth, "server_is_local", lambda: True)
    monkeypatch.setattr(auth, "_request_headers", lambda: headers)
    at = app(nav.ADD_CASE, secrets=False)
    assert "geweigerd" in shown(at) and write_controls(at) == []
    assert text("auth.trial_banner", "nl")[:40] not in shown(at)


def test_trial_mode_without_the_token_says_to_open_the_printed_link(app, monkeypatch) -> None:
    """A reload (or the bare address the log prints last) has no token: the page says so, not that the
    server is on the wrong address, which it is not."""
    trial_proved(monkeypatch)
    monkeypatch.setattr(auth, "server_is_local", lambda: True)
    monkeypatch.setattr(auth, "_session_token", lambda: None)
    at = app(nav.ADD_CASE, secrets=False)
    assert "deze browser heeft het token niet" in shown(at) and "geweigerd" not in shown(at)
    assert "MORESPRUDENTIE_TRIAL_OFFICER=1" not in shown(at)  # it is on: no advice to switch it on
    assert write_controls(at) == [] and text("auth.trial_banner", "nl")[:40] not in shown(at)


def test_trial_officers_take_turns_for_the_four_eyes_rule(app, cases: Path, monkeypatch) -> None:
    trial_proved(monkeypatch)
    monkeypatch.setattr(auth, "server_is_local", lambda: True)
    CaseStore(cases).submit("fles-wijn-concept", actor_for(auth.TRIAL_NAMES[0], frozenset(auth.TRIAL_NAMES)))
    at = app(nav.REVIEW, secrets=False)
    assert button(at, "review.approve").disabled  # the first trial name wrote it
    run(at.selectbox(key=auth.TRIAL_KEY).set_value(auth.TRIAL_NAMES[1]))
    run(button(at, "review.approve").click())
    assert CaseStore(cases).review_queue()[0].review.approvers == (auth.TRIAL_NAMES[1],)


# -- adding a case ---------------------------------------------------------------------------------


def fill(at: AppTest, **fields: str | list[str]) -> AppTest:
    for name, value in fields.items():
        if isinstance(value, list):
            at.multiselect(key=f"form.{name}").set_value(value)
        elif name in ("id", "title", "date"):
            at.text_input(key=f"form.{name}").input(value)
        elif name == "role":
            at.selectbox(key=f"form.{name}").set_value(value)
        else:
            at.text_area(key=f"form.{name}").input(value)
    return run(at)


SEEDED = {
    "id": "taart-met-telefoonnummer",
    "title": "Een taart van een dankbare aanvrager",
    "date": "2024-03",
    "themes": ["geschenken"],
    "values": ["onpartijdigheid"],
    "situation": f"Mevrouw {SURNAME} belde op 06-12345678 en bracht daarna een appeltaart naar de balie.",
    "dilemma": "Moet ik de appeltaart aannemen of weigeren?",
    "judgement": "Delen met het team mocht, eenmalig.",
    "reasoning": "De waarde was laag en de vergunning was al verleend.",
}
CLEAN = SEEDED | {"situation": "Een aanvrager bracht een appeltaart naar de balie."}  # no personal data
FORCE_FIELD = {
    "values": ["onpartijdigheid", "menselijkheid"],
    "tensions": "onpartijdigheid / menselijkheid: in evenwicht",
    "norms": "organisatorisch: Gedragscode, artikel 4: geschenken melden",
    "decisive_facts": "De vergunning was al verleend.",
}


def test_form_validates_live_and_previews_as_employees_see_it(app) -> None:
    at = app(nav.ADD_CASE, ANNA)
    assert button(at, "add.save").disabled  # nothing filled in yet
    assert "verplicht veld ontbreekt" in shown(at)
    at = fill(at, id="Geen Geldige Id!")
    assert "is geen geldige id" in shown(at)
    at = fill(at, **(CLEAN | {"themes": ["geschenken", "taart-beleid"]}))
    assert "taart-beleid" in shown(at) and "Nieuwe term" in shown(at)  # a free term: allowed, with a warning
    assert not button(at, "add.save").disabled
    assert "Zo ziet een medewerker de casus" in shown(at)
    assert "Een taart van een dankbare aanvrager" in [t.value for t in at.title]  # the employees' renderer


def test_findings_are_highlighted_and_fixed_in_one_click(app, cases: Path) -> None:
    at = fill(app(nav.ADD_CASE, ANNA), **SEEDED)
    assert f":red-background[{md_inline('06-12345678')}]" in shown(at)
    assert f":red-background[{SURNAME}]" in shown(at)
    run(button(at, "findings.replace", replacement="[telefoonnummer]").click())
    assert "[telefoonnummer]" in at.text_area(key="form.situation").value
    allow = [b for b in at.button if b.key and b.key.startswith("allow.situation")]
    run(allow[0].click())  # the surname is declared "not personal data" (the reviewer will see it)
    assert at.text_area(key="form.allowed_terms").value == SURNAME
    assert "De anonimiseringscontrole vond niets" in shown(at)


def test_save_as_draft_is_invisible_in_search_and_a_second_save_of_an_old_version_conflicts(app, cases: Path) -> None:
    at = fill(app(nav.ADD_CASE, ANNA), **CLEAN)
    run(button(at, "add.save").click())
    assert "opgeslagen" in shown(at)
    saved = load_cases(cases).cases["taart-met-telefoonnummer"]
    assert saved.status == "draft" and "anna" not in (cases / "taart-met-telefoonnummer.yaml").read_text()
    # someone else edits the file meanwhile: our next save must not overwrite it
    other = CaseStore(cases).editable_version(saved.id)
    edited = saved.model_copy(update={"title": "Aangepast door Bram"})
    CaseStore(cases).save_draft(edited, actor_for("bram@example.nl", frozenset({"bram@example.nl"})), other.hash)
    at = fill(at, title="Mijn eigen aanpassing")
    run(button(at, "add.save").click())
    assert "Iemand anders was je voor" in shown(at)
    assert load_cases(cases).cases[saved.id].title == "Aangepast door Bram"
    assert list((cases / ".conflicts").glob("taart-met-telefoonnummer.conflict-*.yaml"))


def test_edit_from_the_review_page_loads_the_version_on_disk(app, cases: Path) -> None:
    """The form held the case already; someone saved a newer version; "Bewerken" showed the old text,
    whose save could only end in a conflict."""
    at = app(nav.ADD_CASE, ANNA)
    at.query_params["edit"] = "fles-wijn-concept"
    at.run()
    opened = CaseStore(cases).editable_version("fles-wijn-concept")
    bram = actor_for("bram@example.nl", frozenset({"bram@example.nl"}))
    CaseStore(cases).save_draft(opened.case.model_copy(update={"title": "Nieuwer, door Bram"}), bram, opened.hash)
    at.query_params["edit"] = "fles-wijn-concept"
    at.run()
    assert at.text_input(key="form.title").value == "Nieuwer, door Bram" and "edit" not in at.query_params
    at.text_input(key="form.title").input("Half getypt")
    at.query_params["edit"] = "fles-wijn-concept"  # the same version on disk: what was typed stays
    at.run()
    assert at.text_input(key="form.title").value == "Half getypt"


def test_new_case_with_an_existing_id_is_refused(app, cases: Path) -> None:
    at = fill(app(nav.ADD_CASE, ANNA), **(CLEAN | {"id": "dienstauto-zaterdag"}))
    run(button(at, "add.save").click())
    assert "Dit id is al in gebruik" in shown(at) and "Iemand anders was je voor" not in shown(at)
    assert load_cases(cases).cases["dienstauto-zaterdag"].title == "De dienstauto op zaterdag"


def test_upload_goes_through_the_same_checks(app, cases: Path) -> None:
    at = app(nav.ADD_CASE, ANNA)
    run(at.segmented_control(key="add_mode").set_value("upload"))
    run(at.get("file_uploader")[0].upload("kapot.yaml", b"id: kapot\ntitle: [\n", "application/x-yaml"))
    assert "geen geldige casus" in shown(at) and md_inline("kapot.yaml:3") in shown(at)
    big = b"id: groot\n# " + b"x" * MAX_FILE_BYTES
    run(at.get("file_uploader")[0].set_value(("groot.yaml", big, "application/x-yaml")))
    assert "de grens is 256 KiB" in shown(at)
    good = (cases / "kerstpakket-leverancier.yaml").read_bytes().replace(b"kerstpakket-leverancier", b"nieuw-pakket")
    run(at.get("file_uploader")[0].set_value(("nieuw-pakket.yaml", good, "application/x-yaml")))
    assert "Bestand geladen in het formulier" in shown(at)
    assert at.text_input(key="form.id").value == "nieuw-pakket"
    assert not button(at, "add.save").disabled


def test_an_upload_that_is_not_yet_a_case_starts_the_form_with_what_is_valid(app) -> None:
    """The scaffold of `moresprudentie new` is invalid by design: its id, language and date fill the
    form, and the page lists, in Dutch, what is still to be written."""
    at = app(nav.ADD_CASE, ANNA)
    run(at.segmented_control(key="add_mode").set_value("upload"))
    data = scaffold("nieuwe-casus").encode("utf-8")
    run(at.get("file_uploader")[0].upload("nieuwe-casus.yaml", data, "application/x-yaml"))
    assert at.text_input(key="form.id").value == "nieuwe-casus" and at.text_input(key="form.title").value == ""
    assert "nog geen volledige casus" in shown(at) and "geen geldige casus" not in shown(at)
    assert "Input should be" not in shown(at) and "Titel" in shown(at)  # the problems, worded for people
    hostile = b"id: [een, lijst]\ntitle: Een taart aan de balie\nstatus: published\n"
    run(at.get("file_uploader")[0].set_value(("taart.yaml", hostile, "application/x-yaml")))
    assert (
        at.text_input(key="form.id").value == "" and at.text_input(key="form.title").value == "Een taart aan de balie"
    )


def forget_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the test server holds no uploaded bytes: widget states name files it does not have
    (as after a server restart, a cleared session, or a client naming an id it never uploaded)."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    monkeypatch.setattr(LocalScriptRunner, "register_file", lambda self, file_rec: None)


def test_upload_of_a_file_the_server_no_longer_holds_is_calm(app, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(nav.ADD_CASE, ANNA)
    run(at.segmented_control(key="add_mode").set_value("upload"))
    forget_uploads(monkeypatch)
    run(at.get("file_uploader")[0].upload("nieuw-pakket.yaml", b"id: nieuw-pakket\n", "application/x-yaml"))
    assert [toast.value for toast in at.toast] == [text("app.upload_gone", "nl")]
    assert "geen geldige casus" not in shown(at) and "Bestand geladen" not in shown(at)  # nothing else happened
    assert at.text_input(key="form.id").value == ""


# -- review and publication -------------------------------------------------------------------------


def test_four_eyes_review_and_publication_make_the_case_findable(app, cases: Path, fake_embedder) -> None:
    at = fill(app(nav.ADD_CASE, ANNA), **(SEEDED | {"situation": "Een aanvrager bracht een appeltaart naar de balie."}))
    assert button(at, "add.save_submit").disabled  # the force field is not filled in yet, and the page says so
    assert "aanbieden kan zodra het krachtenveld is ingevuld" in shown(at)
    assert "Wiens dilemma: kies medewerker" in shown(at)
    at = fill(at, role="medewerker", **FORCE_FIELD)
    assert not button(at, "add.save_submit").disabled
    run(button(at, "add.save_submit").click())
    assert "aangeboden ter beoordeling" in shown(at)

    at = app(nav.REVIEW, ANNA)  # the author cannot approve her own case
    assert button(at, "review.approve").disabled
    assert "Jij schreef deze versie" in shown(at)

    at = app(nav.REVIEW, BRAM)
    assert "Wacht op beoordeling" in shown(at)
    run(button(at, "review.approve").click())
    assert "goedgekeurd" in shown(at)
    run(button(at, "review.publish").click())
    assert "gepubliceerd" in shown(at)
    published = load_cases(cases).cases["taart-met-telefoonnummer"]
    assert published.is_published and published.role == "medewerker"
    assert published.has_tension("menselijkheid", "onpartijdigheid") and published.tensions[0].prevailed == "balanced"
    assert [(n.source, n.text) for n in published.norms] == [
        ("organisatorisch", "Gedragscode, artikel 4: geschenken melden")
    ]
    employee = app(nav.SEARCH)  # an employee, not logged in, searches seconds later
    employee.text_area[0].input("appeltaart aan de balie")
    run(button(employee, "search.submit").click())
    assert "Een taart van een dankbare aanvrager" in shown(employee)


def audit_log(cases: Path) -> bytes:
    path = settings.audit_log_path(cases)
    return path.read_bytes() if path.exists() else b""


def swap(cases: Path, case_id: str, title: str) -> str:
    """Anna saves another text over the draft and resubmits it, as an author could while a reviewer reads."""
    store, anna = CaseStore(cases), actor_for("anna@example.nl", frozenset({"anna@example.nl"}))
    opened = store.editable_version(case_id)
    store.save_draft(opened.case.model_copy(update={"title": title}), anna, opened.hash)
    store.submit(case_id, anna)
    return store.editable_version(case_id).hash


def test_approving_refuses_a_version_swapped_after_the_page_was_shown(app, cases: Path) -> None:
    """Four eyes on the version read: the button names the version rendered, not what is on disk at the click."""
    anna = actor_for("anna@example.nl", frozenset({"anna@example.nl"}))
    CaseStore(cases).submit("fles-wijn-concept", anna)
    at = app(nav.REVIEW, BRAM)
    shown_hash = CaseStore(cases).editable_version("fles-wijn-concept").hash
    swapped = swap(cases, "fles-wijn-concept", "Een tekst die Bram nooit las")
    before = audit_log(cases)
    run(button(at, "review.approve").click())
    stale = text("review.stale", "nl", id="fles-wijn-concept", shown=shown_hash[:12], now=swapped[:12])
    assert [e.value for e in at.error] == [stale]
    assert audit_log(cases) == before  # nothing recorded: no approval of a text Bram never saw
    assert CaseStore(cases).review_queue()[0].review.state == "submitted"
    assert "Een tekst die Bram nooit las" in shown(at)  # the page now shows the new version to read
    run(button(at, "review.approve").click())  # and approving what is shown now works
    assert "goedgekeurd" in shown(at) and CaseStore(cases).review_queue()[0].review.approvers == ("Bram@Example.nl",)


def test_publishing_refuses_a_version_swapped_after_the_page_was_shown(app, cases: Path) -> None:
    anna = actor_for("anna@example.nl", frozenset({"anna@example.nl"}))
    bram = actor_for("bram@example.nl", frozenset({"bram@example.nl"}))
    store = CaseStore(cases)
    store.submit("fles-wijn-concept", anna)
    store.approve("fles-wijn-concept", bram, seen_hash=store.editable_version("fles-wijn-concept").hash)
    at = app(nav.REVIEW, ANNA)  # Anna reads the approved text and may publish it
    swapped = swap(cases, "fles-wijn-concept", "Na de goedkeuring verwisseld")
    store.approve("fles-wijn-concept", bram, seen_hash=swapped)  # approved by Bram, who read it: publishable
    before = audit_log(cases)
    run(button(at, "review.publish").click())
    assert "veranderd sinds je de casus opende" in shown(at)
    assert audit_log(cases) == before and not load_cases(cases).cases["fles-wijn-concept"].is_published


def test_send_back_needs_a_comment_and_reaches_the_author(app, cases: Path) -> None:
    anna = actor_for("anna@example.nl", frozenset({"anna@example.nl"}))
    case = load_cases(cases).cases["fles-wijn-concept"]
    CaseStore(cases).submit(case.id, anna)
    at = app(nav.REVIEW, BRAM)
    before = audit_log(cases)
    run(button(at, "review.send_back").click())
    assert "Schrijf eerst hierboven wat er moet veranderen" in shown(at)  # in Dutch, under the box
    assert "needs a comment" not in shown(at) and audit_log(cases) == before
    at.text_area(key="review_comment").input("Haal de functietitel weg.")
    run(button(at, "review.send_back").click())
    assert "teruggestuurd" in shown(at)
    at = app(nav.REVIEW, ANNA)
    assert "Haal de functietitel weg." in shown(at)
    assert button(at, "review.submit")
    at = app(nav.ADD_CASE, ANNA)  # "Bewerken" opens the form on the draft: the remark is there too
    at.query_params["edit"] = "fles-wijn-concept"
    at.run()
    assert not at.exception and at.text_input(key="form.id").value == "fles-wijn-concept"
    assert "Haal de functietitel weg." in shown(at) and "Pas de casus hieronder aan" in shown(at)


def submitted_before_the_check_knew(cases: Path, case_id: str) -> None:
    """A draft written by hand (as in git) and submitted before the name detector knew its name: the
    store now refuses to submit it, so the submission is recorded as it was then."""
    version = CaseStore(cases).editable_version(case_id)
    event = audit.Event(audit.now(), "anna@example.nl", "submitted", case_id, version.hash)
    audit.append_event(settings.audit_log_path(cases), event)


def test_review_shows_findings_and_blocks_approval(app, cases: Path) -> None:
    write_case(cases, "met-naam", status="draft", situation=f"Wethouder {SURNAME} vroeg om een gunst.")
    submitted_before_the_check_knew(cases, "met-naam")
    at = app(nav.REVIEW, BRAM)
    at.selectbox(key="review_pick").set_value("met-naam")
    run(at)
    assert f":red-background[{SURNAME}]" in shown(at)
    assert button(at, "review.approve").disabled and "rode bevindingen" in shown(at)


def test_every_finding_kind_state_and_action_has_a_label() -> None:
    from typing import get_args

    from moresprudentie.anonymisation.patterns import KINDS
    from moresprudentie.review.audit import ACTIONS
    from moresprudentie.review.steps import State
    from moresprudentie.ui.components.i18n import strings

    assert set(strings()["findings"]["kinds"]) == set(KINDS)
    assert set(strings()["review"]["states"]) == set(get_args(State))
    assert set(strings()["review"]["actions"]) == set(ACTIONS)


def test_hostile_draft_text_stays_inert_on_both_pages(app, cases: Path) -> None:
    hostile = "<script>alert(1)</script> [klik](javascript:alert(1)) bel 06-12345678"
    write_case(cases, "vijandig-concept", status="draft", title="<b>vet</b>", situation=hostile)
    submitted_before_the_check_knew(cases, "vijandig-concept")
    at = app(nav.REVIEW, BRAM)
    run(at.selectbox(key="review_pick").set_value("vijandig-concept"))
    for element in [*at.markdown, *at.caption, *at.error, *at.info, *at.warning]:
        assert not getattr(element, "allow_html", False)
    assert not re.search(r"(?<!\\)<script", shown(at)) and no_case_text_in_html(at)
    at = fill(app(nav.ADD_CASE, ANNA), **(SEEDED | {"situation": hostile}))
    assert not re.search(r"(?<!\\)<script", shown(at)) and no_case_text_in_html(at)


def no_case_text_in_html(at: AppTest) -> bool:
    """Only the app's static style sheet may be HTML; no case text ever goes there."""
    return all("alert" not in element.proto.body and "vet" not in element.proto.body for element in at.get("html"))
