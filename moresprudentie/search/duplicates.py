"""Near-duplicates: the published cases closest to a candidate case, and whether one is a near-copy.

Why: a near-copy of a published case (its situation told again with other people and details, its
core the same) adds nothing to the collection and splits its case law in two. Before a draft is
offered for review, the officer is shown its closest published cases and says whether it is a new
case or how it relates to the one it resembles (a `related:` link).

The score is the core similarity: the mean, over the fields that make a case's core (its question,
judgement and reasoning), of the cosine between the draft's field and the same field of a published
case (the index's passage vectors, the draft's embedded the way the index embeds them). Field by
field, not similar()'s match score: that one blends the whole case, so a re-told situation pulls a
near-copy down and a case on the same theme pulls a distinct one up (calibrated, they overlapped;
docs/evaluation.md, "Near-duplicates").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from moresprudentie.cases.model import Case, RelatedCase, Relation
from moresprudentie.errors import UsageError
from moresprudentie.search.engine import SearchEngine
from moresprudentie.search.passages import Passage, embedding_text

if TYPE_CHECKING:
    from moresprudentie.review.roles import Actor
    from moresprudentie.review.store import CaseStore

LINKS = (Relation.FOLLOWS.value, Relation.NUANCES.value, Relation.DEPARTS.value)
CORE_FIELDS = ("dilemma", "judgement", "reasoning")  # one passage each per case (search/passages.py)

# Calibrated with scripts/calibrate_duplicates.py on the real model (docs/evaluation.md, "Near-duplicates"):
# midway between the lowest core similarity of a reworded-situation near-copy to its original (0.835)
# and the highest of a distinct pair (0.621, two shipped cases).
DUPLICATE_THRESHOLD = 0.73
# The audit-log note of a near-copy submitted anyway, in the log's words; the app words it anew for
# the reviewer (parse_note): "near-duplicate of X (0.91): new case" or "…: linked nuances Y".
NOTE = "near-duplicate of {named}: {outcome}"
_NOTE_RE = re.compile(
    r"near-duplicate of (?P<id>\S+) \((?P<score>[\d.]+)\): (?:new case|linked (?P<relation>\S+) (?P<other>\S+))"
)


def core_similarities(engine: SearchEngine, case: Case) -> list[tuple[Case, float]]:
    """Every published case (never one with the candidate's id) with its core similarity to `case`, best first."""
    cases, vectors = engine.field_vectors(CORE_FIELDS)
    own = engine.embedder.embed([embedding_text(case, Passage(f, getattr(case, f))) for f in CORE_FIELDS])
    scores = np.einsum("fnd,fd->n", vectors, own) / len(CORE_FIELDS) if cases else np.zeros(0)
    ranked = [(cases[int(i)], float(scores[i])) for i in np.argsort(-scores, kind="stable")]
    return [(other, score) for other, score in ranked if other.is_published and other.id != case.id]


def closest_cases(engine: SearchEngine, case: Case, k: int = 3) -> list[tuple[Case, float]]:
    """The k published cases closest to `case` by core similarity (never one with its own id), best first."""
    return core_similarities(engine, case)[:k]


def near_duplicates(
    engine: SearchEngine, case: Case, k: int = 3, threshold: float | None = None
) -> list[tuple[Case, float]]:
    """The closest published cases if the best is at or above the threshold (a near-copy), else nothing."""
    limit = DUPLICATE_THRESHOLD if threshold is None else threshold
    closest = closest_cases(engine, case, k)
    return closest if closest and closest[0][1] >= limit else []


@dataclass(frozen=True)
class Note:
    """A near-copy note read back: the case it resembles, how closely, and what its author said."""

    case_id: str
    score: float
    relation: str | None  # None: a new case, in its author's judgement
    other: str | None


def parse_note(comment: str) -> Note | None:
    """The near-copy note in an audit comment (submit_note wrote it), or None for any other comment."""
    found = _NOTE_RE.fullmatch(comment.strip())
    if found is None:
        return None
    return Note(found["id"], float(found["score"]), found["relation"], found["other"])


def describe(match: tuple[Case, float]) -> str:
    """A closest case for the audit log: its id and score ("X (0.91)")."""
    return f"{match[0].id} ({match[1]:.2f})"


def submit_note(
    engine: SearchEngine, store: CaseStore, case_id: str, actor: Actor, *, new_case: bool, links: str | None
) -> str:
    """The audit-log note for submitting a near-copy ("" when it is none); a UsageError when the
    officer did not say whether it is a new case or how it relates (links "OTHER-ID:nuances", saved
    into the draft through the store before it is submitted)."""
    draft = store.draft_version(case_id)
    close = near_duplicates(engine, draft.case) if draft.case is not None else []
    if not close or draft.case is None:
        return ""
    named = describe(close[0])
    if links:
        other, _, relation = links.partition(":")
        if relation not in LINKS:
            raise UsageError(f"--links {links}: say OTHER-ID:follows, OTHER-ID:nuances or OTHER-ID:departs")
        kept = [link for link in draft.case.related if link.id != other]
        linked = draft.case.model_copy(update={"related": [*kept, RelatedCase(id=other, relation=Relation(relation))]})
        store.save_draft(linked, actor, draft.hash)
        return NOTE.format(named=named, outcome=f"linked {relation} {other}")
    if new_case:
        return NOTE.format(named=named, outcome="new case")
    listed = ", ".join(describe(match) for match in close)
    raise UsageError(
        f"{case_id} is a near-copy of a published case ({listed}); submit with --new-case if it is a "
        f"new case, or --links {close[0][0].id}:follows|nuances|departs"
    )
