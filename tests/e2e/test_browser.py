"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1 with the shipped collection and
the real default model, driven by Debian's chromium through Playwright (never a downloaded browser).

The collection is a temporary copy of cases/ plus one hostile case (markup and script bait), with
its index prebuilt by the library so the server starts the way it does in production. Screenshots
go to test-output/screenshots/, the startup time to test-output/e2e-timing.txt.
"""

from __future__ import annotations

import os
import re
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

from moresprudentie import load_case_file

pytestmark = pytest.mark.e2e

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

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the python package playwright is not installed")


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


def _open(page, server: Server, path: str) -> None:
    page.goto(server.url + path)
    page.wait_for_selector("h1")
    _settle(page)


def _settle(page) -> None:
    """Wait until Streamlit has finished the current run (no skeletons, no running indicator)."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stSkeleton]') && "
        "!document.querySelector('[data-testid=stStatusWidget] [data-testid=stStatusWidgetRunningIcon]')"
    )
    page.wait_for_timeout(600)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 990)  # no hover or focus tooltips in the picture
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / name))


def _expected_title() -> str:
    case, problems = load_case_file(ROOT / "cases" / f"{EXPECTED}.yaml")
    assert case is not None, problems
    return case.title


def test_employee_searches_opens_a_case_and_switches_to_english(page, server: Server) -> None:
    title = _expected_title()
    page.goto(server.url + "/")
    box = page.get_by_label("Beschrijf je dilemma")
    box.wait_for()
    form_seconds = time.monotonic() - server.started
    box.fill(QUERY)
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.locator("[data-testid=stPageLink]", has_text=title).first.wait_for()
    seconds = time.monotonic() - server.started
    timing = f"streamlit run -> search box on screen: {form_seconds:.1f} s; -> first answer on screen: {seconds:.1f} s"
    (OUTPUT / "e2e-timing.txt").write_text(timing + "\n")
    print(f"\n{timing}")
    _settle(page)
    assert page.get_by_text("Een precedent informeert, het bindt niet").is_visible()
    _shot(page, "01-zoeken-resultaten.png")

    page.locator("[data-testid=stPageLink]", has_text=title).first.click()
    page.get_by_role("heading", name=title).wait_for()
    _settle(page)
    assert "case=" + EXPECTED in page.url
    assert page.get_by_role("heading", name="Meer zoals deze").is_visible()
    _shot(page, "02-casus.png")

    page.locator("[data-testid=stSidebar]").get_by_text("EN", exact=True).click()
    page.get_by_role("heading", name="More like this").wait_for()
    _settle(page)
    assert page.get_by_role("heading", name="Situation").is_visible()
    _shot(page, "03-casus-engels.png")


def test_an_off_topic_question_gets_an_honest_no_good_match(page, server: Server) -> None:
    """A question the collection cannot answer says so plainly, points to people, and marks the weak hits."""
    _open(page, server, "/")
    page.get_by_label("Beschrijf je dilemma").fill("recept voor appeltaart met kaneel")
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.get_by_text("Geen goede overeenkomst gevonden").wait_for()
    _settle(page)
    assert page.get_by_text("vertrouwenspersoon").first.is_visible()
    assert page.get_by_text("Zwakke overeenkomst").first.is_visible()
    assert page.get_by_text("Sterke overeenkomst").count() == 0
    _shot(page, "01b-zoeken-geen-goede-overeenkomst.png")


def test_session_leader_prepares_a_deliberation(page, server: Server) -> None:
    _open(page, server, "/beraad")
    page.get_by_role("button", name="Verras me").click()
    page.get_by_role("heading", name="Hand-out").wait_for()
    _settle(page)
    assert page.get_by_text("Toon het oordeel van de oorspronkelijke groep").is_visible()
    assert not page.get_by_role("heading", name="Oordeel", exact=True).count()  # hidden until asked
    _shot(page, "04-beraad-voorbereiden.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Printbare hand-out (HTML)").click()
    document = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Gespreksvragen" in document or "Werkwijze" in document
    assert "<script" not in document.lower()


def test_overview_click_through_to_the_cases(page, server: Server) -> None:
    _open(page, server, "/overzicht")
    page.locator("[data-testid=stVegaLiteChart]").first.locator("g.mark-rect path").first.click()
    page.get_by_role("heading", name="Thema:").wait_for()
    _settle(page)
    _shot(page, "05-overzicht.png")
    page.get_by_role("tab", name="Waarden in spanning").click()
    _settle(page)
    page.locator("[data-testid=stVegaLiteChart]").last.locator("g.mark-rect path").nth(40).click()
    page.get_by_role("heading", name=re.compile(r" en .* samen \(\d+\)")).wait_for()
    _settle(page)
    _shot(page, "06-waarden-in-spanning.png")


def test_case_markup_is_shown_as_text(page, server: Server) -> None:
    _open(page, server, f"/casus?case={HOSTILE}")
    assert page.get_by_text(SCRIPT, exact=False).first.is_visible()
    assert page.get_by_text("[klik hier](javascript:alert(3))", exact=False).first.is_visible()
    main = page.locator("[data-testid=stMain]")
    assert not main.locator("a[href^='javascript']").count()
    # Bare URLs and e-mail addresses show as typed, not as links (remark-gfm would autolink them).
    assert page.get_by_text(URL_BAIT, exact=False).first.is_visible()
    assert not main.locator("a[href*='voorbeeld.example']").count()
    assert not main.locator("img[onerror], script").count()
    _shot(page, "07-opmaak-als-tekst.png")
    assert not server.dialogs


def test_nothing_leaves_the_machine(server: Server) -> None:
    """No fonts, icons or analytics from the internet: a search about a dilemma stays local."""
    assert not server.external_requests, server.external_requests
