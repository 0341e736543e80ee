"""The collection as data to take elsewhere: one table of cases, written as CSV, JSON Lines, Excel or Markdown.

Who asks: an integrity officer who wants the cases in a spreadsheet for a report, a researcher who reads
them into a notebook, a session leader who prints them all. So the table has one row per case and a fixed
column order (COLUMNS, the case-format names), lists are joined readably ("a; b", never a Python repr),
and JSON Lines keeps the real lists for programs. The shells (`moresprudentie export`, the app's download
buttons) choose the cases; this module only writes them, as bytes, so either can send them to a file, to
standard output or to a browser.

Case text is user content and a spreadsheet is a program: a CSV cell that starts with '=' (or '+', '-',
'@') is run as a formula when Excel opens the file, so such a cell is written with a leading apostrophe
(OWASP's advice for CSV injection). In the Excel file the same text is stored as text, unchanged, and
characters Excel cannot hold are left out. The Markdown goes through handout.escape_document, as the
handouts do. Case files wrap lines inside paragraphs; only a blank line starts a new one, so texts are
unwrapped to their paragraphs in every format.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from moresprudentie.cases.loading import unwrap
from moresprudentie.cases.model import BALANCED, LIST_TEXT_FIELDS, Case, label
from moresprudentie.handout import escape_document

if TYPE_CHECKING:
    from moresprudentie.search.engine import Hit

COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "language",
    "date",
    "organisation",
    "method",
    "role",
    "themes",
    "values",
    "tensions",
    "norms",
    "situation",
    "dilemma",
    "options",
    "stakeholders",
    "judgement",
    "reasoning",
    "decisive_facts",
    "dissent",
    "lessons",
    "discussion_questions",
    "variations",
    "related",
    "duration_minutes",
    "status",
)
RESULT_COLUMNS: tuple[str, ...] = ("rank", "score", "match")  # before COLUMNS in a list of search results
TEXTS = ("title", "situation", "dilemma", "judgement", "reasoning", "dissent")
LISTS = ("themes", "values", *LIST_TEXT_FIELDS)  # options, stakeholders, decisive_facts, lessons, …
SEPARATOR = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as the start of a formula
EXCEL_CELL_LIMIT = 32_767  # characters in one Excel cell


@dataclass(frozen=True)
class Format:
    suffix: str
    media_type: str


FORMATS: dict[str, Format] = {
    "csv": Format("csv", "text/csv"),
    "jsonl": Format("jsonl", "application/jsonl"),
    "xlsx": Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "md": Format("md", "text/markdown"),
}


def _item(text: str) -> str:
    return " ".join(text.split())


def _tension(case: Case) -> list[dict[str, Any]]:
    return [{"between": list(t.between), "prevailed": t.prevailed} for t in case.tensions]


def _record(case: Case) -> dict[str, Any]:
    """One case as plain data in COLUMNS order: texts unwrapped, lists as lists (the JSON Lines row)."""
    record: dict[str, Any] = {name: getattr(case, name) for name in COLUMNS}
    record.update({name: unwrap(getattr(case, name)) for name in TEXTS})
    record.update({name: [_item(item) for item in getattr(case, name)] for name in LISTS})
    record["tensions"] = _tension(case)
    record["norms"] = [{"text": _item(norm.text), "source": norm.source} for norm in case.norms]
    record["related"] = [{"id": link.id, "relation": str(link.relation)} for link in case.related]
    return record


def _joined(record: dict[str, Any]) -> dict[str, Any]:
    """A record with every list as one readable cell: 'a; b', 'x ↔ y: y', 'source: text', 'follows: id'."""
    row = dict(record)
    row.update({name: SEPARATOR.join(record[name]) for name in LISTS})
    row["tensions"] = SEPARATOR.join(
        f"{' ↔ '.join(tension['between'])}: {tension['prevailed']}" for tension in record["tensions"]
    )
    row["norms"] = SEPARATOR.join(
        f"{norm['source']}: {norm['text']}" if norm["source"] else norm["text"] for norm in record["norms"]
    )
    row["related"] = SEPARATOR.join(f"{link['relation']}: {link['id']}" for link in record["related"])
    return row


def export_frame(cases: Iterable[Case]) -> pd.DataFrame:
    """One row per case, in the order given, with the columns of COLUMNS (lists joined with '; ')."""
    frame = pd.DataFrame([_joined(_record(case)) for case in cases], columns=list(COLUMNS), dtype=object)
    frame["duration_minutes"] = frame["duration_minutes"].astype("Int64")  # 60, not 60.0, when some lack one
    return frame


def results_frame(hits: Sequence[Hit]) -> pd.DataFrame:
    """Search results as export_frame rows in rank order, led by rank, score (0-1) and match band."""
    frame = export_frame(hit.case for hit in hits)
    frame.insert(0, "match", pd.Series([hit.match for hit in hits], dtype=object))
    frame.insert(0, "score", pd.Series([round(hit.score, 3) for hit in hits], dtype=float))
    frame.insert(0, "rank", pd.Series(range(1, len(hits) + 1), dtype="Int64"))
    return frame


# -- writers -------------------------------------------------------------------------------------


def _defused(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, kept as text by a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV as Excel opens it without asking: UTF-8 with a byte order mark, comma-separated, CRLF-free."""
    safe = frame.apply(lambda column: column.map(_defused) if column.dtype == object else column)
    return safe.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _excel_text(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value if len(value) <= EXCEL_CELL_LIMIT else value[: EXCEL_CELL_LIMIT - 1] + "…"


def to_xlsx(frame: pd.DataFrame, sheet: str = "cases") -> bytes:
    """An Excel workbook with one sheet: a frozen header row with filters, and every text stored as text."""
    safe = frame.apply(lambda column: column.map(_excel_text) if column.dtype == object else column)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name=sheet, index=False)
        worksheet = writer.sheets[sheet]
        for row in worksheet.iter_rows(min_row=2):
            for cell in row:
                if cell.data_type == "f":  # openpyxl reads a leading '=' as a formula: it is case text
                    cell.data_type = "s"
        worksheet.freeze_panes = "A2"
        worksheet.auto_filter.ref = worksheet.dimensions
    return buffer.getvalue()


def to_jsonl(cases: Iterable[Case]) -> str:
    """JSON Lines: one object per case with the keys of COLUMNS, lists and objects as they are."""
    return "".join(json.dumps(_record(case), ensure_ascii=False) + "\n" for case in cases)


def export(cases: Sequence[Case], format: str, language: str = "nl") -> bytes:
    """The cases in one of FORMATS, as the bytes of a file (`language`: the Markdown's own words)."""
    if format == "csv":
        return to_csv(export_frame(cases))
    if format == "xlsx":
        return to_xlsx(export_frame(cases))
    if format == "jsonl":
        return to_jsonl(cases).encode("utf-8")
    if format == "md":
        return to_markdown(cases, language).encode("utf-8")
    raise ValueError(f"unknown export format {format!r}; use one of {', '.join(FORMATS)}")


# -- Markdown ------------------------------------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {  # the Markdown's own words (field names as the handout calls them)
    "document": {"nl": "Moresprudentie: {count} casussen", "en": "Moresprudentie: {count} cases"},
    "document_one": {"nl": "Moresprudentie: 1 casus", "en": "Moresprudentie: 1 case"},
    "themes": {"nl": "Thema's", "en": "Themes"},
    "values": {"nl": "Waarden", "en": "Values"},
    "role": {"nl": "Wiens dilemma", "en": "Whose dilemma"},
    "minutes": {"nl": "{minutes} minuten", "en": "{minutes} minutes"},
    "draft": {"nl": "concept", "en": "draft"},
    "situation": {"nl": "Situatie", "en": "Situation"},
    "dilemma": {"nl": "Het dilemma", "en": "The dilemma"},
    "options": {"nl": "Mogelijke keuzes", "en": "Possible choices"},
    "stakeholders": {"nl": "Betrokkenen", "en": "Stakeholders"},
    "norms": {"nl": "Normen die meewogen", "en": "Norms that weighed in"},
    "unsourced": {"nl": "Bron niet vastgelegd", "en": "Source not recorded"},
    "tensions": {"nl": "Waarden in spanning: wat woog zwaarder", "en": "Values in tension: what prevailed"},
    "judgement": {"nl": "Oordeel", "en": "Judgement"},
    "reasoning": {"nl": "Afweging", "en": "Reasoning"},
    "decisive_facts": {"nl": "Dit oordeel hing af van …", "en": "This judgement hinged on …"},
    "dissent": {"nl": "Minderheidsstandpunt", "en": "Minority view"},
    "lessons": {"nl": "Lessen", "en": "Lessons"},
    "discussion_questions": {"nl": "Gespreksvragen", "en": "Discussion questions"},
    "variations": {"nl": "Maar wat als …?", "en": "But what if …?"},
    "related": {"nl": "Verwante casussen", "en": "Related cases"},
}


def _say(key: str, language: str, **values: Any) -> str:
    words = WORDS[key]
    return (words.get(language) or words["nl"]).format(**values)


def _meta(case: Case, language: str) -> str:
    parts = [
        case.id,
        case.date,
        label("organisations", case.organisation, language) if case.organisation else None,
        label("methods", case.method, language) if case.method else None,
        _say("minutes", language, minutes=case.duration_minutes) if case.duration_minutes else None,
        _say("draft", language) if not case.is_published else None,
    ]
    return " · ".join(escape_document(part) for part in parts if part)


def _lists(case: Case, language: str, titles: dict[str, str]) -> dict[str, list[str]]:
    """The list sections of a case, as lines of plain text (escaped later), by WORDS key."""
    values = [
        f"{' ↔ '.join(label('values', v, language) for v in t.between)}: "
        + label("outcomes" if t.prevailed == BALANCED else "values", t.prevailed, language)
        for t in case.tensions
    ]
    norms = [
        f"{label('norm_sources', n.source, language) if n.source else _say('unsourced', language)}: {_item(n.text)}"
        for n in case.norms
    ]
    related = [
        f"{label('relations', str(link.relation), language)}: {titles.get(link.id, link.id)} ({link.id})"
        for link in case.related
    ]
    lists = {name: [_item(item) for item in getattr(case, name)] for name in LISTS if name not in ("themes", "values")}
    return {"tensions": values, "norms": norms, **lists, "related": related}


def _case_markdown(case: Case, language: str, titles: dict[str, str]) -> str:
    tags = [
        (_say("themes", language), ", ".join(label("themes", term, language) for term in case.themes)),
        (_say("values", language), ", ".join(label("values", term, language) for term in case.values)),
    ]
    if case.role:
        tags.append((_say("role", language), label("roles", case.role, language)))
    lines = [f"## {escape_document(case.title)}", "", f"*{_meta(case, language)}*", ""]
    lines.append("  \n".join(f"**{escape_document(name)}:** {escape_document(terms)}" for name, terms in tags))
    lists = _lists(case, language, titles)
    order = ("situation", "dilemma", "options", "stakeholders", "norms", "tensions", "judgement", "reasoning")
    for key in (*order, "decisive_facts", "dissent", "lessons", "discussion_questions", "variations", "related"):
        if key in lists:
            body = "\n".join(f"- {escape_document(item)}" for item in lists[key])
        else:
            body = escape_document(unwrap(getattr(case, key)) or "")
        if body:
            lines += ["", f"### {escape_document(_say(key, language))}", "", body]
    return "\n".join(lines) + "\n"


def to_markdown(cases: Sequence[Case], language: str = "nl") -> str:
    """One readable document: a title, then one '##' section per case with its fields as '###' parts."""
    titles = {case.id: case.title for case in cases}
    title = _say("document_one", language) if len(cases) == 1 else _say("document", language, count=len(cases))
    head = f"# {escape_document(title)}\n"
    return "\n".join([head, *(_case_markdown(case, language, titles) for case in cases)])
