"""Precision and recall of the anonymisation check per kind, on the gold set of seeded case texts,
and how many identifiers of the evasive set are found whole.

    python scripts/anonymisation_report.py [GOLD.yaml]

An expected identifier counts as found when a finding of the same kind covers all of its text (so the
suggested replacement removes it); a finding that overlaps no expected identifier of its kind is a false
positive. tests/test_anonymisation.py uses `score` to assert 100 % recall of direct identifiers.
The evasive set (hidden characters, fullwidth digits, identifiers in the id, terms and allowed_terms)
is scored with `score_evasive` on whole cases, as `check` sees them.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from moresprudentie.anonymisation.check import KINDS, case_texts, check_case, check_text, warm_up
from moresprudentie.cases.model import Case

GOLD = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "anonymisation" / "gold.yaml"
EVASIVE = GOLD.parent / "evasive.yaml"
BASE_CASE = {  # the evasive entries override fields of this small valid case
    "id": "evasieve-casus",
    "title": "Een casus",
    "language": "nl",
    "date": "2024",
    "themes": ["vertrouwen"],
    "values": ["integriteit"],
    "situation": "Een medewerker twijfelt.",
    "dilemma": "Moet ik het melden?",
    "judgement": "Melden.",
    "reasoning": "Integriteit weegt zwaar.",
}


@dataclass
class Score:
    """Counts per kind, plus the misses and false positives for a readable failure message."""

    found: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    reported: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.expected[kind] if self.expected[kind] else 1.0

    def precision(self, kind: str) -> float:
        return self.correct[kind] / self.reported[kind] if self.reported[kind] else 1.0


def _span(text: str, needle: str, occurrence: int) -> tuple[int, int]:
    position = -1
    for _ in range(occurrence):
        position = text.find(needle, position + 1)
        if position < 0:
            raise ValueError(f"gold set: '{needle}' (occurrence {occurrence}) is not in the text")
    return position, position + len(needle)


def load_gold(path: Path = GOLD) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def score(documents: list[dict]) -> Score:
    result = Score()
    for document in documents:
        text = document["text"]
        findings = check_text(text, language=document["language"])
        expected = [
            (item["kind"], *_span(text, str(item["text"]), item.get("occurrence", 1))) for item in document["expect"]
        ]
        for kind, start, end in expected:
            result.expected[kind] += 1
            if any(f.kind == kind and f.start <= start and f.end >= end for f in findings):
                result.found[kind] += 1
            else:
                result.misses.append(f"{document['id']}: {kind} '{text[start:end]}'")
        for finding in findings:
            result.reported[finding.kind] += 1
            if any(k == finding.kind and finding.start < e and finding.end > s for k, s, e in expected):
                result.correct[finding.kind] += 1
            else:
                result.false_positives.append(f"{document['id']}: {finding.kind} '{finding.text}'")
    return result


def score_evasive(entries: list[dict]) -> tuple[int, list[str]]:
    """(identifiers found whole, misses): a finding of the kind on the field covers all of the identifier."""
    whole, misses = 0, []
    for entry in entries:
        case = Case.model_validate(BASE_CASE | entry["case"])
        texts, findings = dict(case_texts(case)), check_case(case)
        for item in entry["expect"]:
            start, end = _span(texts[item["field"]], item["text"], 1)
            if any(
                f.field == item["field"] and f.kind == item["kind"] and f.start <= start and f.end >= end
                for f in findings
            ):
                whole += 1
            else:
                misses.append(f"{entry['id']}: {item['field']}: {item['kind']} {item['text']!r}")
    return whole, misses


def main(argv: list[str]) -> int:
    documents = load_gold(Path(argv[0]) if argv else GOLD)
    started = time.perf_counter()
    warm_up()
    loaded = time.perf_counter()
    result = score(documents)
    checked = time.perf_counter()
    print(f"{'kind':<16} {'severity':<8} {'expected':>8} {'found':>6} {'recall':>7} {'reported':>8} {'precision':>9}")
    for name, kind in KINDS.items():
        print(
            f"{name:<16} {kind.severity:<8} {result.expected[name]:>8} {result.found[name]:>6} "
            f"{result.recall(name):>7.0%} {result.reported[name]:>8} {result.precision(name):>9.0%}"
        )
    total_expected, total_reported = sum(result.expected.values()), sum(result.reported.values())
    print(
        f"{'all':<25} {total_expected:>8} {sum(result.found.values()):>6} "
        f"{sum(result.found.values()) / total_expected:>7.0%} {total_reported:>8} "
        f"{sum(result.correct.values()) / max(total_reported, 1):>9.0%}"
    )
    for line in result.misses:
        print(f"missed: {line}")
    for line in result.false_positives:
        print(f"false positive: {line}")
    print(
        f"{len(documents)} texts; name detector loaded in {loaded - started:.1f} s, checked in {checked - loaded:.2f} s"
    )
    evasive = load_gold(EVASIVE)
    whole, misses = score_evasive(evasive)
    print(f"evasive set: {whole} of {whole + len(misses)} identifiers found whole")
    for line in misses:
        print(f"not found whole: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
