"""Trial mode fails closed, and no anonymous client has a lever on the server's shared state.

- `auth.trial_decision` grants trial officer powers only to the local browser that opened the
  start-up link: each bypass found in the red-team (issue 12) is refused on its own;
- the app (AppTest) honours the token from the URL, remembers it for the session and removes it
  from the address bar;
- `moresprudentie app` prints a fresh token and hands it to the server, never one from the caller;
- Streamlit's `clear_cache` (st.cache_resource.clear) no longer reopens the engine;
- a foreign Origin no longer makes Streamlit look up its external IP;
- the shipped Streamlit config keeps the settings this relies on.

The same decisions over the real websocket protocol are in tests/e2e/test_hardening.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from moresprudentie import settings
from moresprudentie.ui.components import auth

PORT = 8765
TOKEN = "k" * 43  # the length of secrets.token_urlsafe(32)
HOST = f"127.0.0.1:{PORT}"
LOCAL = {"host": HOST, "origin": f"http://{HOST}", "user-agent": "Mozilla/5.0", "sec-websocket-version": "13"}
CONFIG = Path(auth.__file__).parent.parent / ".streamlit" / "config.toml"


def decide(headers: dict[str, str] | list[tuple[str, str]], token: object = TOKEN) -> auth.TrialDecision:
    return auth.trial_decision(headers, token, TOKEN, PORT)


# -- the decision ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [HOST, f"localhost:{PORT}", f"[::1]:{PORT}"],
)
def test_the_local_browser_with_the_start_up_token_is_granted(host: str) -> None:
    decision = decide({**LOCAL, "host": host, "origin": f"http://{host}"})
    assert decision.granted, decision.reason


@pytest.mark.parametrize(
    "extra",
    [
        "X-Forwarded-Proto",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Server",
        "X-Forwarded-Port",
        "Forwarded",
        "Via",
        "X-Real-IP",
        "CF-Connecting-IP",
        "True-Client-IP",
        "X-Client-IP",
        "Fastly-Client-IP",
        "X-Cluster-Client-IP",
        "X-Original-Forwarded-For",
        "X-Original-Host",
        "CF-Ray",
        "x-forwarded-proto",  # any case
        "X-FORWARDED-PROTO",
    ],
)
def test_any_forwarding_header_alone_refuses(extra: str) -> None:
    decision = decide({**LOCAL, extra: "https"})
    assert not decision.granted and "forwarding" in decision.reason


@pytest.mark.parametrize(
    "host",
    [
        "localhost:evil.example",
        "127.0.0.1:1@evil.example",
        f"127.0.0.1:{PORT}@evil.example",
        f"user@127.0.0.1:{PORT}",
        f"127.0.0.1:{PORT}/",
        f"127.0.0.1:{PORT}.evil.example",
        f"127.0.0.1:{PORT} ",
        f"127.0.0.1:0{PORT}",
        "127.0.0.1",  # no port: not what a browser sends for a server on PORT
        f"127.0.0.1:{PORT + 1}",
        f"LOCALHOST:{PORT}",
        f"127.1:{PORT}",
        f"::1:{PORT}",
        f"moresprudentie.example.nl:{PORT}",
        "moresprudentie.example.nl",
        "",
    ],
)
def test_a_host_that_is_not_exactly_this_machine_refuses(host: str) -> None:
    decision = decide({**LOCAL, "host": host, "origin": f"http://{host}"})
    assert not decision.granted


def test_a_missing_or_repeated_host_refuses() -> None:
    assert not decide({k: v for k, v in LOCAL.items() if k != "host"}).granted
    assert not decide([*LOCAL.items(), ("Host", "evil.example")]).granted


@pytest.mark.parametrize(
    "origin",
    [
        f"http://127.0.0.1:{PORT + 1}",  # another app on this machine
        f"http://localhost:{PORT}",  # another origin than the Host the browser connected to
        "https://evil.example",
        "null",  # a sandboxed frame or a file:// page
        f"http://127.0.0.1:{PORT}/path",
        f"http://user@127.0.0.1:{PORT}",
        f"ftp://127.0.0.1:{PORT}",
        "",
    ],
)
def test_an_origin_other_than_this_app_refuses(origin: str) -> None:
    assert not decide({**LOCAL, "origin": origin}).granted


def test_a_missing_or_repeated_origin_refuses() -> None:
    assert not decide({k: v for k, v in LOCAL.items() if k != "origin"}).granted
    assert not decide([*LOCAL.items(), ("Origin", "https://evil.example")]).granted


@pytest.mark.parametrize("token", [None, "", "x", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), ["list"], 42])
def test_a_missing_or_wrong_token_refuses(token: object) -> None:
    decision = decide(LOCAL, token)
    assert not decision.granted and "token" in decision.reason


@pytest.mark.parametrize("expected", [None, "", "short-hand-made-token"])
def test_without_a_strong_server_token_nothing_is_granted(expected: str | None) -> None:
    assert not auth.trial_decision(LOCAL, expected, expected, PORT).granted


# -- in the app ---------------------------------------------------------------------------------------


@pytest.fixture
def trial_app(search_cases: Path, monkeypatch: pytest.MonkeyPatch, open_app):
    """make(headers, token): the add-case page in trial mode for a session with these headers."""
    from moresprudentie.anonymisation import check as anonymisation
    from moresprudentie.ui.components import nav

    monkeypatch.setenv(auth.TRIAL_ENV, "1")
    monkeypatch.setenv(auth.TRIAL_TOKEN_ENV, TOKEN)
    monkeypatch.setattr(auth, "server_is_local", lambda: True)
    monkeypatch.setattr(auth, "server_port", lambda: PORT)
    monkeypatch.setattr(anonymisation, "warm_up", lambda: None)

    def make(headers: dict[str, str], token: str | None):
        monkeypatch.setattr(auth, "_request_headers", lambda: list(headers.items()))

        def prepare(at) -> None:
            if token is not None:
                at.query_params[auth.TOKEN_PARAM] = token

        return open_app(search_cases, nav.ADD_CASE, prepare)

    return make


def _is_officer(at) -> bool:
    return "form.id" in {widget.key for widget in at.text_input}


def test_the_app_grants_the_tokened_local_session_and_drops_the_token_from_the_url(trial_app) -> None:
    at = trial_app(LOCAL, TOKEN)
    assert _is_officer(at)
    assert auth.TOKEN_PARAM not in at.query_params  # not left in the address bar
    at.run()  # a later run of the same session still has the proof
    assert _is_officer(at)


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        (LOCAL, None),
        (LOCAL, "wrong" * 10),
        ({**LOCAL, "X-Forwarded-Proto": "https"}, TOKEN),
        ({**LOCAL, "host": "localhost:evil.example"}, TOKEN),
        ({**LOCAL, "origin": f"http://127.0.0.1:{PORT + 1}"}, TOKEN),
    ],
    ids=["no token", "wrong token", "forwarded", "loose host", "other local port"],
)
def test_the_app_refuses_every_bypass(trial_app, headers: dict[str, str], token: str | None) -> None:
    at = trial_app(headers, token)
    assert not _is_officer(at)
    said = "heeft het token niet" if token != TOKEN else "geweigerd"  # without the token: open the printed link
    assert any(said in str(w.value) for w in at.warning)


# -- the start-up token ------------------------------------------------------------------------------


def test_app_command_prints_a_fresh_token_and_never_passes_one_from_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from typer.testing import CliRunner

    from moresprudentie.cli import main
    from moresprudentie.search import engine as engine_module

    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(
        engine_module.SearchEngine,
        "open",
        classmethod(lambda cls, *a, **k: SimpleNamespace(cases={}, report=SimpleNamespace(changed_anything=False))),
    )
    monkeypatch.setattr(os, "execve", lambda p, a, e: calls.append((a, e)))
    runner = CliRunner()
    caller_token = "chosen-by-the-caller"  # noqa: S105 - a planted value that must not get through
    env = {auth.TRIAL_ENV: "1", auth.TRIAL_TOKEN_ENV: caller_token}
    tokens = []
    for _ in range(2):
        result = runner.invoke(main.app, ["app", "--cases", str(tmp_path), "--server.port", "9123"], env=env)
        assert result.exit_code == 0, result.output
        command, child_env = calls[-1]
        token = child_env[auth.TRIAL_TOKEN_ENV]
        assert token != caller_token and len(token) >= auth.MIN_TOKEN_CHARS
        assert f"http://127.0.0.1:9123/?token={token}" in result.output
        assert command[-1] == "--server.port=9123" and "9123" not in command[:-1]  # fixed, not moved
        assert "serve()" in " ".join(command)  # the launcher without the external-IP lookup
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_the_cli_and_the_app_agree_on_the_names() -> None:

    assert (settings.TRIAL_ENV, settings.TRIAL_TOKEN_ENV) == (auth.TRIAL_ENV, auth.TRIAL_TOKEN_ENV)
    assert auth.TOKEN_PARAM == settings.TRIAL_TOKEN_PARAM


def test_app_command_without_trial_mode_hands_no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from typer.testing import CliRunner

    from moresprudentie.cli import main
    from moresprudentie.search import engine as engine_module

    calls: list[dict[str, str]] = []
    monkeypatch.setattr(
        engine_module.SearchEngine,
        "open",
        classmethod(lambda cls, *a, **k: SimpleNamespace(cases={}, report=SimpleNamespace(changed_anything=False))),
    )
    monkeypatch.setattr(os, "execve", lambda p, a, e: calls.append(e))
    monkeypatch.delenv(auth.TRIAL_ENV, raising=False)
    result = CliRunner().invoke(main.app, ["app", "--cases", str(tmp_path)], env={auth.TRIAL_TOKEN_ENV: "x" * 50})
    assert result.exit_code == 0, result.output
    assert auth.TRIAL_TOKEN_ENV not in calls[-1] and "token" not in result.output


# -- shared state ------------------------------------------------------------------------------------


def test_clear_cache_does_not_reopen_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder) -> None:
    """What a client's `clear_cache` message does is st.cache_resource.clear(); the engine stays."""
    import streamlit as st
    from conftest import write_case

    from moresprudentie.ui.components import resources

    write_case(tmp_path / "cases", "taart-van-aanvrager")
    opened: list[str] = []
    real_open = resources.SearchEngine.open

    def counting_open(*args, **kwargs):
        opened.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(resources.SearchEngine, "open", counting_open)
    monkeypatch.setattr(resources, "load_embedder", lambda name=None: fake_embedder)
    resources.forget_engine()
    try:
        key = (str(tmp_path / "cases"), str(tmp_path / "index"), "fake", "files")
        first, _ = resources._open_engine(key)
        st.cache_resource.clear()
        assert resources._open_engine(key)[0] is first
        assert len(opened) == 1
        other, _ = resources._open_engine((str(tmp_path / "cases"), str(tmp_path / "index2"), "fake", "files"))
        assert other is not first and len(opened) == 2  # a changed setting replaces the engine
    finally:
        resources.forget_engine()


def test_a_foreign_origin_never_looks_up_the_external_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import net_util
    from streamlit.web.server import server_util

    from moresprudentie.ui import app

    def lookup(*args, **kwargs):
        raise AssertionError("Streamlit tried to look up its external IP")

    monkeypatch.setattr(net_util, "get_internal_ip", lambda: "10.0.0.5")
    monkeypatch.setattr(net_util, "get_external_ip", lookup)  # stands in for Streamlit's own
    with pytest.raises(AssertionError):  # the hazard: a foreign Origin reaches the lookup
        server_util.is_url_from_allowed_origins("https://evil.example")
    app.no_external_ip_lookup()
    assert server_util.is_url_from_allowed_origins("https://evil.example") is False
    assert server_util.is_url_from_allowed_origins(f"http://127.0.0.1:{PORT}") is True


def test_uploads_are_refused_without_an_uploader_and_capped_per_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session whose page shows no uploader may not PUT files; on a page with one, the total is bounded."""
    from starlette.exceptions import HTTPException
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    from moresprudentie.ui import app

    original = MemoryUploadedFileManager.add_file  # maybe capped already, by an app run in another test
    while getattr(original, "capped", False):
        original = original.original
    monkeypatch.setattr(MemoryUploadedFileManager, "add_file", original)  # this test caps it anew; undone after
    monkeypatch.setattr(app, "_page_shows_an_uploader", lambda session_id: session_id != "on-the-search-page")
    app.cap_uploads_per_session()
    app.cap_uploads_per_session()  # idempotent: every page run calls it
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    megabyte = b"x" * (1024 * 1024)
    for i in range(app.SESSION_UPLOAD_BYTES // len(megabyte)):
        manager.add_file("attacker", UploadedFileRec(f"f{i}", "a.yaml", "text/yaml", megabyte))
    manager.add_file("attacker", UploadedFileRec("f0", "a.yaml", "text/yaml", megabyte))  # a replacement fits
    with pytest.raises(HTTPException) as refused:
        manager.add_file("attacker", UploadedFileRec("one-more", "a.yaml", "text/yaml", megabyte))
    assert refused.value.status_code == 413
    manager.add_file("colleague", UploadedFileRec("f0", "b.yaml", "text/yaml", megabyte))  # others unaffected
    with pytest.raises(HTTPException) as no_uploader:
        manager.add_file("on-the-search-page", UploadedFileRec("f0", "c.yaml", "text/yaml", b"x"))
    assert no_uploader.value.status_code == 403


def test_the_shipped_config_keeps_the_settings_trial_mode_and_uploads_rely_on() -> None:
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    server = config["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert server["maxUploadSize"] <= 1
    assert server.get("enableAgentApi", False) is False  # no second, HTTP way to drive the app
    assert server.get("enableStaticServing", False) is False
    assert config["browser"]["gatherUsageStats"] is False
