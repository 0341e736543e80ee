"""Issue 14, the session leader's, the reader's and the overview's journeys, each item with a test
that fails if it comes back: variations marked and filtered, an honest "Verras me", the handout
(lessons with the outcome, clean Markdown, the same word for the method as the page), relations
explained, why a case matched on its page, and the overview's tabs, years and newest cases."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from conftest import make_case, write_case
from streamlit.testing.v1 import AppTest

from moresprudentie import handout, settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.model import Relation, label
from moresprudentie.review import store as workflow
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components import i18n, nav, widgets

# -- helpers -----------------------------------------------------------------------------------------


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "text", "title", "subheader", "header", "info", "warning", "error")
    parts = [e.value for kind in kinds for e in at.get(kind)]
    parts += [e.proto.label for e in at.get("page_link")]
    return "\n".join(str(p) for p in parts)


def button(at: AppTest, text: str):
    return next(b for b in at.button if b.label == text)


# -- the session leader --------------------------------------------------------------------------------

SESSION = {
    "met-varianten": {
        "title": "Een taart met varianten",
        "variations": ["Maar wat als de aanvraag nog loopt?", "Maar wat als het een fles wijn is?"],
        "lessons": ["LES-UIT-DE-CASUS: weiger vriendelijk (en leg uit waarom)."],
        "method": "socratisch-gesprek",
    },
    "zonder-varianten": {"title": "Een dienstauto zonder varianten"},
    "ook-zonder": {"title": "Een dossier zonder varianten"},
}


@pytest.fixture
def session(tmp_path: Path, open_app) -> Callable[..., AppTest]:
    folder = tmp_path / "session"
    for case_id, fields in SESSION.items():
        write_case(folder, case_id, **fields)

    def make(lang: str = "nl") -> AppTest:
        return open_app(folder, nav.SESSION, lambda at: at.query_params.update(lang=lang))

    return make


def options(at: AppTest) -> set[str]:
    return set(at.selectbox(key="session_case").options)


def test_cases_without_variations_are_counted_marked_and_can_be_filtered_out(session) -> None:
    at = session()
    table = at.dataframe[0].value
    counts = dict(zip(table["Titel"], table["Varianten"], strict=True))
    assert counts == {
        "Een taart met varianten": 2,
        "Een dienstauto zonder varianten": 0,
        "Een dossier zonder varianten": 0,
    }
    toggle = at.toggle(key="session_filter_with_variations")
    assert toggle.label == "Alleen casussen met varianten"
    assert "2 van de 3 casussen hebben er (nog) geen" in toggle.help
    toggle.set_value(True).run()
    assert options(at) == {"Een taart met varianten"}
    toggle.set_value(False).run()
    assert len(options(at)) == 3
    at.selectbox(key="session_case").set_value("zonder-varianten").run()
    assert "Deze casus heeft geen varianten" in texts(at)  # the chosen case is marked too
    at.selectbox(key="session_case").set_value("met-varianten").run()
    assert "Deze casus heeft geen varianten" not in texts(at)


def test_a_case_pages_link_arrives_with_that_case_chosen_and_the_filters_cleared(session) -> None:
    """ "Bespreek deze casus in een moreel beraad" on a case page: the leader lands on the session page
    with that case, even when a filter of an earlier visit would have left it out."""
    at = session()
    at.toggle(key="session_filter_with_variations").set_value(True).run()
    assert options(at) == {"Een taart met varianten"}
    at.query_params["case"] = "zonder-varianten"
    at.run()
    assert not at.exception
    assert at.selectbox(key="session_case").value == "zonder-varianten" and len(options(at)) == 3
    assert "case" not in at.query_params and at.toggle(key="session_filter_with_variations").value is False
    assert "Hand-out" in texts(at)


def test_surprise_says_when_every_fitting_case_was_discussed_and_offers_a_way_on(session) -> None:
    at = session()
    at.session_state["session_discussed"] = list(SESSION)
    at.run()
    button(at, "Verras me").click().run()
    assert not at.exception
    assert at.session_state["session_case"] is None  # no silent repeat of a discussed case
    [warning] = [w.value for w in at.warning]
    assert "alle 3 passende casussen al besproken" in warning
    button(at, "Kies toch een passende casus").click().run()
    assert at.session_state["session_case"] in SESSION
    assert not at.warning  # the choice is made: the note has done its work
    button(at, "Verras me").click().run()
    assert at.warning  # still nothing new
    button(at, "Lijst met besproken casussen wissen").click().run()
    assert at.session_state["session_discussed"] == [] and not at.warning
    button(at, "Verras me").click().run()
    assert at.session_state["session_case"] in SESSION and not at.warning


def test_surprise_never_picks_a_discussed_case_while_a_fresh_one_fits(session) -> None:
    at = session()
    at.session_state["session_discussed"] = ["met-varianten", "zonder-varianten"]
    at.run()
    for _ in range(5):
        button(at, "Verras me").click().run()
        assert at.session_state["session_case"] == "ook-zonder"
        assert not at.warning


def test_surprise_never_repeats_the_case_on_screen_while_another_fits(session) -> None:
    at = session()
    seen = []
    for _ in range(6):
        button(at, "Verras me").click().run()
        seen.append(at.session_state["session_case"])
    assert all(a != b for a, b in itertools.pairwise(seen)), seen  # three fit: each click shows another


def test_handout_from_the_page_has_the_lessons_with_the_outcome_and_clean_markdown(session, downloads) -> None:
    at = session()
    at.selectbox(key="session_case").set_value("met-varianten").run()
    markdown = downloads["handout-met-varianten.md"]
    assert "LES-UIT-DE-CASUS" not in markdown and "LES-UIT-DE-CASUS" not in downloads["handout-met-varianten.html"]
    at.checkbox(key="session_outcome_met-varianten").check().run()
    # the leader's copy has a name of its own, so it never overwrites the group's
    markdown = downloads["handout-met-varianten-met-oordeel.md"]
    page = downloads["handout-met-varianten-met-oordeel.html"]
    assert "## Lessen\n\n- LES-UIT-DE-CASUS: weiger vriendelijk (en leg uit waarom)." in markdown
    assert (
        '<h2>Lessen</h2><ul class="keep"><li>LES-UIT-DE-CASUS: weiger vriendelijk (en leg uit waarom).</li></ul>'
        in page
    )
    assert "## Methode: Socratisch gesprek" in markdown
    assert not re.search(r"\\[:()!.,'-]", markdown), "no backslash before ordinary punctuation"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_method_has_one_name_on_the_page_and_in_the_handout(session, downloads, lang: str) -> None:
    at = session(lang)
    word = i18n.text("session.method", lang)
    at.selectbox(key="session_case").set_value("met-varianten").run()
    assert at.selectbox(key="session_method_met-varianten").label == word
    steps = i18n.text("session.steps", lang)
    assert word.lower() in steps.lower()  # "Stappen van de methode"
    assert f"## {word}: {label('methods', 'socratisch-gesprek', lang)}" in downloads["handout-met-varianten.md"]


def test_the_general_outline_chosen_on_the_page_is_the_one_in_the_handout(session, downloads) -> None:
    """ "Algemene gespreksopbouw" is a choice: the handout once fell back to the case's own method and
    printed its steps, while the page listed the general ones."""
    at = session("nl")
    at.selectbox(key="session_case").set_value("met-varianten").run()
    at.selectbox(key="session_method_met-varianten").select_index(0).run()
    assert not at.exception
    markdown = downloads["handout-met-varianten.md"]
    assert "## Methode: algemene gespreksopbouw" in markdown and "Socratisch gesprek" not in markdown
    general = handout.method_steps(None, "nl")
    assert all(step.split()[0] in markdown for step in general)


def test_no_second_word_for_the_method_is_left() -> None:
    """'Werkvorm' (page) and 'Werkwijze' (handout) named the same thing: only 'Methode' remains."""
    source = Path(__file__).parent.parent / "moresprudentie"
    handout_text = (source / "handout.yaml").read_text(encoding="utf-8")
    session_strings = yaml.safe_dump(i18n.strings()["session"], allow_unicode=True)
    for text in (handout_text, session_strings):
        assert not re.search(r"(?i)werkvorm|werkwijze|approach", text)


# -- the case page ------------------------------------------------------------------------------------

RELATED = {
    "basis": {"title": "De basiscasus over een kerstpakket", "situation": "Een kerstpakket van een leverancier."},
    "volger": {
        "title": "Een kerstpakket dat de lijn volgt",
        "related": [{"id": "basis", "relation": "follows"}, {"id": "afwijker", "relation": "departs"}],
    },
    "nuancer": {"title": "Een nuancerende casus", "related": [{"id": "basis", "relation": "nuances"}]},
    "afwijker": {"title": "Een afwijkende casus", "related": [{"id": "verwant", "relation": "see-also"}]},
    "verwant": {"title": "Een verwante casus"},
}


@pytest.fixture
def related_app(tmp_path: Path, open_app) -> Callable[..., AppTest]:
    folder = tmp_path / "related"
    for case_id, fields in RELATED.items():
        write_case(folder, case_id, **fields)
    return lambda case_id, lang="nl": open_app(
        folder, nav.CASE, lambda at: at.query_params.update(case=case_id, lang=lang)
    )


def test_every_relation_is_explained_in_both_languages() -> None:
    for relation in Relation:
        for lang in i18n.LANGUAGES:
            assert len(i18n.text(f"case.relation_help.{relation}", lang).split()) >= 3, (relation, lang)


def test_the_case_page_explains_each_relation_beside_its_label(related_app) -> None:
    captions = [caption.value for caption in related_app("volger").caption]
    follows, departs = i18n.text("case.relation_help.follows", "nl"), i18n.text("case.relation_help.departs", "nl")
    assert f"**Volgt**: {follows}" in captions
    assert f"**Wijkt af van**: {departs}" in captions
    captions = [caption.value for caption in related_app("afwijker").caption]
    assert f"**Zie ook**: {i18n.text('case.relation_help.see-also', 'nl')}" in captions
    captions = [caption.value for caption in related_app("basis").caption]  # links made to this case
    nuances = i18n.text("case.relation_help.nuances", "nl")
    assert nuances == "dezelfde lijn, maar een feit maakte het anders"
    assert f"Verwijst naar deze casus (nuanceert): {nuances}" in captions
    captions = [caption.value for caption in related_app("volger", "en").caption]
    assert f"**Follows**: {i18n.text('case.relation_help.follows', 'en')}" in captions


def test_more_like_this_leaves_out_the_cases_linked_above(related_app) -> None:
    """A case linked under "Verwante casussen" was listed again under "Meer zoals deze"."""
    at = related_app("volger")
    links = [link.proto.label for link in at.get("page_link")]
    assert links.count("De basiscasus over een kerstpakket") == 1 and links.count("Een afwijkende casus") == 1
    assert "Meer zoals deze" in texts(at) and "Een nuancerende casus" in links  # the rest still comes


QUERY = "Een leverancier geeft mij een kerstpakket tijdens de aanbesteding"


@pytest.fixture
def searched(search_cases: Path, open_app) -> AppTest:
    """The search page after a search that finds the kerstpakket case."""
    at = open_app(search_cases)
    at.text_area[0].input(QUERY)
    at.button[0].click().run()
    assert "Een kerstpakket van een leverancier" in texts(at)
    return at


def _open_case(at: AppTest, case_id: str) -> AppTest:
    """What a click on a result's link does: the case page with ?case=<id>, in the same session."""
    at.query_params["case"] = case_id
    at.switch_page(nav.CASE.path).run()
    assert not at.exception
    return at


def test_a_case_opened_from_the_results_says_why_it_matched(searched) -> None:
    card = next(c.value for c in searched.caption if c.value.startswith("Gevonden in"))
    at = _open_case(searched, "kerstpakket-leverancier")
    [info] = [i.value for i in at.info if i.value.startswith("Gevonden bij je vraag")]
    assert ":orange-background[kerstpakket]" in info  # the query's words highlighted, as on the card
    assert card.split("\n", 1)[1] in info  # the same passage as the card
    assert QUERY not in str(dict(at.query_params))  # the query stays out of the URL


def test_a_case_not_in_the_results_or_opened_directly_shows_nothing_extra(search_cases: Path, open_app) -> None:
    for number in range(15):  # more cases than one page of results holds
        write_case(search_cases, f"vulling-{number}", title=f"Vulling {number}", situation=f"Over fietsen {number}.")
    at = open_app(search_cases)
    at.text_area[0].input(QUERY)
    at.button[0].click().run()
    matched = at.session_state[widgets.MATCHED]
    assert "kerstpakket-leverancier" in matched
    other = next(f"vulling-{number}" for number in range(15) if f"vulling-{number}" not in matched)
    at = _open_case(at, other)
    assert not [i for i in at.info if "Gevonden bij je vraag" in i.value]
    fresh = open_app(search_cases, nav.CASE, lambda at: at.query_params.update(case="kerstpakket-leverancier"))
    assert not [i for i in fresh.info if "Gevonden bij je vraag" in i.value]


def test_an_emptied_search_forgets_why_cases_matched(searched) -> None:
    assert "kerstpakket-leverancier" in searched.session_state[widgets.MATCHED]
    searched.text_area[0].input("")
    searched.button[0].click().run()
    at = _open_case(searched, "kerstpakket-leverancier")
    assert not [i for i in at.info if "Gevonden bij je vraag" in i.value]


# -- the overview --------------------------------------------------------------------------------------

TAB = "overview_tab"


def charts_drawn(at: AppTest) -> set[str]:
    return {chart.key for chart in at.get("vega_lite_chart")}


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


@pytest.fixture
def years_app(tmp_path: Path, open_app) -> AppTest:
    folder = tmp_path / "years"
    for case_id, date in (("oud", "2018-05"), ("nieuw", "2021-02"), ("nieuwer", "2021-09")):
        write_case(folder, case_id, date=date, themes=["geschenken"], values=["zorg", "loyaliteit"])
    return open_app(folder, nav.OVERVIEW)


def test_switching_tabs_drops_the_list_of_the_other_chart(years_app) -> None:
    at = years_app
    at.session_state["overview_pick"] = ("themes", "geschenken")
    at.run()
    assert any(s.startswith("Thema") and s.endswith("(3)") for s in subheaders(at))
    assert "overview_chart_themes" in charts_drawn(at)
    at.session_state[TAB] = "Waarden"  # the reader opens another tab
    at.run()
    assert not at.exception
    assert not any(s.startswith("Thema") for s in subheaders(at)), "a list from a chart no longer on screen"
    assert at.session_state["overview_pick"] is None
    assert "Klik op een balk of een vakje in de grafiek om de casussen erachter te zien." in texts(at)
    assert "overview_chart_values" in charts_drawn(at) and "overview_chart_themes" not in charts_drawn(at)
    at.session_state[TAB] = "Thema's"  # and back: the chart is drawn afresh, with no list from before
    at.run()
    assert not any(s.startswith("Thema") for s in subheaders(at))


def test_a_pick_in_the_open_tab_lists_its_cases(years_app) -> None:
    at = years_app
    at.session_state[TAB] = "Waarden"
    at.run()
    at.session_state["overview_pick"] = ("values", "zorg")
    at.run()
    assert any(s.startswith("Waarde") and s.endswith("(3)") for s in subheaders(at))
    assert at.session_state[TAB] == "Waarden"


def test_the_year_chart_labels_every_year_empty_ones_too(years_app) -> None:
    at = years_app
    at.session_state[TAB] = "Jaren"
    at.run()
    chart = next(e for e in at.get("vega_lite_chart") if e.key == "overview_chart_years")
    spec = json.loads(chart.proto.spec)
    frame = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    assert dict(zip(frame["label"], frame["n"], strict=True)) == {
        "2018": 1,
        "2019": 0,
        "2020": 0,
        "2021": 2,
    }
    axis: dict[str, Any] = spec["encoding"]["y"]
    assert axis["field"] == "label" and axis["type"] == "nominal"  # one label per bar, never thinned out
    assert axis["axis"]["labelOverlap"] is False


OFFICERS = frozenset({"anna@example.nl", "bram@example.nl"})
ANNA, BRAM = actor_for("anna@example.nl", OFFICERS), actor_for("bram@example.nl", OFFICERS)


def _publish(cases: Path, case_id: str, **fields: object) -> None:
    """Through the officers' workflow, as the review page or `moresprudentie review publish` does."""
    store, case = CaseStore(cases), make_case(case_id, **fields)
    store.save_draft(case, ANNA)
    store.submit(case_id, ANNA)
    store.approve(case_id, BRAM, seen_hash=store.editable_version(case_id).hash)
    store.publish(case_id, ANNA, seen_hash=store.editable_version(case_id).hash)


def newest_titles(at: AppTest) -> list[str]:
    """The case titles listed under 'Nieuwste casussen', in order."""
    stack: list[Any] = [at.main]
    while stack:
        block = stack.pop(0)
        children = getattr(block, "children", None) or {}
        items = list(children.values()) if isinstance(children, dict) else list(children)
        heads = [i for i, item in enumerate(items) if item.type == "subheader" and item.value == "Nieuwste casussen"]
        if heads:
            return [link.proto.label for item in items[heads[0] + 1 :] for link in item.get("page_link")]
        stack.extend(item for item in items if getattr(item, "children", None))
    return []


def test_newest_cases_are_the_ones_published_last(
    shipped_cases: Path, open_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])  # the check has its own tests
    _publish(shipped_cases, "net-gepubliceerd", title="Een oud beraad, net gepubliceerd", date="2012-04")
    at = open_app(shipped_cases, nav.OVERVIEW)
    titles = newest_titles(at)
    assert titles[0] == "Een oud beraad, net gepubliceerd"  # its deliberation date is the oldest of all
    assert len(titles) == 6
    caption = next(c.value for c in at.caption if " · gepubliceerd " in c.value)
    assert "2012" in caption  # the meta line still says when the group deliberated
    # the shipped cases have no 'published' event: they follow by their deliberation date
    shipped = [c for c in load_cases(shipped_cases).cases.values() if c.is_published and c.id != "net-gepubliceerd"]
    latest = max(shipped, key=lambda c: (c.date, c.id))
    assert titles[1] == widgets.md_inline(latest.title)
