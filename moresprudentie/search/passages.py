"""What of a case is embedded: its passages, each embedded on its own, and the text given to the model.

Every case becomes a few passages (the dilemma, what happened, the judgement, the reasoning, each
lesson), so a query about a situation and one about a principle both find their case, and a hit can
show the passage that matched. The index relies on the order; change PASSAGE_SCHEME with any rule
here, so that an index built under the old rules is re-embedded rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass

from moresprudentie.cases.model import Case
from moresprudentie.search.text import sentences

PASSAGE_SCHEME = "fields-4"  # bump when case_passages or embedding_text change: old vectors no longer fit
WINDOW_SENTENCES = 2  # a long situation is embedded as consecutive runs of this many sentences
MIN_WINDOWED_SENTENCES = 4  # a shorter one is embedded whole (measured: same recall, fewer vectors)


@dataclass(frozen=True)
class Passage:
    """A piece of a case that is embedded on its own; `field` names where it comes from."""

    field: str
    text: str


def _situation_parts(text: str) -> list[str]:
    """A long situation as consecutive, non-overlapping runs of WINDOW_SENTENCES sentences (a lone last
    sentence joins the run before it); a short one whole."""
    found = sentences(text)
    if len(found) < MIN_WINDOWED_SENTENCES:
        return [text]
    runs = [found[i : i + WINDOW_SENTENCES] for i in range(0, len(found), WINDOW_SENTENCES)]
    if len(runs[-1]) == 1:
        runs[-2].extend(runs.pop())
    return [" ".join(run) for run in runs]


def case_passages(case: Case) -> list[Passage]:
    """The passages of a case, in a fixed order (the index relies on it).

    A long situation is embedded in runs of two sentences, not whole: a sentence-averaging model
    blurs a 200-word story, while a user's query usually matches one moment of it (measured with
    overlapping windows beside the whole: recall@5 with distractors 0.83 → 0.87). The runs do not
    overlap and the whole situation is not embedded again: every word of the case is embedded once
    (its title once per passage, which USE-m3 reads once per case: use_m3_reading.read_groups), so
    building the index costs little more than embedding each case's text once. The situation as a whole is
    the normalised sum of its runs (ranking.case_vectors)."""
    passages = [Passage("dilemma", case.dilemma)]
    passages.extend(Passage("situation", part) for part in _situation_parts(case.situation))
    passages.append(Passage("judgement", case.judgement))
    passages.append(Passage("reasoning", case.reasoning))
    passages.extend(Passage("lessons", lesson) for lesson in case.lessons)
    return passages


def passage_at(case: Case, field: str, occurrence: int) -> Passage:
    """The `occurrence`-th passage of `field` in a case, as case_passages cuts it, without cutting
    the rest: a hit shows its best passage, and the index records each row's field, so only a
    situation run needs its sentences found again."""
    if field == "situation":
        return Passage(field, _situation_parts(case.situation)[occurrence])
    if field == "lessons":
        return Passage(field, case.lessons[occurrence])
    return Passage(field, getattr(case, field))


def embedding_text(case: Case, passage: Passage) -> str:
    """The title gives every passage its topic (a lesson alone can be too terse to place). Every
    passage of a case begins with the same words, so a model that reads a shared opening once
    (embedders.embed_groups) reads the title once per case."""
    return f"{case.title}. {passage.text}"
