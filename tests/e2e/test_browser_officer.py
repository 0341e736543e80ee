"""The integrity officer's pages in a real browser, in Dutch, on `moresprudentie app` in trial mode.

- A draft with a BSN, a phone number and an e-mail address cannot be saved, the form says why, and
  afterwards nothing under the case folder or in the index holds any of them.
- The review page shows its buttons in full at 1400 px and at 390 px wide.
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

from moresprudentie.cases.loading import load_case_file
from moresprudentie.review.roles import OFFICER, Actor
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components.auth import TRIAL_NAMES

browser = _browser.browser  # the shared Chromium fixture (module scope)
pytestmark = pytest.mark.e2e
require_browser()

PERSONAL = {"bsn": "111222333", "phone": "06-12345678", "mail": "j.devries@example.nl"}
READY = "Iedereen die deze app opent"  # the trial banner: the officer pages are open to this browser
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
