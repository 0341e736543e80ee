"""`moresprudentie app` (the README's first command): builds the index, then serves the app."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _live_app import stop

COLLECTION = Path(__file__).parent.parent / "fixtures" / "collection"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.e2e
def test_app_command_builds_the_index_and_serves(tmp_path: Path) -> None:
    cases = shutil.copytree(COLLECTION, tmp_path / "cases")
    port = _free_port()
    env = {**os.environ, "MORESPRUDENTIE_INDEX": str(tmp_path / "index")}
    server = subprocess.Popen(
        [sys.executable, "-m", "moresprudentie", "app", "--cases", str(cases), "--server.port", str(port)],
        cwd=tmp_path,  # not the project folder: the command must find app.py itself
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    assert response.read() == b"ok"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(1)
        else:
            pytest.fail("the app did not answer within 120 s")
        assert (tmp_path / "index" / "CURRENT").is_file()  # the index was built before serving
    finally:
        stop(server)
