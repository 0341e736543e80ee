"""Moresprudentie in the browser: the router over the page scripts in `ui/views/`.

`moresprudentie app` runs this file from the installed package (so no checkout is needed); the
top-level app.py of a checkout is a shim that calls main(). Each page is a small script; this file
only builds the navigation, the sidebar language switch, and the deep links (?q=… opens a search,
?case=<id> opens a case). Streamlit's settings sit beside it in `.streamlit/config.toml`, where
Streamlit looks for a script-level config. The page scripts are in `views/`, not `pages/`: Streamlit
treats a `pages/` folder beside the main script as its older multipage mode, which then drops the
sidebar's widget state (the language switch) on every rerun.

Every run also tells the browser what a screen reader and a tab bar need: the page's language (Streamlit
always writes `<html lang="en">`) and a title per page (`_page_language`, `_tab_title`).

`serve()` is how `moresprudentie app` starts Streamlit: the same as `streamlit run`, minus three
levers an anonymous client had on the whole server (`no_external_ip_lookup`, `no_metrics_endpoint`,
`cap_uploads_per_session`).
"""

import sys

import streamlit as st

from moresprudentie.ui.components import auth, nav, resources
from moresprudentie.ui.components.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    PARAM,
    STATE_KEY,
    language,
    relabel_choices,
    t,
)


def _page(spec: nav.PageSpec) -> st.Page:
    return st.Page(
        spec.path,
        title=t(spec.title_key),
        icon=spec.icon,
        url_path=spec.url_path,
        default=spec is nav.SEARCH,
        visibility="hidden" if spec.hidden else "visible",
    )


def _style() -> str:
    """Static styling only (no case or user text ever goes into HTML): case titles read as titles; a
    checkbox's label (a decisive fact) and a text button's caption wrap instead of being cut; a wide
    chart scrolls within its column; a phone's header leaves the page's first line free; and the file
    uploader's button speaks the UI language. Streamlit's frontend writes "Upload" and "1MB per file •
    TXT" in English with no way to translate them, so the button's text is replaced by our own label
    and the English size line is hidden: each uploader's help text gives the limit."""
    button = "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p"
    upload = t("app.upload_button").replace("\\", "").replace('"', "")
    return (
        "<style>"
        "[data-testid='stPageLink'] a p {font-size: 1.08rem; font-weight: 600; color: #1f4e79;}"
        "[data-testid='stPageLink-NavLink'] {height: auto;}"
        "[data-testid='stPageLink-NavLink']:not(:hover) {background-color: transparent;}"
        "[data-testid='stPageLink-NavLink'] :is(span, div, p) {white-space: normal; overflow: visible;}"
        "[data-testid='stMainBlockContainer'] {max-width: 1200px; padding-top: 2.5rem;}"
        # Streamlit cuts a checkbox's label and a text button's caption to one line ("…"); a decisive
        # fact is a sentence, and a tension in the overview a line of figures
        "[data-testid='stCheckbox'] [data-testid='stWidgetLabel'] :is(div, p), "
        "[data-testid='stBaseButton-tertiary'] :is(div, p) "
        "{white-space: normal; overflow: visible; text-overflow: clip; text-align: left;}"
        # A chart wider than its column (the tension heat map, 30 values across) scrolls on its own
        # instead of making the whole page scroll sideways on a phone
        "[data-testid='stFullScreenFrame']:has([data-testid='stVegaLiteChart']) {overflow-x: auto;}"
        # On a phone Streamlit's header (3.75rem, with the menu and toolbar) covers the page's first
        # line, such as "Terug naar zoeken": start the page below it.
        "@media (max-width: 640px) {[data-testid='stMainBlockContainer'] {padding-top: 4.5rem;}}"
        f"{button} {{font-size: 0;}}"
        f'{button}::after {{content: "{upload}"; font-size: 0.875rem;}}'
        "[data-testid='stFileUploaderDropzoneInstructions'] {display: none;}"
        f"{_ACCESSIBLE_STYLE}"
        "</style>"
    )


INK_MUTED = "#52606d"  # the force field's muted grey: 6.4:1 on white, 5.9:1 on the sidebar's #f3f6f9
FOCUS = "#1f4e79"  # the theme's primary colour

# WCAG 2.4.7 (focus visible) and 1.4.3 (contrast), which Streamlit's defaults miss:
# - a link that has keyboard focus shows nothing (page links, such as a search result's title, and
#   markdown links have outline "none"; the sidebar's navigation only a faint grey fill, which the
#   style above takes away from page links). A 2px ring in the primary colour, set off by 2px, on
#   every link, button and expander header; only for keyboard focus (:focus-visible), so a mouse
#   click draws none.
# - a caption (a result's metadata line, "Gevonden in", subtitles, the privacy note) is the text
#   colour at opacity 0.6: 4.1:1 on white and 3.9:1 in the sidebar, where AA asks 4.5:1.
_ACCESSIBLE_STYLE = (
    "[data-testid='stApp'] :is(a, button, summary, [role='button'], [role='tab']):focus-visible "
    f"{{outline: 2px solid {FOCUS}; outline-offset: 2px;}}"
    f"[data-testid='stCaptionContainer'] {{opacity: 1; color: {INK_MUTED};}}"
    # the page-language script's element (_page_language) shows nothing and takes no room
    "[data-testid='stElementContainer']:has(> [data-testid='stHtml'] > script[data-page-language]) "
    "{display: none;}"
)


PAGE_LANGUAGE_SCRIPT = 'document.documentElement.lang = "{language}";'


def _page_language() -> str:
    """A script that sets `<html lang>` to the session's language.

    Streamlit's page is always `<html lang="en">`, with no setting to change it, so a screen reader
    read the Dutch interface with an English voice (WCAG 3.1.1). The script runs in the page itself
    (st.html with JavaScript, not in a component's frame) and again only when its text changes, that
    is when the language does. It is a fixed text with one of two language codes: no case or user
    text, so a Content-Security-Policy with script-src can allow it by its two hashes, which
    docs/deployment.md gives (the example proxy sets no script-src; tests/e2e/test_reverse_proxy.py
    runs a browser through it)."""
    chosen = language()
    return f'<script data-page-language="{chosen}">{PAGE_LANGUAGE_SCRIPT.format(language=chosen)}</script>'


def _tab_title(page: st.Page) -> str:
    """The browser tab's title: the page, then the app ("Zoeken · Moresprudentie"), so tabs and the
    history tell pages apart and a screen reader announces where a link led (WCAG 2.4.2)."""
    return f"{page.title} · {t('app.name')}"


def main() -> None:
    """Draw one run of the app: the navigation, then the chosen page."""
    st.set_page_config(page_icon="⚖️", layout="wide")
    no_external_ip_lookup()  # done by `moresprudentie app` at start; for `streamlit run` after a first run
    cap_uploads_per_session()
    language()  # settle the session's language (from ?lang=) before any text is drawn
    st.html(_style())
    st.html(_page_language(), unsafe_allow_javascript=True)

    pages = {spec: _page(spec) for spec in nav.PAGES}
    sections: dict[str, list[st.Page]] = {}
    for spec, page in pages.items():
        sections.setdefault(t(f"nav.sections.{spec.section}"), []).append(page)
    current = st.navigation(sections)
    st.set_page_config(page_title=_tab_title(current))
    auth.show_account()  # the trial-mode banner on every page; login / logout in the sidebar
    resources.store_banner()  # read-only while a shared database cannot be reached

    with st.sidebar:
        st.segmented_control(
            t("app.language"),
            LANGUAGES,
            key=STATE_KEY,
            format_func=str.upper,
            required=True,
            width="stretch",
            on_change=relabel_choices,
        )
    _language_in_address()

    if current is pages[nav.SEARCH] and st.query_params.get("case"):
        st.switch_page(pages[nav.CASE], query_params={"case": st.query_params["case"]})
    current.run()


def _language_in_address() -> None:
    """Keep `?lang=en` in the address while the session reads English, so a reload or a shared link
    stays in English: the sidebar's choice lives in the session, which a reload starts afresh, and
    Streamlit drops query parameters on every page change. Dutch, the default, needs none."""
    chosen = language()
    if chosen == DEFAULT_LANGUAGE:
        st.query_params.pop(PARAM, None)
    elif st.query_params.get(PARAM) != chosen:
        st.query_params[PARAM] = chosen


def no_external_ip_lookup() -> None:
    """Never ask the internet for this machine's external IP address.

    Streamlit checks a websocket's foreign Origin against, among others, its external IP, which it
    looks up with a blocking HTTP request on the server's event loop (and, when the lookup fails,
    again for the next handshake). Where outbound traffic is dropped, as in most government
    networks, ten handshakes with a made-up Origin froze every user for about 20 s. No config
    option skips that step (streamlit 1.67: `server_util.is_url_from_allowed_origins`), so the
    lookup itself is replaced by "unknown", which Streamlit already handles: such an Origin is
    refused at once. A deployment names its public address in `browser.serverAddress` or
    `server.corsAllowedOrigins` instead (docs/deployment.md).
    """
    from streamlit import net_util

    net_util.get_external_ip = lambda: None


def no_metrics_endpoint() -> None:
    """Serve no /_stcore/metrics: it is public and its cache counters show when the officer pages are
    used (`officer._warm`). Streamlit 1.67 has no option to turn it off, so the route is not built;
    a reverse proxy blocks the path as well (docs/deployment.md). Call before the server starts.
    """
    from streamlit.web.server.starlette import starlette_app

    starlette_app.create_metrics_routes = lambda runtime, base_url: []


SESSION_UPLOAD_BYTES = 3 * 1024 * 1024  # all uploads one session holds: a case file and a saved list fit
UPLOAD_PAGES = (nav.ADD_CASE, nav.SESSION)  # the only pages with a file uploader (a case file; a saved list)


def _page_shows_an_uploader(session_id: str) -> bool:
    """Whether the session's current page is one with a file uploader (st.Page hashes its url_path).

    Without a running server (AppTest runs on a mock runtime) there is no session to ask and no client
    to refuse; tests/e2e/test_upload_cap.py checks the real server refuses."""
    from streamlit.runtime import Runtime
    from streamlit.util import calc_hash

    sessions = getattr(Runtime.instance(), "_session_mgr", None) if Runtime.exists() else None
    if sessions is None:
        return True
    info = sessions.get_active_session_info(session_id)
    return info is not None and info.session.page_script_hash in {calc_hash(page.url_path) for page in UPLOAD_PAGES}


def cap_uploads_per_session() -> None:
    """Refuse an upload from a session whose page shows no uploader (403), and one that would take a
    session past SESSION_UPLOAD_BYTES (413).

    Streamlit 1.67 accepts a PUT for any file id of any live session, uploader on the page or not,
    each up to server.maxUploadSize: one client stored 300 MB in 1.2 s. The session's current page
    says whether an uploader is shown (a client can open such a page, and then the total bounds it).
    """
    from starlette.exceptions import HTTPException
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    add_file = MemoryUploadedFileManager.add_file
    if getattr(add_file, "capped", False):
        return

    def capped_add_file(self: MemoryUploadedFileManager, session_id: str, file) -> None:
        if not _page_shows_an_uploader(session_id):
            raise HTTPException(status_code=403, detail="No file can be uploaded on this page")
        with self._lock:
            held = self.file_storage.get(session_id, {})
            total = sum(len(rec.data) for fid, rec in held.items() if fid != file.file_id)
        if total + len(file.data) > SESSION_UPLOAD_BYTES:
            raise HTTPException(status_code=413, detail="Too much uploaded in this session")
        add_file(self, session_id, file)

    capped_add_file.capped = True  # type: ignore[attr-defined]
    capped_add_file.original = add_file  # type: ignore[attr-defined]
    MemoryUploadedFileManager.add_file = capped_add_file  # type: ignore[method-assign]


def serve(argv: list[str] | None = None) -> None:
    """`streamlit run <argv>` in this process, minus the two public levers above (for `moresprudentie app`).

    Both patch Streamlit internals by name; tests/e2e/test_hardening.py fails if an upgrade moves them.
    """
    from streamlit.web import cli

    no_external_ip_lookup()
    no_metrics_endpoint()
    cap_uploads_per_session()
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="streamlit")


if __name__ == "__main__":  # Streamlit runs the main script as __main__
    main()
