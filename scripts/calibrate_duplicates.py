"""Calibrate the near-duplicate warning (moresprudentie/search/duplicates.py, DUPLICATE_THRESHOLD).

    python scripts/calibrate_duplicates.py          # the real model (USE-m3), shipped cases + terse ones
    python scripts/calibrate_duplicates.py --json

The score is duplicates.core_similarities(): the mean cosine of question, judgement and reasoning,
field by field. Four kinds of pairs, scored against the shipped collection:
- near-copies (issue 15's sense, NEAR_COPIES below): a shipped case with its situation told again
  (other setting, people, details) and its core copied with the small edits that go with it;
- re-tellings (RETELLINGS): tests/fixtures/eval/terse/ holds 12 shipped cases told again tersely, the
  whole case in other words (found by their closest case and checked by reading both);
- new dilemmas: the other 12 terse cases (a t-scenario in tests/fixtures/eval/blind/scenarios.yaml),
  dilemmas no shipped case covers, each with its closest shipped case;
- shipped leave-one-out: each shipped case with its closest other shipped case.
The last two are distinct pairs: none may warn. The threshold is midway between the lowest near-copy
score and the highest distinct score (docs/evaluation.md, "Near-duplicates"); re-tellings are
reported, not calibrated on (they overlap with distinct pairs).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.model import Case
from moresprudentie.search.duplicates import core_similarities
from moresprudentie.search.embedders import load_embedder
from moresprudentie.search.engine import SearchEngine

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

# shipped case id → its reworded-situation near-copy: a new id, title and situation (another setting,
# other people and details), the core (dilemma, judgement, reasoning, lessons, values, tensions) copied
# with the small edits an officer would make to fit the new story (`edits`: old → new), and in a few
# the question asked in other words (`dilemma`).
NEAR_COPIES: dict[str, dict[str, object]] = {
    "envelop-van-nabestaande": {
        "id": "near-envelop-van-dochter",
        "title": "Contant geld van de dochter van een overleden cliënte",
        "situation": (
            "Een verzorgende in de thuiszorg heeft anderhalf jaar een oude vrouw met hartfalen geholpen, "
            "elke ochtend bij het wassen en aankleden. Na het overlijden komt de dochter naar het "
            "wijkkantoor met een bos bloemen en een envelop met driehonderd euro: haar moeder had dat zo "
            "gewild. Teruggeven zou de familie krenken, zegt ze. De huisregels van de organisatie staan "
            "bloemen en bonbons toe, geen geld. Er is geen zorgrelatie meer. De verzorgende weet dat "
            "sommige collega's alleen cliënten hebben die niets kunnen geven."
        ),
        "edits": {
            "de weduwe": "de dochter",
            "De weduwe": "De dochter",
            "haar man": "haar moeder",
            "verpleegkundige": "verzorgende",
        },
    },
    "skybox-uitnodiging-aannemer": {
        "id": "near-vip-concert-van-ingenieursbureau",
        "title": "Kaarten voor een concert van het ingenieursbureau",
        "situation": (
            "Een projectmanager van een provincie leidt de aanleg van een nieuwe rondweg. Het "
            "ingenieursbureau dat het ontwerp maakt, biedt het hele projectteam kaarten aan voor een "
            "uitverkocht concert, met een diner vooraf in de VIP-ruimte: zo'n driehonderd euro per "
            "persoon, als dank voor een zwaar jaar. Over een paar weken moet de projectmanager beslissen "
            "over een forse rekening voor extra ontwerpwerk van datzelfde bureau. In de teamapp wordt al "
            "gejuicht. De gedragscode legt de grens bij vijftig euro en vraagt uitnodigingen van partijen "
            "met een lopend belang te melden en af te slaan."
        ),
        "edits": {"skybox": "VIP-ruimte", "aannemer": "ingenieursbureau", "meerwerk": "extra ontwerpwerk"},
    },
    "foreign-delegation-gift": {
        "id": "near-carved-vase-from-trade-mission",
        "title": "A carved jade vase from a visiting trade mission",
        "situation": (
            "A protocol officer of a large municipality organised a week-long visit of a trade mission "
            "from a partner city abroad. At the farewell reception the mayor of the partner city gave her "
            "a carved jade vase, far above the fifty-euro limit of the code of conduct. In the partner "
            "city's culture a refused gift is an insult. The municipality is negotiating a port "
            "agreement with that city and she sits on the negotiating team. Colleagues say to put it in "
            "the display case in the town hall, where other gifts stand unregistered."
        ),
        "edits": {"tea set": "vase", "ministry": "municipality"},
    },
    "bestelbus-voor-verhuizing": {
        "id": "near-pick-up-van-de-groendienst",
        "title": "De pick-up van de groendienst voor een verhuizing",
        "situation": (
            "Een hovenier van de gemeentelijke groendienst is net teamleider geworden van de ploeg waar "
            "hij zelf jaren in werkte. Een collega vraagt of hij in het weekend de pick-up mag meenemen om "
            "zijn spullen naar een nieuw huis te brengen, zoals dat altijd kon onder de vorige "
            "teamleider. Hij heeft dat zelf ook gedaan. Volgens de regels zijn dienstauto's alleen voor "
            "dienstritten en niet verzekerd voor privégebruik. De ploeg wacht af wat hij zegt."
        ),
        "edits": {"bestelbus": "pick-up", "ploegleider": "teamleider", "de bus": "de pick-up"},
    },
    "student-slaapt-in-auto": {
        "id": "near-leerling-slaapt-bij-vrienden",
        "title": "Een leerling zwerft van bank naar bank en vraagt het geheim te houden",
        "situation": (
            "Een mentor op een school voor voortgezet onderwijs merkt dat een achttienjarige leerling "
            "uit de examenklas steeds vermoeider is. In een gesprek vertelt ze dat ze sinds een ruzie "
            "met haar moeder bij wisselende vrienden op de bank slaapt en soms een nacht in de trein "
            "doorbrengt. Ze smeekt hem niemand iets te zeggen: ze schaamt zich en vreest dat ze haar "
            "examen niet mag doen. De school heeft een zorgcoördinator en een meldprotocol. De mentor "
            "had haar aan het begin van het gesprek beloofd dat het onder hen bleef."
        ),
        "dilemma": (
            "Licht ik de zorgcoördinator in tegen haar uitdrukkelijke wens in, of houd ik me aan mijn "
            "belofte en help ik haar zelf, in de hoop dat ze gauw een plek vindt?"
        ),
        "edits": {"studente": "leerling", "begeleider": "mentor", "zorgteam": "zorgcoördinator"},
    },
    "zwager-vraagt-subsidie-aan": {
        "id": "near-aanvraag-van-schoonzus",
        "title": "Een subsidieaanvraag van de stichting van een schoonzus",
        "situation": (
            "Een adviseur cultuur van een gemeente beoordeelt als enige aanvragen voor een kleine regeling "
            "voor culturele initiatieven in de wijken; het geld is op voordat iedereen aan de beurt is. "
            "Tussen de aanvragen vindt ze er een van de stichting van haar schoonzus. De aanvraag is "
            "sterk. Haar leidinggevende is druk met een reorganisatie en antwoordt niet, en de "
            "beoordeling moet voor het einde van de maand klaar zijn. Een collega kan het overnemen, "
            "maar kent het veld niet."
        ),
        "edits": {"zwager": "schoonzus"},
    },
    "senior-colleague-expense-claims": {
        "id": "near-former-boss-overtime-claims",
        "title": "My former boss's overtime claims do not add up",
        "situation": (
            "A young finance assistant at a water authority checks the overtime claims of the operations "
            "department. Her former boss, who trained her and is about to retire, has claimed weekend "
            "overtime on days the access log shows nobody entered the building. Earlier claims are in "
            "round numbers without approval. It is a few hundred euros. There is a confidential adviser "
            "and a reporting procedure; the department is small, and everyone will know who reported."
        ),
        "dilemma": "Should I report what I found about my former boss's claims officially, or talk to him myself first?",
        "edits": {"travel claims": "overtime claims", "mentor": "former boss"},
    },
}


def _summary(scores: list[float]) -> dict[str, float]:
    return {"min": min(scores), "median": statistics.median(scores), "max": max(scores), "n": len(scores)}


def near_copy(original: Case, spec: dict[str, object]) -> Case:
    """A NEAR_COPIES entry as a case: the original with its new id, title and situation (and question,
    if given), every other core text copied with the entry's edits."""
    edits: dict[str, str] = spec["edits"]  # type: ignore[assignment]

    def edit(text: str) -> str:
        for old, new in edits.items():
            text = text.replace(old, new)
        return text

    update: dict[str, object] = {key: spec[key] for key in ("id", "title", "situation", "dilemma") if key in spec}
    update.setdefault("dilemma", edit(original.dilemma))
    update |= {"judgement": edit(original.judgement), "reasoning": edit(original.reasoning)}
    update |= {"lessons": [edit(lesson) for lesson in original.lessons], "related": []}
    return original.model_copy(update=update)


def _score_to(engine: SearchEngine, case: Case, original: str | None) -> tuple[float, str, float]:
    """The score to `original` (None: to the closest case), the closest case and its score."""
    ranked = core_similarities(engine, case)
    top, top_score = ranked[0]
    score = next(score for other, score in ranked if other.id == original) if original else top_score
    return score, top.id, top_score


def measure(engine: SearchEngine) -> tuple[dict[str, list[float]], list[dict[str, object]]]:
    """Scores per kind of pair, and one row per candidate (its original if any, its closest case)."""
    kinds: dict[str, list[float]] = {"near_copies": [], "retellings": [], "new_dilemmas": [], "shipped": []}
    rows: list[dict[str, object]] = []
    candidates = [(near_copy(engine.cases[oid], spec), oid, "near_copies") for oid, spec in NEAR_COPIES.items()]
    for case in sorted(load_cases(TERSE).cases.values(), key=lambda c: c.id):
        original = RETELLINGS.get(case.id)
        candidates.append((case, original, "retellings" if original else "new_dilemmas"))
    for case, original, kind in candidates:
        score, top, top_score = _score_to(engine, case, original)
        kinds[kind].append(score)
        rows.append(
            {
                "case": case.id,
                "kind": kind,
                "original": original,
                "score": round(score, 3),
                "top": top,
                "top_score": round(top_score, 3),
            }
        )
    for case in engine.cases.values():
        if case.is_published:
            kinds["shipped"].append(_score_to(engine, case, None)[0])
    return kinds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cases", type=Path, default=None, help="the shipped collection (default: cases/)")
    args = parser.parse_args()
    engine = SearchEngine.open(args.cases, embedder=load_embedder())
    kinds, rows = measure(engine)
    near, distinct = kinds["near_copies"], kinds["new_dilemmas"] + kinds["shipped"]
    # Midway when near-copies and distinct pairs are apart; when they overlap, just above the highest
    # distinct score (no warning for a distinct case).
    separated = min(near) > max(distinct)
    threshold = (min(near) + max(distinct)) / 2 if separated else math.ceil(max(distinct) * 100) / 100
    result = {name: _summary(scores) for name, scores in kinds.items()}
    result |= {"separated": separated, "threshold": round(threshold, 3), "rows": rows}
    result["retellings_warned"] = sum(score >= threshold for score in kinds["retellings"])
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for row in rows:
        print(
            f"{row['case']:48} {row['kind']:13} to={row['original'] or '-':42} {row['score']:.3f}"
            f"  top={row['top']} {row['top_score']:.3f}"
        )
    for name in kinds:
        print(name, {k: round(v, 3) for k, v in result[name].items()})
    print("separated", separated, "threshold", result["threshold"], "re-tellings warned", result["retellings_warned"])


if __name__ == "__main__":
    main()
