"""Export (issue 15): the collection as CSV, JSON Lines, Excel and Markdown, from the library, the command
line and the app, read back the way people will read it (pandas, Excel, a Markdown viewer)."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import FakeEmbedder, make_case, write_case

from moresprudentie import export
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.model import Case
from moresprudentie.cli import export as export_cli
from moresprudentie.cli import main as cli
from moresprudentie.search import engine as search
from moresprudentie.ui.components import nav

BOM = "\ufeff".encode()


def published(folder: Path) -> list[Case]:
    return [case for case in load_cases(folder).cases.values() if case.is_published]


def read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(BOM), "Excel needs the byte order mark to read UTF-8"
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def read_xlsx(data: bytes) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)


def jsonl_rows(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def headings(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, re.M)


# -- the library -----------------------------------------------------------------------------------


def test_every_published_case_comes_back_from_every_format(shipped_cases: Path) -> None:
    cases = published(shipped_cases)
    ids = {case.id for case in cases}
    assert len(cases) > 50
    for frame in (read_csv(export.export(cases, "csv")), read_xlsx(export.export(cases, "xlsx"))):
        assert list(frame.columns) == list(export.COLUMNS)
        assert len(frame) == len(cases) and set(frame["id"]) == ids
        assert not frame["title"].eq("").any() and not frame["situation"].eq("").any()
        assert not frame.map(lambda cell: cell.startswith("[") or "', '" in cell).any().any(), "a Python repr"
    rows = jsonl_rows(export.export(cases, "jsonl"))
    assert [row["id"] for row in rows] == [case.id for case in cases] and list(rows[0]) == list(export.COLUMNS)
    for row in rows:
        assert isinstance(row["themes"], list) and isinstance(row["tensions"], list)
        assert all(set(tension) == {"between", "prevailed"} for tension in row["tensions"])
        assert all(isinstance(norm, dict) and "text" in norm for norm in row["norms"])
    markdown = export.export(cases, "md").decode("utf-8")
    assert markdown.startswith(f"# Moresprudentie: {len(cases)} casussen\n")
    assert len(headings(markdown)) == len(cases)
    assert markdown.count("### Situatie") == len(cases)


def test_lists_are_joined_readably_in_one_row_per_case() -> None:
    case = make_case(
        values=["loyaliteit", "transparantie"],
        tensions=[{"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"}],
        norms=[{"text": "Gedragscode, artikel 3", "source": "organisatorisch"}, "Een ongeschreven regel"],
        options=["Aannemen.", "Weigeren\nen terugsturen."],
        related=[{"id": "dienstauto-zaterdag", "relation": "follows"}, "kerstpakket-leverancier"],
        situation="Een regel die\nin het bestand is afgebroken.\n\nEen tweede alinea.",
        duration_minutes=45,
    )
    other = make_case("tweede-casus", tensions=None, norms=None, role=None, decisive_facts=None)
    frame = export.export_frame([case, other])
    assert list(frame["id"]) == ["taart-van-aanvrager", "tweede-casus"]
    row = frame.iloc[0]
    assert row["tensions"] == "loyaliteit ↔ transparantie: transparantie"
    assert row["norms"] == "organisatorisch: Gedragscode, artikel 3; Een ongeschreven regel"
    assert row["options"] == "Aannemen.; Weigeren en terugsturen."
    assert row["related"] == "follows: dienstauto-zaterdag; see-also: kerstpakket-leverancier"
    assert row["values"] == "loyaliteit; transparantie"
    assert row["situation"] == "Een regel die in het bestand is afgebroken.\n\nEen tweede alinea."
    assert frame.iloc[1]["tensions"] == "" and frame.iloc[1]["role"] is None
    data = read_csv(export.to_csv(frame))
    assert list(data["duration_minutes"]) == ["45", ""]  # not 45.0 because the other case has none
    [record, _] = jsonl_rows(export.to_jsonl([case, other]).encode())
    assert record["related"][0] == {"id": "dienstauto-zaterdag", "relation": "follows"}
    assert record["norms"][1] == {"text": "Een ongeschreven regel", "source": None}
    assert record["options"] == ["Aannemen.", "Weigeren en terugsturen."]


def test_a_spreadsheet_never_runs_case_text_as_a_formula() -> None:
    formula = '=HYPERLINK("https://example.org/x","klik")'
    case = make_case(situation=formula, lessons=["+31 is een landnummer", "@iedereen lezen"])
    row = read_csv(export.export([case], "csv")).iloc[0]
    assert row["situation"] == "'" + formula and row["lessons"].startswith("'+31")
    sheet = openpyxl.load_workbook(io.BytesIO(export.export([case], "xlsx"))).active
    cell = sheet.cell(row=2, column=export.COLUMNS.index("situation") + 1)
    assert cell.value == formula and cell.data_type == "s"  # stored as text, exactly as written


def test_markdown_shows_case_text_as_typed_with_one_heading_per_case() -> None:
    hostile = make_case(
        title="<b>Vet</b> en [link](javascript:alert(1))",
        situation="## Geen kop\n\n<script>alert(1)</script>",
        options=["# ook geen kop"],
    )
    markdown = export.to_markdown([hostile, make_case("tweede-casus")], "en")
    assert headings(markdown)[0] == r"\<b>Vet\</b> en \[link](javascript:alert(1))"  # no tag, no link
    assert len(headings(markdown)) == 2 and not re.search(r"(?<!\\)<", markdown)
    assert "\\## Geen kop" in markdown and "- \\# ook geen kop" in markdown
    assert markdown.startswith("# Moresprudentie: 2 cases") and "### Situation" in markdown
    assert export.to_markdown([hostile]).startswith("# Moresprudentie: 1 casus\n")


# -- the command -----------------------------------------------------------------------------------


@pytest.fixture
def run(shipped_cases: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture):
    """run(*args) → (exit code, stdout bytes, stderr text), on the shipped collection."""
    monkeypatch.setenv("MORESPRUDENTIE_CASES", str(shipped_cases))
    monkeypatch.setattr(export_cli, "stdout_is_terminal", lambda: False)

    def invoke(*args: str) -> tuple[int, bytes, str]:
        monkeypatch.setattr(sys, "argv", ["moresprudentie", "export", *args])
        with pytest.raises(SystemExit) as exit_info:
            cli.main()
        out, err = capsysbinary.readouterr()
        return exit_info.value.code or 0, out, err.decode("utf-8")

    return invoke


def test_the_command_writes_every_format_to_standard_output(run, shipped_cases: Path) -> None:
    cases = published(shipped_cases)
    code, out, err = run("--format", "csv")
    assert code == 0, err
    assert len(read_csv(out)) == len(cases) and f"{len(cases)} case(s) exported as csv" in err
    assert len(read_xlsx(run("--format", "xlsx")[1])) == len(cases)  # stdout is a pipe here
    assert len(jsonl_rows(run("-f", "JSONL")[1])) == len(cases)
    assert len(headings(run("--format", "md")[1].decode("utf-8"))) == len(cases)


def test_the_command_writes_the_same_bytes_to_a_file(run, tmp_path: Path) -> None:
    target = tmp_path / "uit" / "casussen.xlsx"
    code, out, err = run("--output", str(target))  # the format from the suffix
    assert code == 0 and out == b"" and str(target) in err
    frame = read_xlsx(target.read_bytes())
    assert list(frame.columns) == list(export.COLUMNS)
    csv_file = tmp_path / "casussen.csv"
    assert run("--format", "csv", "-o", str(csv_file))[0] == 0
    assert csv_file.read_bytes() == run("--format", "csv")[1]


def test_filters_narrow_the_export(run, shipped_cases: Path) -> None:
    cases = published(shipped_cases)
    weighed = {case.id for case in cases if case.has_tension("loyaliteit", "transparantie")}
    code, out, err = run("--format", "jsonl", "--tension", "transparantie:loyaliteit")
    assert code == 0, err
    assert {row["id"] for row in jsonl_rows(out)} == weighed and 0 < len(weighed) < len(cases)
    english = read_csv(run("--format", "csv", "--language", "en")[1])
    assert set(english["language"]) == {"en"}
    assert len(english) == sum(case.language == "en" for case in cases) < len(cases)
    code, _, err = run("--format", "csv", "--theme", "geschenkn")
    assert code == 2 and "did you mean 'geschenken'" in err


def test_drafts_only_with_include_drafts(run, shipped_cases: Path) -> None:
    write_case(shipped_cases, "concept-export", status="draft", title="Een concept dat nog niet af is")
    assert "concept-export" not in set(read_csv(run("--format", "csv")[1])["id"])
    assert "concept-export" in set(read_csv(run("--format", "csv", "--include-drafts")[1])["id"])


def test_usage_mistakes_get_one_friendly_line(run, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run("--format", "pdf")
    assert code == 2 and out == b""
    assert err.strip() == "error: --format pdf: not a format I can write; choose one of csv, jsonl, xlsx, md"
    code, _, err = run()
    assert code == 2 and "--format csv|jsonl|xlsx|md" in err and len(err.splitlines()) == 1
    monkeypatch.setattr(export_cli, "stdout_is_terminal", lambda: True)
    code, out, err = run("--format", "xlsx")
    assert code == 2 and out == b"" and "--output" in err and len(err.splitlines()) == 1
    assert run("--format", "csv")[0] == 0  # text formats still go to a terminal


# -- the app ---------------------------------------------------------------------------------------


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], bytes]]:
    """The overview writes its files only when a button is clicked: the callables, by file name."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    captured: dict[str, Callable[[], bytes]] = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        captured[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return captured


def test_the_overview_offers_the_collection_in_four_formats(open_app, shipped_cases: Path, deferred) -> None:
    write_case(shipped_cases, "concept-export", status="draft")
    cases = published(shipped_cases)
    at = open_app(shipped_cases, nav.OVERVIEW)
    assert [b.proto.label for b in at.get("download_button")] == ["CSV", "JSON Lines", "Excel", "Markdown"]
    assert "Downloaden" in [s.value for s in at.subheader]
    files = {name: make() for name, make in deferred.items()}
    stem = "moresprudentie-casussen"
    assert set(files) == {f"{stem}.{suffix}" for suffix in ("csv", "jsonl", "xlsx", "md")}
    for frame in (read_csv(files[f"{stem}.csv"]), read_xlsx(files[f"{stem}.xlsx"])):
        assert len(frame) == len(cases) and "concept-export" not in set(frame["id"])
    assert len(jsonl_rows(files[f"{stem}.jsonl"])) == len(cases)
    assert len(headings(files[f"{stem}.md"].decode("utf-8"))) == len(cases)


def test_the_overview_markdown_speaks_the_chosen_language(open_app, shipped_cases: Path, deferred) -> None:
    open_app(shipped_cases, nav.OVERVIEW, lambda at: at.query_params.update(lang="en"))
    markdown = deferred["moresprudentie-casussen.md"]().decode("utf-8")
    assert "### Situation" in markdown and "### Situatie" not in markdown


def test_the_search_results_download_as_excel_and_csv_in_rank_order(
    open_app, shipped_cases: Path, deferred: dict[str, Callable[[], bytes]]
) -> None:
    """Excel first: Dutch Excel opens a comma-separated file as one column (it splits on semicolons)."""
    at = open_app(shipped_cases, nav.SEARCH)
    at.text_area[0].input("een leverancier biedt mij een cadeau aan zxqvy")
    at.button[0].click().run()
    assert not at.exception
    assert [b.proto.label for b in at.get("download_button")] == ["Resultaten als Excel", "Resultaten als CSV"]
    stem = "moresprudentie-zoekresultaten"
    files = {suffix: deferred[f"{stem}.{suffix}"]() for suffix in ("xlsx", "csv")}
    assert all(b"zxqvy" not in data for data in files.values())  # the question stays in the browser
    for frame in (read_xlsx(files["xlsx"]), read_csv(files["csv"])):
        assert list(frame.columns) == ["rank", "score", "match", *export.COLUMNS]
        assert list(frame["rank"]) == [str(n) for n in range(1, len(frame) + 1)] and len(frame) == 10
        scores = [float(score) for score in frame["score"]]
        assert scores == sorted(scores, reverse=True)
        assert set(frame["match"]) <= {"strong", "fair", "weak"}
        assert frame.iloc[0]["title"] in "\n".join(str(e.proto) for e in at.get("page_link"))


def test_no_search_no_results_download(open_app, shipped_cases: Path) -> None:
    at = open_app(shipped_cases, nav.SEARCH)
    assert not at.get("download_button")


def test_the_command_needs_no_model(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """An export reads the case files only: no embedder is loaded, no index is built."""

    def refuse(name: str | None = None) -> FakeEmbedder:
        raise AssertionError("export loaded a model")

    monkeypatch.setattr(search, "load_embedder", refuse)
    assert run("--format", "jsonl")[0] == 0
