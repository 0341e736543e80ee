"""A real `moresprudentie app` server on a free 127.0.0.1 port, for the e2e tests that need one.

Started as tests/e2e/test_hardening.py starts it (a copy of the test collection, the index in tmp),
but with the shipped `.streamlit/config.toml` copied next to it, so the server runs with the settings
a deployment gets (maxUploadSize = 1, XSRF protection on, CORS check on).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "fixtures" / "collection"
OUTPUT = ROOT / "test-output"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def app_server(base: Path, log_name: str) -> Iterator[int]:
    """`moresprudentie app` (not in trial mode) in `base`; yields its port once /_stcore/health answers."""
    cases = shutil.copytree(COLLECTION, base / "cases")
    (base / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", base / ".streamlit" / "config.toml")
    port = free_port()
    env = {**os.environ, "MORESPRUDENTIE_INDEX": str(base / "index")}
    for name in ("MORESPRUDENTIE_TRIAL_OFFICER", "MORESPRUDENTIE_TRIAL_TOKEN"):
        env.pop(name, None)
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
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited: {log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"the app did not start within 180 s; see {log_path}")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
