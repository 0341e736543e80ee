"""The anonymisation gate cannot be dodged (issue 12): the normalised view, every string checked.

The evasive set (fixtures/anonymisation/evasive.yaml) hides identifiers behind zero-width and
format characters, soft hyphens, fullwidth and other-script digits, and in the id, terms, related
ids and allowed_terms. Each identifier must be found whole, through check_case, check_file and the
app's form, and applying every replacement must leave neither its digits nor a hidden character.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from anonymisation_report import BASE_CASE, EVASIVE
from conftest import write_case

from moresprudentie.anonymisation.check import (
    Finding,
    apply_replacement,
    apply_replacements,
    case_texts,
    check_case,
    check_file,
    check_text,
    warm_up,
)
from moresprudentie.anonymisation.normalise import hidden_runs, view, without_hidden
from moresprudentie.anonymisation.patterns import KINDS
from moresprudentie.cases.model import Case

ENTRIES: list[dict[str, Any]] = yaml.safe_load(EVASIVE.read_text(encoding="utf-8"))
BASE = BASE_CASE  # the small valid case the evasive entries override (scripts/anonymisation_report.py)


@pytest.fixture(scope="module", autouse=True)
def deduce() -> None:
    warm_up()


def make_case(entry: dict[str, Any]) -> Case:
    return Case.model_validate(BASE | entry["case"])


def covers(findings: list[Finding], text: str, expected: dict[str, str]) -> bool:
    """Some finding of the expected kind spans all of the expected identifier in `text`."""
    start = text.find(expected["text"])
    assert start >= 0, f"fixture: {expected['text']!r} is not in {text!r}"
    end = start + len(expected["text"])
    return any(f.kind == expected["kind"] and f.start <= start and end <= f.end for f in findings)


def assert_removed(original: str, findings: list[Finding], expected: dict[str, str]) -> None:
    """Every replacement applied: no hidden character is left, nor the identifier (its digit runs)."""
    cleaned = apply_replacements(original, findings)
    assert hidden_runs(cleaned) == [], repr(cleaned)
    if expected["kind"] == "hidden-character":
        return
    identifier, seen = view(expected["text"], slug=True).text, view(cleaned, slug=True).text
    runs = re.findall(r"\d{3,}", identifier) or [identifier]
    assert not any(run.casefold() in seen.casefold() for run in runs), (expected, cleaned)


def expectations() -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    return [(entry["id"], entry, expected) for entry in ENTRIES for expected in entry["expect"]]


def test_the_evasive_set_covers_what_the_issue_lists() -> None:
    kinds = {expected["kind"] for _, _, expected in expectations()}
    fields = {expected["field"].split(".")[0] for _, _, expected in expectations()}
    assert {"name", "bsn", "phone", "email", "iban", "postcode", "hidden-character"} <= kinds
    assert {"id", "themes", "values", "allowed_terms", "related", "situation"} <= fields
    texts = "".join(expected["text"] for _, _, expected in expectations())
    for char in ("\u200b", "\u00ad", "\uff11", "\u202e"):  # zero-width, soft hyphen, fullwidth, bidi
        assert char in texts


@pytest.mark.parametrize(("name", "entry", "expected"), expectations(), ids=lambda v: v if isinstance(v, str) else "")
def test_check_case_finds_each_identifier_whole(name: str, entry: dict[str, Any], expected: dict[str, str]) -> None:
    case = make_case(entry)
    texts = dict(case_texts(case))
    text = texts[expected["field"]]
    findings = [f for f in check_case(case) if f.field == expected["field"]]
    assert covers(findings, text, expected), [(f.kind, f.text) for f in findings]
    for finding in findings:
        assert finding.blocks if KINDS[finding.kind].severity == "block" else not finding.blocks
        assert text[finding.start : finding.end] == finding.text  # points at the original text
    assert_removed(text, findings, expected)


@pytest.mark.parametrize(("name", "entry", "expected"), expectations(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_form_finds_each_identifier_whole(
    name: str, entry: dict[str, Any], expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path of "Casus toevoegen": widget values → case_form.check, on the widget text itself."""
    from moresprudentie.ui.components import case_form

    state = {
        case_form.PREFIX + name: value
        for name, value in case_form._widget_values(make_case(entry).model_dump(mode="json")).items()
    }
    monkeypatch.setattr(case_form.st, "session_state", state)
    found = case_form.check(case_form.values())
    field = expected["field"].split(".")[0]
    text = case_form._field_text(field)
    assert covers(found.get(field, []), text, expected), found.get(field)
    assert_removed(text, found[field], expected)


def test_check_file_finds_them_on_their_lines(tmp_path: Path) -> None:
    path = write_case(
        tmp_path,
        "melding-945807302",
        themes=["vertrouwen", "06-12345678"],
        situation="Een medewerker twijfelt.\nZijn BSN is 111\u200b222\u200b333.",
        allowed_terms=["945807302"],
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    found = {(f.field, f.kind): f for f in check_file(path)}
    assert set(found) >= {("id", "bsn"), ("themes.1", "phone"), ("situation", "bsn"), ("allowed_terms.0", "bsn")}
    for finding in found.values():
        assert finding.line is not None and finding.text.split("\u200b")[0] in lines[finding.line - 1]


def test_identifiers_can_never_be_allowed_but_names_and_places_can() -> None:
    text = "Mevrouw Bakker uit Utrecht, BSN 945807302, mail bakker@example.nl, tel. 06-12345678."
    allowed = ["Bakker", "Utrecht", "945807302", "bakker@example.nl", "06-12345678", text]
    assert [f.kind for f in check_text(text, allowed_terms=allowed)] == ["bsn", "email", "phone"]
    assert not any(KINDS[kind].allowable for kind in ("bsn", "iban", "phone", "email", "postcode", "hidden-character"))
    assert all(KINDS[kind].allowable for kind in ("name", "institution", "place"))


def test_hidden_characters_are_a_finding_of_their_own() -> None:
    text = "Het was onregel\u00admatig, zie \u2066rapport\u2069 en ook \u200b hier."
    findings = check_text(text)
    assert [(f.kind, f.text, f.replacement) for f in findings] == [
        ("hidden-character", "onregel\u00admatig", "onregelmatig"),
        ("hidden-character", "\u2066rapport\u2069", "rapport"),
        ("hidden-character", "\u200b", ""),
    ]
    assert all(f.blocks and not f.allowable for f in findings)
    assert apply_replacements(text, findings) == without_hidden(text)


def test_hidden_characters_inside_a_warning_still_block() -> None:
    text = "Het gebeurde in Utr\u200becht."
    findings = check_text(text)
    assert {(f.kind, f.text, f.severity) for f in findings} == {
        ("place", "Utr\u200becht", "warn"),
        ("hidden-character", "Utr\u200becht", "block"),
    }
    assert hidden_runs(apply_replacements(text, findings)) == []


def test_one_replacement_at_a_time_also_removes_the_hidden_characters() -> None:
    text = "Jan\u200b de Vries (BSN 111\u200b222\u200b333, tel. 06-1234\u00ad5678)"
    for _ in range(5):  # the form: replace one, check again
        findings = check_text(text)
        if not findings:
            break
        text = apply_replacement(text, findings[0])
    assert text == "[naam] (BSN [bsn], tel. [telefoonnummer])"


def test_slug_findings_suggest_a_slug() -> None:
    [finding] = check_text("melding-945807302", "id", slug=True)
    assert (finding.kind, finding.text, finding.replacement) == ("bsn", "945807302", "bsn")
    assert apply_replacements("melding-945807302", [finding]) == "melding-bsn"


def test_clean_text_with_typography_stays_clean() -> None:
    text = (
        "De ‘officiële’ reactie — na overleg — kwam pas later… Na 1\u00bd uur overleg, 50\u00a0% minder "
        "klachten; de ﬁnanciële afdeling en de ĳsvereniging waren het eens. Zie artikel 3.4 van de code."
    )
    assert check_text(text) == []


def test_offsets_survive_compatibility_forms_that_change_length() -> None:
    text = "Oﬃciële ½ melding: bel ０６-1234\u200b5678 of mail ａｎｎａ@example.nl."
    findings = check_text(text)
    assert [(f.kind, f.text) for f in findings] == [("phone", "０６-1234\u200b5678"), ("email", "ａｎｎａ@example.nl")]
    assert apply_replacements(text, findings) == "Oﬃciële ½ melding: bel [telefoonnummer] of mail [e-mailadres]."


def test_the_view_maps_back_to_the_original() -> None:
    seen = view("a\u200bＢ\u00adc ﬁ 1\u0301")
    assert seen.text == "aBc fi 1"
    assert seen.span(0, 3) == (0, 5)  # "a\u200bＢ\u00adc"
    assert seen.span(4, 6) == (6, 7)  # the ligature is one original character
    assert seen.span(7, 8) == (8, 10)  # the digit with its (dropped) mark


def test_the_shipped_collection_has_no_hidden_characters() -> None:
    from conftest import SHIPPED_CASES

    from moresprudentie.cases.collection import case_files

    for path in case_files(SHIPPED_CASES):
        assert hidden_runs(path.read_text(encoding="utf-8")) == [], path.name


def test_the_check_command_spells_hidden_characters_out() -> None:
    from moresprudentie.cli.check import spelled_out

    assert spelled_out("111\u200b222\u202e333") == "111<U+200B>222<U+202E>333"
    assert spelled_out("gewone tekst") == "gewone tekst"
