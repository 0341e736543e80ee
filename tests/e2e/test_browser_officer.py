"""The integrity officer's pages in a real browser, in Dutch, on `moresprudentie app` in trial mode.

- A draft with a BSN, a phone number and an e-mail address cannot be saved, the form says why, and
  afterwards nothing under the case folder or in the index holds any of them.
- The review page shows its buttons in full at 1400 px and at 390 px wide.
- A near-copy of a published case (its situation told again, its core the same) is not submitted until
  the officer links it (here: nuanceert); the link lands in the draft and the audit log (issue 15).
Screenshots go to test-output/screenshots/ and are the ones the user guide shows (docs/img/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import _browser
import pytest
from _browser import require_browser, settle, shot
from _live_app import live_app
from conftest import write_case

from moresprudentie import dump_case, settings
from moresprudentie.cases.loading import load_case_file
from moresprudentie.review.audit import read_events
from moresprudentie.review.roles import OFFICER, Actor
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components.auth import TRIAL_NAMES

browser = _browser.browser  # the shared Chromium fixture (module scope)
pytestmark = pytest.mark.e2e
require_browser()

PERSONAL = {"bsn": "111222333", "phone": "06-12345678", "mail": "j.devries@example.nl"}
READY = (
    "In deze browser ben je integriteitsfunctionaris"  # the trial banner: the officer pages are open to this browser
)
DRAFT = "taart-ter-beoordeling"


class Officer:
    def __init__(self, url: str, token: str, cases: Path, index: Path) -> None:
        self.url, self.token, self.cases, self.index = url, token, cases, index

    def open(self, page, path: str) -> None:
        page.goto(f"{self.url}/{path}?token={self.token}")
        page.get_by_text(READY).first.wait_for()
        settle(page)


@pytest.fixture(scope="module")
def officer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Officer]:
    """The app in trial mode, with one complete draft submitted for review by the first trial name."""
    base = tmp_path_factory.mktemp("officer")
    with live_app(base, "e2e-officer-server.log", trial=True) as app:
        found = re.search(rf"http://127\.0\.0\.1:{app.port}/\?token=([\w-]+)", app.log.read_text())
        assert found, app.log.read_text()
        draft = write_case(base / "draft", DRAFT, title="Een taart van een dankbare aanvrager", status="draft")
        case, problems = load_case_file(draft)
        assert case is not None, problems
        store, author = CaseStore(app.cases), Actor(TRIAL_NAMES[0], frozenset({OFFICER}))
        store.save_draft(case, author)
        store.submit(DRAFT, author)
        yield Officer(f"http://127.0.0.1:{app.port}", found[1], app.cases, base / "index")


def _page(browser, width: int, height: int = 1000):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def _holding(folder: Path, needles: list[str]) -> list[str]:
    """Files under a folder whose bytes contain any of the needles."""
    if not folder.exists():
        return []
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and any(needle.encode() in path.read_bytes() for needle in needles)
    ]


def test_a_draft_with_personal_data_is_never_written_and_the_form_says_why(officer: Officer, browser) -> None:
    context, page = _page(browser, 1366)
    officer.open(page, "toevoegen")
    page.get_by_label(re.compile(r"^Titel")).fill("Een taart met een telefoonnummer")
    situation = (
        f"Een aanvrager met BSN {PERSONAL['bsn']} belde op {PERSONAL['phone']} en mailde vanaf "
        f"{PERSONAL['mail']} dat hij een taart kwam brengen."
    )
    page.get_by_label(re.compile(r"^Situatie")).fill(situation)
    page.get_by_label(re.compile(r"^Dilemma")).click()  # leave the field: the form checks it
    settle(page)
    save = page.get_by_role("button", name=re.compile("^Opslaan"))
    assert save.first.is_disabled()
    reason = page.get_by_text(re.compile("persoonsgegevens", re.IGNORECASE)).first
    assert reason.is_visible()
    reason.scroll_into_view_if_needed()
    settle(page)
    shot(page, "13-formulier-persoonsgegevens.png")
    context.close()
    needles = list(PERSONAL.values())
    assert _holding(officer.cases, needles) == []
    assert _holding(officer.index, needles) == []


@pytest.mark.parametrize(("width", "name"), [(1400, "14-beoordelen-1400.png"), (390, "15-beoordelen-390.png")])
def test_the_review_page_shows_its_buttons_in_full(officer: Officer, browser, width: int, name: str) -> None:
    context, page = _page(browser, width, 900 if width < 500 else 1000)
    officer.open(page, "beoordelen")
    buttons = page.locator("[data-testid=stMain] button:visible")
    buttons.first.wait_for()
    cut = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stMain] button')]
            .filter(b => b.offsetParent !== null)
            .flatMap(b => [...b.querySelectorAll('p, span, div')])
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.textContent)"""
    )
    assert not cut, f"cut-off button labels at {width} px: {cut}"
    approve = page.get_by_role("button", name=re.compile("Goedkeuren"))
    assert approve.first.is_visible() or approve.count()
    next_step = page.get_by_role("heading", name="Volgende stap")
    next_step.evaluate("heading => heading.scrollIntoView({block: 'start'})")  # the actions and their reasons
    settle(page)
    shot(page, name)
    context.close()


def test_a_session_outcome_becomes_a_reviewed_case_linked_to_the_discussed_one(officer: Officer, browser) -> None:
    """Issue 15, from session to case: the leader records the outcome under the discussed case and saves
    it as a draft; it waits in the review queue, is submitted, approved by a second officer (four eyes)
    and published, linked to the case the group discussed."""
    import datetime as dt

    from moresprudentie.cases.model import Relation
    from moresprudentie.review.session_outcome import session_case_id

    discussed, title = "fiets-van-de-zaak", "De elektrische dienstfiets in het weekend"
    draft_id = session_case_id(discussed, dt.date.today())
    context, page = _page(browser, 1366)
    officer.open(page, "beraad")
    page.get_by_role("combobox", name="Casus voor het beraad", exact=True).click()
    page.keyboard.type(title)
    page.get_by_role("option").filter(has_text=title).first.wait_for()
    page.wait_for_timeout(500)
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_text("Uitkomst van het beraad vastleggen").click()
    settle(page)
    page.get_by_label(re.compile("^Conclusie van de groep")).fill("De collega moet eerst zelf worden aangesproken.")
    page.get_by_label(re.compile("^Belangrijkste argumenten")).fill("Vertrouwen in het team weegt zwaar.")
    page.get_by_label(re.compile("^Minderheidsstandpunt")).fill("Een deelnemer wilde het direct melden.")
    settle(page)
    page.get_by_role("combobox", name=re.compile("^Waarden die botsten")).click()
    for value in ("Zuinigheid", "Collegialiteit"):
        page.keyboard.type(value)
        page.get_by_role("option").filter(has_text=value).first.wait_for()
        page.keyboard.press("Enter")
        settle(page)
    page.keyboard.press("Escape")
    page.locator("[data-testid=stRadio] label").filter(has_text="nuanceert").click()
    settle(page)
    page.get_by_role("button", name="Opslaan als concept").click()
    settle(page)
    page.get_by_text(re.compile("Opgeslagen als concept")).wait_for()
    shot(page, "16-beraad-uitkomst-opgeslagen.png")
    page.get_by_role("link", name="Naar Beoordelen").click()  # the draft waits in the review queue
    page.get_by_role("combobox", name="Concept", exact=True).wait_for()
    settle(page)
    page.get_by_role("combobox", name="Concept", exact=True).click()
    page.keyboard.type("Beraad over")
    page.get_by_role("option").filter(has_text=f"Beraad over: {title}").first.wait_for()
    context.close()

    store = CaseStore(officer.cases)
    author = Actor(TRIAL_NAMES[0], frozenset({OFFICER}))
    assert draft_id in {item.version.case_id for item in store.review_queue()}
    store.submit(draft_id, author)
    version = store.draft_version(draft_id)
    store.approve(draft_id, Actor("tweede-functionaris", frozenset({OFFICER})), seen_hash=version.hash)
    published = store.publish(draft_id, author, seen_hash=version.hash)
    assert published.is_published
    assert [(link.id, link.relation) for link in published.related] == [(discussed, Relation.NUANCES)]
    on_disk, _ = load_case_file(officer.cases / f"{draft_id}.yaml")
    assert on_disk is not None and on_disk.is_published and on_disk.judgement.startswith("De collega moet")


NEAR_COPY = "dienstauto-in-het-weekend"
NEAR_COPY_SITUATION = (
    "Een medewerker van de buitendienst van een gemeente rijdt met een dienstauto langs de wegen om gaten "
    "te melden. Een collega merkt dat hij de auto elke vrijdag mee naar huis neemt en er zaterdag mee naar "
    "de markt rijdt."
)


def test_a_near_copy_is_submitted_only_after_the_officer_links_it(officer: Officer, browser) -> None:
    original, _ = load_case_file(officer.cases / "fiets-van-de-zaak.yaml")
    assert original is not None
    copy = original.model_copy(
        update={"id": NEAR_COPY, "title": "De dienstauto van de buitendienst in het weekend"}
        | {"situation": NEAR_COPY_SITUATION, "related": [], "status": "draft"}
    )
    context, page = _page(browser, 1366)
    officer.open(page, "toevoegen")
    page.get_by_text("YAML-bestand uploaden", exact=True).click()
    settle(page)
    page.locator("input[type=file]").set_input_files(
        {"name": f"{NEAR_COPY}.yaml", "mimeType": "application/x-yaml", "buffer": dump_case(copy).encode()}
    )
    page.get_by_text("Bestand geladen in het formulier").first.wait_for()
    settle(page)
    page.get_by_role("button", name="Opslaan en ter beoordeling aanbieden").click()
    page.get_by_text("lijkt sterk op een gepubliceerde casus").first.wait_for()
    settle(page)
    assert page.get_by_role("link", name=original.title).first.is_visible()  # the closest case, as a link
    assert page.get_by_text(re.compile(r"Overeenkomst in de kern .*: \d+% · bijna gelijk")).first.is_visible()
    confirm = page.get_by_role("button", name="Aanbieden", exact=True)
    assert confirm.is_disabled()  # a choice is demanded first
    page.get_by_text(f"Koppel aan {original.title}").click()
    settle(page)
    page.get_by_text("nuanceert", exact=True).click()
    settle(page)
    page.get_by_text("lijkt sterk op een gepubliceerde casus").first.scroll_into_view_if_needed()
    shot(page, "17-formulier-bijna-kopie.png")
    confirm.click()
    page.get_by_text("aangeboden ter beoordeling").first.wait_for()
    settle(page)
    assert page.get_by_text("deze casus nuanceert").first.is_visible()
    context.close()
    [submitted] = [e for e in read_events(settings.audit_log_path(officer.cases), NEAR_COPY) if e.action == "submitted"]
    assert re.fullmatch(
        rf"near-duplicate of {original.id} \(\d\.\d\d\): linked nuances {original.id}", submitted.comment
    )
    saved, _ = load_case_file(officer.cases / f"{NEAR_COPY}.yaml")
    assert saved is not None and [(r.id, r.relation.value) for r in saved.related] == [(original.id, "nuances")]
    queue = {item.version.case_id: item.review.state for item in CaseStore(officer.cases).review_queue()}
    assert queue[NEAR_COPY] == "submitted"
