"""Moresprudentie in the browser: the router over the page scripts in `ui/views/`.

`moresprudentie app` runs this file from the installed package (so no checkout is needed); the
top-level app.py of a checkout is a shim that calls main(). Each page is a small script; this file
only builds the navigation, the sidebar language switch, and the deep links (?q=… opens a search,
?case=<id> opens a case). Streamlit's settings sit beside it in `.streamlit/config.toml`, where
Streamlit looks for a script-level config. The page scripts are in `views/`, not `pages/`: Streamlit
treats a `pages/` folder beside the main script as its older multipage mode, which then drops the
sidebar's widget state (the language switch) on every rerun.
"""

import streamlit as st

from moresprudentie.ui.components import auth, nav
from moresprudentie.ui.components.i18n import LANGUAGES, STATE_KEY, language, t


def _page(spec: nav.PageSpec) -> st.Page:
    return st.Page(
        spec.path,
        title=t(spec.title_key),
        icon=spec.icon,
        url_path=spec.url_path,
        default=spec is nav.SEARCH,
        visibility="hidden" if spec.hidden else "visible",
    )


def main() -> None:
    """Draw one run of the app: the navigation, then the chosen page."""
    st.set_page_config(page_title="Moresprudentie", page_icon="⚖️", layout="wide")
    # Static styling only (no case or user text ever goes into HTML): case titles read as titles.
    st.html(
        "<style>"
        "[data-testid='stPageLink'] a p {font-size: 1.08rem; font-weight: 600; color: #1f4e79;}"
        "[data-testid='stPageLink-NavLink'] {height: auto;}"
        "[data-testid='stPageLink-NavLink']:not(:hover) {background-color: transparent;}"
        "[data-testid='stPageLink-NavLink'] :is(span, div, p) {white-space: normal; overflow: visible;}"
        "[data-testid='stMainBlockContainer'] {max-width: 1200px; padding-top: 2.5rem;}"
        "</style>"
    )

    language()  # settle the session's language (from ?lang=) before any text is drawn
    pages = {spec: _page(spec) for spec in nav.PAGES}
    sections: dict[str, list[st.Page]] = {}
    for spec, page in pages.items():
        sections.setdefault(t(f"nav.sections.{spec.section}"), []).append(page)
    current = st.navigation(sections)
    auth.show_account()  # the trial-mode banner on every page; login / logout in the sidebar

    with st.sidebar:
        st.segmented_control(
            t("app.language"), LANGUAGES, key=STATE_KEY, format_func=str.upper, required=True, width="stretch"
        )

    if current is pages[nav.SEARCH] and st.query_params.get("case"):
        st.switch_page(pages[nav.CASE], query_params={"case": st.query_params["case"]})
    current.run()


if __name__ == "__main__":  # Streamlit runs the main script as __main__
    main()
