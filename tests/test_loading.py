"""The loader: strict and safe on hostile input, forgiving to the other files, exact about lines."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.loading import MAX_FILE_BYTES, dump_case, parse_case
from moresprudentie.errors import CaseFileError
from moresprudentie.review.authoring import scaffold

FIXTURES = Path(__file__).parent / "fixtures"

HOSTILE = FIXTURES / "hostile"
GOOD = FIXTURES / "collection" / "fiets-van-de-zaak.yaml"

# file name -> a fragment the single error message must contain (one clear line per file)
EXPECTED = {
    "alias-bomb.yaml": "anchors and aliases",
    "bad-date.yaml": "not a real date",
    "bad-language.yaml": "'de' is not allowed; use one of: nl, en",
    "bidi-title.yaml": "bidi-title.yaml:4: title: contains an invisible text-direction character, U+202E",
    "binary.yaml": "binary file",
    "deep-nesting.yaml": "nesting deeper",
    "duplicate-key.yaml": "'title' appears twice",
    "empty.yaml": "empty",
    "id-mismatch.yaml": "must equal the file name",
    "missing-field.yaml": "judgement: required field is missing",
    "not-utf8.yaml": "not UTF-8",
    "python-tag.yaml": "tags",
    "syntax-error.yaml": "not valid YAML",
    "top-level-list.yaml": "must be a mapping",
    "two-documents.yaml": "one YAML document",
    "unknown-field.yaml": "did you mean 'title'",
    "wrong-type.yaml": "expected text",
}


# file name -> the stable code of its problem (the app words the problem in its own language by it)
CODES = {
    "alias-bomb.yaml": "anchors",
    "bad-date.yaml": "not_a_real_date",
    "bad-language.yaml": "not_allowed",
    "bidi-title.yaml": "direction_control",
    "binary.yaml": "binary",
    "deep-nesting.yaml": "too_deep",
    "duplicate-key.yaml": "duplicate_key",
    "empty.yaml": "empty",
    "id-mismatch.yaml": "id_mismatch",
    "missing-field.yaml": "missing_field",
    "not-utf8.yaml": "not_utf8",
    "python-tag.yaml": "yaml_tag",
    "syntax-error.yaml": "invalid_yaml",
    "top-level-list.yaml": "not_mapping",
    "two-documents.yaml": "several_documents",
    "unknown-field.yaml": "unknown_field",
    "wrong-type.yaml": "expected_text",
}


def test_every_hostile_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in HOSTILE.glob("*.yaml")) == sorted(EXPECTED) == sorted(CODES)


@pytest.mark.parametrize("name", sorted(CODES))
def test_hostile_file_problem_has_a_stable_code(name: str) -> None:
    _, problems = parse_case((HOSTILE / name).read_bytes(), name, expected_id=Path(name).stem)
    assert CODES[name] in [p.code for p in problems]
    coded = next(p for p in problems if p.code == CODES[name])
    assert any(EXPECTED[name] in str(p) for p in problems)  # the English message is unchanged
    if name == "python-tag.yaml":
        assert coded.params == {"tag": "tag:yaml.org,2002:python/object/apply:os.system"}
    if name == "unknown-field.yaml":
        assert coded.params == {"name": "titel", "hint": "title"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_gives_a_clear_problem(name: str) -> None:
    started = time.perf_counter()
    case, problems = parse_case((HOSTILE / name).read_bytes(), name, expected_id=Path(name).stem)
    assert time.perf_counter() - started < 1.0
    assert case is None
    assert problems and all(p.severity == "error" for p in problems)
    assert any(EXPECTED[name] in str(p) for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(f"{name}:") for p in problems)


def test_bad_files_never_stop_the_good_ones(tmp_path: Path) -> None:
    shutil.copytree(HOSTILE, tmp_path / "mixed")
    shutil.copy(GOOD, tmp_path / "mixed")
    result = load_cases(tmp_path / "mixed")
    assert list(result.cases) == ["fiets-van-de-zaak"]
    assert {Path(p.path).name for p in result.errors} == set(EXPECTED)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "groot.yaml"
    path.write_bytes(GOOD.read_bytes() + b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    result = load_cases(tmp_path)
    assert not result.cases
    assert "KiB" in result.errors[0].message


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + GOOD.read_bytes().replace(b"\n", b"\r\n")
    case, _ = parse_case(data, "x.yaml", expected_id="fiets-van-de-zaak")
    assert case is not None
    assert "\r" not in case.situation


def test_yaml_11_surprises_keep_the_typed_text() -> None:
    text = (
        GOOD.read_text(encoding="utf-8")
        .replace("title: De elektrische dienstfiets in het weekend", "title: no")
        .replace("duration_minutes: 60", "duration_minutes: 045")
        .replace("date: 2023-06", "date: 2023-06-01")
    )
    case, _ = parse_case(text)
    assert case is not None
    assert case.title == "no"  # not False
    assert case.duration_minutes == 45  # decimal, not octal 37
    assert case.date == "2023-06-01"


def test_problem_lines_point_at_the_field() -> None:
    text = GOOD.read_text(encoding="utf-8").replace("language: nl", "language: fr")
    _, problems = parse_case(text, "f.yaml")
    assert str(problems[0]).startswith("f.yaml:3: language:")


BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_direction_control_in_the_title_is_refused_with_the_fix(control: str) -> None:
    """A direction control makes a title pose as something else ('factuurexe.pdf'); nobody needs one."""
    text = GOOD.read_text(encoding="utf-8").replace("title: De elektrische", f"title: De{control} elektrische")
    case, problems = parse_case(text, "f.yaml")
    assert case is None
    [problem] = problems
    assert str(problem).startswith(
        f"f.yaml:2: title: contains an invisible text-direction character, U+{ord(control):04X}"
    )
    assert "at character 3" in problem.message and "delete it, or retype the title" in problem.message
    assert problem.code == "direction_control" and problem.params["char"] == f"U+{ord(control):04X}"
    assert not set(str(problem)) & set(BIDI_CONTROLS)  # the message shows <U+…>, it cannot be reordered


def test_right_to_left_script_in_a_title_is_fine() -> None:
    text = GOOD.read_text(encoding="utf-8").replace(
        "title: De elektrische", "title: De \u0627\u0644\u0639\u062f\u0644 elektrische"
    )
    case, problems = parse_case(text, "f.yaml")
    assert case is not None, problems


def test_a_direction_control_in_the_id_is_shown_not_obeyed() -> None:
    text = GOOD.read_text(encoding="utf-8").replace("id: fiets-van-de-zaak", "id: fiets\u202eexe.pdf")
    _, problems = parse_case(text, "f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:1: id: 'fiets<U+202E>exe.pdf' is not a valid id: use 3–80 lower-case letters, digits and hyphens,"
        " e.g. geschenk-van-leverancier"
    ]


def test_validate_refuses_a_direction_control_in_a_title(tmp_path: Path) -> None:
    """Through the real command: one line, path:line: title: …, and exit 1."""
    import subprocess
    import sys

    shutil.copy(HOSTILE / "bidi-title.yaml", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "moresprudentie", "validate", "--cases", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line]
    assert line.startswith(f"{tmp_path / 'bidi-title.yaml'}:4: title: contains an invisible text-direction character")
    assert "'Factuur<U+202E>fdp.exe'" in line


def test_vocabulary_term_outside_the_list_is_a_warning_with_suggestion() -> None:
    case, problems = parse_case(GOOD.read_bytes(), "f.yaml")
    assert case is not None
    assert [p.severity for p in problems] == ["warning"]
    assert "did you mean" in problems[0].message
    assert problems[0].code == "unknown_term" and problems[0].params["hint"] in problems[0].message


def test_dump_round_trips() -> None:
    case, _ = parse_case((FIXTURES / "collection" / "printer-thuis.yaml").read_bytes())
    assert case is not None
    again, problems = parse_case(dump_case(case))
    assert again == case
    assert not [p for p in problems if p.severity == "error"]


def test_unknown_related_id_is_a_warning(tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path)
    result = load_cases(tmp_path)
    assert "fiets-van-de-zaak" in result.cases
    assert any(p.field == "related" and p.severity == "warning" for p in result.problems)


# libyaml parses (fast); where it would judge a text differently from PyYAML, PyYAML decides.
PYYAML_VERDICTS = {
    "title: x\n\tthemes: [a]\n": "found character '\\t' that cannot start any token",  # libyaml accepts the tab
    "title: x\nthemes: [why?]\n": "expected ',' or ']', but got '?'",  # libyaml reads a plain 'why?'
    "title: x\nthemes: {a: b ?c}\n": "expected ',' or '}', but got '?'",
    "title: x\nnorms:\n\ufeff - a\n": "could not find expected ':'",  # libyaml skips a BOM inside the text
}


@pytest.mark.parametrize("text", sorted(PYYAML_VERDICTS))
def test_pyyaml_has_the_last_word_where_libyaml_is_more_lenient(text: str) -> None:
    from moresprudentie.cases.loading import parse_yaml

    with pytest.raises(CaseFileError, match=re.escape(PYYAML_VERDICTS[text])):
        parse_yaml(text)


def test_libyaml_and_pyyaml_read_the_shipped_cases_alike() -> None:
    import yaml

    from moresprudentie.cases.loading import _compose

    for path in sorted((FIXTURES.parent.parent / "cases").glob("*.yaml"))[:20]:
        text = path.read_text(encoding="utf-8")
        assert yaml.__with_libyaml__
        fast, reference = _compose(text), yaml.compose(text, Loader=yaml.BaseLoader)
        assert yaml.serialize(fast) == yaml.serialize(reference)


def test_the_scaffold_of_new_reads_as_fields_to_write_not_as_pydantic() -> None:
    """`moresprudentie new` leaves fields empty; uploading or validating it said "Input should be a valid
    string" and "Value should have at least 1 item after validation, not 0"."""
    _, problems = parse_case(scaffold("proef-casus", "nl").encode(), "proef.yaml")
    by_field = {problem.field: problem for problem in problems}
    assert (by_field["title"].code, by_field["title"].message) == ("empty_text", "is empty; write it")
    assert (by_field["situation"].code, by_field["situation"].message) == ("empty_text", "is empty; write it")
    assert by_field["themes"].message == "needs at least 1 item(s)" and by_field["themes"].params == {"min": 1}
    assert not any("Input should" in p.message or "after validation" in p.message for p in problems)
