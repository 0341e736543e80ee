"""Weigh your own dilemma: one employee's answers as a one-page document to take into a conversation.

The page "Weeg je eigen dilemma" keeps the answers in the browser session only; this module turns
them into text the employee downloads and takes along. Whom the document speaks to follows whom the
employee chose to involve (`audience`): a dilemma is often about one's own manager, and then a page
that says "Voorbereiding op een gesprek met mijn leidinggevende" and asks "Wat heb ik van jou
nodig…" is wrong, and risky if it is seen by the wrong person. It writes no file and reads only its own
words (weighing.yaml). The answers are the employee's own words, so they are never markup: in
Markdown what could change its meaning is escaped (handout.escape_document; plain colons and
parentheses stay as typed), in HTML every piece goes through html.escape, and the page carries a Content-Security-Policy that forbids scripts and links anyway.

The document's own words are in weighing.yaml, in Dutch and English, beside the builder (as the
handout's are in handout.yaml): the core never reads the UI's strings.yaml, and value, source and
outcome labels come from the vocabulary.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from moresprudentie.cases.model import BALANCED, NORM_SOURCES, label, value_system
from moresprudentie.contacts import Contacts
from moresprudentie.handout import PRINT_CSS, escape_document, help_items

PEOPLE = ("leidinggevende", "collega", "integriteitsfunctionaris", "vertrouwenspersoon")
MARKED_SYSTEMS = ("ondernemend", "bureaucratisch")  # the two value systems; other values carry no mark


@cache
def _texts() -> dict[str, dict[str, str]]:
    """The document's words, {key: {nl, en}}, from weighing.yaml beside this module."""
    return yaml.safe_load(resources.files("moresprudentie").joinpath("weighing.yaml").read_text(encoding="utf-8"))


def _in(key: str, language: str) -> Any:
    """An entry of weighing.yaml by its dotted key ('subtitle.collega'), in a language (Dutch when
    the language is unknown): a text, or a list of them."""
    entry = _texts()
    for part in key.split("."):
        entry = entry[part]
    return entry.get(language) or entry["nl"]


def say(key: str, language: str, **values: str) -> str:
    """A text of the document in a language (Dutch when the language is unknown)."""
    return _in(key, language).format(**values)


@dataclass(frozen=True)
class ValuePair:
    """Two values that pull against each other, and which way the employee leans.

    `lean` is `first`, `second`, BALANCED (a third way) or "" (not decided yet).
    """

    first: str = ""
    second: str = ""
    lean: str = ""

    @property
    def is_complete(self) -> bool:
        return bool(self.first and self.second and self.first != self.second)


@dataclass(frozen=True)
class Answers:
    """Everything an employee filled in on the page; empty strings for what was left open."""

    language: str = "nl"
    dilemma: str = ""
    situation: str = ""
    options: tuple[str, ...] = ()
    pairs: tuple[ValuePair, ...] = ()
    norms: tuple[tuple[str, str], ...] = ()  # (norm source, the employee's text), in NORM_SOURCES order
    own_decision: str = ""
    beyond_me: str = ""
    needs: str = ""
    involve: tuple[str, ...] = ()  # terms of PEOPLE
    involve_note: str = ""
    precedents: tuple[str, ...] = ()  # titles of the closest published cases: a reader finds a case by
    # its title (search, session page); an id is the app's word, not the reader's


@dataclass(frozen=True)
class Section:
    """A heading with paragraphs, then items; an item is (bold label or None, text)."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[tuple[str | None, str], ...] = field(default_factory=tuple)


def audience(answers: Answers) -> str:
    """Whom the document is for: the one person ticked (a term of PEOPLE), "several" or "nobody".

    Only what the employee ticked counts, never a guess from the text: the app cannot tell whether
    the manager in the dilemma is the one to talk to or the one to talk about.
    """
    chosen = [person for person in PEOPLE if person in answers.involve]
    if len(chosen) == 1:
        return chosen[0]
    return "several" if chosen else "nobody"


def people_phrase(answers: Answers) -> str:
    """The people ticked, in running text: 'de vertrouwenspersoon en een collega' ("" for nobody)."""
    names = [say(f"with.{person}", answers.language) for person in PEOPLE if person in answers.involve]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {say('and', answers.language)} {names[-1]}"


def subtitle(answers: Answers) -> str:
    """'Voorbereiding op een gesprek met de vertrouwenspersoon', or neutral when nobody is chosen yet."""
    return say(f"subtitle.{audience(answers)}", answers.language, people=people_phrase(answers))


def questions(answers: Answers) -> list[str]:
    """The questions to discuss, put to the person the document is for (neutral for several or nobody)."""
    chosen = audience(answers)
    return list(_in(f"ask.{chosen if chosen in PEOPLE else 'neutral'}", answers.language))


def _filled(text: str) -> bool:
    return bool(text and text.strip())


def value_name(term: str, language: str) -> str:
    """A value's label, marked with its value system when it belongs to one of the two."""
    system = value_system(term)
    name = label("values", term, language)
    return f"{name} ({say(system, language)})" if system in MARKED_SYSTEMS else name


def pair_line(pair: ValuePair, language: str) -> str:
    """'Loyaliteit (bureaucratisch) ↔ Transparantie: ik neig naar Transparantie'."""
    if pair.lean == BALANCED:
        lean = say("lean_balanced", language)
    elif pair.lean and pair.lean in (pair.first, pair.second):
        lean = say("lean", language, value=label("values", pair.lean, language))
    else:
        lean = say("lean_open", language)
    return f"{value_name(pair.first, language)} ↔ {value_name(pair.second, language)}: {lean}"


def sections(answers: Answers, contacts: Contacts | None = None) -> list[Section]:
    """The document as data, so that Markdown and HTML say exactly the same; empty parts are left out.

    `contacts` (the organisation's contacts file) adds, after whom to involve, where to find them.
    """
    lang = answers.language
    local = tuple((None, line) for line in help_items(contacts, lang)) if contacts is not None else ()
    room = [(say(key, lang), getattr(answers, key)) for key in ("own_decision", "beyond_me", "needs")]
    norms = dict(answers.norms)
    people = [(None, say(person, lang)) for person in PEOPLE if person in answers.involve]
    note = [(say("note", lang), answers.involve_note)] if _filled(answers.involve_note) else []
    parts = [
        Section(say("dilemma", lang), (answers.dilemma if _filled(answers.dilemma) else say("empty", lang),)),
        Section(say("situation", lang), (answers.situation,) if _filled(answers.situation) else ()),
        Section(say("options", lang), items=tuple((None, option) for option in answers.options if _filled(option))),
        Section(
            say("values", lang),
            items=tuple((None, pair_line(pair, lang)) for pair in answers.pairs if pair.is_complete),
        ),
        Section(
            say("norms", lang),
            items=tuple(
                (label("norm_sources", source, lang), norms[source])
                for source in NORM_SOURCES
                if _filled(norms.get(source, ""))
            ),
        ),
        Section(say("room", lang), items=tuple((name, text) for name, text in room if _filled(text))),
        Section(say("involve", lang), items=tuple(people + note)),
        Section(say("help", lang), items=local),
        Section(
            say("precedents", lang),
            (say("precedents_where", lang),) if answers.precedents else (),
            items=tuple((None, f"“{title}”") for title in answers.precedents),
        ),
        Section(say("questions", lang), items=tuple((None, question) for question in questions(answers))),
    ]
    return [part for part in parts if part.paragraphs or part.items]


# -- Markdown ------------------------------------------------------------------------------------


def _md_paragraph(text: str) -> str:
    """User text as inert Markdown, its own line breaks kept as hard breaks."""
    blocks = [block for block in str(text).replace("\r\n", "\n").split("\n\n") if block.strip()]
    return "\n\n".join("  \n".join(escape_document(line) for line in block.strip().split("\n")) for block in blocks)


def _md_item(name: str | None, text: str) -> str:
    body = escape_document(" ".join(str(text).split()))
    return f"- **{escape_document(name)}:** {body}" if name else f"- {body}"


def to_markdown(answers: Answers, contacts: Contacts | None = None) -> str:
    """The document as Markdown: every answer escaped, so it reads as typed in any Markdown viewer."""
    lang = answers.language
    lines = [f"# {escape_document(say('title', lang))}\n", f"*{escape_document(subtitle(answers))}*\n"]
    for section in sections(answers, contacts):
        lines.append(f"## {escape_document(section.heading)}\n")
        lines.extend(f"{_md_paragraph(paragraph)}\n" for paragraph in section.paragraphs)
        if section.items:
            lines.append("\n".join(_md_item(name, text) for name, text in section.items) + "\n")
    lines.append(f"---\n\n*{escape_document(say('footer', lang))}*\n")
    return "\n".join(lines)


# -- printable HTML ------------------------------------------------------------------------------

# Smaller type and tighter spacing than the handout's print style sheet: the weighing fits on one page.
_COMPACT = """
@page { margin: 15mm 15mm; }
body { font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 18pt; margin-bottom: .1em; }
h2 { font-size: 12pt; margin: 1.1em 0 .3em; padding-bottom: .1em; }
.subtitle { margin-bottom: .6em; }
p, ul { margin: .3em 0; } ul { padding-left: 1.3em; } ul li { margin: .15em 0; }
footer { margin-top: 1.6em; font-size: 9pt; padding-top: .5em; }
"""
_CSS = PRINT_CSS + _COMPACT


def _html_paragraphs(text: str) -> str:
    blocks = [block for block in str(text).replace("\r\n", "\n").split("\n\n") if block.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in block.strip().split("\n")) + "</p>"
        for block in blocks
    )


def _html_item(name: str | None, text: str) -> str:
    body = html.escape(" ".join(str(text).split()))
    return f"<li><strong>{html.escape(name)}:</strong> {body}</li>" if name else f"<li>{body}</li>"


def _html_section(section: Section) -> str:
    body = "".join(_html_paragraphs(paragraph) for paragraph in section.paragraphs)
    if section.items:
        body += "<ul>" + "".join(_html_item(name, text) for name, text in section.items) + "</ul>"
    return f"<h2>{html.escape(section.heading)}</h2>{body}"


def to_html(answers: Answers, contacts: Contacts | None = None) -> str:
    """The document as one printable HTML page (A4, no links, no scripts, every answer escaped)."""
    lang = answers.language
    title = html.escape(say("title", lang))
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f'<p class="print-tip">{html.escape(say("print", lang))}</p>'
        f'<h1>{title}</h1><p class="subtitle">{html.escape(subtitle(answers))}</p>'
        + "".join(_html_section(section) for section in sections(answers, contacts))
        + f"<footer><p>{html.escape(say('footer', lang))}</p></footer></body></html>\n"
    )
