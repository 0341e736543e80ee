"""Calibrate the near-duplicate warning (moresprudentie/search/duplicates.py, DUPLICATE_THRESHOLD).

    python scripts/calibrate_duplicates.py          # the real model (USE-m3), shipped cases + terse ones
    python scripts/calibrate_duplicates.py --json

Real near-copies and real distinct pairs: tests/fixtures/eval/terse/ holds 12 re-tellings of shipped
cases in other words (RETELLINGS: each with the shipped case it retells, found by its closest case and
checked by reading both) and 12 dilemmas no shipped case covers. Every terse case is scored against
the shipped collection with SearchEngine.similar_to (the score the warning uses): a re-telling's
score to its original is a near-copy score; a new dilemma's top score, and each shipped case's top
score against the others (leave-one-out, SearchEngine.similar), are distinct scores. The threshold is
midway between the lowest near-copy score and the highest distinct score (docs/evaluation.md,
"Near-duplicates").
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

from moresprudentie.cases.collection import load_cases
from moresprudentie.search.embedders import load_embedder
from moresprudentie.search.engine import SearchEngine
from moresprudentie.search.filters import Filters

TERSE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eval" / "terse"
# terse case id → the shipped case it retells. The other 12 are the ones with a t-scenario in
# tests/fixtures/eval/blind/scenarios.yaml (the dilemmas no shipped case covers).
RETELLINGS: dict[str, str] = {
    "terse-aanhanger-van-de-gemeentewerf": "bestelbus-voor-verhuizing",
    "terse-analyst-posts-verdict-before-review": "researcher-criticises-policy-online",
    "terse-child-as-interpreter-at-clinic": "interpreter-budget-or-young-daughter",
    "terse-costly-present-from-visiting-officials": "foreign-delegation-gift",
    "terse-dakloze-student-vraagt-geheimhouding": "student-slaapt-in-auto",
    "terse-even-nakijken-voor-een-collega": "collega-vraagt-registratie-nieuwe-partner-ex",
    "terse-geld-van-dankbare-zoon": "envelop-van-nabestaande",
    "terse-kostenoverschrijding-niet-in-statenbrief": "vertraging-verzwegen-voor-de-raad",
    "terse-loting-voor-werkbegeleiding": "loting-in-experimentele-regeling",
    "terse-mentor-mileage-claims": "senior-colleague-expense-claims",
    "terse-nicht-van-concerndirecteur-te-laat": "cv-van-neef-directeur",
    "terse-niet-bestaand-diploma-inspecteur": "ontbrekend-diploma-ervaren-medewerker",
}


def _summary(scores: list[float]) -> dict[str, float]:
    return {"min": min(scores), "median": statistics.median(scores), "max": max(scores), "n": len(scores)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cases", type=Path, default=None, help="the shipped collection (default: cases/)")
    args = parser.parse_args()
    engine = SearchEngine.open(args.cases, embedder=load_embedder())
    published = Filters()
    size = len(engine.cases)
    near, new, rows = [], [], []
    for case in sorted(load_cases(TERSE).cases.values(), key=lambda c: c.id):
        hits = engine.similar_to(case, size, published)
        top = hits[0]
        original = RETELLINGS.get(case.id)
        if original:
            score = next(hit.score for hit in hits if hit.case.id == original)
            near.append(score)
        else:
            new.append(top.score)
        rows.append({"terse": case.id, "retells": original, "top": top.case.id, "top_score": round(top.score, 3)})
    shipped = [engine.similar(cid, 1, published)[0].score for cid, c in engine.cases.items() if c.is_published]
    distinct = new + shipped
    # Midway when the two distributions are apart; when they overlap, just above the highest distinct
    # score (no warning for a distinct case), which still catches a copy with a few words changed.
    separated = min(near) > max(distinct)
    threshold = (min(near) + max(distinct)) / 2 if separated else math.ceil(max(distinct) * 100) / 100
    result = {
        "near_copies": _summary(near) if near else {},
        "new_dilemmas": _summary(new),
        "shipped_leave_one_out": _summary(shipped),
        "separated": separated,
        "threshold": round(threshold, 3),
        "terse": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for row in rows:
        print(f"{row['terse']:50} retells={row['retells'] or '-':45} top={row['top']:45} {row['top_score']:.3f}")
    for name in ("near_copies", "new_dilemmas", "shipped_leave_one_out"):
        print(name, {k: round(v, 3) for k, v in result[name].items()})
    print("separated", separated, "threshold", result["threshold"])


if __name__ == "__main__":
    main()
