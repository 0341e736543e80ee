"""Small shared pieces of the pages: inert text, highlights, similarity bands, chips, case links,
result lists and document downloads.

Case text is written by people and must never become live markup: every piece of it goes through
`md()` (the library's escape_markdown: Markdown, HTML, `javascript:` links, LaTeX and Streamlit's
`:directives:` all show as the characters typed; then `inert_links`, so a bare URL or e-mail address
is not turned into a link either) before it reaches st.markdown, and no page passes case or user
text with unsafe_allow_html.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from moresprudentie import dates
from moresprudentie.cases.model import Case, label
from moresprudentie.contacts import Contact, Contacts
from moresprudentie.handout import escape_markdown
from moresprudentie.search import ranking
from moresprudentie.search.engine import Hit
from moresprudentie.search.lexical import tokens
from moresprudentie.search.text import WORD, content_words, sentences
from moresprudentie.ui.components import help_routes, nav
from moresprudentie.ui.components.i18n import language, t

HIGHLIGHT = "orange-background"
EXCERPT_WORDS = 55
EXCERPT_LEAD = 12  # words shown before the first highlighted word
LIST_LIMIT = 50
# Officers work in the Netherlands; the server (often a container) may run in UTC. See moment().
OFFICE_ZONE = "Europe/Amsterdam"
# The colour of each match band (Hit.match: the engine's calibrated bands, docs/evaluation.md).
BAND_COLOURS = {"strong": "green", "fair": "blue", "weak": "gray"}
# Session state: case id → (query, field, passage) for the result list last drawn, so the case page
# can say why a case matched. Session memory only, like the query itself: never in the URL.
MATCHED = "search_matched"

# The marks GFM's autolink-literal pass needs in one piece of text: the ':' of '://', the '.' after
# 'www' and every '@'. In escaped Markdown they appear as '\:', 'www\.' (or 'www.' where a word was
# emitted on its own) and '\@'. Escaped backslashes ('\\') are matched first, so a mark is only taken
# when its backslash really escapes it. `(?<!:color\[)` keeps the pass idempotent: an unescaped
# ':color[' only ever comes from this pass, because escape_markdown escapes every '[' of case text.
_LINK_MARK = re.compile(r"(?P<pair>\\\\)|(?<!:color\[)(?P<mark>\\:(?=//)|\\@|(?i:(?<=www)\\?\.))")
# Streamlit's `color` directive without attributes renders as a bare <span>: the same characters,
# unstyled, but a separate node in the Markdown tree.
_PLAIN = ":color[{}]"


def inert_links(markdown: str) -> str:
    r"""Escaped Markdown in which no bare URL or e-mail address can become a live link.

    Backslash escapes are not enough in the app: Streamlit renders Markdown with remark-gfm, whose
    autolink-literal pass runs on the parsed text, after escapes are resolved, so `https\://x.nl`,
    `www\.x.nl` and `jan\@x.nl` still become links. That pass only looks inside one text node, so
    the mark that makes a link (the ':' of '://', the '.' after 'www', the '@') is put in a node of
    its own: a bare span that shows the same character. Invisible characters are no option: the
    anonymisation check strips them, and they would change what a reader copies.
    """

    def plain(match: re.Match[str]) -> str:
        mark = match["mark"]
        return match["pair"] if mark is None else _PLAIN.format(mark)

    return _LINK_MARK.sub(plain, markdown)


def md(text: str) -> str:
    """Case or user text as inert Markdown for st.markdown and friends (markup, HTML and links)."""
    return inert_links(escape_markdown(text))


def md_inline(text: str) -> str:
    """Like md(), on one line (for labels, list items and quotes)."""
    return md(" ".join(str(text).split()))


def _matches(word: str, stems: set[str], language_code: str) -> bool:
    return len(word) > 2 and bool(stems) and any(stem in stems for stem in tokens(word, language_code))


def excerpt(text: str, query: str, language_code: str) -> str:
    """Up to EXCERPT_WORDS words of text around the first query word, with query words highlighted.

    Words match on their stem in the case's language, so 'geschenk' lights up 'geschenken'. The
    result is inert Markdown (the words themselves are letters only; everything else is escaped).
    """
    stems = set(tokens(query, language_code))
    words = " ".join(text.split()).split(" ")
    hits = (i for i, word in enumerate(words) if any(_matches(w, stems, language_code) for w in WORD.findall(word)))
    first = next(hits, 0)
    start = max(0, first - EXCERPT_LEAD)
    window = words[start : start + EXCERPT_WORDS]
    marked = " ".join(_highlight_word(word, stems, language_code) for word in window)
    # Words and marks are escaped piece by piece, so 'www' and its '.' only meet here.
    return inert_links(("… " if start else "") + marked + (" …" if start + EXCERPT_WORDS < len(words) else ""))


def _highlight_word(token: str, stems: set[str], language_code: str) -> str:
    parts, last = [], 0
    for match in WORD.finditer(token):
        parts.append(md_inline(token[last : match.start()]))
        word = match.group()
        parts.append(f":{HIGHLIGHT}[{word}]" if _matches(word, stems, language_code) else word)
        last = match.end()
    parts.append(md_inline(token[last:]))
    return "".join(parts)


def band_badge(match: str) -> str:
    """The hit's match band as a badge: people read 'strong match', not 0.62."""
    return f":{BAND_COLOURS[match]}-badge[{t(f'search.band.{match}')}]"


def chips(kind: str, terms: list[str], colour: str = "blue") -> str:
    """Vocabulary terms as badge chips, labelled in the UI language."""
    return " ".join(f":{colour}-badge[{md_inline(label(kind, term, language()))}]" for term in terms)


def first_sentences(text: str, count: int = 2, limit: int = 260) -> str:
    """The first sentences of a text, cut at a word boundary if still too long."""
    short = " ".join(sentences(" ".join(text.split()))[:count])
    return short if len(short) <= limit else short[:limit].rsplit(" ", 1)[0] + " …"


def period(date: str) -> str:
    """'2024-03' → 'maart 2024' (or 'March 2024') in the session's language; a bare year stays a year."""
    return dates.period(date, language())


@cache
def _office_zone() -> dt.tzinfo | None:
    """Europe/Amsterdam; None (the server's own zone) only where no time zone data is installed."""
    try:
        return ZoneInfo(OFFICE_ZONE)
    except ZoneInfoNotFoundError:
        return None


def moment(timestamp: str, lang: str | None = None) -> str:
    """'2026-12-04T20:45:00+00:00' → '4 december 2026, 21:45' (in English '4 December 2026, 21:45').

    The audit log keeps UTC (ISO 8601), so one log reads the same on any server. People read it on
    Dutch clocks: the officers are in the Netherlands, and a server's own zone is often UTC (a
    container), so every time is shown in Europe/Amsterdam, summer time included, whatever the
    server's zone. A time without an offset counts as UTC; text that is not a time is shown as is.
    `lang` defaults to the session's language.
    """
    try:
        when = dt.datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return timestamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(_office_zone())
    month = dates.month_name(local.month, lang or language())
    return f"{local.day} {month} {local.year}, {local:%H:%M}"


def meta_line(case: Case) -> str:
    """Organisation · period · method · duration · language, as inert Markdown."""
    lang = language()
    parts = [
        label("organisations", case.organisation, lang) if case.organisation else None,
        period(case.date),
        label("methods", case.method, lang) if case.method else None,
        t("case.minutes", minutes=case.duration_minutes) if case.duration_minutes else None,
        t(f"languages.{case.language}"),
    ]
    return " · ".join(md_inline(part) for part in parts if part)


def case_link(case: Case, icon: str | None = None) -> None:
    """A link to the case page (?case=<id>), the title shown as text."""
    st.page_link(nav.CASE.path, label=md_inline(case.title), icon=icon, query_params={"case": case.id})


def _reach(contact: Contact) -> list[str]:
    """The ways to reach a contact as Markdown links; only the file's validated addresses are linked."""
    links = [(contact.email, contact.mailto), (contact.phone, contact.tel), (t("help.more"), contact.url)]
    return [f"[{md_inline(shown)}]({href})" for shown, href in links if shown and href]


def help_block(found: Contacts) -> str:
    """'Hulp in jouw organisatie' as Markdown: names, roles and descriptions as inert text (md_inline),
    links only to the http(s)://, mailto: and tel: addresses moresprudentie.contacts let through."""
    lang = language()
    lines = [f"**{t('help.heading')}**", ""]
    for contact in found.contacts:
        about = f": {md_inline(contact.description.text(lang))}" if contact.description else ""
        role = md_inline(t(f"help.roles.{contact.role}"))
        lines.append(f"- **{md_inline(contact.name.text(lang))}**, {role}{about} · " + " · ".join(_reach(contact)))
    lines += [f"- [{md_inline(link.label.text(lang))}]({link.url})" for link in found.links]
    return "\n".join(lines)


def with_local_help(markdown: str) -> str:
    """A text that points to "the integrity officer or vertrouwenspersoon", followed by the organisation's
    own help when a contacts file is configured; without one, the text as it is."""
    found = help_routes.contacts()
    return markdown if found is None else f"{markdown}\n\n{help_block(found)}"


def local_help() -> None:
    """The organisation's own help in a box of its own; nothing without a contacts file."""
    found = help_routes.contacts()
    if found is not None:
        with st.container(border=True):
            st.markdown(help_block(found))


def advice_notice() -> None:
    """The calm reminder that a precedent informs and does not bind, and where to get advice (by name,
    when the organisation's contacts are configured)."""
    found = help_routes.contacts()
    notice = t("notice.precedent") if found is None else f"{t('notice.precedent_local')}\n\n{help_block(found)}"
    st.info(notice, icon=":material/balance:")


def hit_card(hit: Hit, query: str | None, compact: bool = False) -> None:
    """A search result: title, similarity band, meta, the judgement in short, values, the match.

    `compact` (for "more like this" beside a case) keeps title, meta and values: the bands are
    measured for typed queries, not for case-to-case likeness, so they are not shown there.
    """
    case = hit.case
    with st.container(border=True):
        if compact:
            case_link(case)
        else:
            left, right = st.columns([4, 1.7], vertical_alignment="center")  # room for "Redelijke overeenkomst"
            with left:
                case_link(case)
            right.markdown(band_badge(hit.match))
        st.caption(meta_line(case))
        if not compact:
            st.markdown(md(first_sentences(case.judgement)))
        st.markdown(chips("values", case.values))
        if query and not compact:
            where = md_inline(t(f"fields.{hit.matched.field}"))
            passage = excerpt(hit.matched.text, query, case.language)
            st.caption(f"{t('search.matched', field=where)}  \n{passage}")
            st.session_state.setdefault(MATCHED, {})[case.id] = (query, hit.matched.field, hit.matched.text)


def hit_list(hits: list[Hit], query: str, *, heading_key: str, no_good_match_key: str, nothing_key: str) -> None:
    """Search results with an honest answer when nothing fits well.

    Good matches come first under `heading_key`; weak ones stay out of sight but within reach (a weak
    match may still help). When only weak ones are found, `no_good_match_key` says plainly that
    nothing here resembles the question (and where to go instead) before they are shown, marked;
    when nothing is found at all, `nothing_key` (or, for a query without a word, a request for
    words). Each page brings its own words.
    """
    st.session_state[MATCHED] = {}  # only this list's matches: an older search explains nothing
    good = [hit for hit in hits if hit.match != "weak"]
    weak = [hit for hit in hits if hit.match == "weak"]
    if good:
        st.subheader(t(heading_key, count=len(good)), anchor=False, help=_bands_help())
        _hit_cards(good, query)
        if weak:
            with st.expander(t("search.more_weak", count=len(weak))):
                _hit_cards(weak, query)
    elif weak:
        st.warning(with_local_help(t(no_good_match_key)), icon=":material/search_off:")
        st.subheader(t("search.weak_results", count=len(weak)), anchor=False, help=_bands_help())
        _hit_cards(weak, query)
    elif not content_words(query):  # "?!?!", "wat nu": the engine answers nothing, and no filter is to blame
        st.info(t("search.no_words"), icon=":material/edit_note:")
    else:
        st.info(t(nothing_key), icon=":material/filter_alt_off:")


def _bands_help() -> str:
    """What the bands mean, as the results heading's help: the thresholds come from the ranking, so
    the words cannot drift from what `match` does."""
    return t("search.bands_help", strong=round(ranking.STRONG * 100), fair=round(ranking.FAIR * 100))


def _hit_cards(hits: list[Hit], query: str) -> None:
    for hit in hits:
        hit_card(hit, query)


def download_pair(
    html: str, markdown: str, file_stem: str, html_label: str, markdown_label: str, *, columns: bool
) -> None:
    """A document as printable HTML (the primary button) and as Markdown: side by side, or stacked.

    on_click="ignore": a download does not rerun the page, so what is on screen stays as it is.
    """
    places = st.columns(2) if columns else (st, st)
    files = (
        (html_label, html, "html", "text/html", ":material/print:", "primary"),
        (markdown_label, markdown, "md", "text/markdown", ":material/description:", "secondary"),
    )
    for place, (name, data, suffix, mime, icon, kind) in zip(places, files, strict=True):
        place.download_button(
            name, data, f"{file_stem}.{suffix}", mime, icon=icon, type=kind, on_click="ignore", width="stretch"
        )


def compact_case(case: Case) -> None:
    """A one-line case entry for lists: link plus meta."""
    with st.container(border=True):
        case_link(case)
        st.caption(meta_line(case))


def case_list(cases: list[Case], limit: int = LIST_LIMIT) -> None:
    """Compact entries for a list of cases, the first `limit` only (a page stays quick at any size)."""
    for case in cases[:limit]:
        compact_case(case)
    if len(cases) > limit:
        st.caption(t("search.list_limit", shown=limit, count=len(cases)))


def uploaded_file(key: str) -> UploadedFile | None:
    """The file a st.file_uploader (one file) holds, or None; for its on_change callback.

    The widget state names the file by id only. When the server no longer holds that file (the
    session's uploads were cleared, the server restarted, or a client named an id it never
    uploaded), session_state holds a placeholder without name or contents instead, and reading it
    crashes the callback. That case gets a calm toast and None: nothing else happens.
    """
    value = st.session_state.get(key)
    if value is None or isinstance(value, UploadedFile):
        return value
    st.toast(t("app.upload_gone"), icon=":material/cloud_off:")
    return None
