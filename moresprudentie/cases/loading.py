"""Safe, strict YAML → Case, reporting every problem as `path:line: field: message`.

The YAML reader keeps every scalar as the text the officer typed (no YAML 1.1 guessing: `title: no`
stays "no", `date: 2024-05` stays "2024-05") and refuses what a case file never needs: tags,
anchors and aliases, duplicate keys, deep nesting, several documents, oversized or non-UTF-8 files.
One bad file never stops the rest: `load_cases` returns the valid cases plus the problems, each
with a stable code and params so the app can word it in its own language (the CLI prints `message`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.resolver import BaseResolver

from moresprudentie.cases import model
from moresprudentie.cases.explain import NO_PARAMS, explained
from moresprudentie.cases.model import FIELD_NAMES, Case, force_field_gaps, vocabulary_warnings
from moresprudentie.errors import CaseFileError

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 6
MAX_NODES = 2_000  # a rich case has a few hundred; more is an attack or a mistake, refused before any work
NULL_SCALARS = {"", "~", "null", "Null", "NULL"}
CASE_SUFFIX = ".yaml"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one file; errors keep the case out, warnings do not (slots: a large
    collection can hold a vocabulary warning or two per file). `message` is English, for the CLI;
    `code` ("" if rare) and `params` let the app word it in its own language (ui/components/messages.py)."""

    path: str
    line: int | None
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"
    code: str = ""
    params: Mapping[str, Any] = field(default_factory=lambda: NO_PARAMS, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:  # params may be a read-only view, which pickle cannot copy
        return Problem, (self.path, self.line, self.field, self.message, self.severity, self.code, dict(self.params))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = f"{self.field}: " if self.field else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {tag}{prefix}{self.message}"


@dataclass
class LoadResult:
    """The valid cases of a collection (by id, sorted) and everything wrong or doubtful in it."""

    cases: dict[str, Case] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


class _Refusals:
    """The checks every node passes while it is composed (a mixin for both parsers below)."""

    _depth = 0
    _nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(mark, "anchors and aliases (&, *) are not allowed; write the text out in full", "anchors")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
            raise _Refused(mark, f"YAML tags such as '{tag}' are not allowed; remove the tag", "yaml_tag", tag=tag)
        self._depth += 1
        self._nodes += 1
        if self._nodes > MAX_NODES:
            message = f"more than {MAX_NODES} values; a case needs far fewer (split long lists)"
            raise _Refused(mark, message, "too_many_values", max=MAX_NODES)
        if self._depth > MAX_DEPTH:
            message = f"nesting deeper than {MAX_DEPTH} levels; a case needs at most lists of items"
            raise _Refused(mark, message, "too_deep", max=MAX_DEPTH)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _StrictLoader(_Refusals, yaml.BaseLoader):
    """PyYAML in pure Python, resolving nothing (all scalars stay text): the reference parser."""


if yaml.__with_libyaml__:  # PyYAML's wheels include it; without it everything goes through PyYAML

    class _FastStrictLoader(_Refusals, yaml.cyaml.CParser, Composer, BaseResolver):  # type: ignore[misc]
        """libyaml's scanner and parser (C, 7× faster: opening 100k cases was mostly YAML parsing)
        under the same Python composer and refusals. See _compose for when its verdict is used."""

        get_single_node = Composer.get_single_node  # CParser's own composes in C, past the refusals

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            Composer.__init__(self)
            BaseResolver.__init__(self)

        def compose_node(self, parent: Any, index: Any) -> Any:
            """Inside [ ] or { } libyaml accepts forms PyYAML refuses (`[a, ?b]`, `[why?]`): left to
            PyYAML (see _compose)."""
            if isinstance(parent, yaml.CollectionNode) and parent.flow_style:
                event = self.peek_event()
                if isinstance(event, yaml.MappingStartEvent) and isinstance(parent, yaml.SequenceNode):
                    raise yaml.YAMLError("a mapping inside [ ]")
                if isinstance(event, yaml.ScalarEvent) and not event.style and "?" in event.value:
                    raise yaml.YAMLError("a plain '?' inside [ ] or { }")
            return super().compose_node(parent, index)


def _compose(text: str) -> yaml.Node | None:
    """The document's node tree, parsed by libyaml when it can be trusted to agree with PyYAML.

    The two agree on the values of every file both accept (checked on the shipped and generated
    collections and on thousands of mutated files), but not on which files are valid: libyaml
    accepts tabs, a byte-order mark inside the text and some uses of `?` inside [ ] and { } where
    PyYAML refuses them, refuses a few odd files PyYAML accepts, and words its errors differently.
    So a text with a tab or a BOM, those forms, and any text libyaml refuses go to PyYAML, whose
    verdict and messages officers have always had. Fuzzing (50,000 mutated case files) found one
    more form only libyaml accepts, malformed beyond what anyone types (`>-#`)."""
    if yaml.__with_libyaml__ and "\t" not in text and "\ufeff" not in text:
        with contextlib.suppress(yaml.YAMLError):
            return _single_node(_FastStrictLoader, text)
    return _single_node(_StrictLoader, text)


def _single_node(loader_class: type, text: str) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class _Refused(CaseFileError):
    """What the reader refuses, as CaseFileError("line: message"), with its Problem's code and params.
    `at` is the line, or the YAML mark of the node refused."""

    def __init__(self, at: Any, message: str, code: str, **params: Any) -> None:
        self.line = at.line + 1 if hasattr(at, "line") else at
        super().__init__(f"{self.line}: {message}")
        self.message, self.code, self.params = message, code, params

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy rebuild it from its parts, not its text
        return _Refused, (self.line, self.message, self.code), {"params": self.params}


def _to_python(node: yaml.Node, lines: dict[tuple, int], loc: tuple = ()) -> Any:
    """Turn a composed node into dicts, lists and strings, recording the line of every location."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(key_node.start_mark, "a field name must be plain text", "key_not_text")
            key = key_node.value
            if key in result:
                raise _Refused(key_node.start_mark, f"'{key}' appears twice; keep one", "duplicate_key", name=key)
            result[key] = _to_python(value_node, lines, (*loc, key))
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, lines, (*loc, i)) for i, item in enumerate(node.value)]
    if not node.style and node.value in NULL_SCALARS:  # plain: None from PyYAML, "" from libyaml
        return None
    return node.value


def parse_yaml(text: str) -> tuple[Any, dict[tuple, int]]:
    """Parse one YAML document strictly; returns the data and {location: line}. Raises CaseFileError."""
    try:
        node = _compose(text)
        if node is None:
            raise _Refused(1, "the file is empty; start from `moresprudentie new`", "empty")
        lines: dict[tuple, int] = {}
        return _to_python(node, lines), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        if "another document" in str(exc.problem):
            message = "a case file holds one YAML document; remove the second '---'"
            raise _Refused(line, message, "several_documents") from None
        raise _Refused(
            line,
            f"not valid YAML ({exc.problem or exc.context}); check indentation and quote text containing ':' or '#'",
            "invalid_yaml",
        ) from None
    except yaml.YAMLError as exc:
        raise _Refused(1, f"not valid YAML ({exc})", "invalid_yaml") from None
    except RecursionError:
        raise _Refused(
            1, f"nesting too deep; a case needs at most {MAX_DEPTH} levels", "too_deep", max=MAX_DEPTH
        ) from None


def decode(data: bytes) -> str:
    """UTF-8 (BOM allowed) text without NUL bytes, or CaseFileError."""
    if len(data) > MAX_FILE_BYTES:
        raise _Refused(
            1,
            f"file is {len(data) // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB. Shorten the text",
            "too_large",
            limit=MAX_FILE_BYTES // 1024,
        )
    if b"\x00" in data:
        raise _Refused(1, "this is a binary file, not a YAML text file", "binary")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Refused(line, "not UTF-8 text; save the file as UTF-8", "not_utf8") from None


def _validation_problems(path: str, error: ValidationError, lines: dict[tuple, int]) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        field_name = ".".join(str(part) for part in loc) or None
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        message, code, params = explained(item, loc)
        problems.append(Problem(path, line, field_name, message, "error", code, params))
    return problems


def parse_case(
    data: bytes | str, path: str = "<text>", expected_id: str | None = None
) -> tuple[Case | None, list[Problem]]:
    """Parse and validate one case; returns (case or None, problems). Never raises for bad input."""
    try:
        text = decode(data) if isinstance(data, bytes) else data
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            decode(text.encode("utf-8"))
        raw, lines = parse_yaml(text)
    except CaseFileError as exc:
        line, _, message = str(exc).partition(": ")
        code, params = getattr(exc, "code", ""), getattr(exc, "params", NO_PARAMS)
        return None, [Problem(path, int(line) if line.isdigit() else None, None, message, "error", code, params)]
    if not isinstance(raw, dict):
        message = "a case file must be a mapping of fields (id: …, title: …)"
        return None, [Problem(path, 1, None, message, "error", "not_mapping")]
    try:
        case = Case.model_validate(raw)
    except ValidationError as exc:
        return None, _validation_problems(path, exc, lines)
    if expected_id is not None and case.id != expected_id:
        message = (
            f"'{case.id}' must equal the file name; rename the file to {case.id}{CASE_SUFFIX} or set id: {expected_id}"
        )
        params = {"id": case.id, "expected": expected_id, "suffix": CASE_SUFFIX}
        return None, [Problem(path, lines.get(("id",)), "id", message, "error", "id_mismatch", params)]
    return case, _warnings(path, case, lines)


def _warnings(path: str, case: Case, lines: dict[tuple, int]) -> list[Problem]:
    """Terms outside the vocabulary and gaps in the force field: the case loads, but with a warning."""
    found = [*vocabulary_warnings(case), *force_field_gaps(case)]
    codes = [("unknown_term", model.unknown_term_params(kind, term)) for _, kind, term in model.unknown_terms(case)]
    codes += [model.gap_code(case, name) for name, _ in found[len(codes) :]]
    problems = []
    for (field_name, message), (code, params) in zip(found, codes, strict=True):
        where = lines.get(tuple(int(part) if part.isdigit() else part for part in field_name.split(".")))
        problems.append(Problem(path, where, field_name, message, "warning", code, params))
    return problems


def file_hash(data: bytes) -> str:
    """The sha256 of a file's bytes: what an approval or a conflict check is about (a re-format counts)."""
    return hashlib.sha256(data).hexdigest()


def load_case_file(path: Path) -> tuple[Case | None, list[Problem]]:
    """Read one case file; the id must equal the file name stem."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            message = f"file is larger than {MAX_FILE_BYTES // 1024} KiB; shorten the text"
            return None, [Problem(str(path), 1, None, message, "error", "too_large", {"limit": MAX_FILE_BYTES // 1024})]
        data = path.read_bytes()
    except OSError as exc:
        message = f"cannot read file ({exc.strerror or exc})"
        return None, [Problem(str(path), None, None, message, "error", "unreadable")]
    return parse_case(data, str(path), expected_id=path.stem)


def content_hash(case: Case) -> str:
    """A hash of the case's content (not its file bytes): formatting changes never trigger re-embedding."""
    return hashlib.sha256(case.model_dump_json().encode("utf-8")).hexdigest()


UNICODE_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


class _CaseDumper(yaml.SafeDumper):
    pass


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if any(char in value for char in UNICODE_LINE_BREAKS):
        style = '"'  # only double quotes keep these exactly (other styles fold them into spaces)
    elif "\n" in value:
        style = "|"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CaseDumper.add_representer(str, _represent_text)


def unwrap(text: str | None) -> str | None:
    """A case text as its paragraphs: the line breaks inside a paragraph are only how the file was
    wrapped (dump_case wraps long lines), so a reader, an export or a comparison never sees them."""
    if text is None:
        return None
    paragraphs = (" ".join(part.split()) for part in text.split("\n\n"))
    return "\n\n".join(part for part in paragraphs if part)


def dump_case(case: Case) -> str:
    """The YAML text of a case in field order, optional empty fields left out; loads back equal."""
    data = case.model_dump(mode="json", exclude_defaults=True)
    data["status"] = case.status
    ordered = {name: data[name] for name in FIELD_NAMES if name in data}
    ordered["related"] = [
        link["id"] if link.get("relation", "see-also") == "see-also" else link for link in ordered.get("related", [])
    ] or None
    ordered = {k: v for k, v in ordered.items() if v is not None}
    return yaml.dump(ordered, Dumper=_CaseDumper, allow_unicode=True, sort_keys=False, width=100)
