"""The organisation's own help: the contacts file, refused when wrong, named wherever the app advises.

A deployment lists its integrity officer, vertrouwenspersoon and intranet pages in one YAML file
(--contacts / MORESPRUDENTIE_CONTACTS). These tests check that a bad file is refused with a line
that says where and how to fix it, that only http(s), mailto and tel addresses ever become links,
that the entries appear on every page that gives advice and in both documents, in Dutch and in
English, and that without the file every text stays exactly the generic one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import make_case
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from moresprudentie import contacts, handout, settings, weighing
from moresprudentie.cli.main import app as cli
from moresprudentie.contacts import ContactsFileError
from moresprudentie.ui.components import help_routes, nav
from moresprudentie.ui.components.i18n import text

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert(1)</script> [klik](javascript:alert(1)) **vet**"
GOOD = f"""\
contacts:
  - role: integriteitsfunctionaris
    name: {{nl: Bureau Integriteit Noord, en: Integrity Office North}}
    email: integriteit@noord.example.nl
    phone: 070 123 4567
    description:
      nl: Denkt mee bij een dilemma. {HOSTILE}
      en: Thinks along on a dilemma. {HOSTILE}
  - role: vertrouwenspersoon
    name: Meldpunt Vertrouwen
    url: https://intranet.noord.example.nl/vertrouwenspersoon
links:
  - label: {{nl: Integriteitspagina Noord, en: Integrity page North}}
    url: https://intranet.noord.example.nl/integriteit
"""
OFFICE = {"nl": "Bureau Integriteit Noord", "en": "Integrity Office North"}
PAGE = {"nl": "Integriteitspagina Noord", "en": "Integrity page North"}
HEADING = {"nl": "Hulp in jouw organisatie", "en": "Help in your organisation"}
MAILTO = "](mailto:integriteit@noord.example.nl)"
LINKS = {
    "mailto:integriteit@noord.example.nl",
    "tel:0701234567",
    "https://intranet.noord.example.nl/vertrouwenspersoon",
    "https://intranet.noord.example.nl/integriteit",
}


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "subheader")
    return "\n".join(str(element.value) for kind in kinds for element in at.get(kind))


def _refused(text: str) -> str:
    with pytest.raises(ContactsFileError) as refused:
        contacts.parse(text, "contacts.yaml")
    return str(refused.value)


@pytest.fixture
def contacts_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid contacts file, configured through MORESPRUDENTIE_CONTACTS."""
    path = tmp_path / "contacts.yaml"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv(settings.CONTACTS.env, str(path))
    help_routes._read.cache_clear()
    return path


@pytest.fixture
def no_contacts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.CONTACTS.env, raising=False)


# -- the file ------------------------------------------------------------------------------------


def test_a_good_file_and_the_shipped_example_are_accepted() -> None:
    found = contacts.parse(GOOD)
    assert [c.role for c in found.contacts] == ["integriteitsfunctionaris", "vertrouwenspersoon"]
    assert found.contacts[1].name.text("en") == "Meldpunt Vertrouwen"  # one text serves both languages
    assert (
        found.contacts[0].tel == "tel:0701234567" and found.contacts[0].mailto == "mailto:integriteit@noord.example.nl"
    )
    assert contacts.load(ROOT / "docs" / "contacts.example.yaml").links
    documented = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    block = re.search(r"## Your organisation's own help\n.*?```yaml\n(.*?)```", documented, re.S)
    assert block and contacts.parse(block.group(1)).contacts  # the documented example is valid too


def test_an_unknown_field_is_named_with_its_line_and_the_likely_fix() -> None:
    message = _refused(GOOD.replace("    phone: 070", "    telefoon: 070"))
    assert "contacts.yaml:5: contacts.0.telefoon: unknown field 'telefoon'" in message
    assert "use only role, name, email, phone, url, description" in message
    assert "did you mean 'name'?" in _refused(GOOD.replace("    name: Meldpunt", "    nmae: Meldpunt"))
    assert "contacts.yaml:1: colour: unknown field" in _refused("colour: blue\n" + GOOD)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
        "//evil.example/x",
        "https://x.example/a)(javascript:alert(1)",
        "https://user@evil.example/",
        "https://x.example/a b",
        "mailto:someone",
        "tel:call-me",
    ],
)
def test_only_http_mailto_and_tel_addresses_become_links(url: str) -> None:
    message = _refused(GOOD.replace("https://intranet.noord.example.nl/integriteit", f"'{url}'"))
    assert "contacts.yaml:14: links.0.url:" in message and "is not an allowed link" in message
    assert "docs/deployment.md" in message  # where the format is


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    name: Meldpunt Vertrouwen\n", ""), "contacts.1.name: required field is missing"),
        (("role: vertrouwenspersoon", "role: vertrouwenspersonen"), "did you mean 'vertrouwenspersoon'?"),
        (("url: https://intranet.noord.example.nl/vertrouwenspersoon", "description: {nl: a, en: b}"), "add email"),
        (("email: integriteit@noord.example.nl", "email: integriteit"), "is not an e-mail address"),
        (("phone: 070 123 4567", "phone: bel maar"), "is not a phone number"),
        (("label: {nl: Integriteitspagina Noord, en: Integrity page North}", "label: Pagina"), "{nl: …, en: …}"),
        (
            ("label: {nl: Integriteitspagina Noord, en:", "label: {nl: Integriteitspagina Noord, fr:"),
            "links.0.label.fr",
        ),
    ],
)
def test_other_mistakes_are_said_plainly(change: tuple[str, str], expected: str) -> None:
    assert GOOD.count(change[0]) == 1
    assert expected in _refused(GOOD.replace(*change))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("contacts:\nlinks:\n", "lists no contacts and no links"),
        ("- een lijst\n", "must be a mapping"),
        ("contacts: &a []\nlinks: *a\n", "anchors and aliases"),
        ("links: []\nlinks: []\n", "appears twice"),
    ],
)
def test_the_file_itself_is_read_strictly(text: str, expected: str) -> None:
    assert expected in _refused(text)


def test_an_unreadable_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ContactsFileError, match=r"missing\.yaml: cannot read the contacts file"):
        contacts.load(tmp_path / "missing.yaml")


def test_the_setting_defaults_to_none(no_contacts: None, tmp_path: Path) -> None:
    assert settings.contacts_file() is None
    assert settings.contacts_file(tmp_path / "c.yaml") == tmp_path / "c.yaml"


def test_the_app_command_refuses_a_bad_file_before_it_starts(tmp_path: Path, no_contacts: None) -> None:
    bad = tmp_path / "contacts.yaml"
    bad.write_text(GOOD.replace("https://intranet.noord.example.nl/integriteit", "javascript:alert(1)"))
    result = CliRunner().invoke(cli, ["app", "--contacts", str(bad), "--cases", str(tmp_path / "none")])
    assert isinstance(result.exception, ContactsFileError)
    assert f"{bad}:14: links.0.url:" in str(result.exception)


def test_the_app_reads_the_file_again_when_it_changes_and_falls_back_when_it_breaks(
    contacts_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert help_routes.contacts().contacts[0].name.nl == OFFICE["nl"]
    assert help_routes.contacts() is help_routes.contacts()  # read once per version
    contacts_file.write_text(GOOD.replace("Noord", "Zuid"), encoding="utf-8")
    os.utime(contacts_file, ns=(1, 1))  # a new modification time, however fast the test runs
    assert help_routes.contacts().contacts[0].name.nl == "Bureau Integriteit Zuid"
    contacts_file.write_text(GOOD + "kleur: rood\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert help_routes.contacts() is None
    assert "kleur" in caplog.text


# -- the documents -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_handout_names_the_contacts_in_markdown_and_html(lang: str) -> None:
    found = contacts.parse(GOOD)
    sheet = handout.build(make_case(), language=lang, contacts=found)
    markdown, page = handout.to_markdown(sheet), handout.to_html(sheet)
    heading = {"nl": "Hulp in jouw organisatie", "en": "Help in your organisation"}[lang]
    role = {"nl": "integriteitsfunctionaris", "en": "integrity officer"}[lang]
    assert f"## {heading}" in markdown and f"<h2>{heading}</h2>" in page
    assert f"- {OFFICE[lang]}, {role}: " in markdown and f"<li>{OFFICE[lang]}, {role}: " in page
    assert "integriteit@noord.example.nl" in page and r"integriteit\@noord.example.nl" in markdown
    assert f"{PAGE[lang]}: https://intranet.noord.example.nl/integriteit" in page
    assert "<script>" not in page and "<a " not in page and "&lt;script&gt;" in page
    assert r"\<script>" in markdown and r"\[klik](javascript:alert(1))" in markdown
    assert ("hierboven" if lang == "nl" else "above") in sheet.footer


def test_without_contacts_the_handout_is_as_it_was() -> None:
    case = make_case()
    sheet = handout.build(case)
    assert "Hulp in jouw organisatie" not in handout.to_markdown(sheet)
    assert sheet.footer.endswith("vertrouwenspersoon van je organisatie.") and "hierboven" not in sheet.footer
    assert handout.to_html(sheet) == handout.to_html(handout.build(case, contacts=None))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_weighing_document_names_the_contacts(lang: str) -> None:
    answers = weighing.Answers(language=lang, dilemma="Mag ik dit?", involve=("integriteitsfunctionaris",))
    found = contacts.parse(GOOD)
    markdown, page = weighing.to_markdown(answers, found), weighing.to_html(answers, found)
    heading = {"nl": "Hulp in mijn organisatie", "en": "Help in my organisation"}[lang]
    assert f"## {heading}" in markdown and f"<h2>{heading}</h2>" in page
    assert OFFICE[lang] in markdown and OFFICE[lang] in page and PAGE[lang] in page
    assert "<script>" not in page and "<a " not in page
    assert heading not in weighing.to_markdown(answers) and OFFICE[lang] not in weighing.to_html(answers)


# -- the pages -----------------------------------------------------------------------------------


def _block_is_safe(shown: str, lang: str) -> None:
    """The block is there, its links only the file's addresses, its texts escaped."""
    assert f"**{HEADING[lang]}**" in shown and OFFICE[lang] in shown
    assert MAILTO in shown and "](tel:0701234567)" in shown
    assert f"[{PAGE[lang]}](https://intranet.noord.example.nl/integriteit)" in shown
    assert "<script>" not in shown and "](javascript:" not in shown and r"\[klik\]" in shown
    rendered = pytest.importorskip("markdown_it").MarkdownIt("commonmark").render(shown)
    assert set(re.findall(r'href="([^"]*)"', rendered)) == LINKS  # these links and no other
    assert "<script" not in rendered and "&lt;script&gt;" in rendered


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_search_notice_and_the_no_good_match_name_the_contacts(
    open_app: Callable[..., AppTest], search_cases: Path, contacts_file: Path, lang: str
) -> None:
    at = open_app(search_cases, None, lambda at: at.query_params.update(lang=lang))
    [notice] = at.info
    assert notice.value.startswith(text("notice.precedent_local", lang))
    _block_is_safe(notice.value, lang)
    role = {"nl": "vertrouwenspersoon", "en": "confidential adviser"}[lang]
    assert f"**Meldpunt Vertrouwen**, {role}" in notice.value
    at.text_area[0].input("recept voor appeltaart met kaneel")
    at.button[0].click().run()
    [warning] = at.warning
    assert warning.value.startswith(text("search.no_good_match", lang))
    _block_is_safe(warning.value, lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_case_page_names_the_contacts(
    open_app: Callable[..., AppTest], search_cases: Path, contacts_file: Path, lang: str
) -> None:
    at = open_app(search_cases, nav.CASE, lambda at: at.query_params.update(case="dienstauto-zaterdag", lang=lang))
    _block_is_safe("\n".join(info.value for info in at.info), lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_weigh_step_its_no_good_match_and_its_document_name_the_contacts(
    open_app: Callable[..., AppTest], search_cases: Path, contacts_file: Path, downloads: dict[str, str], lang: str
) -> None:
    at = open_app(search_cases, nav.WEIGH, lambda at: at.query_params.update(lang=lang))
    at.text_area(key="weigh_dilemma").input("recept voor appeltaart met kaneel").run()
    at.session_state["weigh_step"] = 4  # "Wie betrek je erbij?"
    at.run()
    _block_is_safe(_texts(at), lang)
    at.session_state["weigh_step"] = 5
    at.run()
    assert not at.exception, at.exception
    [warning] = at.warning
    assert warning.value.startswith(text("weigh.no_good_match", lang))
    _block_is_safe(warning.value, lang)
    _block_is_safe("\n".join(info.value for info in at.info), lang)
    stem = text("weigh.file_name", lang)
    assert OFFICE[lang] in downloads[f"{stem}.md"] and OFFICE[lang] in downloads[f"{stem}.html"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_session_handout_names_the_contacts(
    open_app: Callable[..., AppTest], search_cases: Path, contacts_file: Path, downloads: dict[str, str], lang: str
) -> None:
    at = open_app(search_cases, nav.SESSION, lambda at: at.query_params.update(lang=lang))
    at.selectbox(key="session_case").set_value("dienstauto-zaterdag").run()
    assert not at.exception, at.exception
    markdown, page = downloads["handout-dienstauto-zaterdag.md"], downloads["handout-dienstauto-zaterdag.html"]
    assert f"## {HEADING[lang]}" in markdown and OFFICE[lang] in markdown
    assert f"<h2>{HEADING[lang]}</h2>" in page and PAGE[lang] in page and "<a " not in page


def test_without_the_file_every_text_is_the_generic_one(
    open_app: Callable[..., AppTest], search_cases: Path, no_contacts: None, downloads: dict[str, str]
) -> None:
    at = open_app(search_cases)
    assert [info.value for info in at.info] == [text("notice.precedent", "nl")]
    at.text_area[0].input("recept voor appeltaart met kaneel")
    at.button[0].click().run()
    assert [warning.value for warning in at.warning] == [text("search.no_good_match", "nl")]
    at = open_app(search_cases, nav.WEIGH)
    at.session_state["weigh_step"] = 4
    at.run()
    assert "Hulp in jouw organisatie" not in _texts(at) and "mailto:" not in _texts(at)
    at = open_app(search_cases, nav.SESSION)
    at.selectbox(key="session_case").set_value("dienstauto-zaterdag").run()
    assert "Hulp in jouw organisatie" not in downloads["handout-dienstauto-zaterdag.md"]
