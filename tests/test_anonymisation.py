"""The anonymisation check: validated detectors, name rules, the gold set, file lines and the CLI.

Detector tests call `detectors.detect` directly (no Deduce). Everything else shares one Deduce
instance per session (the `deduce` fixture); its first load takes seconds once the cache is built.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from anonymisation_report import BASE_CASE
from conftest import SHIPPED_CASES, write_case
from typer.testing import CliRunner

from moresprudentie.anonymisation.check import Finding, apply_replacement, check_case, check_file, check_text, warm_up
from moresprudentie.anonymisation.patterns import KINDS, detect
from moresprudentie.cases.collection import case_files
from moresprudentie.cases.loading import load_case_file
from moresprudentie.cases.model import Case
from moresprudentie.cli.main import app
from moresprudentie.errors import CaseFileError, UsageError

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def deduce() -> None:
    """Load the name detector once for the whole session (the instance is a process-wide singleton)."""
    warm_up()


def found(text: str, kind: str) -> list[str]:
    return [text[hit.start : hit.end] for hit in detect(text) if hit.kind == kind]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("email", "Mail p.hendriks@hotmail.com vandaag.", "p.hendriks@hotmail.com"),
        ("email", "Mail o'brien@example.com of jan&piet@example.org.", "o'brien@example.com"),
        ("email", "Mail 'karin.de.boer+klacht@gemeente.nl' nu.", "karin.de.boer+klacht@gemeente.nl"),
        ("url", "Zie https://www.example.org/a?b=1.", "https://www.example.org/a?b=1"),
        ("url", "Op www.gemeente.nl/contact staat het.", "www.gemeente.nl/contact"),
        ("url", "Kijk op voorbeeld.nl voor meer.", "voorbeeld.nl"),
        ("phone", "Bel 06-12345678.", "06-12345678"),
        ("phone", "Bel 06 12 34 56 78 terug.", "06 12 34 56 78"),
        ("phone", "Bel +31 6 2345 6789.", "+31 6 2345 6789"),
        ("phone", "Bel +31 (0)20 123 45 67.", "+31 (0)20 123 45 67"),
        ("phone", "Bel 0031 30 2345678.", "0031 30 2345678"),
        ("phone", "Bel (010) 412 34 56.", "(010) 412 34 56"),
        ("phone", "Bel 0201234567 of 0612345678.", "0201234567"),
        ("bsn", "BSN 945807302.", "945807302"),
        ("bsn", "BSN 2292.62.193.", "2292.62.193"),
        ("bsn", "BSN 100 233 077.", "100 233 077"),
        ("iban", "Op NL91 ABNA 0417 1643 00 graag.", "NL91 ABNA 0417 1643 00"),
        ("iban", "Op NL44RABO0123456789.", "NL44RABO0123456789"),
        ("iban", "Op BE71 0961 2345 6769.", "BE71 0961 2345 6769"),
        ("postcode", "Post naar 3581 KT Utrecht.", "3581 KT"),
        ("postcode", "Post naar 3511AB.", "3511AB"),
        ("postcode", "Postcode 1234 AB 12 is het.", "1234 AB 12"),
        ("address", "Woont op de Kalverstraat 12 sinds kort.", "Kalverstraat 12"),
        ("address", "Van Goghlaan 3a is het adres.", "Van Goghlaan 3a"),
        ("address", "Naar Burgemeester van der Lindenlaan 5-2.", "Burgemeester van der Lindenlaan 5-2"),
        ("address", "She lives at 10 Downing Street.", "10 Downing Street"),
        ("birth-date", "De cliënt, geboren op 14 maart 1968, belt.", "14 maart 1968"),
        ("birth-date", "Cliënt (geb. 02-11-1975) belt.", "02-11-1975"),
        ("birth-date", "Date of birth: 4 July 1985.", "4 July 1985"),
        ("licence-plate", "Kenteken 12-ZXK-3.", "12-ZXK-3"),
        ("licence-plate", "De auto GB-12-DF.", "GB-12-DF"),
        ("licence-plate", "Auto 1-KBB-23.", "1-KBB-23"),
        ("handle", "Zijn account @pietjebakker plaatste het.", "@pietjebakker"),
        ("phone", "Bel de balie (06-87654321) of mail.", "06-87654321"),
        ("reference-number", "Het zaaknummer is 2024-118734.", "2024-118734"),
        ("reference-number", "Zijn personeelsnummer, 48213, staat erin.", "48213"),
        ("reference-number", "Dossier Z/24/004512 ligt er.", "Z/24/004512"),
        ("email", "Mail k.mulder at hotmail dot com graag.", "k.mulder at hotmail dot com"),
        ("email", "Mail k.mulder [at] hotmail [dot] com graag.", "k.mulder [at] hotmail [dot] com"),
        ("email", "Mail k.mulder @ hotmail.com graag.", "k.mulder @ hotmail.com"),
        ("phone", "Bel (010) 412 34 56 vandaag.", "(010) 412 34 56"),
        ("reference-number", "Met zaaknummer Z/23/123456 en personeelsnummer 4711.", "Z/23/123456"),
        ("reference-number", "Ons kenmerk: 2024-0012345.", "2024-0012345"),
        ("reference-number", "Her employee no. 4711 was on it.", "4711"),
        ("email", "Mail j.devries(at)zwolle.nl of k.bos [at] voorbeeld.nl.", "j.devries(at)zwolle.nl"),
        ("email", "Mail k.bos [at] voorbeeld.nl.", "k.bos [at] voorbeeld.nl"),
        ("date", "Op 12-03-2024 kwam het.", "12-03-2024"),
        ("date", "Op 3 juni 2023 meldde ze het.", "3 juni 2023"),
        ("age", "Een vrouw van 52 jaar werkt er.", "52 jaar"),
        ("age", "De melder (38 jaar) belt.", "38 jaar"),
        ("age", "Een 34-jarige collega.", "34-jarige"),
        ("age", "Ze is 52 jaar oud.", "52 jaar oud"),
        ("age", "An inspector aged 47.", "aged 47"),
        ("age", "Hij is geboren in 1961.", "geboren in 1961"),
        ("only-role", "Zij is de enige vrouwelijke agent.", "de enige"),
        ("only-role", "She is the only female inspector.", "the only"),
    ],
)
def test_detector_finds_identifier(kind: str, text: str, expected: str) -> None:
    assert expected in found(text, kind)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("phone", "Op 12-03-2024 om 10 uur."),
        ("phone", "Bel 06-1234567."),  # nine digits: not a Dutch number
        ("phone", "Nummer 1234567890."),
        ("bsn", "Zaaknummer 123456789."),  # fails the 11-proef
        ("iban", "Op NL91 ABNA 0417 1643 01."),  # fails mod-97
        ("postcode", "Het was 2000km en 1500mg."),
        ("postcode", "In 2024 en 2025 niet."),
        ("postcode", "Code 1234 SA bestaat niet."),
        ("address", "Hij woont aan de Kalverstraat."),
        ("address", "Zie artikel 12 van de Gedragscode."),
        ("licence-plate", "Volgnummer 12-34-56."),
        ("licence-plate", "Code AB-12-CD."),  # vowels and C are not used on plates
        ("handle", "Mail naar info@voorbeeld.nl of jan.bos@example.com."),  # the @ of an address
        ("reference-number", "Het dossiernummer is onbekend; zie artikel 12 en versie 2.0."),
        ("reference-number", "De zaak 2024-2025 liep lang; in dossier 12 staat het."),  # a year range, a count
        ("email", "We kwamen om 10.30 aan en keken at home; a journalist at www.regionalnews.co.uk wrote."),
        ("url", "Dat is o.a. bijv. 3.5 procent, art. 4.2 van de code."),
        ("email", "Stuur het @team en naar info@."),
        ("age", "Zij is 20 jaar in dienst."),
        ("age", "Een termijn van 4 jaar. Dat duurde 3 jaar."),
        ("only-role", "Dat is de enige manier."),
        ("date", "In maart 2024 en in 2023."),
    ],
)
def test_detector_rejects_look_alike(kind: str, text: str) -> None:
    assert found(text, kind) == []


def test_birth_date_is_not_also_a_plain_date() -> None:
    kinds = [hit.kind for hit in detect("Geboren op 14 maart 1968.")]
    assert kinds == ["birth-date"]


def test_every_kind_has_replacements_and_a_severity() -> None:
    for kind in KINDS.values():
        assert kind.nl and kind.en and kind.severity in ("block", "warn")


def test_date_suggestion_keeps_the_month() -> None:
    hits = [hit for hit in detect("Op 3 juni 2023 meldde ze het.") if hit.kind == "date"]
    assert hits[0].replacement == "juni 2023"


def names(text: str, language: str = "nl") -> list[str]:
    return [f.text for f in check_text(text, language=language) if f.kind == "name"]


@pytest.mark.usefixtures("deduce")
class TestNames:
    def test_role_words_are_not_names(self) -> None:
        text = "De burgemeester, de griffier en de teamleider spreken de wethouder aan. Wethouder en raad twijfelen."
        assert names(text) == []

    def test_role_with_name_yields_the_name(self) -> None:
        assert names("Gisteren belde wethouder Jansen over de aanvraag.") == ["Jansen"]
        assert names("Wethouder Jansen belde.") == ["Jansen"]

    def test_pseudonym_letters_are_already_anonymous(self) -> None:
        assert names("Medewerker A sprak met collega B en met de heer X.") == []

    def test_sentence_initial_ordinary_words_are_not_names(self) -> None:
        text = "Bos en natuur zijn belangrijk. Groen beleid staat centraal. Het Rijk betaalt. Leg uit waarom."
        assert names(text) == []

    @pytest.mark.parametrize(
        "title",
        [
            "Bloemen voor de baliemedewerker",  # issue 14: flagged as a surname
            "Taart voor het team",
            "Verlof tijdens de reorganisatie",
            "Gift van een leverancier",
            "Koningen van de parkeergarage",
            "Heuvels en dalen",
            "Taartjes voor de balie",
            "Bloemen",
        ],
    )
    def test_a_capital_that_opens_a_title_or_sentence_is_no_name(self, title: str) -> None:
        assert names(title) == []
        assert names(f"Het ging zo. {title} zijn het onderwerp.") == []
        assert [f.text for f in check_case(_case(title=title)) if f.blocks] == []

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("Jansen belde de wethouder.", "Jansen"),
            ("Fatima kwam te laat.", "Fatima"),
            ("Bakker vroeg om verlof.", "Bakker"),
            ("Peter belde de wethouder.", "Peter"),
            ("Maarten belde de wethouder.", "Maarten"),  # a first name: no plural of "maart"
            ("Bloemen belde de wethouder.", "Bloemen"),  # a surname as subject of a singular verb
            ("Prinsen is boos.", "Prinsen"),
            ("Jansen, die al jaren bij de gemeente werkt, belde.", "Jansen"),  # no imperative after a comma
            ("Fatima, de baliemedewerker, kreeg bloemen.", "Fatima"),
            ("Het was druk. Mulder belde.", "Mulder"),
        ],
    )
    def test_names_that_open_a_sentence_are_still_names(self, text: str, name: str) -> None:
        assert names(text) == [name]

    def test_a_word_the_case_uses_as_a_name_is_a_name_at_the_start_of_a_sentence_too(self) -> None:
        assert names("Daarna zei Kok dat het mocht. Kok bracht taart.") == ["Kok", "Kok"]
        assert names("Bloemen voor de balie. Later vroeg Bloemen om uitleg.") == ["Bloemen", "Bloemen"]

    def test_a_word_the_case_writes_in_lower_case_is_a_word_at_the_start_of_its_title(self) -> None:
        assert [f.text for f in check_case(_case(title="Zwart geld in de kantine"))] == ["Zwart"]  # a surname too
        written = _case(title="Zwart geld in de kantine", situation="Een medewerker kreeg zwart geld.")
        assert check_case(written) == []

    def test_the_same_surnames_are_names_after_a_title(self) -> None:
        assert names("Het advies kwam van mevrouw Bos en van de heer Groen.") == ["Bos", "Groen"]

    def test_first_and_full_names(self) -> None:
        assert names("In het team werken Fatima en Bram. Karin de Boer, de teamleider, twijfelt.") == [
            "Fatima",
            "Bram",
            "Karin de Boer",
        ]

    def test_department_after_colleague_of_is_not_a_name(self) -> None:
        assert names("Zij belt de collega van Schuldhulpverlening.") == []

    def test_english_titles_and_names(self) -> None:
        text = "Mr Thompson asked colleague Anna. Her manager, Sarah Miller, agreed with councillor James O'Brien."
        assert names(text, "en") == ["Thompson", "Anna", "Sarah Miller", "James O'Brien"]

    def test_english_imperatives_and_months_are_not_names(self) -> None:
        text = "Put the gift away. Go to the director. Take the money. Look at the code. Will the mayor agree? On 12 May 2022 it started."
        assert names(text, "en") == []

    def test_place_is_a_warning_and_institution_blocks(self) -> None:
        findings = check_text("Zij werkte in het Antonius Ziekenhuis in Nieuwegein.")
        assert {(f.kind, f.text, f.severity) for f in findings} == {
            ("institution", "Antonius Ziekenhuis", "block"),
            ("place", "Nieuwegein", "warn"),
        }

    def test_english_replacements(self) -> None:
        assert [f.replacement for f in check_text("Ask Mr Thompson.", language="en")] == ["[name]"]
        assert [f.replacement for f in check_text("Vraag het mevrouw Bakker.")] == ["[naam]"]


def _load_report_script():
    spec = importlib.util.spec_from_file_location("anonymisation_report", ROOT / "scripts" / "anonymisation_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.usefixtures("deduce")
def test_gold_set_every_direct_identifier_is_found() -> None:
    report = _load_report_script()
    result = report.score(report.load_gold())
    # every blocking kind that is personal data; a hidden character is a property of the text (evasive.yaml)
    direct = [name for name, kind in KINDS.items() if kind.severity == "block" and name != "hidden-character"]
    assert all(result.expected[name] > 0 for name in direct), "the gold set must seed every direct identifier"
    missed = [line for line in result.misses if any(f": {name} " in line for name in direct)]
    assert missed == []
    reported, correct = sum(result.reported.values()), sum(result.correct.values())
    assert correct / reported >= 0.95, result.false_positives


@pytest.mark.usefixtures("deduce")
def test_evasive_set_every_identifier_is_found_whole() -> None:
    report = _load_report_script()
    whole, misses = report.score_evasive(report.load_gold(report.EVASIVE))
    assert misses == [] and whole >= 25


@pytest.mark.usefixtures("deduce")
def test_shipped_collection_has_no_blocking_findings() -> None:
    blocking = [
        f"{path.name}:{f.line}: {f.kind}: {f.text}"
        for path in case_files(SHIPPED_CASES)
        for f in check_file(path)
        if f.blocks
    ]
    assert blocking == []


def _case(**fields: object) -> Case:
    return Case.model_validate(BASE_CASE | {"id": "test-case"} | fields)


@pytest.mark.usefixtures("deduce")
class TestCase:
    def test_all_text_fields_list_items_and_title(self) -> None:
        case = _case(
            title="De taart van mevrouw Bakker",
            reasoning="Bel 06-12345678.",
            dissent="Wethouder Jansen was het oneens.",
            options=["Niets doen.", "Mail p.hendriks@hotmail.com."],
        )
        assert [(f.field, f.kind) for f in check_case(case)] == [
            ("title", "name"),
            ("reasoning", "phone"),
            ("dissent", "name"),
            ("options.1", "email"),
        ]

    def test_allowed_terms_silence_reviewed_false_positives(self) -> None:
        text = "Het Antonius Ziekenhuis is hier de naam van een wet, niet van een instelling."
        assert check_case(_case(situation=text))
        assert check_case(_case(situation=text, allowed_terms=["antonius ziekenhuis"])) == []

    def test_allowed_term_covers_a_longer_phrase(self) -> None:
        case = _case(situation="Volgens de Wet Bakker mag dat.", allowed_terms=["Wet Bakker"])
        assert check_case(case) == []

    def test_allow_list_does_not_hide_other_findings(self) -> None:
        case = _case(situation="Mevrouw Bakker belde met mevrouw Visser.", allowed_terms=["Bakker"])
        assert [f.text for f in check_case(case)] == ["Visser"]


@pytest.mark.usefixtures("deduce")
class TestFile:
    def test_lines_point_into_plain_block_and_list_values(self, tmp_path: Path) -> None:
        path = write_case(
            tmp_path,
            "met-gegevens",
            situation="Een medewerker twijfelt.\nHij belt 06-12345678.\nDaarna mailt hij p.hendriks@hotmail.com.",
            options=["Niets doen.", "Bellen naar 020-5551234."],
        )
        lines = path.read_text(encoding="utf-8").splitlines()
        findings = check_file(path)
        assert [f.kind for f in findings] == ["phone", "email", "phone"]
        for finding in findings:
            assert finding.line is not None
            assert finding.text in lines[finding.line - 1]

    def test_invalid_case_file_raises_with_path(self, tmp_path: Path) -> None:
        path = tmp_path / "kapot.yaml"
        path.write_text("id: kapot\ntitle: [\n", encoding="utf-8")
        with pytest.raises(CaseFileError, match=r"kapot\.yaml"):
            check_file(path)

    def test_check_file_and_check_case_agree(self) -> None:
        path = case_files(SHIPPED_CASES)[0]
        case, _ = load_case_file(path)
        assert case is not None
        assert [(f.kind, f.start) for f in check_file(path)] == [(f.kind, f.start) for f in check_case(case)]


def test_apply_replacement_at_the_finding() -> None:
    finding = Finding("phone", "06-12345678", 4, 15, "situation", "[telefoonnummer]", "block")
    assert apply_replacement("Bel 06-12345678 nu.", finding) == "Bel [telefoonnummer] nu."


def test_apply_replacement_after_the_text_moved() -> None:
    finding = Finding("phone", "06-12345678", 4, 15, "situation", "[telefoonnummer]", "block")
    assert apply_replacement("Graag: bel 06-12345678 nu.", finding) == "Graag: bel [telefoonnummer] nu."
    assert apply_replacement("Al vervangen.", finding) == "Al vervangen."


runner = CliRunner()


@pytest.mark.usefixtures("deduce")
class TestCli:
    def test_findings_exit_1_with_path_line_kind_text(self, tmp_path: Path) -> None:
        write_case(tmp_path, "schoon")
        dirty = write_case(tmp_path, "vies", situation="Wethouder Jansen belt 06-12345678.")
        result = runner.invoke(app, ["check", str(tmp_path)])
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert any(line.startswith(f"{dirty}:") and ": name: Jansen → [naam]" in line for line in lines)
        assert any(": phone: 06-12345678 → [telefoonnummer]" in line for line in lines)

    def test_clean_exits_0(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["check", str(write_case(tmp_path, "schoon"))])
        assert result.exit_code == 0, result.stdout

    def test_warnings_exit_0_unless_strict(self, tmp_path: Path) -> None:
        path = write_case(tmp_path, "leeftijd", situation="Een vrouw van 52 jaar twijfelt.")
        relaxed = runner.invoke(app, ["check", str(path)])
        assert relaxed.exit_code == 0
        assert "age: 52 jaar → [leeftijd] (warning)" in relaxed.stdout
        assert runner.invoke(app, ["check", "--strict", str(path)]).exit_code == 1

    def test_json(self, tmp_path: Path) -> None:
        path = write_case(tmp_path, "vies", situation="Bel 06-12345678.")
        result = runner.invoke(app, ["check", "--json", str(path)])
        data = json.loads(result.stdout)
        assert data["errors"] == []
        [row] = data["findings"]
        assert row["kind"] == "phone" and row["path"] == str(path) and row["field"] == "situation"
        assert row["line"] and row["severity"] == "block" and row["replacement"] == "[telefoonnummer]"

    def test_invalid_file_is_reported_and_fails(self, tmp_path: Path) -> None:
        (tmp_path / "kapot.yaml").write_text("id: kapot\n", encoding="utf-8")
        result = runner.invoke(app, ["check", str(tmp_path)])
        assert result.exit_code == 1
        assert "kapot.yaml" in result.stdout

    def test_missing_path_is_a_usage_error(self) -> None:
        result = runner.invoke(app, ["check", "/no/such/folder"])
        assert isinstance(result.exception, UsageError)

    def test_warm_up_alone(self) -> None:
        result = runner.invoke(app, ["check", "--warm-up"])
        assert result.exit_code == 0


def test_entry_point_usage_error_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "moresprudentie", "check", "/no/such/folder"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
