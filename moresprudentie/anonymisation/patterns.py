"""Deterministic detectors for direct identifiers and quasi-identifiers in case text.

Each detector is a regular expression that finds candidates plus a validator that rejects look-alikes
(checksums for BSN and IBAN, the Dutch numbering plan for phone numbers, the sidecodes for licence
plates), so that a finding means "this really has the shape of personal data". Names, places and
institutions need word lists and live in `names.py`; `check.py` turns hits into findings. The detectors
read the normalised view of a text (`normalise.py`), so they only ever see ASCII digits and no hidden characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

from moresprudentie.dates import MONTHS

Severity = Literal["block", "warn"]


@dataclass(frozen=True)
class Kind:
    """What a finding is: direct identifiers block publishing, quasi-identifiers only warn.

    Only names, institutions, places and the warnings can be allowed: whether "Bakker" is a person or
    a law is a judgement a reviewer can make. A validated number, address or hidden character is
    never anything but what it is, so `allowed_terms` cannot whitelist it (allowable=False).
    """

    name: str
    severity: Severity
    nl: str  # suggested replacement in a Dutch case
    en: str  # … and in an English case
    allowable: bool = True  # whether a reviewed allowed_terms entry may silence it (see below)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("name", "block", "[naam]", "[name]"),
        Kind("institution", "block", "[instelling]", "[institution]"),
        Kind("email", "block", "[e-mailadres]", "[email address]", allowable=False),
        Kind("url", "block", "[website]", "[website]", allowable=False),
        Kind("phone", "block", "[telefoonnummer]", "[phone number]", allowable=False),
        Kind("bsn", "block", "[bsn]", "[citizen service number]", allowable=False),
        Kind("iban", "block", "[rekeningnummer]", "[bank account]", allowable=False),
        Kind("postcode", "block", "[postcode]", "[postcode]", allowable=False),
        Kind("address", "block", "[adres]", "[address]", allowable=False),
        Kind("birth-date", "block", "[geboortedatum]", "[date of birth]", allowable=False),
        Kind("licence-plate", "block", "[kenteken]", "[licence plate]", allowable=False),
        Kind("handle", "block", "[account]", "[account]"),  # "@team" may just mean the team: a reviewer decides
        Kind("reference-number", "block", "[nummer]", "[number]", allowable=False),
        Kind("hidden-character", "block", "(zonder verborgen tekens)", "(no hidden characters)", allowable=False),
        Kind("place", "warn", "[plaats]", "[place]"),
        Kind("date", "warn", "[datum]", "[date]"),
        Kind("age", "warn", "[leeftijd]", "[age]"),
        Kind("only-role", "warn", "een", "a"),
    )
}


@dataclass(frozen=True)
class Hit:
    """A detected span of text; `replacement` overrides the kind's generic one (e.g. 'maart 2024')."""

    kind: str
    start: int
    end: int
    replacement: str | None = None


MONTHS_NL = "|".join(MONTHS["nl"])
MONTHS_EN = "|".join(MONTHS["en"])
MONTHS_SHORT = "jan|feb|febr|mrt|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec"
MONTH = rf"(?:{MONTHS_NL}|{MONTHS_EN}|(?:{MONTHS_SHORT})\.?)"
DAY = r"(?:[12]\d|3[01]|0?[1-9])"
ORDINAL = r"(?:st|nd|rd|th|e|ste|de)?"
DATE_PATTERNS = (
    rf"\b{DAY}[-/.](?:1[0-2]|0?[1-9])[-/.](?:19|20)?\d\d\b",  # 3-5-1971, 03/05/71
    r"\b(?:19|20)\d\d-(?:1[0-2]|0[1-9])-(?:[12]\d|3[01]|0[1-9])\b",  # 1971-05-03
    rf"\b{DAY}{ORDINAL}\s+(?:of\s+)?{MONTH}(?:,?\s+(?:19|20)\d\d)?\b",  # 3 mei 1971, 3rd of May
    rf"\b{MONTH}\s+{DAY}{ORDINAL}(?:,?\s+(?:19|20)\d\d)?\b",  # May 3, 1971
)
DATE_RE = re.compile("|".join(f"(?:{p})" for p in DATE_PATTERNS), re.IGNORECASE)
MONTH_RE = re.compile(rf"\b{MONTH}(?:\s+(?:19|20)\d\d)?", re.IGNORECASE)
BIRTH_WORD_RE = re.compile(
    r"\b(?:geboren|geb\.|geboortedatum|geboortedag|born|date\s+of\s+birth|birth\s*date|d\.?o\.?b\.?)\W{0,3}"
    r"(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)


def _dates(text: str) -> Iterator[Hit]:
    """Exact day dates; next to a birth word they are a date of birth (block), else a warning."""
    for match in DATE_RE.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if BIRTH_WORD_RE.search(before):
            yield Hit("birth-date", match.start(), match.end())
            continue
        month = MONTH_RE.search(match.group())
        yield Hit("date", match.start(), match.end(), month.group() if month else None)


# the local part may hold any RFC 5322 character ("o'brien", "jan&piet", "karin.de.boer+klacht"); a narrower
# class found "o'brien@…" only from its third character, so the replacement left "o'" standing
ATEXT = r"\w!#$%&'*+/=?^`{|}~.-"
# the @ and the dots also as people write them to dodge a filter: "j.devries(at)…", "k.bos @ …",
# "[at]…[dot]", "{apenstaartje}", and a bare "at" only with a spelled-out dot ("k.mulder at hotmail dot
# com"): "a journalist at www.example.co.uk" is an address of no one
AT = r"(?:\s?@\s?|\s?[(\[{]\s?(?:at|apenstaartje)\s?[)\]}]\s?)"
DOT = r"(?:\.|\s?[(\[{]\s?(?:dot|punt)\s?[)\]}]\s?|\s(?:dot|punt)\s)"
DOMAIN = rf"[\w-]+(?:{DOT}[\w-]+)*"
EMAIL_RE = re.compile(
    rf"(?<![{ATEXT}])['`]*(?P<address>[{ATEXT}]+"
    rf"(?:{AT}{DOMAIN}{DOT}[a-z]{{2,24}}|\s(?:at|apenstaartje)\s{DOMAIN}\s(?:dot|punt)\s[a-z]{{2,24}}))\b",
    re.IGNORECASE,
)
TLDS = "nl|com|org|net|eu|be|de|info|nu|io|gov|edu|uk|fr|biz|app"
URL_RE = re.compile(
    rf"(?:\bhttps?://|\bwww\.)[^\s<>\"'()\[\]]+"  # explicit web addresses
    rf"|(?<![@\w.-])(?:[a-z0-9][a-z0-9-]*\.)+(?:{TLDS})\b(?:/[^\s<>\"'()\[\]]*)?",  # bare domains
    re.IGNORECASE,
)


def _every(kind: str, pattern: re.Pattern[str], group: str | int = 0) -> Callable[[str], Iterator[Hit]]:
    """A detector that reports every match of `pattern` (or of one group of it) as `kind`: for the
    kinds whose pattern says all there is to say, with no checksum or context to weigh."""

    def detect(text: str) -> Iterator[Hit]:
        for match in pattern.finditer(text):
            yield Hit(kind, match.start(group), match.end(group))

    return detect


_emails = _every("email", EMAIL_RE, "address")


def _urls(text: str) -> Iterator[Hit]:
    for match in URL_RE.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in ".,;:!?":
            end -= 1
        if "@" not in text[max(0, match.start() - 1) : end]:
            yield Hit("url", match.start(), end)


# An account on social media or a chat service: "@pietjebakker" (not the @ of an e-mail address).
HANDLE_RE = re.compile(r"(?<![\w.@+-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])(?![\w@])")

_handles = _every("handle", HANDLE_RE)


# A number that points at one person's file: the word says what it numbers, the code has a digit.
# Only the code is the finding, so "zaaknummer Z/23/123456" becomes "zaaknummer [nummer]".
REFERENCE_WORD = (
    r"(?:personeels|zaak|dossier|klant|cliënt|client|relatie|registratie|polis|factuur|aanvraag|vergunning"
    r"|vergunnings|werknemers|medewerkers|burgerservice|employee|staff|case|file|customer|account|ticket"
    r"|reference|referentie)[ -]?(?:nummer|nr\.?|number|no\.?|id)|kenmerk|ons kenmerk|uw kenmerk"
)
# after the word: "zaaknummer Z/23/1", "zaaknummer: 1", "klantnummer is 88231", "personeelsnummer, 48213";
# a bare "dossier" or "zaak" only before a code with a letter or a slash ("Dossier Z/24/004512")
REFERENCE_RE = re.compile(
    rf"\b(?:(?:{REFERENCE_WORD})(?:\s+(?:is|was|luidt|wordt))?\s*[:#,]?\s*"
    r"|(?:dossier|zaak)\s+(?=[A-Z0-9/-]*\d)(?=[0-9-]*[A-Z/]))"  # a digit, and a letter or "/": not "2024-2025"
    r"(?P<code>[A-Z0-9](?:[A-Z0-9/._-]*\d)[A-Z0-9/_-]*)",
    re.IGNORECASE,
)

_references = _every("reference-number", REFERENCE_RE, "code")


PHONE_RE = re.compile(r"(?<![\w+])(?:\+31|0031|\(0|0)[\d \t()-]{8,17}\d(?!\d)")


def _national_digits(candidate: str) -> str:
    """'+31 (0)6-1234 5678' → '0612345678': the number as dialled inside the Netherlands."""
    candidate = candidate.replace("(0)", "")
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("+31"):
        return "0" + digits[2:]
    if candidate.startswith("0031"):
        return "0" + digits[4:]
    return digits


def _phones(text: str) -> Iterator[Hit]:
    """Dutch numbers: ten digits from 0 (06 mobile, landlines, 085/088), also in +31 and 0031 form."""
    for match in PHONE_RE.finditer(text):
        candidate = match.group()
        # a greedy match may run into a following number; shrink to the longest valid prefix
        for end in range(len(candidate), 0, -1):
            if not candidate[end - 1].isdigit() or (end < len(candidate) and candidate[end].isdigit()):
                continue
            number = _national_digits(candidate[:end])
            if len(number) == 10 and number[0] == "0" and number[1] != "0":
                # "(06-87654321)" is a number in brackets, not "(0" of "(010) 412 34 56": leave the "("
                opened = candidate.startswith("(") and ")" not in candidate[:end]
                yield Hit("phone", match.start() + opened, match.start() + end)
                break


BSN_RE = re.compile(r"(?<![\w.,-])(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3} \d{3} \d{3})(?![\w-]|[.,]\d)")


def _bsns(text: str) -> Iterator[Hit]:
    for match in BSN_RE.finditer(text):
        if stdnum_bsn.is_valid(re.sub(r"\D", "", match.group())):
            yield Hit("bsn", match.start(), match.end())


IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b", re.IGNORECASE)


def _ibans(text: str) -> Iterator[Hit]:
    """IBANs of any country, validated with the mod-97 check (spaces allowed every few characters)."""
    for match in IBAN_RE.finditer(text):
        candidate = match.group()
        for end in range(len(candidate), 0, -1):
            if end < len(candidate) and candidate[end] != " ":
                continue
            if stdnum_iban.is_valid(candidate[:end].upper()):
                yield Hit("iban", match.start(), match.start() + end)
                break


UNITS = {"km", "kg", "mg", "ml", "cm", "mm", "uu", "ct", "pk", "kw", "mb", "gb", "hz", "db"}
POSTCODE_RE = re.compile(r"\b[1-9]\d{3}(?: ?[A-Z]{2}|[a-z]{2})\b(?:[ ,-]*\d{1,5}(?: ?[a-zA-Z]\b|-\d{1,4})?\b)?")


def _postcodes(text: str) -> Iterator[Hit]:
    """Dutch postcodes (1234 AB, 1234AB), with a house number when one follows."""
    for match in POSTCODE_RE.finditer(text):
        code = match.group()[:7].strip()
        if code[-2:].lower() in UNITS or not stdnum_postcode.is_valid(code):
            continue
        yield Hit("postcode", match.start(), match.end())


STREET_SUFFIXES = (
    "straat|laan|weg|plein|gracht|kade|dijk|singel|steeg|pad|dreef|hof|markt|park|plantsoen|baan"
    "|boulevard|wal|burgwal|haven|veld|erf|ring|lei|poort|brug|dam|dwarsstraat|steenweg|kanaal|weide|hoeve"
)
HOUSE_NUMBER = r"\d{1,5}(?:\s?[a-zA-Z]\b|-\d{1,4}|\s?(?:bis|hs|huis|I{1,3})\b)?"
NL_STREET_RE = re.compile(
    r"(?:(?:[A-Z][\w'.-]*|van|de|der|den|het|ten|ter|'t)\s+){0,3}"
    rf"[A-Z][\w'-]*?(?:{STREET_SUFFIXES})\s+{HOUSE_NUMBER}\b"
)
EN_STREET_RE = re.compile(
    r"\b\d{1,5}[a-zA-Z]?\s+(?:[A-Z][\w'-]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive|Square|Place|Way|Close|Crescent)\b"
)
# capitalised words that start a sentence, never a street name ("In de Kalverstraat 12")
SENTENCE_LEADS = {"in", "op", "aan", "bij", "naar", "via", "langs", "een", "te", "uit", "vanuit", "over", "voor", "achter",
                  "tegenover", "at", "on", "the", "to", "from", "de", "het"}  # fmt: skip


def _addresses(text: str) -> Iterator[Hit]:
    """Street + house number: a Dutch street suffix (Kalverstraat 12, Van Goghlaan 3a) or '12 Baker Street'."""
    for match in NL_STREET_RE.finditer(text):
        start = match.start()
        for word in re.finditer(r"(\S+)\s+", match.group()):
            token = word.group(1)
            if not (token.islower() or token.lower() in SENTENCE_LEADS):
                break
            start = match.start() + word.end()
        yield Hit("address", start, match.end())
    for match in EN_STREET_RE.finditer(text):
        yield Hit("address", match.start(), match.end())


PLATE_LETTER = "[BDFGHJKLMNPRSTVXZ]"  # the letters Dutch plates use: no vowels, no C, Q or W
SIDECODES = ("LL-99-99", "99-99-LL", "99-LL-99", "LL-99-LL", "LL-LL-99", "99-LL-LL", "99-LLL-9", "9-LLL-99",
             "LL-999-L", "L-999-LL", "LLL-99-L", "L-99-LLL", "9-LL-999", "999-LL-9")  # fmt: skip


def _sidecode_pattern(sidecode: str) -> str:
    return "".join(PLATE_LETTER if c == "L" else r"\d" if c == "9" else "-" for c in sidecode)


# Dutch licence plates in one of the 14 sidecodes, written with dashes (as on the plate).
PLATE_RE = re.compile(rf"(?<![\w-])(?:{'|'.join(_sidecode_pattern(s) for s in SIDECODES)})(?![\w-])")
_plates = _every("licence-plate", PLATE_RE)


ROLE_NOUN = (
    r"(?:\w*(?:medewerker|collega|vrouw|man|lid|ambtenaar|kundige|arts|agent|leider|houder|ist|aris|eur|rechter"
    r"|woman|man|person|officer|employee|colleague|member|manager|worker|nurse|doctor|inspector|official)s?)"
)
PERSON_NOUN = rf"(?:{ROLE_NOUN}|kind|jongen|meisje|zoon|dochter|moeder|vader|broer|zus|partner|cliënt|inwoner|burger)"
AGE_RE = re.compile(
    r"\b(?P<a>\d{1,3}-?jarige?)\b"
    r"|\b(?P<b>\d{1,3}\s+jaar\s+oud)\b"
    rf"|\b{PERSON_NOUN}\s+van\s+(?P<c>\d{{1,3}}\s+jaar)\b"
    r"|\((?P<d>\d{1,3}\s+jaar)\)"
    r"|\b(?P<e>(?:leeftijd\s+van|aged?|age\s+of)\s+\d{1,3})\b"
    r"|\b(?P<f>\d{1,3}[- ]years?[- ]old)\b"
    r"|\b(?P<g>(?:geboren|born)\s+in\s+(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def _ages(text: str) -> Iterator[Hit]:
    """Ages ('52 jaar', '52-jarige', 'aged 52', 'geboren in 1971'); not durations like '20 jaar in dienst'."""
    for match in AGE_RE.finditer(text):
        group = next(name for name, value in match.groupdict().items() if value)
        yield Hit("age", match.start(group), match.end(group))


# 'de enige vrouwelijke agent' singles a person out in a small unit.
ONLY_ROLE_RE = re.compile(rf"\b(?:de|het|the)\s+(?:enige|only)\b(?=(?:\s+[\w-]+){{0,2}}?\s+{ROLE_NOUN}\b)", re.I)
_only_roles = _every("only-role", ONLY_ROLE_RE)


DETECTORS: tuple[Callable[[str], Iterator[Hit]], ...] = (
    _emails,
    _urls,
    _phones,
    _bsns,
    _ibans,
    _postcodes,
    _addresses,
    _plates,
    _handles,
    _references,
    _dates,
    _ages,
    _only_roles,
)


def detect(text: str) -> list[Hit]:
    """Every deterministic hit in text (overlaps included; the caller resolves them)."""
    return [hit for detector in DETECTORS for hit in detector(text)]
