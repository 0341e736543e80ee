"""A real `moresprudentie app` server on a free 127.0.0.1 port, for the e2e tests that need one.

Run from a temporary folder, not the checkout: the settings a deployment gets (maxUploadSize = 1,
XSRF protection on, CORS check on) must come from the package's own `ui/.streamlit/config.toml`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "fixtures" / "collection"
OUTPUT = ROOT / "test-output"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveApp:
    port: int
    process: subprocess.Popen
    log: Path
    cases: Path


@contextlib.contextmanager
def live_app(base: Path, log_name: str, trial: bool = False) -> Iterator[LiveApp]:
    """`moresprudentie app` on a free port in `base` (a copy of the test collection, the index in tmp),
    run from `base`, so the app finds its settings inside the package as an installed one does; in
    trial mode only when asked. Yields once /_stcore/health answers and (in trial mode) the console
    shows the tokened link; stops the server afterwards."""
    cases = shutil.copytree(COLLECTION, base / "cases")
    port = free_port()
    env = {**os.environ, "MORESPRUDENTIE_INDEX": str(base / "index")}
    for name in ("MORESPRUDENTIE_TRIAL_OFFICER", "MORESPRUDENTIE_TRIAL_TOKEN"):
        env.pop(name, None)
    if trial:
        env["MORESPRUDENTIE_TRIAL_OFFICER"] = "1"
    OUTPUT.mkdir(exist_ok=True)
    log_path = OUTPUT / log_name
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moresprudentie", "app", "--cases", str(cases), "--server.port", str(port)],
            cwd=base,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, port, log_path, trial)
        yield LiveApp(port, process, log_path, cases)
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Ask a server to stop; kill it if it has not within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_ready(process: subprocess.Popen, port: int, log_path: Path, trial: bool) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited: {log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok" and (not trial or "?token=" in log_path.read_text()):
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the app did not start within 180 s; see {log_path}")


@contextlib.contextmanager
def app_server(base: Path, log_name: str) -> Iterator[int]:
    """`moresprudentie app`, not in trial mode; yields its port."""
    with live_app(base, log_name) as app:
        yield app.port
