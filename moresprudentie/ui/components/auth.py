"""Who is using the app: Streamlit's OIDC login, the officer role, and the local trial mode.

- Login is Streamlit's own (`st.login` / `st.user`), configured by an [auth] section in
  `.streamlit/secrets.toml`; the officers are listed in the same file under
  [moresprudentie] officers = [...] (their login e-mail addresses). See docs/deployment.md.
- Without a login configuration the app is read-only: the officer pages explain how to enable them.
- Trial mode (MORESPRUDENTIE_TRIAL_OFFICER=1) makes every visitor an officer, so it is honoured only
  when the server is bound to localhost, and a banner says so on every page. Trial users pick one of
  two trial names, so the four-eyes rule can be tried out alone.

The role is checked again inside every library write; hiding controls here is only courtesy.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from moresprudentie.errors import UsageError
from moresprudentie.review.roles import OFFICER, Actor, actor_for, officers_from_config
from moresprudentie.ui.components.i18n import t

TRIAL_ENV = "MORESPRUDENTIE_TRIAL_OFFICER"
LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
TRIAL_NAMES = ("proef-functionaris-1", "proef-functionaris-2")
TRIAL_KEY = "trial_officer"


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets.toml at all: no login, no officers
        return {}


def login_configured() -> bool:
    return "auth" in _secrets()


def server_is_local() -> bool:
    return str(st.get_option("server.address") or "") in LOCAL_ADDRESSES


def _request_headers() -> dict[str, str]:
    return {key.lower(): value for key, value in (st.context.headers or {}).items()}


def request_is_local() -> bool:
    """A request relayed by a proxy, or addressed to a public host name, is not from this machine.

    A server bound to 127.0.0.1 can still be published by a reverse proxy on the same host; the
    proxy's forwarding headers (or a non-local Host) give that away.
    """
    headers = _request_headers()
    if any(name in headers for name in FORWARDING_HEADERS):
        return False
    host = headers.get("host", "")
    host = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    return host in LOCAL_ADDRESSES or host == ""


def trial_requested() -> bool:
    return os.environ.get(TRIAL_ENV, "").strip() == "1"


def trial_active() -> bool:
    """Trial mode counts only on a server that nobody else can reach, for a request from this machine."""
    return trial_requested() and server_is_local() and request_is_local()


def current_actor() -> Actor | None:
    """The logged-in user (officer or not), a trial officer, or None for an anonymous visitor."""
    if trial_active():
        name = st.session_state.get(TRIAL_KEY, TRIAL_NAMES[0])
        return Actor(name if name in TRIAL_NAMES else TRIAL_NAMES[0], frozenset({OFFICER}))
    user = st.user.to_dict()
    if not login_configured() or user.get("is_logged_in") is not True:
        return None
    return actor_for(str(user.get("email") or ""), officers_from_config(_secrets()))


def show_account() -> None:
    """For app.py, on every page: the trial banner, and login / logout or the trial name in the sidebar."""
    if trial_active():
        st.warning(t("auth.trial_banner"), icon=":material/science:")
    with st.sidebar:
        if trial_active():
            st.selectbox(t("auth.trial_name"), TRIAL_NAMES, key=TRIAL_KEY, help=t("auth.trial_name_help"))
        elif login_configured():
            if st.user.to_dict().get("is_logged_in") is True:
                st.caption(t("auth.logged_in_as", name=str(st.user.to_dict().get("email") or "")))
                st.button(t("auth.logout"), on_click=st.logout, icon=":material/logout:")
            else:
                st.button(t("auth.login"), on_click=st.login, icon=":material/login:")


def officer_or_stop() -> Actor:
    """The officer using an officer page; anyone else gets a calm explanation and no controls."""
    try:
        actor = current_actor()
    except UsageError as exc:  # a broken officers list in secrets.toml
        st.error(t("auth.config_error", reason=str(exc)), icon=":material/error:")
        st.stop()
    if actor is not None and actor.is_officer:
        return actor
    if trial_requested() and not trial_active():
        address = str(st.get_option("server.address") or t("auth.all_addresses"))
        st.warning(t("auth.trial_refused", address=address), icon=":material/gpp_bad:")
    if actor is not None:
        st.info(t("auth.not_officer", name=actor.name), icon=":material/lock:")
    elif login_configured():
        st.info(t("auth.please_login"), icon=":material/lock:")
        st.button(t("auth.login"), on_click=st.login, icon=":material/login:", key="login_on_page", type="primary")
    else:
        st.info(t("auth.read_only"), icon=":material/lock:")
    st.stop()
