"""The add-case form says what it needs, in the UI language (issue 14).

Required fields are marked, a disabled button says why beside it, "Alles vervangen" fixes every
finding in one click, a draft with personal data is never written, and every text on the page
(Streamlit's own widget texts, the loader's problems, upload errors) is Dutch in the Dutch UI and
English in the English one. The loader's problems are worded by ui/components/messages.py from a
stable code; its rendering of every code is tested here in both languages.

The name detector is the tiny fake of test_app_officer.py (it flags one surname); the detectors of
phone numbers, e-mail addresses and BSNs are the real ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import SURNAME
from streamlit.testing.v1 import AppTest
from test_app_officer import fill, run

from moresprudentie.cases.loading import Problem, load_case_file, parse_case
from moresprudentie.cases.model import REQUIRED_FIELDS
from moresprudentie.errors import PersonalDataError
from moresprudentie.review.authoring import field_help, field_order
from moresprudentie.review.store import CaseStore, blocking_findings
from moresprudentie.ui.components import case_form, form_lines, i18n, messages, nav
from moresprudentie.ui.components.i18n import strings, text

ANNA = {"is_logged_in": True, "email": "anna@example.nl"}
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
CLEAN = {
    "id": "taart-aan-de-balie",
    "title": "Een taart van een dankbare aanvrager",
    "date": "2024-03",
    "themes": ["geschenken"],
    "values": ["onpartijdigheid", "menselijkheid"],
    "situation": "Een aanvrager bracht na de vergunning een appeltaart naar de balie.",
    "dilemma": "Moet ik de appeltaart aannemen of weigeren?",
    "judgement": "Delen met het team mocht, eenmalig.",
    "reasoning": "De waarde was laag en de vergunning was al verleend.",
}
FORCE_FIELD = {
    "role": "medewerker",
    "tensions": "onpartijdigheid / menselijkheid: in evenwicht",
    "norms": "organisatorisch: Gedragscode, artikel 4",
    "decisive_facts": "De vergunning was al verleend.",
}
PERSONAL = {
    "situation": f"Mevrouw {SURNAME} belde op 06-12345678 (BSN 111222333) en mailde p.jansen@hotmail.com.",
    "reasoning": f"Mevrouw {SURNAME} had de vergunning al; bel haar niet op 06-12345678.",
}
ENGLISH_IN_DUTCH = (
    "Select all",
    "Choose or add options",
    "Choose options",
    "Choose an option",
    "Add:",
    "is not in the vocabulary",
    "required field",
    "not allowed",
    "did you mean",
    "is not a valid",
    "are not allowed",
)
DUTCH_IN_ENGLISH = (
    "verplicht",
    "staat nog niet in de woordenlijst",
    "is geen geldige",
    "kan hier niet",
    "bedoel je",
    "Vervang eerst",
    "Opslaan kan",
    "Nieuwe term",
    "Kies een",
    "zijn niet toegestaan",
)


@pytest.fixture
def page(search_cases: Path, officer_page) -> Callable[..., AppTest]:
    """page(lang="nl"): "Casus toevoegen" as officer Anna, in the given UI language."""
    return lambda lang="nl": officer_page(search_cases, nav.ADD_CASE, ANNA, lang=lang)


def everything(at: AppTest) -> str:
    """Every text the page shows: messages, labels, placeholders, help texts and button captions."""
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success", "toast")
    parts = [str(element.value) for kind in kinds for element in at.get(kind)]
    widgets = ("text_input", "text_area", "multiselect", "selectbox", "number_input", "button", "file_uploader")
    for kind in widgets:
        for element in at.get(kind):
            proto = element.proto
            parts += [getattr(proto, name, "") for name in ("label", "placeholder", "help")]
            parts += list(getattr(proto, "options", []))
    parts += [tab.label for tab in at.tabs]
    return "\n".join(str(part) for part in parts)


def caption_beside(at: AppTest, button_label: str) -> str:
    """The captions in the column of a button (the reason beside a disabled button)."""
    for column in at.columns:
        if any(b.label == button_label for b in column.button):
            return "\n".join(str(c.value) for c in column.caption)
    raise AssertionError(f"no column with the button {button_label!r}")


def save_button(at: AppTest, submit: bool = False):
    label = text("add.save_submit" if submit else "add.save", "nl")
    return next(b for b in at.button if b.label == label)


def files_mentioning(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# -- the form says what it needs ----------------------------------------------------------------------


def test_required_fields_are_marked_and_the_marks_explained(page) -> None:
    at = page()
    labels = {
        **{w.key: w.label for w in at.text_input},
        **{w.key: w.label for w in at.text_area},
        **{w.key: w.label for w in at.selectbox},
        **{w.key: w.label for w in at.multiselect},
    }
    for field in field_order():
        if field in ("status", "language", "duration_minutes"):
            continue
        shown = labels[f"form.{field}"]
        name = text(f"fields.{field}", "nl")
        if field in REQUIRED_FIELDS:
            assert shown == f"{name} *", field
        elif field in case_form.FORCE_FIELD:
            assert shown == f"{name} **", field
        else:
            assert shown == name, field
    assert text("add.required_legend", "nl") in [c.value for c in at.caption]


def test_disabled_buttons_say_why_beside_them(page) -> None:
    at = page()
    save, submit = text("add.save", "nl"), text("add.save_submit", "nl")
    assert save_button(at).disabled and save_button(at, submit=True).disabled
    reason = caption_beside(at, save)
    assert "Opslaan kan zodra deze verplichte velden zijn ingevuld" in reason
    assert all(name in reason for name in ("Titel", "Situatie", "Thema's", "Afweging"))
    assert "Aanbieden kan pas als opslaan kan" in caption_beside(at, submit)
    assert "Wiens dilemma" in caption_beside(at, submit)  # and the force field is still to do

    at = fill(at, **(CLEAN | {"date": "2024-13"}))
    assert "Nog niet geldig: Datum" in caption_beside(at, save)
    at = fill(at, date="2024-03")
    assert not save_button(at).disabled and caption_beside(at, save) == ""
    assert save_button(at, submit=True).disabled
    reason = caption_beside(at, submit)
    assert "aanbieden kan zodra het krachtenveld is ingevuld" in reason
    assert "Wiens dilemma" in reason and "Doorslaggevende feiten" in reason

    at = fill(at, **FORCE_FIELD)
    assert not save_button(at, submit=True).disabled and caption_beside(at, submit) == ""


def test_replace_all_fixes_every_finding_in_one_click_and_asks_for_natural_sentences(page) -> None:
    at = fill(page(), **(CLEAN | PERSONAL))
    assert save_button(at).disabled
    replace_all = next(b for b in at.button if b.key == "replace_all")
    assert replace_all.label == text("findings.replace_all", "nl", count=6)  # 4 in the situation, 2 in the reasoning
    at = run(replace_all.click())
    situation = at.text_area(key="form.situation").value
    assert situation == "Mevrouw [naam] belde op [telefoonnummer] (BSN [bsn]) en mailde [e-mailadres]."
    assert at.text_area(key="form.reasoning").value == (
        "Mevrouw [naam] had de vergunning al; bel haar niet op [telefoonnummer]."
    )
    assert text("findings.replaced", "nl") in [i.value for i in at.info]  # rewrite "[naam] belde" naturally
    assert "een aanvrager belde" in text("findings.replaced", "nl")
    assert "De anonimiseringscontrole vond niets" in everything(at)
    assert not any(b.key == "replace_all" for b in at.button)  # nothing left to replace
    assert not save_button(at).disabled
    at = fill(at, situation="Een aanvrager belde en mailde.")
    assert text("findings.replaced", "nl") in [i.value for i in at.info]  # "[naam]" is still in the reasoning
    at = fill(at, reasoning="De aanvrager had de vergunning al.")
    assert text("findings.replaced", "nl") not in [i.value for i in at.info]  # rewritten: the hint is done


# -- no personal data at rest ---------------------------------------------------------------------------


def test_a_form_with_personal_data_cannot_be_saved_and_says_why(page, search_cases: Path) -> None:
    at = fill(page(), **(CLEAN | FORCE_FIELD | PERSONAL))
    assert save_button(at).disabled and save_button(at, submit=True).disabled
    reason = caption_beside(at, text("add.save", "nl"))
    assert text("add.reasons.personal_data", "nl", count=6) in reason
    assert "git en in back-ups" in reason
    assert "Aanbieden kan pas als opslaan kan" in caption_beside(at, text("add.save_submit", "nl"))


def test_a_save_that_races_an_edit_is_refused_in_dutch_and_writes_nothing(page, search_cases: Path) -> None:
    """The button was enabled for the clean text; the personal data arrives with the click."""
    at = fill(page(), **(CLEAN | FORCE_FIELD))
    assert not save_button(at, submit=True).disabled
    at.text_area(key="form.situation").input(PERSONAL["situation"])
    at = run(save_button(at, submit=True).click())
    shown = everything(at)
    assert "Niet opgeslagen" in shown and "telefoonnummer" in shown and "git en in back-ups" in shown
    assert "opgeslagen en aangeboden" not in shown
    for needle in ("06-12345678", "111222333", "hotmail", CLEAN["id"]):
        assert files_mentioning(search_cases.parent, needle) == [], needle


def test_when_the_store_refuses_personal_data_the_page_says_so_in_dutch(
    page, search_cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's own check misses what the store's check finds (another detector, another rule)."""

    def refuse(self: CaseStore, case, actor, expected_hash=None):
        raise PersonalDataError(case.id, blocking_findings(case), "edit")

    at = fill(page(), **(CLEAN | {"situation": PERSONAL["situation"]}))
    monkeypatch.setattr(case_form, "check", lambda form: {})
    monkeypatch.setattr(CaseStore, "save_draft", refuse)
    at = run(at)
    at = run(save_button(at).click())
    errors = "\n".join(e.value for e in at.error)
    assert "Niet opgeslagen" in errors and "Situatie\\: telefoonnummer" in errors
    assert "was not saved" not in errors  # the library's English words stay on the command line
    assert files_mentioning(search_cases.parent, "06-12345678") == []


def test_submitting_a_clean_draft_says_what_happens_next(page, search_cases: Path) -> None:
    at = fill(page(), **(CLEAN | FORCE_FIELD))
    at = run(save_button(at, submit=True).click())
    message = text("add.submitted", "nl", id=CLEAN["id"])
    assert message in [s.value for s in at.success]
    assert "kan deze versie nu beoordelen" in message and "goedkeuren" not in message
    assert (search_cases / f"{CLEAN['id']}.yaml").exists()


def test_saving_a_draft_does_not_pretend_it_was_submitted(page) -> None:
    at = fill(page(), **CLEAN)
    at = run(save_button(at).click())
    (saved,) = [s.value for s in at.success if CLEAN["id"] in s.value]
    assert "opgeslagen" in saved and "nog niet aangeboden" in saved


# -- every string Dutch in the Dutch UI, English in the English one -----------------------------------------


def test_pick_lists_use_no_untranslatable_streamlit_texts(page) -> None:
    """ "Select all", "Choose or add options" and "Add: …" are Streamlit's own English texts: they
    appear only with select_all, without a placeholder, or with accept_new_options."""
    at = page()
    for widget in [*at.multiselect, *at.selectbox]:
        assert widget.proto.placeholder.strip(), widget.key
        assert not widget.proto.accept_new_options, widget.key
    for widget in at.multiselect:
        assert widget.proto.select_all == 0, widget.key


def test_a_new_term_is_added_by_its_own_input_and_named_once(page) -> None:
    at = fill(page(), **CLEAN)
    at.text_input(key=case_form.NEW_TERM + "themes").input("Taart beleid")
    at = run(next(b for b in at.button if b.key == "add_term.themes").click())
    assert at.multiselect(key="form.themes").value == ["geschenken", "taart-beleid"]
    assert at.text_input(key=case_form.NEW_TERM + "themes").value == ""
    assert everything(at).count("taart-beleid") == 1  # said once, below the pick list (was twice)
    assert "Nieuwe term 'taart" in everything(at)


def test_a_relation_may_be_written_in_dutch(page, search_cases: Path) -> None:
    at = fill(page(), **(CLEAN | {"related": "dienstauto-zaterdag: volgt\nkerstpakket-leverancier: wijkt af van"}))
    assert not save_button(at).disabled, caption_beside(at, text("add.save", "nl"))
    run(save_button(at).click())
    case, _ = parse_case((search_cases / f"{CLEAN['id']}.yaml").read_bytes())
    assert case is not None and [(link.id, link.relation) for link in case.related] == [
        ("dienstauto-zaterdag", "follows"),
        ("kerstpakket-leverancier", "departs"),
    ]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_examples_of_tensions_and_norms_are_written_as_the_form_takes_them(page, lang: str) -> None:
    """The placeholders once showed the YAML of `moresprudentie new` ('{between: [...], prevailed: ...}'),
    which the form refuses when typed in; typed as shown, they now make a valid tension and norm."""
    at = page(lang)
    shown = {key: at.text_area(key=f"form.{key}").proto.placeholder for key in ("tensions", "norms")}
    assert all("{" not in example for example in shown.values()), shown
    prefix = text("add.example", lang, example="")
    typed = {key: example.removeprefix(prefix) for key, example in shown.items()}
    tension, norm = form_lines.tension_item(typed["tensions"]), form_lines.norm_item(typed["norms"])
    assert tension["between"] == ["loyaliteit", "transparantie"] and tension["prevailed"] in (
        "transparantie",
        "balanced",
    )
    assert isinstance(norm, dict) and norm["source"] == "organisatorisch"


def test_a_duration_out_of_range_is_said_in_dutch(page) -> None:
    """Streamlit's own limit said "Number is outside the allowed range … Press Enter to apply" in
    English; the field has no widget limit now, and the model's limit is worded like any other."""
    at = page()
    run(at.number_input(key="form.duration_minutes").set_value(600))
    assert not at.exception and "mag hoogstens 480 zijn" in everything(at)


def test_a_tension_may_name_values_by_their_labels_and_says_when_the_outcome_is_missing(page) -> None:
    """'Gelijke behandeling' is what the pick list shows for the term `gelijkheid`, and a line without
    ': …' once said "'' is geen geldige term"."""
    at = fill(page(), **(CLEAN | FORCE_FIELD | {"tensions": "Onpartijdigheid / Menselijkheid: Menselijkheid"}))
    shown = everything(at)
    assert "Waarden in spanning 1" not in shown, shown
    at = fill(at, tensions="onpartijdigheid tegen menselijkheid")
    shown = everything(at)
    assert "'' is geen geldige term" not in shown and "Waarden in spanning 1\\: verplicht veld ontbreekt" in shown


def test_a_list_field_says_one_per_line_once() -> None:
    """The form once added "Eén per regel." to hints that already said "één per regel"."""
    for field in form_lines.LINE_FIELDS:
        for lang, words in (("nl", "per regel"), ("en", "per line")):
            assert field_help(field, lang).hint.lower().count(words) == 1, (field, lang)


def walk(at: AppTest) -> str:
    """The form with every kind of problem, a free term and personal data, then the upload tab."""
    at = fill(at, **(CLEAN | {"id": "Geen Geldige Id!", "date": "2024-13", "themes": ["geschenken", "taart-beleid"]}))
    at = fill(at, tensions="onpartijdigheid / eerlijkheid: eerlijkheid", norms="wet: iets")
    at = fill(at, situation=PERSONAL["situation"], related="dienstauto-zaterdag: volgd")
    seen = everything(at)
    run(at.segmented_control(key="add_mode").set_value("upload"))
    for name in ("python-tag.yaml", "unknown-field.yaml", "bad-language.yaml"):
        run(at.get("file_uploader")[0].upload(name, (HOSTILE / name).read_bytes(), "application/x-yaml"))
        seen += "\n" + everything(at)
    return seen


def test_the_dutch_form_page_shows_no_english(page) -> None:
    seen = walk(page("nl"))
    assert "YAML-tag ('tag:yaml.org,2002:python/object/apply:os.system')" in seen.replace("\\", "")
    for english in ENGLISH_IN_DUTCH:
        assert english not in seen, english
    for dutch in ("is geen geldige id", "is geen bestaande datum", "staat nog niet in de woordenlijst"):
        assert dutch in seen, dutch


def test_the_english_form_page_shows_no_dutch_problem_texts(page, monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest words a widget's value with the page's format_func outside the page's session, where
    the language is the default (Dutch): so English is fixed here for the formatters too."""
    for module in (i18n, case_form, messages):
        monkeypatch.setattr(module, "language", lambda: "en")
    seen = walk(page("en"))
    for dutch in DUTCH_IN_ENGLISH:
        assert dutch not in seen, dutch
    for english in ("is not a valid id", "is not a real date", "not in the vocabulary yet", "YAML tag"):
        assert english in seen, english


# -- Problem → text, every code in both languages -------------------------------------------------------

VALID = {
    "id": "taart-van-aanvrager",
    "title": "Een taart",
    "language": "nl",
    "date": "2024-03",
    "themes": ["geschenken"],
    "values": ["integriteit", "zorgvuldigheid"],
    "situation": "s",
    "dilemma": "d",
    "judgement": "j",
    "reasoning": "r",
    "role": "medewerker",
    "tensions": [{"between": ["integriteit", "zorgvuldigheid"], "prevailed": "integriteit"}],
    "norms": [{"text": "Gedragscode", "source": "organisatorisch"}],
    "decisive_facts": ["een feit"],
}
FIELDS: dict[str, tuple[dict, str]] = {  # code → (fields that produce it, the field it is about)
    "missing_field": ({"judgement": None}, "judgement"),
    "unknown_field": ({"titel": "x"}, "titel"),
    "invalid_id": ({"id": "Geen Id!"}, "id"),
    "invalid_term": ({"themes": ["Bad Term!"]}, "themes.0"),
    "not_allowed": ({"role": "baas"}, "role"),
    "choose_one": ({"language": ["nl"]}, "language"),
    "expected_text": ({"title": ["a", "b"]}, "title"),
    "too_long": ({"title": "x" * 121}, "title"),
    "too_many": ({"themes": ["a"] * 21}, "themes"),
    "empty_text": ({"options": [""]}, "options.0"),
    "too_few": ({"themes": []}, "themes"),
    "not_a_number": ({"duration_minutes": "lang"}, "duration_minutes"),
    "at_least": ({"duration_minutes": "3"}, "duration_minutes"),
    "at_most": ({"duration_minutes": "999"}, "duration_minutes"),
    "bad_date": ({"date": "maart"}, "date"),
    "not_a_real_date": ({"date": "2024-13"}, "date"),
    "direction_control": ({"title": "Factuur\u202efdp.exe"}, "title"),
    "tension_twice": ({"tensions": [{"between": ["integriteit"] * 2, "prevailed": "integriteit"}]}, "tensions.0"),
    "tension_prevailed": (
        {"tensions": [{"between": ["integriteit", "zorgvuldigheid"], "prevailed": "x"}]},
        "tensions.0",
    ),
    "tension_value_unknown": (
        {"tensions": [{"between": ["integriteit", "zorgvuldighied"], "prevailed": "integriteit"}]},
        "tensions",
    ),
    "related_self": ({"related": ["taart-van-aanvrager"]}, ""),
    "unknown_term": ({"themes": ["geschenkenn"]}, "themes"),
    "missing_role": ({"role": None}, "role"),
    "missing_tensions": ({"tensions": None}, "tensions"),
    "missing_norms": ({"norms": None}, "norms"),
    "norm_without_source": ({"norms": ["Gedragscode artikel 3"]}, "norms.0"),
    "missing_decisive_facts": ({"decisive_facts": None}, "decisive_facts"),
}
FILES = {  # code → hostile fixture (tests/fixtures/hostile) that produces it
    "anchors": "alias-bomb.yaml",
    "yaml_tag": "python-tag.yaml",
    "too_deep": "deep-nesting.yaml",
    "duplicate_key": "duplicate-key.yaml",
    "empty": "empty.yaml",
    "several_documents": "two-documents.yaml",
    "invalid_yaml": "syntax-error.yaml",
    "binary": "binary.yaml",
    "not_utf8": "not-utf8.yaml",
    "not_mapping": "top-level-list.yaml",
    "id_mismatch": "id-mismatch.yaml",
}
RAW = {  # code → file text that produces it
    "too_many_values": "id: x\nthemes:\n" + "  - a\n" * 2001,
    "key_not_text": "? [a, b]\n: x\n",
    "too_large": "x" * (257 * 1024),
}


def problems_with(code: str, tmp_path: Path | None = None) -> list[Problem]:
    if code == "unreadable":  # a folder where a case file should be
        folder = Path(tmp_path or HOSTILE.parent) / "kapot.yaml"
        folder.mkdir(exist_ok=True)
        return [problem for problem in load_case_file(folder)[1] if problem.code == code]
    if code in FIELDS:
        fields = {k: v for k, v in (VALID | FIELDS[code][0]).items() if v is not None}
        data: str | bytes = yaml.safe_dump(fields, allow_unicode=True)
    elif code in FILES:
        data = (HOSTILE / FILES[code]).read_bytes()
    else:
        data = RAW[code]
    name = FILES.get(code, "taart-van-aanvrager.yaml")
    _, problems = parse_case(data, name, expected_id=Path(name).stem)
    return [problem for problem in problems if problem.code == code]


ALL_CODES = sorted([*FIELDS, *FILES, *RAW, "unreadable"])


def test_every_code_has_a_template_and_every_template_a_code() -> None:
    templates = {key.removesuffix("_hint") for key in strings()["problems"]}
    assert templates == set(ALL_CODES)


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_problem_code_is_worded_in_both_languages(code: str, tmp_path: Path) -> None:
    found = problems_with(code, tmp_path)
    assert found, f"no problem with code {code}"
    problem = found[0]
    if code in FIELDS:
        assert (problem.field or "") == FIELDS[code][1]
    dutch, english = messages.message(problem, "nl"), messages.message(problem, "en")
    assert dutch != english and "{" not in dutch.replace("{text", "") and "{" not in english.replace("{text", "")
    assert not re.search(r"did you mean|is not|not allowed|required field|must", dutch), dutch
    assert not re.search(r"bedoel je|verplicht|is geen|kan hier niet|moet ", english), english
    assert messages.with_field(problem, "nl").endswith(dutch)
    assert messages.located(problem, "nl").startswith(problem.path)


def test_a_problem_names_its_closest_match_when_it_has_one() -> None:
    (unknown,) = problems_with("unknown_term")
    assert (
        messages.message(unknown, "nl")
        == "Nieuwe term 'geschenkenn': staat nog niet in de woordenlijst; bedoel je 'geschenken'?"
    )
    assert (
        messages.message(unknown, "en")
        == "New term 'geschenkenn': not in the vocabulary yet; did you mean 'geschenken'?"
    )
    (field,) = problems_with("unknown_field")
    assert messages.with_field(field, "nl") == "titel: onbekend veld; bedoel je 'title'?"
    (tag,) = problems_with("yaml_tag")
    assert "'tag:yaml.org,2002:python/object/apply:os.system'" in messages.message(tag, "nl")
    assert messages.located(tag, "nl").startswith("python-tag.yaml:")


def test_a_code_without_template_keeps_the_library_words() -> None:
    problem = Problem("x.yaml", 3, "related", "'x' is not a case in this collection", "warning", "unknown_related")
    assert messages.message(problem, "nl") == problem.message
    assert (
        messages.located(problem, "nl")
        == "x.yaml:3: waarschuwing: Verwante casussen: 'x' is not a case in this collection"
    )
    bare = Problem("x.yaml", None, None, "something new")
    assert messages.message(bare, "en") == "something new"


def test_the_cli_words_stay_english_and_unchanged() -> None:
    (tag,) = problems_with("yaml_tag")
    assert str(tag) == (
        "python-tag.yaml:1: YAML tags such as 'tag:yaml.org,2002:python/object/apply:os.system' are not allowed; "
        "remove the tag"
    )
