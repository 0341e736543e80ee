"""The printed documents as a session leader prints them: Chromium's own print to A4, read back per page.

The handout's print style once glued every list item to the next (`li { break-after: avoid }`), so a
page ended after the dilemma with much of it blank, and the original group's judgement followed the
questions on the same page, so the first pages could not be handed out without it. And a short list
(five stakeholders) printed four on one page and the last alone at the top of the next. These tests
print real shipped cases and read the PDF's text page by page (pypdf), so a style rule that wastes
paper, leaks the outcome or splits a short list fails.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from _browser import CHROMIUM_ARGS, require_browser
from conftest import SHIPPED_CASES

from moresprudentie import Case, handout, load_case_file

require_browser()
pytestmark = pytest.mark.e2e
pypdf = pytest.importorskip("pypdf", reason="the python package pypdf is not installed (bash scripts/setup.sh --dev)")

# A long case with variations and discussion questions, one of the shortest, and the one a stranger
# printed (its five stakeholders were split across pages), all as shipped.
CASES = ("handhaver-filmt-voor-sociale-media", "onderhandse-opdracht-oud-collega", "bestelbus-voor-verhuizing")
# Shipped cases whose short lists broke across pages before they were kept whole: between them the
# stakeholders, the choices, the method's steps, the discussion questions, the variations, and in the
# debrief the facts the judgement hinged on and the lessons.
SPLIT_BEFORE = (
    "bestelbus-voor-verhuizing",
    "bellen-in-plaats-van-standaardbrief",
    "gedoogruimte-handhavers-na-overstroming",
    "bijstand-boodschappen-van-zus",
    "ai-summaries-of-consultation-responses",
    "senior-colleague-expense-claims",
)


@pytest.fixture(scope="module")
def chromium_page() -> Iterator[object]:
    from _browser import CHROMIUM
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        yield page
        browser.close()


def printed(page, document: str) -> list[str]:
    """The text of each A4 page, as Chromium prints the document (CSS @page size and margins)."""
    page.set_content(document)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    return [" ".join(sheet.extract_text().split()) for sheet in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def unconstrained(document: str) -> str:
    """The same document without any page-break rule: the shortest the text can print."""
    css_start = document.index("<style>") + len("<style>")
    css_end = document.index("</style>")
    rules = [line for line in document[css_start:css_end].split("\n") if "break-" not in line]
    return document[:css_start] + "\n".join(rules) + document[css_end:]


def shipped(case_id: str) -> Case:
    case, problems = load_case_file(SHIPPED_CASES / f"{case_id}.yaml")
    assert case is not None, problems
    return case


@pytest.mark.parametrize("case_id", CASES)
def test_the_handout_prints_without_wasted_paper(chromium_page, case_id: str) -> None:
    """Each page break may cost a little paper (a heading kept with its text, a paragraph kept whole),
    never a large part of a page: after every page, at most 15 % of a page's text is behind where the
    same text without break rules would be. The old rules left page 1 a fifth short."""
    document = handout.to_html(handout.build(shipped(case_id)))
    pages = [len(text) for text in printed(chromium_page, document)]
    free = [len(text) for text in printed(chromium_page, unconstrained(document))]
    slack = 0.15 * max(free)
    for number in range(1, min(len(pages), len(free))):
        assert sum(pages[:number]) >= sum(free[:number]) - slack, (number, pages, free)
    notes = [number for number, text in enumerate(printed(chromium_page, document)) if "Aantekeningen" in text]
    assert notes == [len(pages) - 1], "the notes box is on the last page, once"


@pytest.mark.parametrize("case_id", CASES)
def test_the_outcome_starts_on_its_own_page_after_the_notes(chromium_page, case_id: str) -> None:
    """A leader hands out the first pages and keeps the rest back for the debrief."""
    case = shipped(case_id)
    pages = printed(chromium_page, handout.to_html(handout.build(case, include_outcome=True)))
    heading = "Oordeel van de oorspronkelijke groep"
    first = next(number for number, text in enumerate(pages) if heading in text)
    lead = f"{' '.join(case.title.split())} · Voor de nabespreking {heading}"  # which case, on a page of its own
    assert pages[first].startswith(lead), pages[first][:200]
    assert "Aantekeningen" in pages[first - 1]
    before = " ".join(pages[:first])
    assert " ".join(case.judgement.split())[:60] not in before
    assert not any(" ".join(lesson.split())[:40] in before for lesson in case.lessons)


def short_lists(sheet: handout.Handout) -> Iterator[tuple[str, list[str]]]:
    """(heading, items) of every list the handout keeps whole: at most SHORT_LIST items, and each
    source's norms in the force field."""
    for section in sheet.sections + sheet.outcome:
        if section.kind == "groups":
            lists = [(f"{section.heading}: {name}", items) for name, items in section.content]
        elif section.kind in ("list", "steps"):
            lists = [(section.heading, [str(item) for item in section.content])]
        else:
            lists = []
        for heading, items in lists:
            if len(items) <= handout.SHORT_LIST:
                yield heading, [" ".join(item.split()) for item in items]


@pytest.mark.parametrize("outcome", [False, True], ids=["handout", "with-outcome"])
@pytest.mark.parametrize("case_id", SPLIT_BEFORE)
def test_no_short_list_is_split_across_pages(chromium_page, case_id: str, outcome: bool) -> None:
    """Every item of a short list is on one and the same printed page."""
    sheet = handout.build(shipped(case_id), include_outcome=outcome)
    pages = printed(chromium_page, handout.to_html(sheet))
    lists = list(short_lists(sheet))
    assert lists
    for heading, items in lists:
        where = [[number for number, text in enumerate(pages) if item in text] for item in items]
        assert all(where), (heading, items, where)  # every item was found at all
        assert any(all(item in text for item in items) for text in pages), f"'{heading}' is split: pages {where}"
