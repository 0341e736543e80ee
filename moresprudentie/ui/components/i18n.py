"""UI text in Dutch (default) and English, from one file: `strings.yaml`.

Every key there is a leaf `{nl: ..., en: ...}` so both languages of a text sit side by side and a
missing translation is caught by a test rather than by a user. The chosen language lives in
`st.session_state` (per browser session) and can be preset with `?lang=en`.
"""

from __future__ import annotations

from contextlib import suppress
from functools import cache
from importlib import resources
from typing import Any

import streamlit as st
import yaml
from streamlit.errors import StreamlitAPIException

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
STATE_KEY = "lang"
PARAM = "lang"  # ?lang=en in the address (ui/app.py keeps it there while the session reads English)


@cache
def strings() -> dict[str, Any]:
    """The parsed strings.yaml: nested sections whose leaves are {nl: ..., en: ...}."""
    source = resources.files("moresprudentie.ui.components").joinpath("strings.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(source)


def text(key: str, language: str, **values: Any) -> str:
    """The text for a dotted key ('search.title') in a language, formatted with values.

    With `count=1` a sibling key ending in `_one` wins where there is one ('search.results_one':
    "1 eerder beraad dat … lijkt"), since Dutch and English both put a single thing in the
    singular, verb and all. An unknown key raises KeyError (a programming error, caught by the
    strings test).
    """
    node: Any = strings()
    *path, last = key.split(".")
    for part in path:
        node = node[part]
    node = node[f"{last}_one"] if values.get("count") == 1 and f"{last}_one" in node else node[last]
    if not isinstance(node, dict) or DEFAULT_LANGUAGE not in node:
        raise KeyError(f"strings.yaml: '{key}' is a section, not a text with nl/en")
    template = node.get(language) or node[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template


def language() -> str:
    """The language of this browser session: chosen in the sidebar, else ?lang=, else Dutch."""
    if STATE_KEY not in st.session_state:
        asked = st.query_params.get(PARAM, DEFAULT_LANGUAGE)
        st.session_state[STATE_KEY] = asked if asked in LANGUAGES else DEFAULT_LANGUAGE
    return st.session_state[STATE_KEY]


def t(key: str, **values: Any) -> str:
    """The text for a key in the session's language."""
    return text(key, language(), **values)


def relabel_choices() -> None:
    """After a language switch, hand every choice widget its own value again, so choices already
    made show in the new language.

    A multiselect or selectbox sends its choices to the browser as their labels, and Streamlit
    sends them again only when the value changes: a theme chosen in Dutch stayed a Dutch chip on an
    English page, beside English options. Setting a value, even to itself, counts as a change.
    Only text and number values are set again (a term, a list of terms, typed text, a slider's
    step such as "60 minuten"): buttons, toggles and uploads hold other values, and Streamlit
    refuses a value for some of them."""
    for key, value in list(st.session_state.items()):
        is_text = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        is_number = isinstance(value, int | float) and not isinstance(value, bool)  # a slider's step
        if key != STATE_KEY and (is_text or is_number):
            with suppress(StreamlitAPIException):
                st.session_state[key] = value
