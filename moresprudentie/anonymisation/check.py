"""The anonymisation check: findings of personal data in case text, with a suggested replacement.

Direct identifiers (names, institutions, e-mail, URL, phone, BSN, IBAN, postcode, address, date of
birth, licence plate) block publishing; quasi-identifiers (place names, exact day dates, ages,
"de enige …" roles) only warn. A reviewed per-case allow-list (`allowed_terms`) silences a flagged
term that is not personal data, so a false positive never forces officers to mangle a text.

The detectors are in `detectors.py` (deterministic, validated) and `names.py` (Deduce + rules);
this module merges their hits, applies the allow-list and maps findings to lines of the YAML file.
The check is a safety net, not a guarantee: docs/anonymisation.md says what it cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from moresprudentie.anonymisation.names import find_names, warm_up
from moresprudentie.anonymisation.patterns import KINDS, Hit, detect
from moresprudentie.cases.loading import decode, parse_case
from moresprudentie.cases.model import LIST_TEXT_FIELDS, TEXT_FIELDS, Case
from moresprudentie.errors import CaseFileError

__all__ = ["KINDS", "Finding", "apply_replacement", "case_texts", "check_case", "check_file", "check_text", "warm_up"]


@dataclass(frozen=True)
class Finding:
    """One piece of (possibly) personal data: where it is, what it is and what to write instead."""

    kind: str
    text: str
    start: int
    end: int
    field: str
    replacement: str
    severity: Literal["block", "warn"]
    line: int | None = None

    @property
    def blocks(self) -> bool:
        return self.severity == "block"


def _priority(hit: Hit) -> tuple[int, int]:
    """Blocking kinds beat warnings, then the longer span wins ('Kalverstraat 12' over 'Kalverstraat')."""
    return (0 if KINDS[hit.kind].severity == "block" else 1, hit.start - hit.end)


def _without_overlaps(hits: list[Hit], names: list[Hit]) -> list[Hit]:
    """One hit per stretch of text. A name inside a validated hit is part of it ('May' in '12 May 2022',
    'Kalverstraat' in an address); otherwise blocking kinds beat warnings and longer spans win."""
    names = [name for name in names if not any(h.start <= name.start and name.end <= h.end for h in hits)]
    kept: list[Hit] = []
    for hit in sorted(hits + names, key=_priority):
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda hit: hit.start)


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _allowed(text: str, hit: Hit, allowed_terms: Sequence[str]) -> bool:
    """A hit is allowed when it lies inside an occurrence of a reviewed allowed term."""
    for term in allowed_terms:
        pattern = r"\s+".join(re.escape(word) for word in term.split())
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if match.start() <= hit.start and hit.end <= match.end():
                return True
    return _normalise(text[hit.start : hit.end]) in {_normalise(term) for term in allowed_terms}


def check_text(
    text: str,
    field: str = "",
    *,
    language: str = "nl",
    allowed_terms: Sequence[str] = (),
    context: str | None = None,
) -> list[Finding]:
    """Every finding in one text, in reading order.

    `language` picks the replacement wording and the name rules (nl or en); `context` is the whole
    case text (see `names.find_names`).
    """
    if not text.strip():
        return []
    hits = _without_overlaps(detect(text), find_names(text, language, context))
    findings = []
    for hit in hits:
        if _allowed(text, hit, allowed_terms):
            continue
        kind = KINDS[hit.kind]
        suggestion = hit.replacement or (kind.en if language == "en" else kind.nl)
        findings.append(
            Finding(hit.kind, text[hit.start : hit.end], hit.start, hit.end, field, suggestion, kind.severity)
        )
    return findings


def case_texts(case: Case) -> Iterator[tuple[str, str]]:
    """(field, text) for every free-text part of a case; list items are named like 'options.0'."""
    yield "title", case.title
    for name in (*TEXT_FIELDS, "dissent"):
        value = getattr(case, name)
        if value:
            yield name, value
    for name in LIST_TEXT_FIELDS:
        for index, item in enumerate(getattr(case, name)):
            yield f"{name}.{index}", item


def check_case(case: Case) -> list[Finding]:
    """Every finding in a case's title, text fields and list items, honouring its allowed_terms."""
    texts = list(case_texts(case))
    context = "\n".join(text for _, text in texts)
    return [
        finding
        for field, text in texts
        for finding in check_text(
            text, field, language=case.language, allowed_terms=case.allowed_terms, context=context
        )
    ]


def check_file(path: Path | str) -> list[Finding]:
    """Check one case file; findings carry the line in the file. Raises CaseFileError if it is not a case."""
    path = Path(path)
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    except CaseFileError as exc:
        raise CaseFileError(f"{path}:{exc}") from None
    case, problems = parse_case(text, str(path))
    if case is None:
        raise CaseFileError("; ".join(str(problem) for problem in problems) + " (fix it, then check again)")
    # only for line numbers; safe because parse_case already refused tags and aliases
    root = yaml.compose(text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    return [replace(finding, line=_line_of(text, root, finding)) for finding in check_case(case)]


def _field_node(root: Any, field: str) -> Any:
    node = root
    for part in field.split("."):
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return None
    return node


def _line_of(source: str, root: Any, finding: Finding) -> int | None:
    """The file line where the finding's text stands: found in the field's own source lines."""
    node = _field_node(root, finding.field)
    if node is None:
        return None
    raw = source[node.start_mark.index : node.end_mark.index]
    value = node.value if isinstance(node, yaml.ScalarNode) else ""
    for needle in (finding.text, finding.text.split()[0]):
        occurrence = value[: finding.start].count(needle)
        position = -1
        for _ in range(occurrence + 1):
            position = raw.find(needle, position + 1)
            if position < 0:
                break
        if position >= 0:
            return node.start_mark.line + raw[:position].count("\n") + 1
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + (2 if block else 1)


def apply_replacement(text: str, finding: Finding) -> str:
    """Text with the finding replaced by its suggestion; if the text moved, its nearest occurrence is used."""
    if text[finding.start : finding.end] == finding.text:
        start = finding.start
    else:
        occurrences = [m.start() for m in re.finditer(re.escape(finding.text), text)]
        if not occurrences:
            return text
        start = min(occurrences, key=lambda position: abs(position - finding.start))
    return text[:start] + finding.replacement + text[start + len(finding.text) :]
