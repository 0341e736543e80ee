"""Every page speaks one language: the Dutch UI shows no English, the English UI no Dutch.

The walk opens every page with AppTest (an officer signed in for the officer pages, a search made, a
case picked, a draft under review, a form with a finding) on a collection whose own texts are made-up
words, so every word that remains is the app's. From each element it gathers what a user reads:
bodies, labels, placeholders, help texts, options, tab and expander labels, and the titles inside
charts. A text fails when it holds common words of the other language. Simple on purpose: a word
list, not a language model, so a failure names the exact text to translate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import write_case
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from moresprudentie import settings
from moresprudentie.anonymisation import check as anonymisation
from moresprudentie.review.roles import actor_for
from moresprudentie.review.store import CaseStore
from moresprudentie.ui.components import auth, nav
from moresprudentie.ui.components.i18n import text

# Common words that, in a short UI text, give its language away. Words both languages share ("in",
# "is", "team", "privacy") and the language switch's own NL / EN are left out.
DUTCH = frozenset(
    [
        "de",
        "het",
        "een",
        "en",
        "van",
        "niet",
        "je",
        "jouw",
        "wat",
        "voor",
        "met",
        "naar",
        "deze",
        "zijn",
        "wordt",
        "geen",
        "nog",
        "ook",
        "bij",
        "als",
        "dit",
        "dat",
        "op",
        "uit",
        "kies",
        "casus",
        "casussen",
        "waarde",
        "waarden",
        "zoek",
        "zoeken",
        "overeenkomst",
        "alle",
        "welke",
        "hoe",
        "wie",
        "waarom",
        "nieuwe",
        "eerst",
        "opslaan",
        "aanbieden",
        "beoordelen",
        "besproken",
        "gespreksleider",
    ]
)
ENGLISH = frozenset(
    [
        "the",
        "and",
        "to",
        "you",
        "your",
        "with",
        "not",
        "this",
        "for",
        "select",
        "choose",
        "add",
        "required",
        "field",
        "missing",
        "case",
        "cases",
        "search",
        "value",
        "values",
        "match",
        "find",
        "from",
        "which",
        "what",
        "show",
        "none",
        "all",
        "save",
        "submit",
        "review",
        "discussed",
        "leader",
    ]
)
TEXT_KEYS = {"body", "label", "placeholder", "help", "options", "content", "title", "caption"}
NEUTRAL = "Qorvex zymblat trindor"  # the collection's own words: no language at all
# Not words of a language: the essay's authors and journal, case ids such as fles-wijn-met-kerst.
NAMES = re.compile(r"De Boer|Binnenlands Bestuur|\b[a-z0-9]+(?:-[a-z0-9]+)+\b")


@pytest.fixture
def neutral(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    for number, language in ((1, "nl"), (2, "en"), (3, "nl")):
        write_case(
            folder,
            f"qorvex-{number}",
            title=f"Qorvex {number}",
            language=language,
            date=f"202{number}-0{number}",
            themes=["vertrouwen"],
            values=["loyaliteit", "transparantie"],
            tensions=[{"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"}],
            norms=[{"text": f"Zymblat {number}", "source": "organisatorisch"}],
            decisive_facts=[f"Trindor {number}."],
            situation=f"{NEUTRAL} {number}.",
            dilemma=f"Qorvex zymblat {number}?",
            judgement=f"Trindor {number}.",
            reasoning=f"Zymblat trindor {number}.",
            options=["Qorvex.", "Zymblat."],
            lessons=["Trindor."],
            discussion_questions=["Qorvex?"],
            variations=["Zymblat?"] if number != 2 else None,
            related=[{"id": "qorvex-1", "relation": "nuances"}] if number == 3 else None,
            method="dilemmamethode",
            duration_minutes=60,
        )
    return folder


def _strings(value: object, key: str = "") -> Iterator[str]:
    """The readable strings in an element's message: values under text keys, chart titles in specs."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "spec" and isinstance(item, str) and item.lstrip().startswith("{"):
                yield from _strings(json.loads(item), "spec")
            elif name == "spec":
                continue  # a Graphviz drawing's DOT source: its labels are case text and UI words alike
            else:
                yield from _strings(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str) and (key in TEXT_KEYS or (key == "text" and value)):
        yield value


def _texts(at: AppTest) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.extend(_strings(MessageToDict(proto)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _foreign(texts: list[str], words: frozenset[str]) -> list[str]:
    """The texts holding a word of the other language (markup, icons and case words stripped)."""
    bad = []
    for shown in texts:
        if shown.lstrip().startswith(("<style", "<script data-page-language")):  # the app's CSS and lang code
            continue
        plain = re.sub(r":material/\w+:|:[a-z]+(?:-background)?\[|[\]*_`#>]|https?://\S+", " ", NAMES.sub(" ", shown))
        tokens = {token.lower() for token in re.findall(r"[A-Za-zÀ-ÿ]+", plain)}
        if tokens & words and shown.strip() not in ("NL", "EN"):
            bad.append(f"{sorted(tokens & words)}: {shown[:160]!r}")
    return bad


@pytest.fixture
def walk(neutral: Path, monkeypatch: pytest.MonkeyPatch, open_app) -> Callable[[str], dict[str, list[str]]]:
    """walk(language) → {page: texts that hold words of the other language}."""
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    monkeypatch.delenv(auth.TRIAL_ENV, raising=False)
    monkeypatch.setattr(anonymisation, "find_names", lambda text, language="nl", context=None: [])
    monkeypatch.setattr(anonymisation, "warm_up", lambda: None)
    officers = {"officers": ["anna@example.nl", "bram@example.nl"]}
    store = CaseStore(neutral)
    draft = write_case(
        neutral / "drafts-tmp",
        "qorvex-concept",
        title="Qorvex 9",
        situation=f"{NEUTRAL} 9.",
        dilemma="Qorvex 9?",
        judgement="Trindor 9.",
        reasoning="Zymblat 9.",
        decisive_facts=["Qorvex 9."],
        norms=[{"text": "Zymblat 9", "source": "persoonlijk"}],
    )
    from moresprudentie.cases.loading import load_case_file

    case, _ = load_case_file(draft)
    anna = actor_for("anna@example.nl", frozenset(officers["officers"]))
    store.save_draft(case, anna)
    store.submit(case.id, anna)
    draft.unlink()
    draft.parent.rmdir()

    def run(language: str) -> dict[str, list[str]]:
        words = ENGLISH if language == "nl" else DUTCH

        def prepare(user: str | None) -> Callable[[AppTest], None]:
            def setup(at: AppTest) -> None:
                at.query_params["lang"] = language
                at.secrets["auth"] = {"redirect_uri": "http://x/oauth2callback", "cookie_secret": "t", "client_id": "x"}
                at.secrets["moresprudentie"] = officers
                at.user = {"is_logged_in": True, "email": user} if user else {"is_logged_in": False}

            return setup

        found: dict[str, list[str]] = {}

        def seen(name: str, at: AppTest) -> None:
            assert not at.exception, (name, at.exception)
            found[name] = found.get(name, []) + _foreign(_texts(at), words)

        say = lambda key: text(key, language)  # noqa: E731 - a short alias for labels in this walk
        at = open_app(neutral, nav.SEARCH, prepare(None))
        seen("zoeken", at)
        at.text_area[0].input("qorvex zymblat")
        next(b for b in at.button if b.label == say("search.submit")).click().run()
        seen("zoeken: resultaten", at)
        for page in (nav.OVERVIEW, nav.CONCEPTS, nav.SESSION, nav.WEIGH):
            at = open_app(neutral, page, prepare(None))
            seen(page.url_path, at)
        at = open_app(neutral, nav.WEIGH, prepare(None))
        for step in range(5):
            next(b for b in at.button if b.label == say("weigh.next")).click().run()
            seen(f"afwegen: stap {step + 2}", at)
        at = open_app(neutral, None, lambda at: (prepare(None)(at), at.query_params.update({"case": "qorvex-3"})))
        at.switch_page(nav.CASE.path).run()
        seen("casus", at)
        at = open_app(neutral, nav.ADD_CASE, prepare("anna@example.nl"))
        at.text_input(key="form.title").input("Qorvex 7").run()
        at.text_area(key="form.situation").input("Qorvex belde 06-12345678.").run()
        seen("toevoegen", at)
        at = open_app(neutral, nav.REVIEW, prepare("bram@example.nl"))
        seen("beoordelen", at)
        at = open_app(neutral, nav.REVIEW, prepare("anna@example.nl"))
        seen("beoordelen: auteur", at)
        return {page: bad for page, bad in found.items() if bad}

    return run


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_page_speaks_only_the_chosen_language(walk, language: str) -> None:
    foreign = walk(language)
    assert not foreign, "\n".join(f"{page}: {line}" for page, lines in foreign.items() for line in lines)


def test_the_word_check_catches_the_texts_users_reported() -> None:
    """The check itself: the English texts a Dutch user met, and Dutch in English, are caught."""
    reported = ["Select all", "Choose or add options", "Add: geschenken", "'x' is not in the vocabulary"]
    assert len(_foreign(reported, ENGLISH)) == len(reported)
    assert _foreign(["Kies een waarde", "Opslaan als concept"], DUTCH)
    assert not _foreign(["Buis & De Boer, Binnenlands Bestuur", "fles-wijn-met-kerst", "NL"], DUTCH)
