"""The anonymisation check: findings of personal data in case text, with a suggested replacement.

Direct identifiers (names, institutions, e-mail, URL, phone, BSN, IBAN, postcode, address, date of
birth, licence plate) and hidden characters block publishing; quasi-identifiers (place names, exact
day dates, ages, "de enige …" roles) only warn. A reviewed per-case allow-list (`allowed_terms`)
silences a flagged name or place that is not personal data, so a false positive never forces
officers to mangle a text; it cannot silence a validated identifier (see `patterns.Kind`).

Every string of a case is checked, not only its prose: the id, the free theme and value terms,
related ids and the allowed terms themselves, because each of them is published or shown too.
Every detector reads the normalised view of a text (`normalise.py`: no hidden characters, NFKC,
ASCII digits), and every finding is mapped back to the original text, so a zero-width space inside
a BSN can neither hide it nor survive its replacement.

The detectors are in `patterns.py` (deterministic, validated) and `names.py` (Deduce + rules);
this module merges their hits, applies the allow-list and maps findings to lines of the YAML file.
The check is a safety net, not a guarantee: docs/anonymisation.md says what it cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from moresprudentie.anonymisation.names import find_names, warm_up
from moresprudentie.anonymisation.normalise import hidden_runs, is_hidden, view, without_hidden
from moresprudentie.anonymisation.patterns import KINDS, Hit, detect
from moresprudentie.cases.loading import decode, parse_case
from moresprudentie.cases.model import LIST_TEXT_FIELDS, TEXT_FIELDS, Case
from moresprudentie.errors import CaseFileError

__all__ = [
    "KINDS",
    "Finding",
    "apply_replacement",
    "apply_replacements",
    "case_texts",
    "check_case",
    "check_fields",
    "check_file",
    "check_text",
    "warm_up",
]

SLUG_FIELDS = frozenset({"id", "themes", "values", "organisation", "method", "related"})  # read as words
NOT_PROSE = SLUG_FIELDS | {"allowed_terms"}  # left out of the names' context (see check_fields)


@dataclass(frozen=True)
class Finding:
    """One piece of (possibly) personal data: where it is, what it is and what to write instead.

    `start`/`end` are offsets in the original text of `field` and `text` is exactly that original
    text (hidden characters included), so a replacement removes the whole identifier.
    """

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

    @property
    def allowable(self) -> bool:
        """Whether an allowed_terms entry may silence this kind (names and places, never identifiers)."""
        return KINDS[self.kind].allowable


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
    """A hit is allowed when its kind may be and it lies inside an occurrence of a reviewed allowed term.

    `text` is the normalised view, so the terms are compared in their normalised view too.
    """
    if not KINDS[hit.kind].allowable:
        return False
    terms = [view(term).text for term in allowed_terms]
    for term in terms:
        pattern = r"\s+".join(re.escape(word) for word in term.split())
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if match.start() <= hit.start and hit.end <= match.end():
                return True
    return _normalise(text[hit.start : hit.end]) in {_normalise(term) for term in terms}


def _suggestion(hit: Hit, language: str, slug: bool) -> str:
    """The hit's own replacement or its kind's; in an id or term a slug ('[e-mailadres]' → 'e-mailadres')."""
    kind = KINDS[hit.kind]
    suggestion = hit.replacement if hit.replacement is not None else (kind.en if language == "en" else kind.nl)
    return re.sub(r"\W+", "-", suggestion.lower()).strip("-") if slug else suggestion


def _hidden_findings(text: str, field: str, taken: Sequence[Finding]) -> list[Finding]:
    """A finding per word holding hidden characters outside the blocking findings in `taken` (whose
    replacement must remove them anyway); the suggestion is the word without them, as a reader sees it.

    Hidden characters inside a warning or an allowed name still get their own finding: those may be
    published as they are, and the hidden characters must not be.
    """
    runs = hidden_runs(text)
    if not runs:
        return []
    covered = bytearray(len(text))
    for finding in taken:
        covered[finding.start : finding.end] = b"\x01" * (finding.end - finding.start)

    def in_word(index: int) -> bool:
        return not covered[index] and (text[index].isalnum() or is_hidden(text[index]))

    spans: list[tuple[int, int]] = []
    for start, end in runs:
        if covered[start] or (spans and start < spans[-1][1]):
            continue
        while start > 0 and in_word(start - 1):
            start -= 1
        while end < len(text) and in_word(end):
            end += 1
        spans.append((start, end))
    severity = KINDS["hidden-character"].severity
    return [Finding("hidden-character", text[s:e], s, e, field, without_hidden(text[s:e]), severity) for s, e in spans]


def check_text(
    text: str,
    field: str = "",
    *,
    language: str = "nl",
    allowed_terms: Sequence[str] = (),
    context: str | None = None,
    slug: bool = False,
) -> list[Finding]:
    """Every finding in one text, in reading order, with offsets in `text` itself.

    `language` picks the replacement wording and the name rules (nl or en); `context` is the whole
    case text (see `names.find_names`); `slug` reads an id or vocabulary term, where '-' separates
    words ('melding-945807302').
    """
    if not text.strip():
        return []
    seen = view(text, slug)
    hits: list[Hit] = []
    if seen.text.strip():
        names = find_names(seen.text, language, view(context).text if context is not None else None)
        hits = _without_overlaps(detect(seen.text), names)
    findings = []
    for hit in hits:
        if _allowed(seen.text, hit, allowed_terms):
            continue
        start, end = seen.span(hit.start, hit.end)
        suggestion = _suggestion(hit, language, slug)
        findings.append(Finding(hit.kind, text[start:end], start, end, field, suggestion, KINDS[hit.kind].severity))
    findings.extend(_hidden_findings(text, field, [finding for finding in findings if finding.blocks]))
    return sorted(findings, key=lambda finding: finding.start)


def check_fields(
    texts: Mapping[str, str], *, language: str = "nl", allowed_terms: Sequence[str] = ()
) -> dict[str, list[Finding]]:
    """Findings per field for {field: text}, fields named like the case's ('id', 'themes.0', 'options').

    This is what `check_case` and the app's form both run. Ids, terms and related ids are read as
    slugs; the prose fields (not the slugs or allowed terms) form the context in which a word written
    in lower case elsewhere counts as an ordinary word, so a lower-case id cannot hide a name.
    """
    context = "\n".join(text for field, text in texts.items() if field.split(".")[0] not in NOT_PROSE)
    return {
        field: check_text(
            text,
            field,
            language=language,
            allowed_terms=allowed_terms,
            context=context,
            slug=field.split(".")[0] in SLUG_FIELDS,
        )
        for field, text in texts.items()
        if text.strip()
    }


def case_texts(case: Case) -> Iterator[tuple[str, str]]:
    """(field, text) for every string of a case; list items are named like 'options.0'.

    Prose first (title, text fields, lists), then the strings that are not prose but are published
    or shown all the same: the id, the vocabulary terms, related ids and the allowed terms.
    """
    yield "title", case.title
    for name in (*TEXT_FIELDS, "dissent"):
        value = getattr(case, name)
        if value:
            yield name, value
    for name in LIST_TEXT_FIELDS:
        for index, item in enumerate(getattr(case, name)):
            yield f"{name}.{index}", item
    for index, norm in enumerate(case.norms):
        yield f"norms.{index}", norm.text
    yield "id", case.id
    for name in ("organisation", "method"):
        if getattr(case, name):
            yield name, getattr(case, name)
    for name in ("themes", "values"):
        for index, term in enumerate(getattr(case, name)):
            yield f"{name}.{index}", term
    for index, link in enumerate(case.related):
        yield f"related.{index}", link.id
    for index, term in enumerate(case.allowed_terms):
        yield f"allowed_terms.{index}", term


def check_case(case: Case) -> list[Finding]:
    """Every finding in every string of a case (see `case_texts`), honouring its allowed_terms.

    An allowed term is checked against the allow-list itself: a name in it is silenced (that is what
    it is for), a BSN or phone number in it is a blocking finding on `allowed_terms.N`.
    """
    found = check_fields(dict(case_texts(case)), language=case.language, allowed_terms=case.allowed_terms)
    return [finding for findings in found.values() for finding in findings]


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
    for needle in (finding.text, *finding.text.split()[:1]):
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


def apply_replacements(text: str, findings: Iterable[Finding]) -> str:
    """Text with every finding of this text replaced at once (from the end, so offsets stay valid).

    A finding whose text is not at its offsets, or that overlaps one already applied, is skipped.
    """
    result, limit = text, len(text)
    for finding in sorted(findings, key=lambda finding: finding.start, reverse=True):
        if finding.end > limit or text[finding.start : finding.end] != finding.text:
            continue
        result = result[: finding.start] + finding.replacement + result[finding.end :]
        limit = finding.start
    return result
