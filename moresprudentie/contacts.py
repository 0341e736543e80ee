"""The organisation's own help: whom an employee can turn to, read from one settings file.

Every organisation has its own integrity officer, confidential adviser (vertrouwenspersoon) and
intranet pages, and the app cannot know them. A deployment names them in a small YAML file (the
setting `--contacts` / MORESPRUDENTIE_CONTACTS, format and example in docs/deployment.md); without
it every text stays generic. The file is read as strictly as a case file (cases.loading.parse_yaml:
no tags, anchors, duplicate keys or YAML 1.1 guessing) and validated with a model that forbids
unknown fields, so a typo is reported as `path:line: field: message` with how to fix it, never
silently ignored.

What the app turns into a link must be one: only http(s)://, mailto: and tel: addresses pass, made
of characters that cannot end a Markdown link early, so `javascript:` or a stray `)` never reach a
page. Names, descriptions and labels are text; the pages and documents escape them like case text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from moresprudentie.cases.loading import decode, parse_yaml
from moresprudentie.cases.model import suggest, visible
from moresprudentie.errors import CaseFileError, UsageError

ROLES = ("integriteitsfunctionaris", "vertrouwenspersoon", "other")
MAX_ENTRIES = 12
DOCS = "docs/deployment.md; an example is docs/contacts.example.yaml"
# The characters of an address the app links to: no space, quote, bracket, parenthesis or backslash,
# so `[label](address)` cannot be closed early or hide a second link.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#@!&+,;=%]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*[0-9]")
_HOST = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class ContactsFileError(UsageError):
    """The contacts file cannot be read or is not valid; `problems` are its `path:line: field: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localised(_Strict):
    """A text in Dutch and English: `{nl: …, en: …}`."""

    nl: Text
    en: Text

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.nl


def _both_languages(value: Any) -> Any:
    """A name may be one text for both languages (a team or a mailbox is a name in any language)."""
    return {"nl": value, "en": value} if isinstance(value, str) else value


def _email(value: Any) -> Any:
    if isinstance(value, str) and not _EMAIL.fullmatch(value.strip()):
        raise ValueError(f"'{visible(value)}' is not an e-mail address; write it as name@organisation.nl")
    return value.strip() if isinstance(value, str) else value


def _phone(value: Any) -> Any:
    if isinstance(value, str):
        digits = re.sub(r"\D", "", value)
        if not _PHONE.fullmatch(value.strip()) or not 3 <= len(digits) <= 15:
            raise ValueError(f"'{visible(value)}' is not a phone number; use digits, spaces and '+', e.g. 070 123 4567")
        return value.strip()
    return value


def _url(value: Any) -> Any:
    """An http(s)://, mailto: or tel: address; anything else (javascript:, data:, file:, …) is refused."""
    if not isinstance(value, str):
        return value
    url = value.strip()
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    refused = ValueError(
        f"'{visible(url)}' is not an allowed link: use an https:// (or http://) address, mailto:name@organisation.nl "
        "or tel:+31701234567 (javascript:, data: and other links are refused; spaces, quotes and parentheses "
        "must be percent-encoded)"
    )
    if len(url) > 500 or not _URL_CHARS.fullmatch(url):
        raise refused
    if scheme in ("http", "https"):
        parts = urlsplit(url)
        if not rest.startswith("//") or not parts.netloc or not _HOST.fullmatch(parts.netloc):
            raise refused
    elif scheme == "mailto":
        if not _EMAIL.fullmatch(rest):
            raise refused
    elif scheme == "tel":
        if _phone_href(rest) is None:
            raise refused
    else:
        raise refused
    return url


def _phone_href(number: str) -> str | None:
    digits = re.sub(r"\D", "", number)
    if not _PHONE.fullmatch(number) or not 3 <= len(digits) <= 15:
        return None
    return f"tel:{'+' if number.startswith('+') else ''}{digits}"


Name = Annotated[Localised, BeforeValidator(_both_languages)]
Email = Annotated[str, BeforeValidator(_email)]
Phone = Annotated[str, BeforeValidator(_phone)]
SafeUrl = Annotated[str, BeforeValidator(_url)]


class Contact(_Strict):
    """Someone to turn to: a role, a name (a team or mailbox will do) and at least one way to reach them."""

    role: Literal["integriteitsfunctionaris", "vertrouwenspersoon", "other"]
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    url: SafeUrl | None = None
    description: Localised | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not (self.email or self.phone or self.url):
            raise ValueError("say how to reach them: add email, phone or url")
        return self

    @property
    def mailto(self) -> str | None:
        return f"mailto:{self.email}" if self.email else None

    @property
    def tel(self) -> str | None:
        return _phone_href(self.phone) if self.phone else None


class Link(_Strict):
    """A page worth knowing, such as the intranet's integrity page."""

    label: Localised
    url: SafeUrl


def _listed(value: Any) -> Any:
    return [] if value is None else value


class Contacts(_Strict):
    """The whole file: the contacts first, then the links; at least one of either."""

    contacts: Annotated[list[Contact], BeforeValidator(_listed), Field(max_length=MAX_ENTRIES)] = []
    links: Annotated[list[Link], BeforeValidator(_listed), Field(max_length=MAX_ENTRIES)] = []

    @model_validator(mode="after")
    def _something(self) -> Contacts:
        if not (self.contacts or self.links):
            raise ValueError(
                "the file lists no contacts and no links; add one, or unset the setting for the generic texts"
            )
        return self


_FIELDS: dict[str, tuple[str, ...]] = {
    "": ("contacts", "links"),
    "contacts": tuple(Contact.model_fields),
    "links": tuple(Link.model_fields),
    "name": ("nl", "en"),
    "description": ("nl", "en"),
    "label": ("nl", "en"),
}


def _explained(item: Any, loc: tuple) -> str:
    """One validation error in plain words, with the fix."""
    kind = item["type"]
    if kind == "extra_forbidden":
        owner = next((str(part) for part in reversed(loc[:-1]) if str(part) in _FIELDS), "")
        known = _FIELDS[owner]
        hint = suggest(str(loc[-1]), known)
        fix = f"did you mean '{hint}'?" if hint else f"use only {', '.join(known)}"
        return f"unknown field '{visible(str(loc[-1]))}'; {fix}"
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "literal_error":
        given = item.get("input")
        hint = suggest(str(given), ROLES) if isinstance(given, str) else None
        fix = f"did you mean '{hint}'? " if hint else ""
        return f"'{visible(str(given))}' is not a role; {fix}use one of: {', '.join(ROLES)}"
    if kind in ("string_type", "model_type", "dict_type") and isinstance(item.get("input"), list | dict):
        return "expected text, got a list or mapping" if kind == "string_type" else "expected a mapping of fields"
    if kind == "model_type" and loc and loc[-1] in ("description", "label"):
        return "write it in both languages: {nl: …, en: …}"
    if kind == "model_type":
        return "expected a mapping of fields (field: value)"
    if kind == "list_type":
        return "expected a list of entries, each starting with '- '"
    if kind == "too_long":
        return f"at most {MAX_ENTRIES} entries; keep the block short"
    if kind == "string_too_long":
        return "longer than 300 characters; keep it short"
    if kind == "string_too_short":
        return "empty; write a text or leave the field out"
    return str(item["msg"]).removeprefix("Value error, ")


def _problems(path: str, error: ValidationError, lines: dict[tuple, int]) -> list[str]:
    """One `path:line: field: message` per error, in the order of the file's lines."""
    found: list[tuple[int, str]] = []
    for item in error.errors():
        loc = tuple(item["loc"])
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        where = f"{path}:{line}" if line else path
        field = ".".join(str(part) for part in loc)
        found.append((line or 0, f"{where}: {field + ': ' if field else ''}{_explained(item, loc)}"))
    return [problem for _, problem in sorted(found, key=lambda pair: pair[0])]


def parse(data: bytes | str, path: str = "<contacts>") -> Contacts:
    """Validate the text of a contacts file; raises ContactsFileError naming each problem and its fix."""
    see = f"(see {DOCS})"
    try:
        text = decode(data) if isinstance(data, bytes) else data
        if not text.strip():
            raise ContactsFileError([f"{path}:1: the file is empty; list contacts: and links: {see}"])
        raw, lines = parse_yaml(text)
    except CaseFileError as exc:
        line = getattr(exc, "line", 1)
        message = getattr(exc, "message", str(exc))
        raise ContactsFileError([f"{path}:{line}: {message} {see}"]) from None
    if not isinstance(raw, dict):
        raise ContactsFileError([f"{path}:1: the file must be a mapping with contacts: and links: {see}"])
    try:
        return Contacts.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(path, exc, lines)
        raise ContactsFileError([*problems[:-1], f"{problems[-1]} {see}"]) from None


def load(path: str | Path) -> Contacts:
    """Read and validate a contacts file; raises ContactsFileError (a UsageError) when it cannot."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContactsFileError(
            [f"{path}: cannot read the contacts file ({exc.strerror or exc}); check the path of --contacts"]
        ) from None
    return parse(data, str(path))


@dataclass(frozen=True)
class Entry:
    """One contact as the documents print it: role, name, description and the ways to reach them, as text."""

    role: str
    name: str
    description: str
    reach: tuple[str, ...]


def entries(contacts: Contacts, language: str) -> list[Entry]:
    """The contacts in a language, each way to reach them as the text a reader types or dials."""
    return [
        Entry(
            contact.role,
            contact.name.text(language),
            contact.description.text(language) if contact.description else "",
            tuple(part for part in (contact.email, contact.phone, contact.url) if part),
        )
        for contact in contacts.contacts
    ]
