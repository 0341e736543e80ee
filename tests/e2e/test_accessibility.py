"""Accessibility in a real browser, where it can only be seen: what a keyboard user sees of the focus,
what a screen reader is told about the page's language and title, and how dark the grey text is.

Each is measured from the computed style Chromium draws with (not from the CSS the app sends), so a
Streamlit upgrade that outranks the app's style fails here. The server and browser are in _browser.py.
"""

from __future__ import annotations

import _browser
import pytest
from _browser import QUERY, Server, open_page, require_browser, settle

# the shared browser fixtures (module scope: one server for this module)
collection, server, browser, page = _browser.collection, _browser.server, _browser.browser, _browser.page

pytestmark = pytest.mark.e2e
require_browser()

AA_TEXT = 4.5  # WCAG 1.4.3: normal-sized text against its background
AA_NON_TEXT = 3.0  # WCAG 1.4.11: a focus ring against what surrounds it

# The contrast of an element's text, as it is drawn: its colour (with alpha, and the opacity of every
# ancestor, which is how Streamlit fades a caption) over its background (every translucent background
# up to the first opaque one, over white), by the WCAG formula.
CONTRAST = """
(el, which) => {
  const parse = c => { const p = c.match(/[\\d.]+/g).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const mix = (top, bottom, a) => top.map((v, i) => v * a + bottom[i] * (1 - a));
  const lum = rgb => { const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  const background = layers.reverse().reduce((under, c) => mix(c.slice(0, 3), under, c[3]), [255, 255, 255]);
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
  const colour = parse(getComputedStyle(el)[which]);
  const drawn = mix(colour.slice(0, 3), background, colour[3] * opacity);
  const [light, dark] = [lum(drawn), lum(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}
"""


def _search(page, server: Server) -> None:
    open_page(page, server, "/")
    page.get_by_label("Beschrijf je dilemma").fill(QUERY)
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.locator("[data-testid=stPageLink]").first.wait_for()
    settle(page)


def _tab_to(page, test_id: str, limit: int = 60) -> dict:
    """Press Tab until the element with focus has `data-testid=test_id`; its outline as drawn."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                return {id: e.getAttribute('data-testid'), text: e.innerText, style: s.outlineStyle,
                        width: parseFloat(s.outlineWidth)}; }"""
        )
        if focused["id"] == test_id:
            focused["ring"] = page.evaluate(f"() => ({CONTRAST})(document.activeElement, 'outlineColor')")
            return focused
    raise AssertionError(f"{limit} presses of Tab never reached a [data-testid={test_id}]")


def test_keyboard_focus_is_visible_on_result_links_and_the_sidebar_navigation(page, server: Server) -> None:
    """Streamlit draws no outline on a focused link (WCAG 2.4.7): a keyboard user lost their place."""
    _search(page, server)
    page.get_by_label("Beschrijf je dilemma").focus()
    for test_id in ("stPageLink-NavLink", "stBaseButton-secondary", "stSidebarNavLink"):  # a result, a download
        focused = _tab_to(page, test_id)
        assert focused["style"] != "none" and focused["width"] >= 2, focused
        assert focused["ring"] >= AA_NON_TEXT, focused


def test_page_language_and_tab_title_follow_the_ui_language(page, server: Server) -> None:
    """Streamlit writes `<html lang="en">` and one title for every tab: a screen reader read the Dutch
    interface with an English voice (WCAG 3.1.1), and no tab said which page it held (2.4.2)."""
    open_page(page, server, "/")
    page.wait_for_function("document.documentElement.lang === 'nl' && document.title === 'Zoeken · Moresprudentie'")

    page.locator("[data-testid=stSidebar]").get_by_text("EN", exact=True).click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.wait_for_function("document.title === 'Search · Moresprudentie'")

    page.locator("[data-testid=stSidebarNavLink]", has_text="Concepts").click()
    page.wait_for_function("document.title === 'Concepts · Moresprudentie'")
    assert page.evaluate("document.documentElement.lang") == "en"

    # a fresh session, English from the address (its page starts as "en" anyway: the title shows it)
    open_page(page, server, "/overzicht?lang=en")
    page.wait_for_function("document.title === 'Overview · Moresprudentie'")
    assert page.evaluate("document.documentElement.lang") == "en"

    page.locator("[data-testid=stSidebar]").get_by_text("NL", exact=True).click()
    page.wait_for_function("document.documentElement.lang === 'nl'")
    page.wait_for_function("document.title === 'Overzicht · Moresprudentie'")


def test_a_case_tab_is_titled_by_its_case(page, server: Server) -> None:
    """Several cases open in tabs (or in the history) are told apart by their titles, not "Casus"."""
    open_page(page, server, f"/casus?case={_browser.EXPECTED}")
    title = page.locator("h1").first.inner_text()
    page.wait_for_function("expected => document.title === expected", arg=f"{title} · Moresprudentie")


def test_the_page_language_script_takes_no_room(page, server: Server) -> None:
    """The element that carries the script is hidden: the page starts where it did without it."""
    open_page(page, server, "/")
    holder = page.locator("[data-testid=stElementContainer]:has(script[data-page-language])")
    assert holder.count() == 1
    assert holder.evaluate("e => getComputedStyle(e).display") == "none"


def test_captions_meet_aa_contrast(page, server: Server) -> None:
    """Captions (a result's metadata line, "Gevonden in", the subtitle, the privacy note, the sidebar's
    notes) were the text colour at opacity 0.6: 4.1:1 on white, 3.9:1 in the sidebar (WCAG 1.4.3)."""
    _search(page, server)
    captions = page.locator("[data-testid=stCaptionContainer] :is(p, span, strong, em)")
    ratios = captions.evaluate_all(
        f"els => els.filter(e => e.offsetParent && e.innerText.trim())"
        f".map(e => [e.innerText.slice(0, 60), ({CONTRAST})(e, 'color')])"
    )
    shown = [text for text, _ in ratios]
    for expected in ("Gevonden in", "Wat je hier typt", "Eerdere morele beraden als houvast"):
        assert any(text.startswith(expected) for text in shown), (expected, shown)
    assert any(" · " in text for text in shown), shown  # a result's metadata line
    faint = [(text, round(ratio, 2)) for text, ratio in ratios if ratio < AA_TEXT]
    assert faint == [], faint
