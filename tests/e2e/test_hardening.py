"""Trial mode and shared state against a real server: `moresprudentie app` in trial mode on 127.0.0.1.

- every bypass from the red-team (issue 12) is sent over Streamlit's own websocket protocol, with
  exactly the handshake headers given (a raw client: no library adds or rewrites a Host), and each
  is refused the officer page; the same handshake with the start-up token is granted;
- the real local browser (Debian's chromium via Playwright) that opens the printed link gets the
  officer page; without the token, or inside a frame, it does not;
- a handshake with a foreign Origin is refused at once (no external-IP lookup on the event loop)
  and does not stall a second client;
- a client's `clear_cache` message does not reopen the engine (the second run is as fast as ever).
"""

from __future__ import annotations

import base64
import os
import re
import socket
import struct
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _live_app import live_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "fixtures" / "collection"
OUTPUT = ROOT / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
ADD_CASE = "toevoegen"
GRANTED = "In deze browser ben je integriteitsfunctionaris"  # the trial banner, on every page of a trial officer
REFUSED = "deze browser heeft het token niet"  # the officer page's refusal of a browser without the token


@dataclass
class Server:
    port: int
    token: str
    process: subprocess.Popen
    cases: Path

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`moresprudentie app` with MORESPRUDENTIE_TRIAL_OFFICER=1; the token is read from its console."""
    with live_app(tmp_path_factory.mktemp("hardening"), "e2e-hardening-server.log", trial=True) as app:
        found = re.search(rf"http://127\.0\.0\.1:{app.port}/\?token=([\w-]+)", app.log.read_text())
        assert found, app.log.read_text()
        yield Server(app.port, found[1], app.process, app.cases)


# -- a raw websocket client speaking Streamlit's protocol ---------------------------------------------


class RawSession:
    """One websocket to /_stcore/stream with exactly the handshake headers given."""

    def __init__(self, port: int, headers: list[tuple[str, str]], timeout: float = 60) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET /_stcore/stream HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade"]
        lines += [f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
        lines += [f"{name}: {value}" for name, value in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        self.accepted = head.startswith(b"HTTP/1.1 101")

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return first & 0x0F, self._read(length)

    def send(self, payload: bytes) -> None:
        mask = os.urandom(4)
        header = bytes([0x82])  # FIN, binary
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def run_page(self, page: str, query: str = "") -> str:
        """Run `page` as the browser would and return every text the script sent, until it finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        self.send(message.SerializeToString())
        texts: list[str] = []
        while True:
            opcode, payload = self.receive()
            if opcode == 8:
                raise ConnectionError("closed by the server")
            if opcode != 2:
                continue
            forward = ForwardMsg()
            forward.ParseFromString(payload)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                which = element.WhichOneof("type")
                if which in {"markdown", "alert", "heading"}:
                    texts.append(getattr(element, which).body)
                elif which in {"text_input", "text_area", "button"}:
                    texts.append(f"<{which} {getattr(element, which).label}>")
            elif kind == "script_finished":
                return "\n".join(texts)

    def close(self) -> None:
        self.sock.close()


def local_headers(server: Server) -> list[tuple[str, str]]:
    return [("Host", server.authority), ("Origin", f"http://{server.authority}"), ("User-Agent", "Mozilla/5.0")]


def officer_page(server: Server, headers: list[tuple[str, str]], token: str | None) -> str:
    session = RawSession(server.port, headers)
    try:
        if not session.accepted:
            return "<handshake refused>"
        return session.run_page(ADD_CASE, f"token={token}" if token else "")
    finally:
        session.close()


def test_the_local_handshake_with_the_token_gets_the_officer_page(server: Server) -> None:
    page = officer_page(server, local_headers(server), server.token)
    assert GRANTED in page and "<text_input" in page, page


def _with(server: Server, **replace: str) -> list[tuple[str, str]]:
    headers = [(n, v) for n, v in local_headers(server) if n.lower() not in {k.lower() for k in replace}]
    return [*headers, *((n.replace("_", "-"), v) for n, v in replace.items())]


BYPASSES = {
    "X-Forwarded-Proto alone": lambda s: [*local_headers(s), ("X-Forwarded-Proto", "https")],
    "Via": lambda s: [*local_headers(s), ("Via", "1.1 proxy")],
    "X-Forwarded-Server": lambda s: [*local_headers(s), ("X-Forwarded-Server", "proxy")],
    "CF-Connecting-IP": lambda s: [*local_headers(s), ("CF-Connecting-IP", "203.0.113.9")],
    "True-Client-IP": lambda s: [*local_headers(s), ("True-Client-IP", "203.0.113.9")],
    "Host localhost:evil.example": lambda s: _with(s, Host="localhost:evil.example"),
    "Host 127.0.0.1:1@evil.example": lambda s: _with(s, Host="127.0.0.1:1@evil.example"),
    "Origin from another local port": lambda s: _with(s, Origin=f"http://127.0.0.1:{s.port + 1}"),
}


@pytest.mark.parametrize("bypass", list(BYPASSES), ids=list(BYPASSES))
def test_each_bypass_with_the_token_is_refused_over_the_websocket(server: Server, bypass: str) -> None:
    """Even knowing the token: a relayed request, a loose Host or another origin is not this machine."""
    page = officer_page(server, BYPASSES[bypass](server), server.token)
    assert GRANTED not in page and "<text_input" not in page, page


@pytest.mark.parametrize("token", [None, "wrong-token-" * 4], ids=["no token", "wrong token"])
def test_without_the_right_token_the_local_handshake_is_refused(server: Server, token: str | None) -> None:
    """What a cross-site frame or page can do at best: a local origin, but no token."""
    page = officer_page(server, local_headers(server), token)
    assert REFUSED in page and GRANTED not in page and "<text_input" not in page, page


def test_a_foreign_origin_is_refused_at_once_and_does_not_stall_another_client(server: Server) -> None:
    """No external-IP lookup: ten foreign handshakes take well under a second, and a user is served."""
    started = time.monotonic()
    for _ in range(10):
        session = RawSession(server.port, [("Host", server.authority), ("Origin", "https://evil.example")])
        assert not session.accepted
        session.close()
    assert time.monotonic() - started < 2.0
    log = (OUTPUT / "e2e-hardening-server.log").read_text()
    assert "Did not auto detect external IP" not in log  # Streamlit's message after a failed lookup
    page = officer_page(server, local_headers(server), server.token)
    assert GRANTED in page


def test_clear_cache_from_a_client_does_not_reopen_the_engine(server: Server) -> None:
    """The engine is not reopened: a case file removed behind its back is still served from memory.

    (A reopened engine would re-read the folder and no longer know the case.)
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg

    case_file = server.cases / "fiets-van-de-zaak.yaml"
    kept = case_file.read_bytes()
    session = RawSession(server.port, local_headers(server))
    try:
        assert session.accepted
        assert "dienstfiets" in session.run_page("casus", "case=fiets-van-de-zaak")
        case_file.unlink()
        clear = BackMsg()
        clear.clear_cache = True
        for _ in range(3):
            session.send(clear.SerializeToString())
        assert "dienstfiets" in session.run_page("casus", "case=fiets-van-de-zaak")
    finally:
        session.close()
        case_file.write_bytes(kept)


def test_metrics_are_not_served(server: Server) -> None:
    """/_stcore/metrics would show who uses the officer pages; it must not answer with metrics."""
    try:
        with urllib.request.urlopen(f"http://{server.authority}/_stcore/metrics", timeout=5) as response:
            body = response.read().decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as error:
        status, body = error.code, ""
    assert status >= 400 or "# TYPE" not in body, body[:300]


# -- the real browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def test_the_browser_that_opens_the_printed_link_is_a_trial_officer(server: Server, browser) -> None:
    page = browser.new_page()
    page.goto(f"http://{server.authority}/{ADD_CASE}?token={server.token}")
    page.get_by_text(GRANTED).first.wait_for(timeout=90_000)
    page.get_by_label(re.compile("id", re.IGNORECASE)).first.wait_for(timeout=30_000)
    assert "token=" not in page.url  # moved out of the address bar once proved
    page.close()


def test_the_browser_without_the_token_is_refused(server: Server, browser) -> None:
    page = browser.new_page()
    page.goto(f"http://{server.authority}/{ADD_CASE}")
    page.get_by_text(REFUSED).first.wait_for(timeout=90_000)
    assert page.get_by_text(GRANTED).count() == 0
    page.close()


def test_the_app_in_a_frame_is_refused(server: Server, browser) -> None:
    """A page elsewhere that frames the app (clickjacking) cannot know the token."""
    page = browser.new_page()
    page.set_content(f'<iframe src="http://{server.authority}/{ADD_CASE}" width="1200" height="900"></iframe>')
    frame = page.frame_locator("iframe")
    frame.get_by_text(REFUSED).first.wait_for(timeout=90_000)
    assert frame.get_by_text(GRANTED).count() == 0
    page.close()
