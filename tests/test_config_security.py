"""Configuration and supply chain: what ships keeps the app private, closed for writing without a
login, linted for the usual security mistakes, and on versions without known vulnerabilities."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version
from streamlit.testing.v1 import AppTest

from moresprudentie import settings
from moresprudentie.ui import app as ui_app
from moresprudentie.ui.components import auth, i18n, nav

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
# Lowest versions without the known CVEs: PyYAML < 5.4 runs code from full_load (CVE-2020-14343),
# Streamlit < 1.54 has known path-traversal and XSS advisories.
MINIMUM_VERSIONS = {"pyyaml": Version("6"), "streamlit": Version("1.54")}


# -- the shipped Streamlit configuration -------------------------------------------------------------


def effective_streamlit_options(keys: list[str], home: Path) -> dict[str, object]:
    """The options as Streamlit itself reads them from the shipped file (no user config, no env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    code = (
        "import json, sys; from streamlit import config; config.get_config_options(force_reparse=True); "
        "print(json.dumps({k: config.get_option(k) for k in sys.argv[1:]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *keys],
        cwd=ROOT,
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_shipped_streamlit_config_keeps_the_app_private(tmp_path: Path) -> None:
    assert STREAMLIT_CONFIG.is_file(), f"{STREAMLIT_CONFIG} must ship with the app"
    options = effective_streamlit_options(
        [
            "browser.gatherUsageStats",
            "server.enableXsrfProtection",
            "server.enableCORS",
            "server.address",
            "server.maxUploadSize",
            "client.showErrorDetails",
            "server.fileWatcherType",
            "runner.postScriptGC",
        ],
        home=tmp_path,
    )
    assert options["browser.gatherUsageStats"] is False  # no usage statistics leave the building
    assert options["server.enableXsrfProtection"] is True and options["server.enableCORS"] is True
    assert options["server.address"] == "127.0.0.1"  # only a reverse proxy on this machine reaches it
    assert 0 < options["server.maxUploadSize"] <= 5  # MB: a case file is at most 256 KiB
    assert options["client.showErrorDetails"] in ("none", False)  # no tracebacks with server paths
    assert options["server.fileWatcherType"] == "none"  # no code reloads under running sessions
    assert options["runner.postScriptGC"] is False  # half a search's CPU; memory stays flat without it


def test_secrets_are_never_committed() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT, timeout=30, check=False
    )
    assert ignored.returncode == 0, ".streamlit/secrets.toml (login secrets, officer list) must be git-ignored"


# -- officer pages without a login -------------------------------------------------------------------------

OFFICER_PAGES = [page for page in nav.PAGES if page.section == "officers"]


@pytest.fixture
def anonymous_app(search_cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_app):
    """open_page(page): the app as shipped (no secrets.toml, no trial mode) for a visitor not logged in."""
    monkeypatch.setenv(settings.AUDIT_LOG.env, str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv(auth.TRIAL_ENV, raising=False)

    def anonymous(at: AppTest) -> None:
        at.user = {"is_logged_in": False}

    return lambda page: open_app(search_cases, page, anonymous)


@pytest.mark.parametrize("page", OFFICER_PAGES, ids=[page.url_path for page in OFFICER_PAGES])
def test_every_officer_page_is_closed_to_an_anonymous_visitor(
    anonymous_app, tmp_path: Path, page: nav.PageSpec
) -> None:
    """As shipped (no secrets.toml, no trial mode) an officer page shows no input and writes nothing."""
    before = sorted(p for p in tmp_path.rglob("*") if "index" not in p.parts)
    at = anonymous_app(page)
    inputs = [*at.text_area, *at.text_input, *at.get("file_uploader"), *at.button, *at.get("form")]
    assert inputs == [], f"{page.path}: {[type(w).__name__ for w in inputs]}"
    assert sorted(p for p in tmp_path.rglob("*") if "index" not in p.parts) == before


# -- linting and dependencies --------------------------------------------------------------------------------


def test_ruff_runs_the_security_rules_everywhere_but_the_tests() -> None:
    lint = PYPROJECT["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    never_ignored = {"S301", "S307", "S506", "S602", "S604", "S605"}  # pickle, eval, yaml.load, shell=True
    assert never_ignored.isdisjoint(lint.get("ignore", []))
    for pattern, ignored in lint.get("per-file-ignores", {}).items():
        if not pattern.startswith("tests/"):
            assert never_ignored.isdisjoint(ignored), pattern
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment")
    done = subprocess.run(
        [str(ruff), "check", "--output-format", "concise", "--no-cache", "moresprudentie", "app.py", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    security = [line for line in done.stdout.splitlines() if re.search(r": S\d{3} ", line)]
    assert security == [], "\n".join(security)


def test_ci_runs_the_linter_and_the_vulnerability_audit() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "ruff check" in ci and "pip-audit" in ci


def _lowest_allowed(requirement: Requirement) -> Version | None:
    bounds = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "~=", "==", "===")]
    bounds += [Version(s.version) for s in requirement.specifier if s.operator == ">"]
    return min(bounds) if bounds else None


@pytest.mark.parametrize("name", sorted(MINIMUM_VERSIONS))
def test_declared_and_installed_versions_exclude_known_vulnerabilities(name: str) -> None:
    requirements = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    requirement = next(r for r in requirements if r.name.lower() == name)
    lowest = _lowest_allowed(requirement)
    assert lowest is not None and lowest >= MINIMUM_VERSIONS[name], f"pyproject.toml: {requirement}"
    installed = Version(metadata.version(name))
    assert installed >= MINIMUM_VERSIONS[name] and installed in requirement.specifier, f"installed {name} {installed}"


def test_the_deployment_guide_gives_the_hashes_of_the_page_language_script() -> None:
    """A Content-Security-Policy with script-src allows the app's one script (it sets `<html lang>`) by
    the hashes docs/deployment.md gives; hashes that no longer match would silently put screen readers
    back on an English voice behind such a policy."""
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for language in i18n.LANGUAGES:
        script = ui_app.PAGE_LANGUAGE_SCRIPT.format(language=language).encode("utf-8")
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode("ascii")
        assert re.search(rf"'sha256-{re.escape(digest)}'`? \({language}\)", guide), language
