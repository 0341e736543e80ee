"""The Streamlit app with AppTest and the fake embedder: every page, the main interactions, safety.

Each test starts the real app.py against a temporary collection (MORESPRUDENTIE_CASES) whose
engine uses the FakeEmbedder (patched into ui.resources), so no model is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import APP, SEARCH_CASES, write_case
from streamlit.testing.v1 import AppTest

from moresprudentie.review.roles import OFFICER, Actor
from moresprudentie.search import ranking
from moresprudentie.ui import app as ui_app
from moresprudentie.ui.components import auth, i18n, nav

HOSTILE_ID = "script-in-de-casus"
HOSTILE_TITLE = "<img src=x onerror=alert(1)> Een [link](javascript:alert(1))"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def collection(search_cases: Path) -> Path:
    """The small search collection plus a hostile case and a broken file."""
    write_case(
        search_cases,
        HOSTILE_ID,
        title=HOSTILE_TITLE,
        themes=["geschenken"],
        values=["onpartijdigheid", "transparantie"],
        situation=f"Een medewerker krijgt een geschenk. {SCRIPT} Zie [hier](javascript:alert(1)) en :red[rood] $x$.",
        dilemma="Moet ik het geschenk aannemen? <b>vet</b>",
        lessons=["[klik](javascript:alert(1))"],
        variations=["Maar wat als het geschenk duur is?"],
        discussion_questions=["Wat doet het geschenk met je onpartijdigheid?"],
        related=[{"id": "kerstpakket-leverancier", "relation": "nuances"}],
        duration_minutes=60,
        method="dilemmamethode",
    )
    (search_cases / "kapot.yaml").write_text("id: kapot\ntitle: [unclosed\n", encoding="utf-8")
    return search_cases


@pytest.fixture
def app(collection: Path, open_app) -> Callable[..., AppTest]:
    """make(page=None, **query_params): the app run once, switched to a page and run again."""

    def make(page: nav.PageSpec | None = None, **params: str) -> AppTest:
        return open_app(collection, page, lambda at: at.query_params.update(params))

    return make


def in_order(node: Any) -> Iterator[Any]:
    """Every element under a node, in the order the page shows them."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from in_order(child)


def texts(at: AppTest) -> str:
    """Everything shown as Markdown, captions, text and titles, joined (for assertions)."""
    kinds = ("markdown", "caption", "text", "title", "subheader", "header", "info", "warning", "error")
    parts = [e.value for kind in kinds for e in at.get(kind)]
    parts += [e.proto.label for e in at.get("page_link")]
    return "\n".join(str(p) for p in parts)


# -- strings ---------------------------------------------------------------------------------------


def _leaves(node: dict, prefix: str = "") -> list[tuple[str, dict]]:
    if set(node) & set(i18n.LANGUAGES) and all(isinstance(v, str) for v in node.values()):
        return [(prefix, node)]
    return [leaf for key, child in node.items() for leaf in _leaves(child, f"{prefix}.{key}".strip("."))]


def test_every_string_has_dutch_and_english() -> None:
    for key, leaf in _leaves(i18n.strings()):
        assert set(leaf) == set(i18n.LANGUAGES), f"strings.yaml: {key} needs exactly nl and en"
        assert all(text.strip() for text in leaf.values()), f"strings.yaml: {key} has an empty text"
        assert set(re.findall(r"{(\w+)}", leaf["nl"])) == set(re.findall(r"{(\w+)}", leaf["en"])), key


def test_a_count_of_one_reads_in_the_singular() -> None:
    """'1 eerdere beraden die … lijken' was the app's Dutch for one hit; every counted text with a
    singular form (a sibling key ending in _one) uses it for 1 and only for 1."""
    assert i18n.text("search.results", "nl", count=1) == "1 eerder beraad dat op jouw dilemma lijkt"
    assert i18n.text("search.results", "en", count=1) == "1 earlier deliberation that resembles your dilemma"
    assert i18n.text("search.results", "nl", count=2) == "2 eerdere beraden die op jouw dilemma lijken"
    assert i18n.text("session.count", "nl", count=1, total=93) == "1 van 93 casussen past"
    keys = {key for key, _ in _leaves(i18n.strings())}
    singulars = [key for key in keys if key.endswith("_one") and key.removesuffix("_one") in keys]
    assert len(singulars) >= 15
    for key in singulars:
        plural = key.removesuffix("_one")
        for language in i18n.LANGUAGES:
            one = i18n.text(key, language, count=1, total=9, listed="x")
            assert i18n.text(plural, language, count=1, total=9, listed="x") == one
            assert one != i18n.text(plural, language, count=2, total=9, listed="x"), key


def test_no_dropdown_offers_streamlits_english_select_all() -> None:
    """Streamlit adds "Select all" to a multiselect's list, in English whatever the page's language."""
    ui = Path(i18n.__file__).parent.parent
    for source in ui.rglob("*.py"):
        calls = source.read_text(encoding="utf-8").split("st.multiselect(")[1:]
        for call in calls:
            assert "select_all=False" in call.split("\n    )")[0], (
                f"{source.name}: st.multiselect without select_all=False"
            )


def test_every_key_used_in_the_ui_exists() -> None:
    ui = Path(i18n.__file__).parent
    sources = [*ui.glob("*.py"), Path(APP)]
    for source in sources:
        for key in re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", source.read_text(encoding="utf-8")):
            i18n.text(key, "en")  # raises KeyError when missing


# -- search ----------------------------------------------------------------------------------------


def test_search_page_opens_in_dutch_with_examples(app) -> None:
    at = app()
    assert at.text_area[0].label == "Beschrijf je dilemma"
    assert "Een precedent informeert, het bindt niet" in texts(at)
    assert len([b for b in at.button if b.key and b.key.startswith("example_")]) == 3


def test_search_shows_cards_with_band_values_and_highlighted_match(app) -> None:
    at = app()
    at.text_area[0].input("Een leverancier geeft mij een kerstpakket tijdens de aanbesteding")
    at.button[0].click().run()
    assert not at.exception
    shown = texts(at)
    assert "Een kerstpakket van een leverancier" in shown
    assert "overeenkomst" in shown  # a band people understand, not a raw float
    assert ":orange-background[kerstpakket]" in shown
    assert "Onpartijdigheid" in shown  # the values as chips
    assert "Een fles wijn" not in shown  # drafts stay out of search


def test_an_off_topic_question_gets_an_honest_no_good_match(app) -> None:
    at = app()
    at.text_area[0].input("recept voor appeltaart met kaneel")
    at.button[0].click().run()
    assert not at.exception
    assert "Geen goede overeenkomst gevonden" in texts(at)
    assert "vertrouwenspersoon" in texts(at) and "integriteitsfunctionaris" in texts(at)
    assert "Zwakke overeenkomst" in texts(at)  # the weak hits stay visible, marked as weak
    assert "Sterke overeenkomst" not in texts(at) and "Redelijke overeenkomst" not in texts(at)


def test_no_good_match_within_filters_says_so_and_the_notice_follows_the_results(app) -> None:
    """A filter that hides the cases that would fit is named as a cause; and after a search the
    reminder that a precedent does not bind comes after the results, so they start near the top."""
    at = app()
    at.text_area[0].input("recept voor appeltaart met kaneel")
    at.button[0].click().run()
    assert not at.exception and "binnen je filters" not in texts(at)
    shown = [str(getattr(element, "value", "")) for element in in_order(at.main)]
    first = {
        needle: next(i for i, text in enumerate(shown) if needle in text) for needle in ("Geen goede", "precedent")
    }
    assert first["Geen goede"] < first["precedent"]
    at.multiselect(key="search_themes").set_value([at.multiselect(key="search_themes").options[0]]).run()
    assert not at.exception
    assert "Geen goede overeenkomst gevonden** binnen je filters" in "\n".join(w.value for w in at.warning)


def test_a_query_without_a_word_asks_for_words(app) -> None:
    at = app()
    at.text_area[0].input("?!?!")
    at.button[0].click().run()
    assert not at.exception
    assert "Hier staat nog niets om op te zoeken" in texts(at) and "met deze filters" not in texts(at)


def test_the_results_heading_says_what_the_bands_mean(app) -> None:
    """A band is a calibrated chance, not a rank in the list: the heading's help says so, with the
    thresholds the ranking uses, on a good list and on a weak one alike."""
    for question in ("Een leverancier geeft mij een kerstpakket tijdens de aanbesteding", "recept voor appeltaart"):
        at = app()
        at.text_area[0].input(question)
        at.button[0].click().run()
        assert not at.exception
        helps = [h.proto.help for h in at.subheader if h.proto.help]
        assert helps and f"vanaf {round(ranking.STRONG * 100)} %" in helps[0] and "bindt het niet" in helps[0]


def test_a_good_match_shows_no_warning(app) -> None:
    at = app()
    at.text_area[0].input("Een leverancier geeft mij een kerstpakket tijdens de aanbesteding")
    at.button[0].click().run()
    assert "Geen goede overeenkomst gevonden" not in texts(at)
    assert "Sterke overeenkomst" in texts(at) or "Redelijke overeenkomst" in texts(at)


def test_example_button_searches(app) -> None:
    at = app()
    at.button(key="example_0").click().run()
    assert not at.exception
    assert "eerdere beraden" in texts(at)


def test_deep_link_q_searches_at_once(app) -> None:
    at = app(q="dienstauto op zaterdag")
    assert "De dienstauto op zaterdag" in texts(at)


def test_sidebar_filters_narrow_results_before_ranking(app) -> None:
    at = app()
    at.multiselect(key="search_organisations").select("politie").run()
    assert "Het politiedossier van de buurman" in texts(at)
    assert "De dienstauto op zaterdag" not in texts(at)
    at.text_area[0].input("kerstpakket leverancier")
    at.button[0].click().run()
    shown = texts(at)
    assert "Het politiedossier van de buurman" in shown  # filters first: never an empty top-k
    assert "Een kerstpakket van een leverancier" not in shown


def test_english_switch_and_lang_parameter(app) -> None:
    at = app(lang="en")
    assert at.text_area[0].label == "Describe your dilemma"
    assert _page_language(at) == [_language_script("en")]  # screen readers read English with an English voice
    at = app()
    assert _page_language(at) == [_language_script("nl")]  # Streamlit's page says lang="en" until told
    switch = next(group for group in at.get("button_group") if group.key == i18n.STATE_KEY)
    switch.set_value("en").run()
    assert not at.exception
    assert at.text_area[0].label == "Describe your dilemma"
    assert "A precedent informs, it does not bind" in texts(at)
    assert at.query_params["lang"] == "en"  # a reload or a shared link stays in English
    assert _page_language(at) == [_language_script("en")]
    at.switch_page(nav.SESSION.path).run()  # the choice holds across pages
    assert "Prepare a moral deliberation" in texts(at)
    assert at.query_params["lang"] == "en"
    switch = next(group for group in at.get("button_group") if group.key == i18n.STATE_KEY)
    switch.set_value("nl").run()
    assert "lang" not in at.query_params and "Moreel beraad voorbereiden" in texts(at)


# -- case page -------------------------------------------------------------------------------------


def test_case_page_shows_everything_related_and_more_like_this(app) -> None:
    at = app(nav.CASE, case=HOSTILE_ID)
    shown = texts(at)
    for heading in ("Situatie", "Dilemma", "Oordeel", "Afweging", "Lessen", "Maar wat als …?", "Verwante casussen"):
        assert heading in shown
    assert "Nuanceert" in shown  # the relation label from the vocabulary
    assert "Meer zoals deze" in shown
    session = next(
        link for link in at.get("page_link") if link.proto.label == "Bespreek deze casus in een moreel beraad"
    )
    assert session.proto.page.endswith("beraad") and f"case={HOSTILE_ID}" in session.proto.query_string


def test_case_deep_link_from_the_root(app) -> None:
    at = app(case="dienstauto-zaterdag")
    assert "De dienstauto op zaterdag" in texts(at)


def test_unknown_or_draft_case_is_not_found_calmly(app) -> None:
    for case_id in ("bestaat-niet", "fles-wijn-concept"):
        at = app(nav.CASE, case=case_id)
        assert at.warning, case_id
        assert "Een fles wijn" not in texts(at)
    at = app(nav.CASE)  # the page opened without a case: no "there is no published case ''"
    assert "Kies een casus" in texts(at) and not at.warning and not at.exception


def test_hostile_case_text_is_inert(app) -> None:
    at = app(nav.CASE, case=HOSTILE_ID)
    for element in [*at.markdown, *at.caption]:
        assert not element.allow_html
    shown = texts(at)
    assert not re.search(r"(?<!\\)[<>]", shown)  # angle brackets only ever escaped
    assert r"\<script\>alert\(1\)\</script\>" in shown
    assert r"\[hier\]\(javascript\:alert\(1\)\)" in shown
    assert r"\:red\[rood\] \$x\$" in shown
    for element in at.get("html"):  # only the app's own fixed texts: its style and the page-language script
        assert element.value.startswith("<style>") or element.value == _language_script("nl"), element.value
        assert element.proto.unsafe_allow_javascript == element.value.startswith("<script"), element.value
        assert "alert" not in element.value


def _language_script(language: str) -> str:
    """The one piece of JavaScript the app sends: it sets `<html lang>` (ui/app.py)."""
    script = ui_app.PAGE_LANGUAGE_SCRIPT.format(language=language)
    return f'<script data-page-language="{language}">{script}</script>'


def _page_language(at: AppTest) -> list[str]:
    return [e.value for e in at.get("html") if e.value.startswith("<script data-page-language")]


# -- session preparation ---------------------------------------------------------------------------


def test_session_page_choose_hidden_judgement_and_handout(app) -> None:
    at = app(nav.SESSION)
    at.selectbox(key="session_case").set_value(HOSTILE_ID).run()
    assert not at.exception
    shown = texts(at)
    assert "Situatie" in shown and "Oordeel" not in shown  # hidden until asked
    downloads = at.get("download_button")
    assert len(downloads) == 2
    at.toggle(key=f"session_reveal_{HOSTILE_ID}").set_value(True).run()
    assert "Oordeel" in texts(at)


def test_session_filters_by_length_and_values_in_tension(app) -> None:
    at = app(nav.SESSION)
    at.multiselect(key="session_filter_values").select("onpartijdigheid").select("transparantie").run()
    assert not at.exception
    assert at.selectbox(key="session_case").options == [HOSTILE_TITLE]


def test_surprise_avoids_discussed_cases(app) -> None:
    at = app(nav.SESSION)
    published = [cid for cid, fields in SEARCH_CASES.items() if fields.get("status") != "draft"] + [HOSTILE_ID]
    at.session_state["session_discussed"] = [cid for cid in published if cid != "dossier-buurman"]
    at.run()
    for _ in range(3):
        next(b for b in at.button if b.label == "Verras me").click().run()
        assert at.session_state["session_case"] == "dossier-buurman"


def test_mark_discussed_and_export(app) -> None:
    at = app(nav.SESSION)
    at.selectbox(key="session_case").set_value("dienstauto-zaterdag").run()
    next(b for b in at.button if b.label == "Markeer als besproken").click().run()
    assert at.session_state["session_discussed"] == ["dienstauto-zaterdag"]
    assert len(at.get("download_button")) == 3  # two handouts and the list


def test_import_keeps_the_discussed_list(app) -> None:
    at = app(nav.SESSION)
    at.get("file_uploader")[0].upload("besproken.txt", b"# lijst\ndienstauto-zaterdag\nbestaat-niet\n", "text/plain")
    at.run()
    assert not at.exception
    assert at.session_state["session_discussed"] == ["dienstauto-zaterdag"]


def test_import_of_a_file_the_server_no_longer_holds_is_calm(app, monkeypatch: pytest.MonkeyPatch) -> None:
    """The widget state names an upload the server no longer holds (restart, cleared session, a
    crafted client): a calm toast, and the discussed list stays as it was."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    at = app(nav.SESSION)
    at.session_state["session_discussed"] = ["dienstauto-zaterdag"]
    monkeypatch.setattr(LocalScriptRunner, "register_file", lambda self, file_rec: None)
    at.get("file_uploader")[0].upload("besproken.txt", b"dossier-buurman\n", "text/plain")
    at.run()
    assert not at.exception
    assert [toast.value for toast in at.toast] == [i18n.text("app.upload_gone", "nl")]
    assert at.session_state["session_discussed"] == ["dienstauto-zaterdag"]


# -- overview --------------------------------------------------------------------------------------


def test_overview_counts_heatmap_newest(app) -> None:
    at = app(nav.OVERVIEW)
    assert at.metric[0].value == "6"  # published cases only (the draft and the broken file are not)
    # the tension heat map, two value systems, norm sources, roles, and the open one of the five facet tabs
    assert len(at.get("vega_lite_chart")) == 6
    assert "overview_chart_themes" in {chart.key for chart in at.get("vega_lite_chart")}
    assert "Nieuwste casussen" in texts(at)
    assert "kapot.yaml" not in texts(at)  # invalid files are for officers


def test_overview_lists_invalid_files_for_officers(app, collection: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "current_actor", lambda: Actor("functionaris@example.nl", frozenset({OFFICER})))
    (collection / "leeg.yaml").write_text("id: leeg\ntitle:\nsituation:\ndilemma:\n", encoding="utf-8")
    at = app(nav.OVERVIEW)
    assert "kapot.yaml" in texts(at)
    expander = next(e for e in at.expander if "niet geladen" in e.label)
    assert "2 bestanden niet geladen" in expander.label  # files, not their problems (leeg.yaml has several)
    assert "leeg.yaml:2: Titel: mag niet leeg zijn" in texts(at)  # in the page's language, not pydantic's


def test_overview_click_through_lists_the_cases(app) -> None:
    at = app(nav.OVERVIEW)
    at.session_state["overview_pick"] = ("pair", "onpartijdigheid|transparantie")
    at.run()
    assert not at.exception
    assert "Spanning tussen onpartijdigheid en transparantie (1)" in texts(at)


# -- officer pages (their own tests are in test_app_officer.py) -------------------------------------


@pytest.mark.parametrize("page", [nav.ADD_CASE, nav.REVIEW])
def test_officer_pages_open_read_only_for_visitors(app, page: nav.PageSpec) -> None:
    at = app(page)  # asserts no exception
    assert at.info or at.title
