"""A discussion handout for a moral deliberation: one case as Markdown or as printable HTML.

A session leader hands it out before the conversation, so it holds what the group needs to think
for itself (situation, dilemma, the steps of the chosen method as questions, the case's own
questions and "but what if …?" variations) and, by default, NOT what the original group concluded:
knowing the verdict in advance ends the conversation before it starts. `include_outcome=True`
adds judgement, reasoning and dissent for a debrief, printed from a new page after the notes, so the
leader can hand out the first pages and keep the rest back until the group has spoken.

The force field (Buis & De Boer, 2018) is part of the case, not of the verdict: whose dilemma it is,
the norms grouped by their four sources, and the values in tension as a question for the group.
What prevailed in each tension, the facts the judgement hinged on and the lessons are outcome, so
they come only with `include_outcome=True`.

Case text is written by people. The Markdown file is read as text as often as it is rendered, so
`escape_document` escapes only what would change its meaning (markup that could open, a line that
would start a block, an entity, a bare link) and leaves colons, parentheses and the rest of ordinary
prose as typed; the app's stricter `escape_markdown` (which must also defuse Streamlit's directives)
is not used here. In HTML every piece goes through html.escape; the HTML has no links or scripts
and a Content-Security-Policy that forbids them anyway. Text of the handout itself is in handout.yaml.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from moresprudentie.cases.forcefield import norms_by_source
from moresprudentie.cases.loading import unwrap
from moresprudentie.cases.model import BALANCED, Case, Tension, label
from moresprudentie.contacts import Contacts, entries
from moresprudentie.dates import period

# Every ASCII mark that can start Markdown, HTML, a link, maths or a Streamlit :directive:, plus the
# list markers at a line start and the dot of 'www.' (GFM autolink). Commas, full stops, hyphens and
# quotes in running text mean nothing to Markdown, so they stay readable in the downloaded file.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+!|<>~$&:^=@])")
_LIST_MARKER = re.compile(r"^(?:(\d+)\.|-)", re.MULTILINE)
_AUTOLINK_WWW = re.compile(r"(?i)\b(www)\.")
# The document's Markdown (escape_document). Anywhere in a line: the marks that open emphasis, code,
# a link or image, HTML or an autolink, a table cell, strikethrough or maths, and the backslash
# itself; an '&' only where it would start an entity ('&lt;'); the ':' of '://' and an '@' between
# word characters (GFM autolinks). At a line start: what starts a heading, a list item, a quote, a
# thematic break or a setext underline. A run of '#' at a line end (a heading's closing sequence).
_DOC_INLINE = re.compile(r"([\\`*_\[<|~$])")
_DOC_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_DOC_LINK = re.compile(r"(?<=[\w.+-])(@)(?=[\w-])|(:)(?=//)")
_DOC_BLOCK = re.compile(r"^(?:#{1,6}(?=\s|$)|[-+](?=\s|$)|-[- \t]*$|=+[ \t]*$|>)", re.MULTILINE)
_DOC_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)", re.MULTILINE)
_DOC_CLOSING = re.compile(r"(?<=\s)(#+[ \t]*)$", re.MULTILINE)
SHORT_LIST = 6  # a list of at most this many items is kept on one page in print (_keep)
Kind = Literal["text", "list", "steps", "groups"]
Groups = list[tuple[str, list[str]]]  # (heading, items): the norms of each source


@cache
def _texts() -> dict[str, Any]:
    source = resources.files("moresprudentie").joinpath("handout.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(source)


def _say(group: str, key: str, language: str, **values: Any) -> str:
    entry = _texts()[group][key]
    return (entry.get(language) or entry["nl"]).format(**values)


def escape_markdown(text: str) -> str:
    """Text as inert Markdown: markup characters backslash-escaped, line indentation dropped.

    CommonMark defines a backslash escape for every ASCII punctuation mark, so nothing a case says
    can open a link, an HTML tag, emphasis, a heading, a list or a code block.
    """
    text = _MARKUP.sub(r"\\\1", "\n".join(line.strip() for line in str(text).split("\n")))
    text = _LIST_MARKER.sub(lambda m: f"{m[1]}\\." if m[1] else "\\-", text)
    return _AUTOLINK_WWW.sub(r"\1\\.", text)


def escape_document(text: str) -> str:
    """Text as Markdown that renders as exactly the text typed, and reads as it in a plain editor.

    Only marks that would change the meaning are escaped (see _DOC_INLINE and friends), so
    'Werkwijze: (stap 1)' stays as typed, while '# kop', '1. punt', '<b>' or '[x](javascript:…)'
    show as the characters. Line indentation is dropped, as in escape_markdown.
    """
    text = "\n".join(line.strip() for line in str(text).split("\n"))
    text = _DOC_INLINE.sub(r"\\\1", text)
    text = _DOC_ENTITY.sub(r"\\&", text)
    text = _DOC_LINK.sub(lambda m: "\\" + (m[1] or m[2]), text)
    text = _AUTOLINK_WWW.sub(r"\1\\.", text)
    text = _DOC_CLOSING.sub(r"\\\1", text)
    text = _DOC_ORDERED.sub(r"\1\\\2", text)
    return _DOC_BLOCK.sub(lambda m: "\\" + m[0], text)


def method_steps(method: str | None, language: str = "nl") -> list[str]:
    """The steps of a deliberation method as questions for the group (a general set if unknown)."""
    steps = _texts()["methods"]
    entry = steps.get(method or "default") or steps["default"]
    return list(entry.get(language) or entry["nl"])


# The sections whose content is the case's own text, in the case's language; the rest (the method's
# steps, the tensions as a question, what prevailed, where to find help) is written in the handout's.
CASE_TEXT = frozenset(
    {"situation", "dilemma", "options", "stakeholders", "norms", "questions", "variations"}
    | {"judgement", "reasoning", "dissent", "decisive_facts", "lessons"}
)


@dataclass(frozen=True)
class Section:
    heading: str
    kind: Kind  # text: paragraphs; list: bullets; steps: numbered; groups: bullets under subheadings
    content: str | list[str] | Groups
    language: str  # what the content is written in: the case's language for case text (CASE_TEXT)


@dataclass(frozen=True)
class Handout:
    """The handout as data, so that Markdown and HTML say exactly the same."""

    language: str
    title: str
    title_language: str  # the case's: an English handout of a Dutch case keeps a Dutch title
    subtitle: str
    meta: str
    tags: list[tuple[str, str]]  # (label, comma-separated terms)
    sections: list[Section]  # what the group reads before and during the conversation
    outcome: list[Section]  # the original group's conclusion, for the debrief (empty unless asked)
    footer: str
    source: str  # 'Bron: moresprudentie, casus “<title>”': readers find a case by its title, not its id


GENERAL = "general"  # build(method=GENERAL): the general outline, whatever the case's own method was


def build(
    case: Case,
    method: str | None = None,
    language: str = "nl",
    include_outcome: bool = False,
    contacts: Contacts | None = None,
) -> Handout:
    """The handout for a case; `method` (a methods term, or GENERAL for the general outline) defaults
    to the case's own method.

    `contacts` (the organisation's contacts file, moresprudentie.contacts) adds "Hulp in jouw
    organisatie" with them; without it the handout points to no one by name, as it always did.
    """
    method = None if method == GENERAL else method or case.method
    method_name = label("methods", method, language) if method else _say("labels", "general_method", language)
    Part = tuple[str, Kind, str | list[str] | Groups | None]
    parts: list[Part] = [
        ("situation", "text", case.situation),
        ("dilemma", "text", case.dilemma),
        ("options", "list", case.options),
        ("stakeholders", "list", case.stakeholders),
        ("norms", "groups", _norm_groups(case, language)),
        ("tensions", "text", _tension_question(case, language)),
        ("method", "steps", method_steps(method, language)),
        ("questions", "list", case.discussion_questions),
        ("variations", "list", case.variations),
    ]
    if contacts is not None:
        parts += [("help", "list", help_items(contacts, language))]
    outcome: list[Part] = []
    if include_outcome:
        outcome += [("judgement", "text", case.judgement)]
        outcome += [("prevailed", "list", [_prevailed(tension, language) for tension in case.tensions])]
        outcome += [("reasoning", "text", case.reasoning), ("dissent", "text", case.dissent)]
        outcome += [("decisive_facts", "list", case.decisive_facts), ("lessons", "list", case.lessons)]

    def sections(chosen: list[Part]) -> list[Section]:
        return [
            Section(
                _say("headings", key, language, method=method_name),
                kind,
                content,
                case.language if key in CASE_TEXT else language,
            )
            for key, kind, content in chosen
            if content
        ]

    return Handout(
        language=language,
        title=case.title,
        title_language=case.language,
        subtitle=_say("labels", "subtitle", language),
        meta=_meta(case, method, language),
        tags=_tags(case, language),
        sections=sections(parts),
        outcome=sections(outcome),
        footer=_say("labels", "footer" if contacts is None else "footer_local", language),
        source=_say("labels", "source", language, title=case.title),
    )


def help_items(contacts: Contacts, language: str) -> list[str]:
    """The organisation's contacts and links as plain lines for a printed document (this handout and
    the weighing document), addresses written out since paper has no links:
    'Integriteitsbureau, integriteitsfunctionaris: … · integriteit@…'."""
    lines = []
    for entry in entries(contacts, language):
        role = _say("help", entry.role, language)
        about = f": {entry.description}" if entry.description else ""
        lines.append(f"{entry.name}, {role}{about} · {' · '.join(entry.reach)}")
    return lines + [f"{link.label.text(language)}: {link.url}" for link in contacts.links]


def _tags(case: Case, language: str) -> list[tuple[str, str]]:
    """Themes, values and, when recorded, whose dilemma it is."""
    tags = [
        (_say("labels", "themes", language), ", ".join(label("themes", term, language) for term in case.themes)),
        (_say("labels", "values", language), ", ".join(label("values", term, language) for term in case.values)),
    ]
    if case.role:
        tags.append((_say("labels", "role", language), label("roles", case.role, language)))
    return tags


def _norm_groups(case: Case, language: str) -> Groups:
    """The norms under their source (societal, organisational, professional, personal, then unsourced)."""
    return [
        (
            label("norm_sources", source, language) if source else _say("labels", "unsourced", language),
            [n.text for n in norms],
        )
        for source, norms in norms_by_source(case).items()
    ]


def _pair(tension: Tension, language: str) -> str:
    return " ↔ ".join(label("values", value, language) for value in tension.between)


def _tension_question(case: Case, language: str) -> str | None:
    """The tensions as a step for the group: 'Welke waarden staan hier tegenover elkaar? In de oorspronkelijke casus: …'."""
    if not case.tensions:
        return None
    pairs = "; ".join(_pair(tension, language) for tension in case.tensions)
    return _say("labels", "tensions", language, pairs=pairs)


def _prevailed(tension: Tension, language: str) -> str:
    """'Loyaliteit ↔ Transparantie: Transparantie woog zwaarder', or the pair in balance."""
    if tension.prevailed == BALANCED:
        return _say("labels", "balanced", language, pair=_pair(tension, language))
    value = label("values", tension.prevailed, language)
    return _say("labels", "prevailed", language, pair=_pair(tension, language), value=value)


def _meta(case: Case, method: str | None, language: str) -> str:
    """Organisation · period · the method of this handout · how long the original session took.

    The method is the leader's choice, not necessarily the original group's: the steps below follow
    it. The duration is the original session's, so it says so ("oorspronkelijk beraad: 60 minuten")
    and comes only with the original method: beside it, it is a fair estimate of how long this case
    takes that way, which is what a leader plans with; beside another method it read as that
    method's planned length, while a Socratic dialogue on the same case takes far longer than a
    dilemma method, so there it would mislead the planning rather than inform it.
    """
    minutes = case.duration_minutes if method == case.method else None
    parts = [
        label("organisations", case.organisation, language) if case.organisation else None,
        period(case.date, language),
        label("methods", method, language) if method else None,
        _say("labels", "minutes", language, minutes=minutes) if minutes else None,
    ]
    return " · ".join(part for part in parts if part)


# -- Markdown ------------------------------------------------------------------------------------


def _markdown_section(section: Section) -> str:
    if section.kind == "text":
        body = escape_document(str(section.content))
    elif section.kind == "groups":
        body = "\n\n".join(
            f"**{escape_document(heading)}**\n\n"
            + "\n".join(f"- {escape_document(' '.join(i.split()))}" for i in items)
            for heading, items in section.content
        )
    else:
        items = [" ".join(str(item).split()) for item in section.content]
        marks = [f"{n}." if section.kind == "steps" else "-" for n in range(1, len(items) + 1)]
        body = "\n".join(f"{mark} {escape_document(item)}" for mark, item in zip(marks, items, strict=True))
    return f"## {escape_document(section.heading)}\n\n{body}\n"


def to_markdown(handout: Handout) -> str:
    """The handout as Markdown: every piece of case text escaped where it would be markup, no further."""
    tags = "  \n".join(f"**{escape_document(name)}:** {escape_document(terms)}" for name, terms in handout.tags)
    head = [
        f"# {escape_document(handout.title)}\n",
        f"*{escape_document(handout.subtitle)}* · {escape_document(handout.meta)}\n",
        f"{tags}\n",
    ]
    foot = [f"---\n\n*{escape_document(handout.footer)}*\n", f"{escape_document(handout.source)}\n"]
    body = [_markdown_section(s) for s in handout.sections]
    if handout.outcome:
        body += [f"---\n\n*{escape_document(_say('labels', 'debrief', handout.language))}*\n"]
        body += [_markdown_section(s) for s in handout.outcome]
    return "\n".join(head + body + foot)


# -- printable HTML ------------------------------------------------------------------------------

# The print style sheet of the app's documents: this handout uses it as it is, and the one-page
# weighing document (weighing.py) adds compact overrides.
PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font: 11pt/1.5 "Source Sans Pro", "Segoe UI", Arial, sans-serif; color: #1f2933; max-width: 46em;
  margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 20pt; margin: 0 0 .2em; color: #12355b; }
h2 { font-size: 13pt; margin: 1.4em 0 .4em; color: #12355b; border-bottom: 1px solid #d5dde5; padding-bottom: .15em; }
.subtitle { color: #52606d; margin: 0 0 .8em; }
.tags { color: #323f4b; font-size: 10pt; }
p { margin: .4em 0; }
ol li, ul li { margin: .25em 0; }
.notes { border: 1px solid #d5dde5; border-radius: 6px; height: 16em; margin-top: .5em; }
footer { margin-top: 2em; font-size: 9.5pt; color: #52606d; border-top: 1px solid #d5dde5; padding-top: .6em; }
.print-tip { font-size: 9pt; color: #7b8794; }
h2 { break-after: avoid; } li, p { break-inside: avoid; } .keep { break-inside: avoid; }
.notes-block { break-inside: avoid; } .outcome { break-before: page; }
@media print { .print-tip { display: none; } body { margin: 0; } }
"""


def _keep(count: int) -> str:
    """The class that keeps a short list whole on paper (with its heading, which h2 keeps with it).

    Five stakeholders printed as four and one alone at the top of the next page is a list nobody
    reads as one; a short list moved whole costs a few lines of paper. A long list may still break,
    or it would push a half-empty page before it.
    """
    return ' class="keep"' if count <= SHORT_LIST else ""


def _html_section(section: Section, document_language: str) -> str:
    """A section as HTML; content in another language than the document's says so (`lang`), so a
    screen reader reads a Dutch case in an English handout with Dutch pronunciation."""
    heading = f"<h2>{html.escape(section.heading)}</h2>"
    lang = _lang(section.language, document_language)
    if section.kind == "text":
        paragraphs = (unwrap(str(section.content)) or "").split("\n\n")
        return heading + "".join(f"<p{lang}>{html.escape(p)}</p>" for p in paragraphs)
    if section.kind == "groups":  # a source's name stays with its norms: the group is the unit kept whole
        return heading + "".join(
            f"<div{_keep(len(items))}><p><strong>{html.escape(name)}</strong></p><ul{lang}>"
            + "".join(f"<li>{html.escape(' '.join(item.split()))}</li>" for item in items)
            + "</ul></div>"
            for name, items in section.content
        )
    tag = "ol" if section.kind == "steps" else "ul"
    items = "".join(f"<li>{html.escape(' '.join(str(item).split()))}</li>" for item in section.content)
    return f"{heading}<{tag}{lang}{_keep(len(section.content))}>{items}</{tag}>"


def _lang(language: str, document_language: str) -> str:
    """A `lang` attribute where a text's language differs from the document's, else nothing."""
    return "" if language == document_language else f' lang="{html.escape(language)}"'


def to_html(handout: Handout) -> str:
    """The handout as one printable HTML page (A4, print-friendly, no links, no scripts)."""
    say = handout.language
    tags = "<br>".join(f"<strong>{html.escape(name)}:</strong> {html.escape(terms)}" for name, terms in handout.tags)
    body = "".join(_html_section(section, say) for section in handout.sections)
    notes = f'<div class="notes-block"><h2>{html.escape(_say("headings", "notes", say))}</h2><div class="notes"></div></div>'
    outcome = "".join(_html_section(section, say) for section in handout.outcome)
    title_lang = _lang(handout.title_language, say)
    lead = f'<p class="subtitle"><span{title_lang}>{html.escape(handout.title)}</span> · {html.escape(_say("labels", "debrief", say))}</p>'
    debrief = f'<div class="outcome">{lead}{outcome}</div>' if outcome else ""  # its own page: say which case
    title, source = html.escape(handout.title), html.escape(handout.source)  # the source line names the case
    source = source.replace(title, f"<span{title_lang}>{title}</span>", 1) if title_lang else source
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(say)}"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title{title_lang}>{html.escape(handout.title)}</title><style>{PRINT_CSS}</style></head><body>"
        f'<p class="print-tip">{html.escape(_say("labels", "print", say))}</p>'
        f"<h1{title_lang}>{html.escape(handout.title)}</h1>"
        f'<p class="subtitle">{html.escape(handout.subtitle)} · {html.escape(handout.meta)}</p>'
        f'<p class="tags">{tags}</p>{body}{notes}{debrief}'
        f"<footer><p>{html.escape(handout.footer)}</p><p>{source}</p></footer>"
        "</body></html>\n"
    )
