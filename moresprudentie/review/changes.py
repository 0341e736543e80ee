"""What changed in a draft since a reviewer sent it back: field by field, word by word.

Why: a second officer sends a case back with a remark, its author edits and resubmits it, and the
reviewer must now judge two things: was the remark followed, and did anything else change on the way?
Reading the whole case again hides a changed word in a long situation; the page and `review changes`
therefore show each changed field with its words marked, and only name the fields that stayed the same.

The text compared with is the one the reviewer sent back: its hash is in the 'sent_back' event, and
the store keeps its bytes (Storage.keep_sent_back; the PostgreSQL store keeps every text anyway).
Pure functions on parsed cases: CaseStore.changes_since_sent_back fetches the two versions, the page
(ui/components/changes.py) and the CLI (cli/officer.py) render what is computed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from moresprudentie.cases.loading import parse_case, unwrap
from moresprudentie.cases.model import Case, Norm, RelatedCase, Tension
from moresprudentie.review.audit import Event

if TYPE_CHECKING:
    from moresprudentie.review.layout import Version
    from moresprudentie.review.steps import Review

# Every field an officer writes, in the order a reader meets them (render.case_body, then the force
# field, then what only the form shows). The id names the case and the status is always "draft" here.
FIELDS: tuple[str, ...] = (
    "title",
    "situation",
    "dilemma",
    "options",
    "stakeholders",
    "judgement",
    "reasoning",
    "dissent",
    "lessons",
    "role",
    "tensions",
    "norms",
    "decisive_facts",
    "discussion_questions",
    "variations",
    "related",
    "themes",
    "values",
    "organisation",
    "method",
    "date",
    "language",
    "duration_minutes",
    "allowed_terms",
)
NOT_COMPARED: frozenset[str] = frozenset({"id", "status"})
# A word, a punctuation mark or a line break, with the spaces before it. Matching ignores those spaces
# (a re-wrapped line is no change), while the pieces keep them, so the texts come back whole.
_TOKEN = re.compile(r"[^\S\n]*(?:\w+|[^\w\s]|\n)|[^\S\n]+$")
_SPACES = re.compile(r"[^\S\n]+")
# difflib's exact matching is quadratic in the worst case (a text of one repeated word): above this many
# token pairs it skips popular tokens (autojunk), which is fast and a little coarser. The longest field of
# the shipped cases is about 330 tokens, so every real text is matched exactly.
_EXACT_UP_TO = 1_000_000

Kind = Literal["same", "removed", "added"]


@dataclass(frozen=True)
class Piece:
    """A run of text that stayed, was removed or was added; the pieces of a diff spell out both texts."""

    kind: Kind
    text: str


def word_diff(before: str, after: str) -> tuple[Piece, ...]:
    """The words of `before` and `after` as pieces: same, removed, added, in reading order.

    Within one stretch of change every removed word comes first, then every added one ("was rood"
    → "is groen" reads as one replacement, not as four alternating words); the spaces between changed
    words, and a lone punctuation mark that happens to match between two changes, belong to the change.
    Joining the same and added pieces gives `after` back, the same and removed ones the words of
    `before` (spaces between words count as no change).
    """
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    exact = len(old) * len(new) <= _EXACT_UP_TO
    matcher = SequenceMatcher(
        None, [_SPACES.sub("", t) for t in old], [_SPACES.sub("", t) for t in new], autojunk=not exact
    )
    pieces: list[Piece] = []
    removed: list[str] = []
    added: list[str] = []
    ops = matcher.get_opcodes()
    for number, (op, i1, i2, j1, j2) in enumerate(ops):
        between_changes = 0 < number < len(ops) - 1
        if op == "equal" and not (between_changes and _only_marks(new[j1:j2])):
            _flush(pieces, removed, added)  # the words match; their spaces are taken from the new text
            pieces.append(Piece("same", "".join(new[j1:j2])))
        else:
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
    _flush(pieces, removed, added)
    return tuple(pieces)


def _only_marks(tokens: list[str]) -> bool:
    """Punctuation and spaces only: the '.' of a new web address matching the full stop of a sentence
    that was rewritten says nothing, and would split one change in two."""
    return not any(char.isalnum() or char == "\n" for token in tokens for char in token)


def _flush(pieces: list[Piece], removed: list[str], added: list[str]) -> None:
    if removed:
        pieces.append(Piece("removed", "".join(removed)))
    if added:
        pieces.append(Piece("added", "".join(added)))
    removed.clear()
    added.clear()


def field_text(value: object) -> str:
    """A field's value as text to compare: a list one item a line, in the form's line syntax
    ("loyaliteit / transparantie: transparantie", "organisatorisch: Gedragscode", "id: follows"),
    and every text as its paragraphs (unwrap): how a file wraps its lines is no change."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(field_text(item) for item in value)
    if isinstance(value, Tension):
        return f"{' / '.join(value.between)}: {value.prevailed}"
    if isinstance(value, Norm):
        return f"{value.source}: {unwrap(value.text)}" if value.source else unwrap(value.text) or ""
    if isinstance(value, RelatedCase):
        return f"{value.id}: {value.relation}"
    return unwrap(str(value)) or ""


@dataclass(frozen=True)
class FieldChange:
    """One field in the version sent back and in the draft now, as text (field_text)."""

    field: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        """Whether a word or a line break changed (spaces alone are no change, as the reader sees none)."""
        return self.before != self.after and any(piece.kind != "same" for piece in self.pieces)

    @cached_property
    def pieces(self) -> tuple[Piece, ...]:
        return word_diff(self.before, self.after)


def compare(before: Case, after: Case) -> tuple[FieldChange, ...]:
    """Every field of two versions of a case, in reading order (FIELDS)."""
    return tuple(
        FieldChange(name, field_text(getattr(before, name)), field_text(getattr(after, name))) for name in FIELDS
    )


@dataclass(frozen=True)
class Changes:
    """What changed since the draft was last sent back: who sent it back, when and why (the event),
    and every field (None when the text sent back is not at hand: see since_sent_back)."""

    sent_back: Event
    fields: tuple[FieldChange, ...] | None

    @property
    def changed(self) -> list[FieldChange]:
        return [field for field in self.fields or () if field.changed]

    @property
    def unchanged(self) -> list[FieldChange]:
        return [field for field in self.fields or () if not field.changed]


def last_sent_back(review: Review) -> Event | None:
    """The last 'sent back' of this round, once the draft went on from it (edited, or offered again).

    None while the draft still waits with its author as it was sent back (nothing to compare yet), and
    when nobody sent it back since its last publication (a publication starts a new round).
    """
    if review.state == "sent_back":
        return None
    return next((event for event in reversed(review.history) if event.action == "sent_back"), None)


def since_sent_back(version: Version, review: Review, kept: Callable[[str], bytes | None]) -> Changes | None:
    """What changed in `version` since it was last sent back; None when it was not (last_sent_back).

    `kept(hash)` gives the text sent back, or None when the store no longer has it (sent back before
    texts were kept, or the collection was imported since): then the fields are None, and the reviewer
    reads the whole case. So they are when either version is not a valid case (a file edited by hand).
    """
    event = last_sent_back(review)
    if event is None:
        return None
    if version.case is None:
        return Changes(event, None)
    if event.hash == version.hash:  # offered again unchanged
        return Changes(event, compare(version.case, version.case))
    data = kept(event.hash)
    before, _ = parse_case(data, f"{version.case_id} (sent back)", version.case_id) if data else (None, [])
    return Changes(event, compare(before, version.case) if before is not None else None)
