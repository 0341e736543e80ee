"""Begrippen: the ideas behind moresprudentie in a few words each, with published cases that show them.

Texts and rules are data (components/concepts.yaml); each concept lists a few published cases
chosen by its declared rule (in the reader's language first), and says the rule in words, so a reader can see why a case is there.
The texts are our own words; the essay the idea comes from is cited at the bottom.
"""

import streamlit as st

from moresprudentie.cases.forcefield import VALUE_SYSTEMS
from moresprudentie.cases.model import NORM_SOURCES, label, value_system, vocabulary
from moresprudentie.ui.components import concepts, resources, widgets
from moresprudentie.ui.components.i18n import language, t

TWO_SYSTEMS = VALUE_SYSTEMS[:2]  # ondernemend, bureaucratisch: "overig" is no system of its own


def _value_systems(lang: str) -> None:
    """The values of the two systems, straight from the vocabulary."""
    columns = st.columns(len(TWO_SYSTEMS))
    for column, system in zip(columns, TWO_SYSTEMS, strict=True):
        values = sorted(
            (term for term in vocabulary()["values"] if value_system(term) == system),
            key=lambda term: label("values", term, lang).casefold(),
        )
        column.markdown(f"**{label('value_systems', system, lang)}**")
        column.markdown(widgets.chips("values", values, "violet" if system == "ondernemend" else "blue"))


def _norm_sources(lang: str) -> None:
    st.markdown(
        "\n".join(
            f"- **{label('norm_sources', source, lang)}**: {concepts.source_explanation(source, lang)}"
            for source in NORM_SOURCES
        )
    )


SHOW = {"value_systems": _value_systems, "norm_sources": _norm_sources}


def _concept(concept: concepts.Concept, examples: list, lang: str) -> None:
    with st.container(border=True, key=f"concept-{concept.id}"):
        st.subheader(concepts.localised(concept.title, lang), anchor=concept.id)
        text, cases = st.columns([3, 2], gap="large")
        with text:
            st.markdown(concepts.localised(concept.text, lang))
            if concept.show:
                SHOW[concept.show](lang)
        with cases:
            st.markdown(f"**{t('concepts.examples')}**")
            if examples:
                for case in examples:
                    widgets.case_link(case, icon=":material/article:")
            else:
                st.caption(t("concepts.no_examples"))
            st.caption(t("concepts.because", rule=concepts.localised(concept.because, lang)))


lang = language()
engine = resources.engine()
# Newest first, and cases in the reader's language before the others (sorting is stable).
published = sorted(resources.published(engine), key=lambda case: case.language != lang)
every = concepts.concepts()
chosen = concepts.all_examples(every, published)
st.title(t("concepts.title"), anchor=False)
st.caption(t("concepts.intro"))
with st.expander(t("concepts.contents"), icon=":material/toc:"):
    st.markdown("\n".join(f"- [{concepts.localised(c.title, lang)}](#{c.id})" for c in every))
for concept in every:
    _concept(concept, chosen[concept.id], lang)
st.divider()
st.caption(t("concepts.citation"))
