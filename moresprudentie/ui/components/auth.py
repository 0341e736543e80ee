"""Who is using the app: Streamlit's OIDC login, the officer role, and the local trial mode.

- Login is Streamlit's own (`st.login` / `st.user`), configured by an [auth] section in
  `.streamlit/secrets.toml`; the officers are listed in the same file under
  [moresprudentie] officers = [...] (their login e-mail addresses). See docs/deployment.md.
- Without a login configuration the app is read-only. An officer page tells anyone who is not an
  officer, in plain words, whom the page is for, how an officer logs in and whom to contact; how to
  set up login is for administrators, so it is folded away under "Voor beheerders" rather than
  put before every civil servant who wanders onto the page.
- Trial mode (MORESPRUDENTIE_TRIAL_OFFICER=1) makes a visitor an officer, so it fails closed: it is
  honoured only for a request that proves it comes from this machine's own browser (see
  `trial_decision`), and a banner says so on every page. Trial users pick one of two trial names, so
  the four-eyes rule can be tried out alone.

The role is checked again inside every library write; hiding controls here is only courtesy.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from moresprudentie import settings
from moresprudentie.errors import UsageError
from moresprudentie.review.roles import OFFICER, Actor, actor_for, officers_from_config
from moresprudentie.ui.components import nav, widgets
from moresprudentie.ui.components.i18n import t

TRIAL_ENV = settings.TRIAL_ENV
TRIAL_TOKEN_ENV = settings.TRIAL_TOKEN_ENV
TOKEN_PARAM = settings.TRIAL_TOKEN_PARAM  # the start-up URL carries ?token=…, as Jupyter's does
MIN_TOKEN_CHARS = 32  # a shorter (hand-made) token is refused: it could be guessed
LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})
TRIAL_NAMES = ("proef-functionaris-1", "proef-functionaris-2")
TRIAL_KEY = "trial_officer"
PROOF_KEY = "_trial_token_proof"  # the token this session proved, compared again on every run

# The exact authorities a browser on this machine sends for a server on `port`: lower-case, no
# userinfo, no path, nothing after the port. Anything else (`localhost:evil.example`,
# `127.0.0.1:1@evil.example`, a public name) is not this machine.
_LOCAL_AUTHORITY = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):(?P<port>[1-9][0-9]{0,4})")
_LOCAL_ORIGIN = re.compile(r"https?://(?P<authority>[^/?#\s]+)")
# A header whose name suggests a relay: X-Forwarded-*, Forwarded, Via, X-Real-IP, any *-Client-IP,
# CF-Connecting-IP, X-Original-*, and the CDN and cloud load-balancer families. No browser sends
# any of them to a page on 127.0.0.1, so refusing too many costs nothing and missing one costs all.
_FORWARDING_NAME = re.compile(
    r"forward|^via$|real-?ip|client-?ip|connecting-?ip|remote-?(?:addr|ip|host|user)|^x-original-|"
    r"^x-host$|^x-proxy|proxy-|^x-client-|^x-cluster-|^cf-|^fastly-|^akamai-|^x-akamai|^x-amzn-|"
    r"^x-azure-|^x-arr-|^x-appengine-|^x-envoy-|^x-nginx|^cdn-loop$|^x-url-scheme$|^x-scheme$|"
    r"^front-end-https$|^x-iis-|^x-cache|^x-vercel-|^x-nf-|^x-goog-|^x-cloud-trace",
    re.IGNORECASE,
)


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets.toml at all: no login, no officers
        return {}


def login_configured() -> bool:
    return "auth" in _secrets()


def server_is_local() -> bool:
    return str(st.get_option("server.address") or "") in LOCAL_ADDRESSES


def server_port() -> int:
    return int(st.get_option("server.port"))


def _request_headers() -> list[tuple[str, str]]:
    """Every header of this session's websocket handshake, each repeat kept (a repeat is not hidden)."""
    headers = st.context.headers
    return [(name, value) for name in headers for value in headers.get_all(name)]


def forwarding_headers(names: Iterable[str]) -> list[str]:
    """The header names that give away a relay (a reverse proxy, a CDN, a tunnel)."""
    return [name for name in names if _FORWARDING_NAME.search(name.strip())]


def local_authority(authority: str, port: int) -> bool:
    """`authority` is exactly this machine at `port`, as a browser writes it in Host or Origin."""
    match = _LOCAL_AUTHORITY.fullmatch(authority)
    return match is not None and int(match["port"]) == port


def token_matches(given: object, expected: str | None) -> bool:
    """Constant-time comparison; no token configured, or a short one, never matches."""
    if not isinstance(given, str) or not expected or len(expected) < MIN_TOKEN_CHARS:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


NO_TOKEN = "no valid start-up token"  # noqa: S105 - a reason, not a secret; the one refusal the person at the keyboard can fix: open the printed link


@dataclass(frozen=True)
class TrialDecision:
    granted: bool
    reason: str  # for the log and the tests; never shown with the token in it


def trial_decision(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], token: object, expected_token: str | None, port: int
) -> TrialDecision:
    """May this request have trial officer powers? Pure, so each bypass is tested on its own.

    All of these must hold, because each alone has been dodged:
    - the token printed at start-up matches (a cross-site page or frame, another local user's
      browser tab on a forwarded port, or a proxy's visitor cannot know it);
    - exactly one Host, exactly this machine at the server's port;
    - exactly one Origin, the same authority as Host (a page from another local port is another
      origin: another app on this machine must not drive this one);
    - no header of any kind that suggests a relay (a proxy may rewrite Host to 127.0.0.1 and add
      only one of these, or none: that is why the token is needed too).
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs = [(str(name).strip().lower(), str(value)) for name, value in items]
    relayed = forwarding_headers(name for name, _ in pairs)
    if relayed:
        return TrialDecision(False, f"forwarding header: {relayed[0]}")
    hosts = [value for name, value in pairs if name == "host"]
    if len(hosts) != 1 or not local_authority(hosts[0], port):
        return TrialDecision(False, "Host is not exactly this machine")
    origins = [value for name, value in pairs if name == "origin"]
    origin = _LOCAL_ORIGIN.fullmatch(origins[0]) if len(origins) == 1 else None
    if origin is None or origin["authority"] != hosts[0]:
        return TrialDecision(False, "Origin is not this app on this machine")
    if not token_matches(token, expected_token):
        return TrialDecision(False, NO_TOKEN)
    return TrialDecision(True, "local browser with the start-up token")


def trial_requested() -> bool:
    return os.environ.get(TRIAL_ENV, "").strip() == "1"


def _session_token() -> object:
    """The token this session proved earlier, or the one in the URL (then moved out of the URL).

    The token leaves the address bar once proved, so it is not in a screenshot, a bookmark or a
    link copied to a colleague; the session keeps it and it is checked again on every run.
    """
    given = st.query_params.get(TOKEN_PARAM)
    if given is not None:
        del st.query_params[TOKEN_PARAM]
        if token_matches(given, os.environ.get(TRIAL_TOKEN_ENV)):
            st.session_state[PROOF_KEY] = given
    proved = st.session_state.get(PROOF_KEY)
    return proved if isinstance(proved, str) else given


def trial_active() -> bool:
    """Trial mode counts only on a server nobody else can reach, for a request proved to be local."""
    decision = _trial()
    return decision is not None and decision.granted


def _trial() -> TrialDecision | None:
    """This request's trial decision, None when trial mode was not asked for."""
    if not trial_requested():
        return None
    if not server_is_local():
        return TrialDecision(False, "the server is not on 127.0.0.1 only")
    token = _session_token()
    decision = trial_decision(_request_headers(), token, os.environ.get(TRIAL_TOKEN_ENV), server_port())
    if not decision.granted:
        st.session_state.pop(PROOF_KEY, None)
    return decision


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
    trial = _trial()
    if trial is not None and trial.reason == NO_TOKEN:  # a reload, or the address without the link's token
        st.warning(t("auth.trial_no_token"), icon=":material/key:")
    elif trial is not None and not trial.granted:
        address = str(st.get_option("server.address") or t("auth.all_addresses"))
        st.warning(t("auth.trial_refused", address=address), icon=":material/gpp_bad:")
    _not_for_you(actor, trial)
    st.stop()


def _not_for_you(actor: Actor | None, trial: TrialDecision | None) -> None:
    """What an officer page says to a visitor or a logged-in colleague without the officer role.

    Whom the page is for, how an officer gets in (the login button, when login is configured),
    whom to contact and what anyone can do instead. The administrator's part (secrets.toml, the
    deployment guide, trial mode) only where an administrator has something to do, and folded.
    """
    admin = None
    if actor is not None:
        st.info(f"{t('auth.for_officers')}\n\n{t('auth.not_officer', name=actor.name)}", icon=":material/lock:")
        admin = "auth.admin_role"
    elif trial is not None:  # the warning above says what to do; "start in trial mode" would only confuse
        pass
    elif login_configured():
        st.info(f"{t('auth.for_officers')}\n\n{t('auth.please_login')}", icon=":material/lock:")
        st.button(t("auth.login"), on_click=st.login, icon=":material/login:", key="login_on_page", type="primary")
    else:
        st.info(f"{t('auth.for_officers')}\n\n{t('auth.no_login')}", icon=":material/lock:")
        admin = "auth.admin_setup"
    st.markdown(widgets.with_local_help(t("auth.contact")))
    st.markdown(t("auth.anyone"))
    for page in (nav.SEARCH, nav.WEIGH, nav.SESSION):
        st.page_link(page.path, label=t(page.title_key), icon=page.icon)
    if admin is not None:
        with st.expander(t(f"{admin}_title"), icon=":material/admin_panel_settings:"):
            st.markdown(t(admin))
