"""The nginx example in docs/deployment.md, run: nginx on 127.0.0.1 in front of a real `moresprudentie app`.

The config is the ```nginx block between `<!-- nginx-example:start -->` and `<!-- nginx-example:end -->`,
changed only where a test machine must differ: the ports (443 -> a free port, 8501 -> the upstream's)
and the certificate paths (a self-signed certificate made here). Clients connect over TLS to
127.0.0.1 and send `Host: moresprudentie.example.nl`, as a browser on the public name would.

- in front of the app: the page and /_stcore/health answer with the anti-framing headers; a websocket
  handshake with a foreign Origin is refused by nginx (403), the same-origin one is switched (101);
  /_stcore/metrics and /_stcore/agent/ are not served;
- in front of a tiny server that echoes the request headers it gets: client-sent forwarding headers
  never reach the upstream, on any location; a foreign Origin never reaches it at all; a burst of
  requests is answered 429 once the rate limit's burst is spent.

Skipped only where nginx is not installed (CI installs it: .ci/run).
"""

from __future__ import annotations

import datetime
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _live_app import OUTPUT, ROOT, app_server, free_port, stop

pytestmark = pytest.mark.e2e

DOC = ROOT / "docs" / "deployment.md"
PUBLIC = "moresprudentie.example.nl"
ORIGIN = f"https://{PUBLIC}"
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
FORWARDING = {
    "X-Forwarded-For": "203.0.113.7",
    "Forwarded": "for=203.0.113.7;proto=https",
    "Via": "1.1 evil-proxy",
    "X-Real-IP": "203.0.113.7",
    "CF-Connecting-IP": "203.0.113.7",
    "True-Client-IP": "203.0.113.7",
    "X-Client-IP": "203.0.113.7",
    "X-Forwarded-Host": "evil.example",
}


def example_config() -> str:
    """The ```nginx block between the markers in docs/deployment.md."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- nginx-example:start -->\s*```nginx\n(.*?)```\s*<!-- nginx-example:end -->", text, re.S)
    assert found, "docs/deployment.md has no ```nginx block between the nginx-example markers"
    return found[1]


def _replace(config: str, old: str, new: str, count: int) -> str:
    assert config.count(old) == count, f"expected {old!r} {count} time(s) in the example"
    return config.replace(old, new)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PUBLIC)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PUBLIC)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "proxy.crt", folder / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _nginx(folder: Path, upstream: int, log_name: str) -> Iterator[int]:
    """nginx with the doc's example in `folder`, proxying to 127.0.0.1:<upstream>; yields its port."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx); .ci/run installs it")
    port = free_port()
    cert, key = _self_signed(folder)
    config = example_config()
    config = _replace(config, "listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;", 1)
    config = _replace(config, "http://127.0.0.1:8501;", f"http://127.0.0.1:{upstream};", 3)
    config = _replace(config, "/etc/ssl/moresprudentie.crt", str(cert), 1)
    config = _replace(config, "/etc/ssl/moresprudentie.key", str(key), 1)
    (folder / "example.conf").write_text(config)
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
{temp}
    include {folder / "example.conf"};
}}
"""
    )
    check = subprocess.run(
        [NGINX, "-t", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (folder / "error.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen within 20 s"
                time.sleep(0.1)
        yield port
    finally:
        stop(process, timeout=10)
        OUTPUT.mkdir(exist_ok=True)
        shutil.copy(folder / "error.log", OUTPUT / log_name)


# -- a TLS client that sends exactly the headers given -------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


def _tls(port: int) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname=PUBLIC)


def send(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Answer:
    """One request on its own connection (`Connection: close`); the whole answer."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {PUBLIC}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with _tls(port) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return _parse(data)


def _parse(data: bytes) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        plain, rest = b"", body
        while rest:
            size_text, _, rest = rest.partition(b"\r\n")
            size = int(size_text.split(b";")[0], 16)
            if size == 0:
                break
            plain, rest = plain + rest[:size], rest[size + 2 :]
        body = plain
    return Answer(int(status_line.split()[1]), headers, body)


def handshake(port: int, origin: str) -> Answer:
    """A websocket upgrade of /_stcore/stream as a browser sends it; only the response head."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    lines = ["GET /_stcore/stream HTTP/1.1", f"Host: {PUBLIC}", f"Origin: {origin}", "Upgrade: websocket"]
    lines += ["Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    lines += ["Sec-WebSocket-Protocol: streamlit"]
    with _tls(port) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
    head = data.partition(b"\r\n\r\n")[0]
    return _parse(head + b"\r\n\r\n")


# -- nginx in front of the app ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx); .ci/run installs it")
    with app_server(tmp_path_factory.mktemp("proxied-app"), "e2e-proxy-app-server.log") as app_port:
        yield from _nginx(tmp_path_factory.mktemp("nginx-app"), app_port, "e2e-proxy-nginx-app.log")


def _framing_refused(answer: Answer) -> None:
    assert answer.headers.get("content-security-policy") == "frame-ancestors 'none'", answer.headers
    assert answer.headers.get("x-frame-options") == "DENY", answer.headers


def test_the_page_and_health_answer_and_refuse_to_be_framed(proxy: int) -> None:
    page = send(proxy, "/")
    assert page.status == 200 and b"<html" in page.body.lower(), (page.status, page.body[:200])
    _framing_refused(page)
    health = send(proxy, "/_stcore/health")
    assert (health.status, health.body) == (200, b"ok")
    _framing_refused(health)


def test_a_foreign_origin_is_refused_by_the_proxy_and_the_own_origin_switched(proxy: int) -> None:
    foreign = handshake(proxy, "https://evil.example")
    assert foreign.status == 403, foreign
    assert foreign.headers.get("server", "").startswith("nginx")
    _framing_refused(foreign)
    own = handshake(proxy, ORIGIN)
    assert own.status == 101, own  # nginx answers 101 only when Streamlit did
    assert own.headers.get("sec-websocket-protocol") == "streamlit"


def test_a_browser_behind_the_proxy_gets_the_page_language_and_title(proxy: int) -> None:
    """The proxy's headers (frame-ancestors, X-Frame-Options, nosniff, ...) leave the app's script that
    sets `<html lang>` free to run: a real browser on the public name, over TLS, through nginx. A policy
    added to the example that blocked it (a script-src without the script's hash) fails here."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    public_to_proxy = f"--host-resolver-rules=MAP {PUBLIC}:443 127.0.0.1:{proxy}"  # the Origin stays ORIGIN
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*BROWSER_ARGS, public_to_proxy])
        try:
            page = chromium.new_context(ignore_https_errors=True).new_page()
            answer = page.goto(f"{ORIGIN}/", timeout=90_000)
            assert answer is not None and answer.headers.get("content-security-policy") == "frame-ancestors 'none'"
            # Streamlit's own page says lang "en" and the title "Streamlit". Polled from here: Playwright's
            # wait_for_function evaluates a string in the page, which a script-src policy would refuse.
            deadline, shown = time.monotonic() + 90, None
            while shown != ["nl", "Zoeken · Moresprudentie"] and time.monotonic() < deadline:
                page.wait_for_timeout(250)
                shown = page.evaluate("[document.documentElement.lang, document.title]")
            assert shown == ["nl", "Zoeken · Moresprudentie"], shown
        finally:
            chromium.close()


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/_stcore/agent/run"])
def test_metrics_and_agent_are_not_served(proxy: int, path: str) -> None:
    answer = send(proxy, path)
    assert answer.status == 404 and b"# TYPE" not in answer.body
    _framing_refused(answer)


# -- nginx in front of a server that echoes the request headers -------------------------------------------


class Echo:
    """A loopback HTTP server answering every request with the headers it received (JSON)."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _echo(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                received.append(self.path)
                body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = _echo

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.close()


@pytest.fixture(scope="module")
def echo_proxy(tmp_path_factory: pytest.TempPathFactory, echo: Echo) -> Iterator[int]:
    yield from _nginx(tmp_path_factory.mktemp("nginx-echo"), echo.port, "e2e-proxy-nginx-echo.log")


@pytest.mark.parametrize(
    ("path", "method", "extra"),
    [
        ("/", "GET", {}),
        ("/_stcore/stream", "GET", {"Origin": ORIGIN, "Upgrade": "websocket", "Connection": "Upgrade"}),
        ("/_stcore/upload_file/session/file", "PUT", {"Origin": ORIGIN}),
    ],
    ids=["page", "websocket", "upload"],
)
def test_client_forwarding_headers_do_not_reach_the_upstream(
    echo_proxy: int, path: str, method: str, extra: dict[str, str]
) -> None:
    headers = {**FORWARDING, **extra}
    if "Connection" in extra:  # send() adds its own `Connection: close`
        headers.pop("Connection")
        headers["Connection"] = "Upgrade"
    answer = send(echo_proxy, path, headers, method)
    assert answer.status == 200, answer
    got = json.loads(answer.body)
    for name in FORWARDING:
        if name == "X-Forwarded-For":
            assert got.get("x-forwarded-for") == "127.0.0.1", got  # nginx's own view, not the client's
        else:
            assert name.lower() not in got, (name, got)
    assert got.get("host") == PUBLIC, got
    assert got.get("x-forwarded-proto") == "https", got


def test_a_foreign_origin_never_reaches_the_upstream(echo_proxy: int, echo: Echo) -> None:
    before = len(echo.received)
    assert handshake(echo_proxy, "https://evil.example").status == 403
    assert handshake(echo_proxy, "null").status == 403
    assert len(echo.received) == before


@pytest.mark.parametrize(
    ("path", "method"), [("/_stcore/stream", "GET"), ("/_stcore/upload_file/s/f", "PUT")], ids=["websocket", "upload"]
)
def test_a_burst_is_rate_limited(echo_proxy: int, path: str, method: str) -> None:
    """At most 30 requests, all to 127.0.0.1: past the burst allowance nginx answers 429."""
    statuses = [send(echo_proxy, path, {"Origin": ORIGIN}, method).status for _ in range(30)]
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[0] == 200 and statuses.count(429) >= 10, statuses
