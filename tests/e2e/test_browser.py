"""End to end in a real browser, in Dutch: an employee searches (by text and by values in tension),
reads a case and its drawn force field, weighs their own dilemma; a session leader prepares a
deliberation; the overview and the concepts page. On the shipped collection with the real model (the
server and browser are in _browser.py). The screenshots in test-output/screenshots/ are the ones the
user guide shows (docs/img/)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import _browser
import pytest
from _browser import (
    EXPECTED,
    HOSTILE,
    OUTPUT,
    QUERY,
    ROOT,
    SCRIPT,
    URL_BAIT,
    Server,
    cut_off,
    open_page,
    require_browser,
    settle,
    shot,
)

from moresprudentie import load_case_file

# the shared browser fixtures (module scope: one server for this module)
collection, server, browser, page = _browser.collection, _browser.server, _browser.browser, _browser.page

pytestmark = pytest.mark.e2e
require_browser()


def _expected_title() -> str:
    case, problems = load_case_file(ROOT / "cases" / f"{EXPECTED}.yaml")
    assert case is not None, problems
    return case.title


def test_employee_searches_opens_a_case_and_switches_to_english(page, server: Server) -> None:
    title = _expected_title()
    page.goto(server.url + "/")
    box = page.get_by_label("Beschrijf je dilemma")
    box.wait_for()
    form_seconds = time.monotonic() - server.started
    box.fill(QUERY)
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.locator("[data-testid=stPageLink]", has_text=title).first.wait_for()
    seconds = time.monotonic() - server.started
    timing = f"streamlit run -> search box on screen: {form_seconds:.1f} s; -> first answer on screen: {seconds:.1f} s"
    (OUTPUT / "e2e-timing.txt").write_text(timing + "\n")
    print(f"\n{timing}")
    settle(page)
    assert page.get_by_text("Een precedent informeert, het bindt niet").is_visible()
    shot(page, "01-zoeken-resultaten.png")

    page.locator("[data-testid=stPageLink]", has_text=title).first.click()
    page.get_by_role("heading", name=title).wait_for()
    settle(page)
    assert "case=" + EXPECTED in page.url
    assert page.get_by_role("heading", name="Meer zoals deze").is_visible()
    shot(page, "02-casus.png")

    page.locator("[data-testid=stSidebar]").get_by_text("EN", exact=True).click()
    page.get_by_role("heading", name="More like this").wait_for()
    settle(page)
    assert page.get_by_role("heading", name="Situation").is_visible()
    shot(page, "03-casus-engels.png")


def test_an_off_topic_question_gets_an_honest_no_good_match(page, server: Server) -> None:
    """A question the collection cannot answer says so plainly, points to people, and marks the weak hits."""
    open_page(page, server, "/")
    page.get_by_label("Beschrijf je dilemma").fill("recept voor appeltaart met kaneel")
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.get_by_text("Geen goede overeenkomst gevonden").wait_for()
    settle(page)
    assert page.get_by_text("vertrouwenspersoon").first.is_visible()
    assert page.get_by_text("Zwakke overeenkomst").first.is_visible()
    assert page.get_by_text("Sterke overeenkomst").count() == 0
    shot(page, "01b-zoeken-geen-goede-overeenkomst.png")


def test_session_leader_prepares_a_deliberation(page, server: Server) -> None:
    open_page(page, server, "/beraad")
    page.get_by_role("button", name="Verras me").click()
    page.get_by_role("heading", name="Hand-out").wait_for()
    settle(page)
    assert page.get_by_text("Toon het oordeel van de oorspronkelijke groep").is_visible()
    assert not page.get_by_role("heading", name="Oordeel", exact=True).count()  # hidden until asked
    sidebar = page.locator("[data-testid=stSidebar]")
    button = sidebar.locator("[data-testid=stFileUploaderDropzone] button p").first
    shown = button.evaluate("p => getComputedStyle(p, '::after').content + '|' + getComputedStyle(p).fontSize")
    assert shown == '"Bestand kiezen"|0px', shown  # Streamlit's own "Upload" is replaced by the Dutch label
    assert "per file" not in sidebar.inner_text()  # the English size line is hidden; the help gives it
    shot(page, "04-beraad-voorbereiden.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Printbare hand-out (HTML)").click()
    document = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Gespreksvragen" in document or "Werkwijze" in document
    assert "<script" not in document.lower()


def test_choices_follow_a_language_switch_and_english_survives_a_reload(page, server: Server) -> None:
    """A theme chosen in Dutch once stayed a Dutch chip on the English page (Streamlit resends a
    choice's label only when the value changes), a reload fell back to Dutch, and every dropdown
    offered Streamlit's untranslated "Select all"."""
    open_page(page, server, "/beraad")
    themes = page.locator("[data-testid=stMultiSelect]").first
    themes.click()
    page.get_by_role("option", name="Aanbesteding en inkoop").wait_for()
    assert page.get_by_role("option", name="Select all").count() == 0
    page.get_by_role("option", name="Aanbesteding en inkoop").click()
    page.keyboard.press("Escape")
    settle(page)
    assert "Aanbesteding en inkoop" in themes.inner_text()
    length = page.locator("[data-testid=stSlider] input").first
    length.focus()
    length.press("Home")  # 45 minutes: a number, which a language switch once reset on screen only
    settle(page)
    shown_length = page.locator("[data-testid=stSliderThumbValue]").first
    assert shown_length.inner_text() == "45 minuten"
    page.locator("[data-testid=stSidebar]").get_by_text("EN", exact=True).click()
    page.get_by_role("heading", name="Prepare a moral deliberation").wait_for()
    settle(page)
    assert "Procurement" in themes.inner_text() and "Aanbesteding" not in themes.inner_text()
    assert shown_length.inner_text() == "45 minutes"
    assert "lang=en" in page.url
    page.reload()
    page.get_by_role("heading", name="Prepare a moral deliberation").wait_for()


def test_on_a_phone_nothing_is_covered_or_cut_off(browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.set_default_timeout(_browser.WAIT_MS)
    try:
        phone.goto(f"{server.url}/casus?case={EXPECTED}")
        back = phone.get_by_text("Terug naar zoeken").first
        back.wait_for()
        settle(phone)
        box = back.bounding_box()
        assert box is not None
        topmost = phone.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('[data-testid=stPageLink]') !== null",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert topmost, "something covers the link (Streamlit's header)"
        cut = cut_off(phone, "[data-testid=stCheckbox] [data-testid=stMarkdownContainer]")
        assert cut == [], f"decisive facts cut off (Streamlit's one-line checkbox labels): {cut}"
        shot(phone, "02b-casus-telefoon.png")
        phone.goto(f"{server.url}/overzicht")  # the heat map (30 values across) scrolls, not the page
        phone.locator("[data-testid=stVegaLiteChart]").first.wait_for()
        settle(phone)
        sideways = phone.evaluate(
            "() => { const m = document.querySelector('[data-testid=stMain]'); return m.scrollWidth - m.clientWidth; }"
        )
        assert sideways <= 1, f"the overview scrolls {sideways}px sideways on a phone"
    finally:
        context.close()


def test_case_markup_is_shown_as_text(page, server: Server) -> None:
    open_page(page, server, f"/casus?case={HOSTILE}")
    assert page.get_by_text(SCRIPT, exact=False).first.is_visible()
    assert page.get_by_text("[klik hier](javascript:alert(3))", exact=False).first.is_visible()
    main = page.locator("[data-testid=stMain]")
    assert not main.locator("a[href^='javascript']").count()
    # Bare URLs and e-mail addresses show as typed, not as links (remark-gfm would autolink them).
    assert page.get_by_text(URL_BAIT, exact=False).first.is_visible()
    assert not main.locator("a[href*='voorbeeld.example']").count()
    assert not main.locator("img[onerror]").count()
    scripts = main.locator("script").evaluate_all("scripts => scripts.map(s => s.outerHTML)")
    assert scripts == ['<script data-page-language="nl">document.documentElement.lang = "nl";</script>']  # the app's
    shot(page, "07-opmaak-als-tekst.png")
    assert not server.dialogs


def test_nothing_leaves_the_machine(server: Server) -> None:
    """No fonts, icons or analytics from the internet: a search about a dilemma stays local."""
    assert not server.external_requests, server.external_requests


def _choose(page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox by its visible label: type to filter the (virtualised)
    list, as a keyboard user would, and take the match."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.keyboard.type(option)
    page.get_by_role("option").filter(has_text=option).first.wait_for()
    page.wait_for_timeout(500)  # the filtered list settles before Enter takes its first option
    page.keyboard.press("Enter")
    settle(page)


def test_the_case_page_draws_its_force_field_and_the_decisive_facts(page, server: Server) -> None:
    open_page(page, server, f"/casus?case={EXPECTED}")
    panel = page.get_by_role("heading", name="Krachtenveld")
    panel.wait_for()
    drawing = page.locator("[data-testid=stGraphVizChart] svg").first
    drawing.wait_for()
    drawn = drawing.text_content() or ""
    for source in ("Maatschappelijk", "Organisatorisch", "Professioneel", "Persoonlijk"):
        assert source in drawn, f"the drawing lacks the norm source {source}"
    assert "woog zwaarder" in drawn
    facts = page.get_by_text("Dit oordeel hing af van")
    assert facts.is_visible()
    page.locator("[data-testid=stCheckbox]").first.click()  # the reader ticks a fact that also holds for them
    page.get_by_text(re.compile(r"1 van de \d+ feiten")).wait_for()
    panel.evaluate("heading => heading.scrollIntoView({block: 'start'})")  # the drawing and the checklist
    settle(page)
    shot(page, "08-krachtenveld.png")


def test_search_by_values_in_tension(page, server: Server) -> None:
    open_page(page, server, "/")
    page.get_by_text("Zoek op waarden in spanning").click()
    settle(page)
    _choose(page, "Waarde in spanning", "Loyaliteit")
    _choose(page, "… afgewogen tegen", "Transparantie")
    page.get_by_role("heading", name=re.compile(r"^\d+ casussen")).wait_for()
    page.get_by_label("Beschrijf je dilemma").fill(
        "mijn leidinggevende wil dat ik een vertraging in het project voor de raad verzwijg"
    )
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.get_by_role("heading", name=re.compile("eerdere beraden")).wait_for()
    settle(page)
    shot(page, "09-zoeken-op-spanning.png")


def test_overview_shows_the_tension_map_and_lists_its_cases(page, server: Server) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})  # a common laptop, the sidebar open
    open_page(page, server, "/overzicht")
    overflow = page.evaluate(
        """() => { const chart = document.querySelector('[data-testid=stVegaLiteChart]');
                   const frame = chart.closest('[data-testid=stFullScreenFrame]');
                   return chart.getBoundingClientRect().width - frame.getBoundingClientRect().width; }"""
    )
    assert overflow <= 1, f"the heat map is {overflow}px wider than its column: its last values are cut off"
    tensions = cut_off(page, "[data-testid=stBaseButton-tertiary] [data-testid=stMarkdownContainer]")
    assert tensions == [], f"'Vaakst afgewogen' lines cut off: {tensions}"
    heat_map = page.locator("[data-testid=stVegaLiteChart]").first
    heat_map.locator("g.mark-rect path").first.click()
    page.get_by_role("heading", name=re.compile(r"^Spanning tussen .+ en .+ \(\d+\)")).wait_for()
    settle(page)
    shot(page, "06-waarden-in-spanning.png")
    page.get_by_role("heading", name="Twee waardenstelsels").scroll_into_view_if_needed()
    settle(page)
    assert page.get_by_text("Buis & De Boer").first.is_visible()
    shot(page, "05-overzicht.png")


DILEMMA = "Moet ik een kritisch punt uit mijn evaluatie schrappen omdat mijn teamchef dat vraagt?"


def test_weigh_your_own_dilemma_walks_through_and_downloads_a_document(page, server: Server) -> None:
    """The employee's private walk-through: six steps, the closest precedents, a document to take along."""
    open_page(page, server, "/afwegen")
    page.get_by_label("Je dilemma in één zin").fill(DILEMMA)
    page.get_by_label("Keuze 1", exact=True).fill("Het punt schrappen.")
    page.get_by_label("Keuze 2", exact=True).fill("Het punt laten staan en het gesprek aangaan.")
    page.get_by_role("button", name="Volgende").click()
    settle(page)
    _choose(page, "Waarde A", "Loyaliteit")
    _choose(page, "Waarde B", "Eerlijkheid")
    shot(page, "10-weeg-je-dilemma.png")
    for _ in range(4):  # norms, room and limits, whom to involve, then the precedents
        page.get_by_role("button", name="Volgende").click()
        settle(page)
    page.get_by_text("eerdere casussen die op jouw dilemma lijken").first.wait_for()
    settle(page)
    shot(page, "11-weeg-precedenten.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download om te printen (HTML)").click()
    document = Path(download.value.path()).read_text(encoding="utf-8")
    assert DILEMMA in document and "Loyaliteit" in document
    assert "<script" not in document.lower()


def test_concepts_explain_the_ideas_and_link_their_cases(page, server: Server) -> None:
    open_page(page, server, "/begrippen")
    for concept in ("Moresprudentie", "Moreel beraad", "Discretionaire ruimte", "Normatieve professionaliteit"):
        assert page.get_by_role("heading", name=concept).first.is_visible(), concept
    assert page.locator("[data-testid=stPageLink]").count() >= 7  # each concept links the cases that show it
    assert page.get_by_text("Binnenlands Bestuur").first.is_visible()
    shot(page, "12-begrippen.png")
