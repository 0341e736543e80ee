"""Casus toevoegen (officers only): a placeholder until the draft → review → publish pages land."""

import streamlit as st

from moresprudentie.ui.i18n import t

st.title(t("nav.add_case"))
st.info(t("placeholder.officers_only"), icon=":material/lock:")
