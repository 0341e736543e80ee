"""The shipped collection: valid, big enough, varied, and documented fields match the model."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from moresprudentie.cases.collection import case_files, load_cases
from moresprudentie.cases.model import FIELD_NAMES, vocabulary

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def shipped():
    return load_cases(ROOT / "cases")


def test_every_shipped_case_is_valid_without_warnings(shipped) -> None:
    assert [str(p) for p in shipped.problems] == []
    assert len(shipped.cases) == len(case_files(ROOT / "cases"))


def test_collection_size_and_languages(shipped) -> None:
    languages = Counter(case.language for case in shipped.cases.values())
    assert len(shipped.cases) >= 60
    assert languages["nl"] >= 45
    assert languages["en"] >= 10


def test_collection_richness(shipped) -> None:
    cases = list(shipped.cases.values())
    assert sum(bool(c.variations) for c in cases) >= 15
    assert sum(bool(c.related) for c in cases) >= 15
    assert sum(bool(c.options and c.lessons and c.discussion_questions) for c in cases) > len(cases) / 2
    assert len({c.organisation for c in cases}) >= 6
    assert len({c.method for c in cases}) >= 4


def test_case_format_doc_covers_every_field() -> None:
    doc = (ROOT / "docs" / "case-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", doc, flags=re.MULTILINE))
    assert documented == set(FIELD_NAMES)


def test_vocabulary_has_both_languages() -> None:
    for kind, terms in vocabulary().items():
        for term, labels in terms.items():
            assert set(labels) == {"nl", "en"}, f"{kind}.{term}"
