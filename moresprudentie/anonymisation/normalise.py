"""The one normalised view of a text that every detector reads, with a map back to the original.

Why: a reader sees glyphs, a detector sees code points. A zero-width space or a soft hyphen inside
"111222333" is invisible on the published page but breaks every pattern; fullwidth digits
("９４５８０７３０２") read as a BSN but are not [0-9] to a checksum. Checking the raw text let such
identifiers through with "no findings". So every check reads a view in which:

- hidden characters are removed: every format character (Unicode category Cf: zero-width space,
  joiner and non-joiner, word joiner, BOM, soft hyphen, LRM/RLM, the bidi embeddings, overrides and
  isolates U+202A–202E and U+2066–2069, tag characters), the combining grapheme joiner, variation
  selectors and the Hangul fillers, which render as nothing;
- each character is NFKC-normalised, which folds fullwidth and other compatibility forms
  ("Ｎ９１" → "N91", "ĳ" → "ij") and turns no-break spaces into spaces;
- decimal digits of any script become ASCII digits, marks on a digit are dropped, and dash
  look-alikes (‐ ‑ – — −) become "-", so "06–12345678" is a phone number;
- in a slug (an id or a vocabulary term) "-" and "_" separate words, so "melding-945807302" holds a
  BSN.

`View.span` maps a span of the view back to the original text, hidden characters inside it
included: a finding shows, and a replacement removes, the identifier exactly as it was written.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["View", "hidden_runs", "is_hidden", "view", "without_hidden"]

# invisible characters that are not in category Cf
INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0") | frozenset(map(chr, range(0xFE00, 0xFE10)))
DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63")
SLUG_SEPARATORS = frozenset("-_")


def is_hidden(char: str) -> bool:
    """True for a character that renders as nothing (or only reorders text) but changes what a pattern sees."""
    return char in INVISIBLE or unicodedata.category(char) == "Cf" or 0xE0100 <= ord(char) <= 0xE01EF


def hidden_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every run of hidden characters in text."""
    runs: list[tuple[int, int]] = []
    if text.isascii():
        return runs
    start = None
    for index, char in enumerate(text):
        if is_hidden(char):
            start = index if start is None else start
        elif start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(text)))
    return runs


def without_hidden(text: str) -> str:
    """Text with every hidden character removed (the replacement a hidden-character finding suggests)."""
    return "".join(char for char in text if not is_hidden(char))


@dataclass(frozen=True)
class View:
    """The normalised `text` of `original`; character i of `text` comes from original[starts[i]:ends[i]]."""

    original: str
    text: str
    starts: array[int] | None = None  # None: the identity map (plain ASCII); arrays keep a long text small
    ends: array[int] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span that view span [start, end) was made from (end > start)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _fold(char: str, slug: bool) -> str:
    if char in DASHES:
        char = "-"
    if slug and char in SLUG_SEPARATORS:
        return " "
    decimal = unicodedata.decimal(char, None)
    return str(decimal) if decimal is not None else char


def _clusters(text: str) -> list[tuple[int, int, str]]:
    """(start, end, visible characters) per base character with its combining marks, hidden ones left out."""
    clusters: list[tuple[int, int, str]] = []
    for index, char in enumerate(text):
        if is_hidden(char):
            continue
        if clusters and unicodedata.combining(char):
            start, _, chars = clusters[-1]
            clusters[-1] = (start, index + 1, chars + char)
        else:
            clusters.append((index, index + 1, char))
    return clusters


@lru_cache(maxsize=64)
def view(text: str, slug: bool = False) -> View:
    """The normalised view of text (see the module docstring).

    Cached, because a case's whole text is the context of each of its fields; 64 views of the
    longest allowed text (20,000 characters) take about 10 MB.
    """
    if text.isascii():  # nothing to fold: the same length, so the identity map
        return View(text, re.sub("[-_]", " ", text) if slug else text)
    chars: list[str] = []
    starts, ends = array("i"), array("i")
    for start, end, cluster in _clusters(text):
        folded = [_fold(char, slug) for char in unicodedata.normalize("NFKC", cluster)]
        if folded and folded[0].isdigit():
            folded = [char for char in folded if not unicodedata.combining(char)]
        chars.extend(folded)
        starts.extend([start] * len(folded))
        ends.extend([end] * len(folded))
    return View(text, "".join(chars), starts, ends)
