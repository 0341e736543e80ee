"""The real browser the e2e tests drive: `streamlit run app.py` on 127.0.0.1 with the shipped collection
and the real default model, and Debian's chromium through Playwright (never a downloaded browser).

One server per test module that imports these fixtures. The collection is a temporary copy of cases/ plus one hostile case (markup and script
bait), with its index prebuilt by the library so the server starts the way it does in production.
Screenshots go to test-output/screenshots/, the startup time to test-output/e2e-timing.txt.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _live_app import stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = ROOT / "test-output"
SHOTS = OUTPUT / "screenshots"
QUERY = (
    "Mijn leidinggevende vraagt mij om een kritisch punt uit mijn evaluatie te halen, "
    "omdat collega's anders in de problemen komen. Moet ik dat doen?"
)
EXPECTED = "evaluatie-aanrijtijd-afzwakken"
HOSTILE = "e2e-opmaak-in-casus"
SCRIPT = "<script>alert(1)</script>"
URL_BAIT = "https://voorbeeld.example/pad, www.voorbeeld.example of info@voorbeeld.example"
WAIT_MS = 90_000


def require_browser() -> None:
    """Skip a browser test module, with the reason, where Debian's chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)", allow_module_level=True
        )
    pytest.importorskip("playwright.sync_api", reason="the python package playwright is not installed")


@dataclass
class Server:
    url: str
    started: float  # time.monotonic() when `streamlit run` was launched
    process: subprocess.Popen
    external_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_hostile_case(folder: Path) -> None:
    (folder / f"{HOSTILE}.yaml").write_text(
        f"""id: {HOSTILE}
title: "Opmaak in een casus <img src=x onerror=alert(2)>"
language: nl
date: 2020-01
themes: [omgangsvormen]
values: [zorgvuldigheid]
situation: |
  Een testcasus met opmaak die als tekst moet verschijnen: {SCRIPT} en
  [klik hier](javascript:alert(3)) en <a href="javascript:alert(4)">link</a>.
  Meer op {URL_BAIT}.
dilemma: Moet de app dit als tekst tonen of uitvoeren?
judgement: Als tekst tonen.
reasoning: Zorgvuldigheid gaat voor; niets in een casus mag code worden.
""",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the shipped cases plus the hostile case, with its index built by the library."""
    from moresprudentie.search.engine import SearchEngine

    base = tmp_path_factory.mktemp("e2e")
    cases, index = base / "cases", base / "index"
    shutil.copytree(ROOT / "cases", cases)
    _write_hostile_case(cases)
    SearchEngine.open(cases, index)  # the real default model, as the server will use
    return cases, index


@pytest.fixture(scope="module")
def server(collection: tuple[Path, Path]) -> Iterator[Server]:
    cases, index = collection
    port = _free_port()
    env = {**os.environ, "MORESPRUDENTIE_CASES": str(cases), "MORESPRUDENTIE_INDEX": str(index)}
    env.pop("MORESPRUDENTIE_MODEL", None)  # the default model
    env.pop("MORESPRUDENTIE_TRIAL_OFFICER", None)
    OUTPUT.mkdir(exist_ok=True)
    log = (OUTPUT / "e2e-server.log").open("w")
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        yield Server(url, started, process)
    finally:
        stop(process, timeout=15)
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}; see {OUTPUT / 'e2e-server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 (local URL)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy within 60 s")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.url, "data:", "blob:")) else server.external_requests.append(r.url),
    )
    page.on("dialog", lambda d: (server.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def open_page(page, server: Server, path: str) -> None:
    page.goto(server.url + path)
    page.wait_for_selector("h1")
    settle(page)


def settle(page) -> None:
    """Wait until Streamlit has finished the current run (no skeletons, no running indicator)."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stSkeleton]') && "
        "!document.querySelector('[data-testid=stStatusWidget] [data-testid=stStatusWidgetRunningIcon]')"
    )
    page.wait_for_timeout(600)


def cut_off(page, selector: str) -> list[str]:
    """The texts in `selector` laid out past the right edge of their column: what Streamlit shows cut
    to one line with "…" (checkbox labels, text buttons), which the app's style lets wrap."""
    return page.locator(selector).evaluate_all(
        """boxes => boxes.filter(box => {
            const text = document.createRange();
            text.selectNodeContents(box);
            const column = box.closest('[data-testid=stColumn]') || box.closest('[data-testid=stMain]');
            return text.getBoundingClientRect().right > column.getBoundingClientRect().right - 1;
        }).map(box => box.innerText)"""
    )


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 990)  # no hover or focus tooltips in the picture
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / name))
