"""UI text in Dutch (default) and English, from one file: `strings.yaml`.

Every key there is a leaf `{nl: ..., en: ...}` so both languages of a text sit side by side and a
missing translation is caught by a test rather than by a user. The chosen language lives in
`st.session_state` (per browser session) and can be preset with `?lang=en`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import streamlit as st
import yaml

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
STATE_KEY = "lang"


@cache
def strings() -> dict[str, Any]:
    """The parsed strings.yaml: nested sections whose leaves are {nl: ..., en: ...}."""
    source = resources.files("moresprudentie.ui.components").joinpath("strings.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(source)


def text(key: str, language: str, **values: Any) -> str:
    """The text for a dotted key ('search.title') in a language, formatted with values.

    An unknown key raises KeyError (a programming error, caught by the strings test).
    """
    node: Any = strings()
    for part in key.split("."):
        node = node[part]
    if not isinstance(node, dict) or DEFAULT_LANGUAGE not in node:
        raise KeyError(f"strings.yaml: '{key}' is a section, not a text with nl/en")
    template = node.get(language) or node[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template


def language() -> str:
    """The language of this browser session: chosen in the sidebar, else ?lang=, else Dutch."""
    if STATE_KEY not in st.session_state:
        asked = st.query_params.get("lang", DEFAULT_LANGUAGE)
        st.session_state[STATE_KEY] = asked if asked in LANGUAGES else DEFAULT_LANGUAGE
    return st.session_state[STATE_KEY]


def t(key: str, **values: Any) -> str:
    """The text for a key in the session's language."""
    return text(key, language(), **values)
