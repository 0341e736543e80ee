"""The force-field panel: the DOT drawing (pure), the case page, and the session filters on it."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import make_case, write_case

from moresprudentie.cases.model import BIDI_CONTROLS
from moresprudentie.ui.components import nav
from moresprudentie.ui.components.forcefield_panel import SYSTEM_COLOURS, Words, dot_text, force_field_dot

WORDS = Words(
    whose="Wiens dilemma: Leidinggevende",
    tensions="Waarden in spanning",
    prevailed="✓ woog zwaarder",
    balanced="in evenwicht",
    unsourced="Bron niet vastgelegd",
)
HOSTILE = '"];evil[label="x <b>vet</b> \\N & &lt;'
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
FOUR_NORMS = [
    {"text": "Burgers verwachten een onpartijdige overheid", "source": "maatschappelijk"},
    {"text": "Gedragscode, artikel 3", "source": "organisatorisch"},
    {"text": "Beroepscode van de inspecteur", "source": "professioneel"},
    {"text": "Ik wil mijn collega niet afvallen", "source": "persoonlijk"},
]


def forcefield_case(**fields: object):
    data: dict[str, object] = {
        "role": "leidinggevende",
        "values": ["loyaliteit", "transparantie", "ondernemendheid", "regelgetrouwheid"],
        "tensions": [
            {"between": ["loyaliteit", "transparantie"], "prevailed": "transparantie"},
            {"between": ["ondernemendheid", "regelgetrouwheid"], "prevailed": "balanced"},
        ],
        "norms": FOUR_NORMS,
        "decisive_facts": ["De aanvraag liep nog.", "Het ging om een eerste keer."],
    }
    data.update(fields)
    return make_case(**data)


def node_line(dot: str, label_start: str) -> str:
    """The one DOT line whose label starts with this text."""
    lines = [line for line in dot.splitlines() if f'label="{label_start}' in line]
    assert len(lines) == 1, (label_start, lines)
    return lines[0]


def unquote(label: str) -> str:
    """What Graphviz shows for a quoted DOT label: DOT escapes undone, then HTML entities decoded."""
    text = re.sub(r"\\(.)", lambda match: "\n" if match[1] == "n" else match[1], label[1:-1])
    return html.unescape(text)


# -- the DOT builder -------------------------------------------------------------------------------


def test_every_source_present_is_a_cluster_with_its_norms_around_the_centre() -> None:
    dot = force_field_dot(forcefield_case(), WORDS)
    for heading in ("Maatschappelijk", "Organisatorisch", "Professioneel", "Persoonlijk"):
        assert f'label="{heading}"' in dot
    assert len(re.findall(r"subgraph cluster_s\d+ \{", dot)) == 4
    for norm in FOUR_NORMS:
        assert dot_text(norm["text"]) in dot
    assert 'label="Wiens dilemma: Leidinggevende"' in dot
    assert dot.count('lhead="cluster_centre"') + dot.count('ltail="cluster_centre"') >= 4  # each source pulls

    two = force_field_dot(forcefield_case(norms=FOUR_NORMS[1:3]), WORDS)
    assert len(re.findall(r"subgraph cluster_s\d+ \{", two)) == 2
    assert "Maatschappelijk" not in two and "Persoonlijk" not in two


def test_unsourced_norms_are_drawn_under_their_own_heading() -> None:
    dot = force_field_dot(forcefield_case(norms=["Een oude norm zonder bron"]), WORDS)
    assert 'label="Bron niet vastgelegd"' in dot and "Een oude norm zonder bron" in dot


def test_the_prevailing_value_is_filled_and_marked_and_a_balance_is_said() -> None:
    dot = force_field_dot(forcefield_case(), WORDS)
    winner = node_line(dot, r"Transparantie\n✓ woog zwaarder")
    assert f'fillcolor="{SYSTEM_COLOURS["overig"]}"' in winner and "Helvetica-Bold" in winner
    loser = node_line(dot, "Loyaliteit")
    assert 'fillcolor="#ffffff"' in loser and "woog zwaarder" not in loser
    assert dot.count("woog zwaarder") == 1  # the balanced pair marks neither side
    assert 'label="⟷ in evenwicht"' in dot
    assert f'color="{SYSTEM_COLOURS["ondernemend"]}"' in node_line(dot, "Ondernemendheid")
    assert f'color="{SYSTEM_COLOURS["bureaucratisch"]}"' in node_line(dot, "Regelgetrouwheid")


def test_without_the_outcome_no_side_is_marked() -> None:
    dot = force_field_dot(forcefield_case(), WORDS, outcome=False)
    assert "woog zwaarder" not in dot and "in evenwicht" not in dot
    assert "Transparantie" in dot and "Loyaliteit" in dot  # the pairs themselves are not the verdict


def test_hostile_text_stays_inside_its_label() -> None:
    case = forcefield_case(
        norms=[{"text": HOSTILE, "source": "organisatorisch"}], dilemma=f"Moet ik {HOSTILE} of niet?"
    )
    dot = force_field_dot(case, WORDS)
    outside = QUOTED.sub('""', dot)
    assert "evil" not in outside and "<" not in outside
    assert "<" not in dot and "&lt;b&gt;" in dot  # no HTML label, and the brackets only as entities
    ids = re.findall(r"^\s*(\w+) \[", dot, re.MULTILINE)
    assert set(ids) - {"graph", "node", "edge"} <= {"centre", "s0n0", "t0a", "t0b", "t1a", "t1b"}
    labels = [" ".join(unquote(label).split()) for label in QUOTED.findall(dot)]
    assert HOSTILE in labels  # shown exactly as typed (wrapped over lines)


def test_control_and_direction_characters_are_dropped_and_long_text_wrapped() -> None:
    text = "Een\u202egevaarlijke\u0007 tekst " + "heel lang " * 40
    label = dot_text(text)
    assert not set(label) & (BIDI_CONTROLS | {"\u0007"})
    assert label.count(r"\n") == 3 and label.endswith("…")  # four lines, cut with an ellipsis


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_parses_it_into_the_expected_nodes_only() -> None:
    case = forcefield_case(norms=[*FOUR_NORMS, {"text": HOSTILE, "source": "persoonlijk"}])
    plain = subprocess.run(["dot", "-Tplain"], input=force_field_dot(case, WORDS), text=True, capture_output=True)
    assert plain.returncode == 0, plain.stderr
    nodes = [line.split()[1] for line in plain.stdout.splitlines() if line.startswith("node ")]
    assert "evil" not in nodes and len(nodes) == 1 + 5 + 4  # centre, five norms, two pairs


# -- the case page ---------------------------------------------------------------------------------


def test_case_page_draws_the_force_field_and_the_checklist(open_app, shipped_cases: Path) -> None:
    at = open_app(shipped_cases, nav.CASE, lambda at: at.query_params.update(case="cv-van-neef-directeur"))
    charts = at.get("graphviz_chart")
    assert len(charts) == 1
    spec = charts[0].proto.spec
    assert "Wiens dilemma: Medewerker" in spec and "Organisatorisch" in spec and "Professioneel" in spec
    assert r"Transparantie\n✓ woog zwaarder" in spec
    shown = "\n".join(str(e.value) for kind in ("subheader", "markdown", "caption") for e in at.get(kind))
    assert "Krachtenveld" in shown and "Dit oordeel hing af van …" in shown
    assert "Normen en regels" not in shown  # no plain list any more; the norms are in the panel
    assert "Gedragscode over familierelaties en werving" in shown  # in full, in the text version
    facts = [box for box in at.checkbox if box.key.startswith("forcefield_fact_")]
    assert facts[0].label == "De sluitingsdatum was al verstreken."
    assert len(facts) == 3 and not any(box.value for box in facts)
    facts[0].check().run()
    assert not at.exception
    assert "1 van de 3 feiten geldt ook in jouw situatie." in [e.value for e in at.caption]


def test_case_without_a_force_field_renders_calmly(open_app, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    fields = {"role": None, "tensions": None, "norms": None, "decisive_facts": None}
    write_case(folder, "oude-casus", values=["integriteit", "zorg"], **fields)
    write_case(folder, "oude-normen", norms=["Gedragscode, zonder bron"], role=None, tensions=None)
    at = open_app(folder, nav.CASE, lambda at: at.query_params.update(case="oude-casus"))
    assert not at.get("graphviz_chart") and not at.checkbox
    assert "Voor deze casus is het krachtenveld (nog) niet vastgelegd." in [e.value for e in at.caption]
    at.query_params["case"] = "oude-normen"
    at.run()
    assert not at.exception
    assert "Bron niet vastgelegd" in at.get("graphviz_chart")[0].proto.spec
    assert "Wiens dilemma: niet vastgelegd" in at.get("graphviz_chart")[0].proto.spec


# -- the session page ------------------------------------------------------------------------------

SESSION_CASES = {
    "a-medewerker": ("medewerker", ["loyaliteit", "transparantie"], ["loyaliteit", "transparantie"]),
    "b-leiding": ("leidinggevende", ["transparantie", "loyaliteit", "zorg"], ["transparantie", "loyaliteit"]),
    "c-leiding": ("leidinggevende", ["zorg", "rechtmatigheid"], ["zorg", "rechtmatigheid"]),
    "d-team": ("team", ["loyaliteit", "zorg"], ["loyaliteit", "zorg"]),
}


@pytest.fixture
def session(open_app, tmp_path: Path):
    folder = tmp_path / "session"
    for case_id, (role, values, between) in SESSION_CASES.items():
        tension = {"between": between, "prevailed": between[0]}
        write_case(folder, case_id, title=case_id, role=role, values=values, tensions=[tension])
    return open_app(folder, nav.SESSION)


def _listed(at) -> set[str]:
    return set(at.selectbox(key="session_case").options)


def test_session_tension_filter_is_order_insensitive(session) -> None:
    at = session
    assert _listed(at) == set(SESSION_CASES)
    assert at.selectbox(key="session_filter_tension_a").options == [
        "Loyaliteit",
        "Rechtmatigheid",
        "Transparantie",
        "Zorg",
    ]
    at.selectbox(key="session_filter_tension_a").set_value("loyaliteit").run()
    assert _listed(at) == {"a-medewerker", "b-leiding", "d-team"}  # loyalty against anything
    assert at.selectbox(key="session_filter_tension_b").options == ["Transparantie", "Zorg"]  # only its counterparts
    at.selectbox(key="session_filter_tension_b").set_value("transparantie").run()
    assert _listed(at) == {"a-medewerker", "b-leiding"}
    at.selectbox(key="session_filter_tension_a").set_value("transparantie").run()
    at.selectbox(key="session_filter_tension_b").set_value("loyaliteit").run()
    assert not at.exception
    assert _listed(at) == {"a-medewerker", "b-leiding"}  # B versus A: the same cases


def test_session_role_filter_and_both_together(session) -> None:
    at = session
    at.multiselect(key="session_filter_roles").select("leidinggevende").run()
    assert _listed(at) == {"b-leiding", "c-leiding"}
    at.selectbox(key="session_filter_tension_a").set_value("transparantie").run()
    at.selectbox(key="session_filter_tension_b").set_value("loyaliteit").run()
    assert _listed(at) == {"b-leiding"}


def test_session_preview_hides_what_prevailed_until_revealed(session) -> None:
    at = session
    at.selectbox(key="session_case").set_value("b-leiding").run()
    spec = at.get("graphviz_chart")[0].proto.spec
    assert "Transparantie" in spec and "woog zwaarder" not in spec
    assert not [box for box in at.checkbox if box.key.startswith("forcefield_fact_")]
    at.toggle(key="session_reveal_b-leiding").set_value(True).run()
    assert not at.exception
    shown = re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in at.markdown))  # escapes undone
    assert "Transparantie ⟷ Loyaliteit: Transparantie woog zwaarder" in shown
    assert [box for box in at.checkbox if box.key.startswith("forcefield_fact_")]
