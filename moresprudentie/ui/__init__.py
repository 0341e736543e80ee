"""The Streamlit face of moresprudentie: one small module per page plus shared helpers.

This package is the only part of the project that imports Streamlit. Pages call the library (a
SearchEngine shared read-only per process, see `resources`), take every visible word from
`strings.yaml` through `i18n.t`, and render case text inert through `widgets`.
"""
