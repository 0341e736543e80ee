"""`moresprudentie index / search / similar`: the output contract other tools rely on.

In-process through the real entry point (cli.main) with the fake embedder; one subprocess test at
the end runs the real model end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeEmbedder, write_case

from moresprudentie.cli import main as cli
from moresprudentie.search import engine as search

HIT_KEYS = {"id", "title", "score", "match", "language", "matched"}


@pytest.fixture
def run(search_cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run the CLI with the fake model on the small collection; returns (exit code, stdout, stderr)."""
    embedder = FakeEmbedder()
    monkeypatch.setattr(search, "load_embedder", lambda name=None: embedder)
    monkeypatch.setenv("MORESPRUDENTIE_CASES", str(search_cases))
    monkeypatch.setenv("MORESPRUDENTIE_INDEX", str(tmp_path / "index"))

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["moresprudentie", *args])
        with pytest.raises(SystemExit) as exit_info:
            cli.main()
        out, err = capsys.readouterr()
        return exit_info.value.code or 0, out, err

    invoke.embedder = embedder  # type: ignore[attr-defined]
    return invoke


def test_search_json_contract(run) -> None:
    code, out, err = run("search", "kerstpakket van een leverancier", "--json", "-k", "3")
    assert code == 0, err
    hits = json.loads(out)
    assert len(hits) == 3 and hits[0]["id"] == "kerstpakket-leverancier"
    for hit in hits:
        assert set(hit) >= HIT_KEYS and set(hit["matched"]) == {"field", "text"}
        assert 0 <= hit["score"] <= 1
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "embedding" not in err  # quiet with --json


def test_an_off_topic_question_says_there_is_no_good_match(run) -> None:
    code, out, _ = run("search", "recept voor appeltaart met kaneel", "-k", "3")
    assert code == 0
    assert out.startswith("Geen goede overeenkomst gevonden") and "vertrouwenspersoon" in out
    assert "No good match" in out  # and in English beneath
    assert all(" weak " in line for line in out.splitlines() if line[:3].strip().rstrip(".").isdigit())
    code, out, _ = run("search", "recept voor appeltaart met kaneel", "--json", "-k", "3")
    assert {hit["match"] for hit in json.loads(out)} == {"weak"}


def test_a_query_of_stopwords_only_asks_for_a_description_not_fewer_filters(run) -> None:
    code, out, _ = run("search", "wat nu", "-k", "3")
    assert code == 0 and out.startswith("Hier staat nog niets om op te zoeken") and "filters" not in out
    code, out, _ = run("search", "wat nu", "--json", "-k", "3")
    assert code == 0 and json.loads(out) == []  # one JSON document per query, as ever


def test_a_real_question_shows_its_match_band(run) -> None:
    code, out, _ = run("search", "kerstpakket van een leverancier tijdens de aanbesteding", "-k", "1")
    assert code == 0 and "Geen goede overeenkomst" not in out
    assert " strong " in out.splitlines()[0] or " fair " in out.splitlines()[0]


def test_similar_shows_no_bands(run) -> None:
    code, out, _ = run("similar", "dienstauto-zaterdag", "--json", "-k", "2")
    assert code == 0 and all("match" not in hit for hit in json.loads(out))


def test_search_plain_output_is_readable(run) -> None:
    code, out, _ = run("search", "dienstauto op zaterdag", "-k", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(" 1. ") and "De dienstauto op zaterdag" in lines[0] and "dienstauto-zaterdag" in lines[0]
    assert lines[1].strip().split(":")[0] in {"situation", "dilemma", "judgement", "reasoning", "lessons"}


def test_search_filters_and_drafts(run) -> None:
    _, out, _ = run("search", "fles wijn", "--json", "--language", "en")
    assert {h["language"] for h in json.loads(out)} == {"en"}
    _, out, _ = run("search", "fles wijn", "--json", "--theme", "geschenken")
    assert [h["id"] for h in json.loads(out)] == ["kerstpakket-leverancier"]
    _, out, _ = run("search", "fles wijn", "--json", "--theme", "geschenken", "--include-drafts")
    assert json.loads(out)[0]["id"] == "fles-wijn-concept"
    _, out, _ = run("search", "zaak", "--json", "--organisation", "gemeente", "--value", "loyaliteit")
    assert [h["id"] for h in json.loads(out)] == ["political-tweet"]
    code, out, _ = run("search", "zaak", "--json", "--theme", "Misbruik middelen")  # any spelling of a term
    assert code == 0 and json.loads(out)


def test_a_term_outside_the_vocabulary_that_a_case_uses_is_a_valid_filter(run, search_cases: Path) -> None:
    write_case(search_cases, "eigen-thema", themes=["een-eigen-thema"])
    code, out, _ = run("search", "situatie", "--json", "--theme", "een-eigen-thema")
    assert code == 0 and [h["id"] for h in json.loads(out)] == ["eigen-thema"]


def test_queries_file_gives_one_json_array_per_line_in_order(run, tmp_path: Path) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("dienstauto zaterdag\n\nunpaid overtime manager\n", encoding="utf-8")
    code, out, _ = run("search", "--queries", str(queries), "--json", "-k", "1")
    assert code == 0
    lines = out.splitlines()
    assert [json.loads(line)[:1] and json.loads(line)[0]["id"] for line in lines] == [
        "dienstauto-zaterdag",
        [],
        "unpaid-overtime",
    ]


def test_index_command_builds_then_reports_up_to_date(run) -> None:
    code, out, _ = run("index", "--json")
    assert code == 0 and json.loads(out)["added"] == 6
    code, out, _ = run("index")
    assert code == 0 and "up to date" in out
    code, out, _ = run("index", "--rebuild", "--json")
    assert json.loads(out)["rebuilt_because"]
    code, out, _ = run("index", "--rebuild")
    assert code == 0 and "6 case(s)" in out and "rebuilt" in out


def test_tension_returns_only_cases_that_weighed_that_pair_in_either_order(run) -> None:
    # the fixture's political tweet weighs loyalty against free speech; the others never do
    for pair in ("loyaliteit:vrijheid-van-meningsuiting", "vrijheid-van-meningsuiting:loyaliteit"):
        code, out, _ = run("search", "kritiek op de wethouder", "--tension", pair, "--json")
        assert code == 0
        hits = json.loads(out)
        assert [hit["id"] for hit in hits] == ["political-tweet"]
        assert hits[0]["tensions"] == [
            {"between": ["loyaliteit", "vrijheid-van-meningsuiting"], "prevailed": "loyaliteit"}
        ]
        assert hits[0]["role"] == "medewerker"


def test_similar(run) -> None:
    code, out, _ = run("similar", "kerstpakket-leverancier", "--json", "-k", "2")
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 2 and "kerstpakket-leverancier" not in {h["id"] for h in hits}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("similar", "no-such-case"), 1, "no case 'no-such-case'"),
        (("search",), 2, "--queries FILE"),
        (("search", "x", "--queries", "q.txt"), 2, "--queries FILE"),
        (("search", "--queries", "/no/such/file.txt"), 2, "cannot read the queries file"),
        (("search", "x", "--from", "last year"), 2, "YYYY"),
        (("search", "x", "--cases", "/no/such/folder"), 2, "no such folder"),
        (("search", "x", "--theme", "geschenk"), 2, "theme 'geschenk' is not a known term; did you mean 'geschenken'?"),
        (("similar", "dossier-buurman", "--method", "geen-methode"), 2, "method 'geen-methode' is not a known term"),
        (("search", "x", "--language", "de"), 2, "language 'de': use nl or en"),
        (("search", "x", "--tension", "loyalitiet:transparantie"), 2, "did you mean 'loyaliteit'?"),
        (("search", "x", "--tension", "loyaliteit"), 2, "give two values as A:B"),
        (("search", "x", "--role", "manager"), 2, "role 'manager': use one of medewerker, leidinggevende"),
    ],
)
def test_errors_are_one_friendly_line(run, args: tuple, code: int, message: str) -> None:
    exit_code, _, err = run(*args)
    assert exit_code == code
    assert message in err and "Traceback" not in err


@pytest.mark.integration
def test_end_to_end_with_the_real_model(search_cases: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "moresprudentie", "search", "--cases", str(search_cases)]
    command += ["--index", str(tmp_path / "index"), "--json", "-k", "2"]
    result = subprocess.run(
        [*command, "Should an officer look up his neighbour in the police files?"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["id"] == "dossier-buurman"
