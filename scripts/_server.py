"""The app under test for scripts/loadtest.py and scripts/soak.py: start it, wait for it, watch it.

Both scripts test a Streamlit server on this machine: a running one (--url, loopback only) or their
own `streamlit run app.py` on a free port, stopped afterwards. What the server process uses (CPU
time, resident memory) is read from /proc, so the figures are the server's, not the test client's.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen | None, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"streamlit exited with code {process.returncode}; run `streamlit run app.py` to see why")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:  # noqa: S310 - loopback http
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"{url} did not become healthy within {timeout_s:.0f} s")


@contextlib.contextmanager
def app_server(url: str | None, startup_s: float) -> Iterator[tuple[str, int | None]]:
    """The app to test: the given loopback URL, or our own `streamlit run app.py` (yields url, pid)."""
    (ROOT / "test-output").mkdir(exist_ok=True)
    if url:
        host = urlparse(url).hostname or ""
        if host not in LOOPBACK:
            raise SystemExit(f"--url {url}: this load test only runs against this machine (127.0.0.1)")
        wait_healthy(url.rstrip("/"), None, startup_s)
        yield url.rstrip("/"), None
        return
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    # No file watcher: an edit under the project (a developer at work) would reload modules mid-run.
    command += ["--server.fileWatcherType", "none"]
    log = open(ROOT / "test-output" / "loadtest-server.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        own = f"http://127.0.0.1:{port}"
        wait_healthy(own, process, startup_s)
        yield own, process.pid
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def finish(result: dict, as_json: bool, print_report: Callable[[dict], None], verdict: str) -> int:
    """Print the result (as JSON with --json); the exit code is 0 when result[verdict] holds, else 1."""
    if as_json:
        print(json.dumps(result, indent=1))
    else:
        print_report(result)
    return 0 if result[verdict] else 1
