"""The force field of one case, drawn: whose dilemma, the norms around it by source, the values in tension.

Buis & De Boer (2018): a civil servant steers between an entrepreneurial and a bureaucratic value
system, in a field of societal, organisational, professional and personal norms. A list says what
was weighed; a drawing shows where it pulled from, so the case page draws it (Graphviz, rendered in
the browser, no internet needed). Below it, the facts the judgement hinged on as a checklist the
reader holds against their own situation: that is how a precedent is distinguished.

`force_field_dot` is pure (case + words in, DOT text out) so it is tested without Streamlit. Case
text only ever enters the DOT as an escaped, quoted label: ids are generated, never taken from text.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

import streamlit as st

from moresprudentie.cases.forcefield import norms_by_source
from moresprudentie.cases.model import BALANCED, BIDI_CONTROLS, Case, Tension, label, value_system
from moresprudentie.ui.components.charts import SYSTEM_COLOURS
from moresprudentie.ui.components.i18n import language, t
from moresprudentie.ui.components.widgets import md_inline

# Sources drawn above the dilemma, the rest (and norms without a recorded source) below it.
ABOVE = ("maatschappelijk", "organisatorisch")
WRAP = 30  # characters per line in a norm or value box
NORM_LINES = 4  # a longer norm is cut with "…" (the full text is in the text version below the drawing)
CENTRE_LINES = 5
INK, MUTED, LINE, PAPER, PANEL = "#1f2933", "#52606d", "#9aa5b1", "#ffffff", "#f3f6f9"
NAVY = "#1f4e79"
CENTRE = "cluster_centre"
FONT, BOLD = "Helvetica", "Helvetica-Bold"  # Graphviz writes Helvetica-Bold as font-weight="bold" in SVG
# Value nodes are outlined in the colour of their value system (the overview's colours, from charts.py);
# the prevailing one is filled with it.


@dataclass(frozen=True)
class Words:
    """The UI texts the drawing needs, in the reader's language, so the builder itself stays pure."""

    whose: str  # "Wiens dilemma: Leidinggevende" (or its 'not recorded' form)
    tensions: str  # heading of the tension pairs
    prevailed: str  # second line of the value that prevailed
    balanced: str  # the marker between two values when a third way honoured both
    unsourced: str  # heading of norms whose source is not recorded


def dot_text(text: str, width: int = WRAP, lines: int = NORM_LINES) -> str:
    r"""Text as the inside of a quoted DOT label: wrapped, cut, and unable to leave its quotes.

    Inside quotes DOT gives meaning to `"` (ends the string) and `\` (escString: \n, \N, \G …), and
    Graphviz decodes HTML entities in every label, so `&`, `<` and `>` become entities: the label
    shows exactly what was typed, and no raw angle bracket from case text reaches the DOT at all.
    Control and direction characters are dropped; lines are joined with DOT's own `\n`.
    """
    visible = "".join(
        " " if char.isspace() else char
        for char in text
        if char not in BIDI_CONTROLS and (char.isspace() or not unicodedata.category(char).startswith("C"))
    )
    wrapped = textwrap.wrap(" ".join(visible.split()), width, max_lines=lines, placeholder=" …") or [""]
    return r"\n".join(_escape(line) for line in wrapped)


def _escape(line: str) -> str:
    for char, escaped in (("\\", "\\\\"), ('"', '\\"'), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        line = line.replace(char, escaped)
    return line


def _attributes(**values: str | float) -> str:
    """DOT attributes; values are our own constants or labels already made safe by dot_text."""
    return ", ".join(f'{name}="{value}"' for name, value in values.items())


def _source_cluster(number: int, heading: str, texts: list[str], above: bool) -> list[str]:
    """One source of norms as a framed stack of boxes, with one arrow pulling on the dilemma."""
    ids = [f"s{number}n{index}" for index in range(len(texts))]
    lines = [
        f"subgraph cluster_s{number} {{",
        f'  label="{dot_text(heading)}"; style="rounded,filled"; fillcolor="{PANEL}"; color="{LINE}";',
        f'  fontname="{BOLD}"; fontcolor="{INK}"; fontsize=11;',
        *(f'  {node} [label="{dot_text(text)}"];' for node, text in zip(ids, texts, strict=True)),
        *(f"  {first} -> {second} [style=invis];" for first, second in pairwise(ids)),
        "}",
    ]
    if above:
        lines.append(f"{ids[-1]} -> centre [{_attributes(ltail=f'cluster_s{number}', lhead=CENTRE, penwidth=1.4)}];")
    else:
        edge = _attributes(ltail=CENTRE, lhead=f"cluster_s{number}", dir="back", penwidth=1.4)
        lines.append(f"centre -> {ids[0]} [{edge}];")
    return lines


def _value_node(node: str, value: str, tension: Tension, words: Words, language: str, outcome: bool) -> str:
    colour = SYSTEM_COLOURS.get(value_system(value), SYSTEM_COLOURS["overig"])
    text = dot_text(label("values", value, language), lines=2)
    if outcome and tension.prevailed == value:
        attrs = _attributes(
            label=f"{text}\\n{dot_text(words.prevailed, lines=1)}",
            fillcolor=colour,
            color=colour,
            fontcolor=PAPER,
            fontname=BOLD,
            penwidth=2.5,
        )
    else:
        attrs = _attributes(label=text, fillcolor=PAPER, color=colour, fontcolor=INK, penwidth=1.5)
    return f"  {node} [{attrs}];"


def _tension_cluster(case: Case, words: Words, language: str, outcome: bool) -> list[str]:
    """Each tension as 'A ⟷ B' on one row; the value that prevailed filled and marked, or 'in evenwicht'."""
    lines = [
        "subgraph cluster_tensions {",
        f'  label="{dot_text(words.tensions)}"; style="rounded,filled"; fillcolor="{PANEL}"; color="{LINE}";',
        f'  fontname="{BOLD}"; fontcolor="{INK}"; fontsize=11;',
    ]
    for number, tension in enumerate(case.tensions):
        first, second = f"t{number}a", f"t{number}b"
        lines += [
            _value_node(node, value, tension, words, language, outcome)
            for node, value in zip((first, second), tension.between, strict=True)
        ]
        balanced = outcome and tension.prevailed == BALANCED
        marker = f"⟷ {dot_text(words.balanced, lines=1)}" if balanced else "⟷"
        edge = _attributes(label=marker, dir="none", penwidth=2.5 if balanced else 1.2, fontcolor=INK, fontsize=12)
        lines += [f"  {{ rank=same; {first}; {second}; }}", f"  {first} -> {second} [{edge}];"]
        if number:
            lines.append(f"  t{number - 1}a -> {first} [style=invis];")
    lines.append("}")
    edge = _attributes(ltail=CENTRE, lhead="cluster_tensions", style="dashed", dir="none", color=LINE)
    lines.append(f"centre -> t0a [{edge}];")
    return lines


def force_field_dot(case: Case, words: Words, language: str = "nl", outcome: bool = True) -> str:
    """The case's force field as DOT: the dilemma and its role at the centre, societal and
    organisational norms above it, professional and personal ones below, the tensions beside it.

    `outcome=False` (a session that has not yet weighed the case) draws the tension pairs without
    saying which value prevailed.
    """
    lines = [
        "digraph krachtenveld {",
        f"graph [{_attributes(rankdir='TB', newrank='true', compound='true', bgcolor='transparent', nodesep=0.3, ranksep=0.45)}];",
        f"node [{_attributes(shape='box', style='rounded,filled', fillcolor=PAPER, color=LINE, fontcolor=INK, fontname=FONT, fontsize=10, margin='0.12,0.06')}];",
        f"edge [{_attributes(color=MUTED, arrowsize=0.7, fontname=FONT, fontsize=10)}];",
        *_centre(case, words),
    ]
    for number, (source, norms) in enumerate(norms_by_source(case).items()):
        heading = label("norm_sources", source, language) if source else words.unsourced
        lines += _source_cluster(number, heading, [norm.text for norm in norms], above=source in ABOVE)
    if case.tensions:
        lines += _tension_cluster(case, words, language, outcome)
    return "\n".join([*lines, "}"]) + "\n"


def _centre(case: Case, words: Words) -> list[str]:
    """The dilemma in a dark frame headed by whose dilemma it is: what every arrow pulls on."""
    dilemma = _attributes(
        label=dot_text(case.dilemma, width=36, lines=CENTRE_LINES),
        fillcolor=NAVY,
        color=NAVY,
        fontcolor=PAPER,
        fontsize=11,
    )
    return [
        f"subgraph {CENTRE} {{",
        f'  label="{dot_text(words.whose, lines=2)}"; style="rounded,filled"; fillcolor="{NAVY}"; color="{NAVY}";',
        f'  fontname="{BOLD}"; fontcolor="{PAPER}"; fontsize=12;',
        f"  centre [{dilemma}];",
        "}",
    ]


def ui_words(case: Case) -> Words:
    """The drawing's texts in the session's language."""
    lang = language()
    role = label("roles", case.role, lang) if case.role else t("forcefield.role_unknown")
    return Words(
        whose=t("forcefield.whose", role=role),
        tensions=t("forcefield.tensions"),
        prevailed=t("forcefield.prevailed"),
        balanced=t("forcefield.balanced"),
        unsourced=t("forcefield.unsourced"),
    )


def show(case: Case, *, outcome: bool = True) -> None:
    """The Krachtenveld panel: the drawing, its legend and text version, and (with the outcome) the
    decisive facts as a checklist. A case that records no force field gets one calm line."""
    drawn = bool(case.role or case.tensions or case.norms)
    if not drawn and not case.decisive_facts:
        st.caption(t("forcefield.none"))
        return
    if drawn:
        lang = language()
        st.subheader(t("forcefield.title"), anchor=False)
        st.caption(t("forcefield.intro"))
        st.graphviz_chart(force_field_dot(case, ui_words(case), lang, outcome), alt=t("forcefield.alt"))
        if case.tensions:
            st.caption(_legend(outcome))
        with st.expander(t("forcefield.as_text")):
            st.markdown(_as_text(case, outcome))
    if outcome and case.decisive_facts:
        checklist(case)


def _legend(outcome: bool) -> str:
    lang = language()
    systems = {system: label("value_systems", system, lang) for system in SYSTEM_COLOURS}
    legend = t("forcefield.legend", **systems)
    return f"{legend} {t('forcefield.legend_prevailed')}" if outcome else legend


def pair_text(tension: Tension, lang: str) -> str:
    """'Loyaliteit ⟷ Transparantie' in the reader's language (plain text: escape before Markdown)."""
    return " ⟷ ".join(label("values", value, lang) for value in tension.between)


def outcome_text(tension: Tension, lang: str) -> str:
    """What came of one tension: the value that prevailed, or 'in evenwicht'."""
    if tension.prevailed == BALANCED:
        return label("outcomes", BALANCED, lang)
    return t("forcefield.prevailed_value", value=label("values", tension.prevailed, lang))


def _as_text(case: Case, outcome: bool) -> str:
    """The force field as inert Markdown, in full: the drawing cuts long norms, a screen reader reads this."""
    lang = language()
    lines = []
    if case.role:
        lines.append(f"**{md_inline(t('forcefield.whose', role=label('roles', case.role, lang)))}**")
    for source, norms in norms_by_source(case).items():
        heading = label("norm_sources", source, lang) if source else t("forcefield.unsourced")
        lines.append(f"- **{md_inline(heading)}**")
        lines += [f"    - {md_inline(norm.text)}" for norm in norms]
    if case.tensions:
        lines.append(f"- **{md_inline(t('forcefield.tensions'))}**")
        for tension in case.tensions:
            result = f" — {outcome_text(tension, lang)}" if outcome else ""
            lines.append(f"    - {md_inline(pair_text(tension, lang) + result)}")
    return "\n".join(lines)


def checklist(case: Case) -> None:
    """'Dit oordeel hing af van …': one unticked box per decisive fact. What the reader ticks stays in
    this browser tab (session state) and is never stored or sent anywhere."""
    st.subheader(t("forcefield.facts_title"), anchor=False)
    st.caption(t("forcefield.facts_help"))
    held = sum(
        st.checkbox(md_inline(fact), value=False, key=f"forcefield_fact_{case.id}_{number}")
        for number, fact in enumerate(case.decisive_facts)
    )
    if held:
        st.caption(t("forcefield.facts_count", count=held, total=len(case.decisive_facts)))


def revealed(case: Case) -> None:
    """For a session that has just revealed the original judgement: what prevailed, and the facts."""
    lang = language()
    if case.tensions:
        st.subheader(t("forcefield.outcome_title"), anchor=False)
        st.markdown(
            "\n".join(f"- {md_inline(pair_text(x, lang) + ': ' + outcome_text(x, lang))}" for x in case.tensions)
        )
    if case.decisive_facts:
        checklist(case)
