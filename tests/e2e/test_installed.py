"""The package as a deployment gets it: a wheel, installed in a fresh venv outside the checkout.

Every other test imports the editable checkout, where a forgotten package-data entry or a path
computed from the checkout still works. Here the wheel is built from a copy of the sources, installed
with `--no-deps` into a new venv in a temp folder, and `moresprudentie app` is started from another
temp folder: it must find its page scripts, YAML and Streamlit config inside the installed package,
and its settings must not point into a checkout. Nothing is downloaded: the new venv sees the dev
venv's dependencies through a `.pth` line, placed after its own site-packages, so its own copy of
moresprudentie is the one imported (asserted).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "fixtures" / "collection"
WAIT_SECONDS = 120
SHIPPED_DATA = (
    "ui/app.py",
    "ui/views/zoeken.py",
    "ui/views/casus.py",
    "ui/views/beraad.py",
    "ui/views/overzicht.py",
    "ui/views/toevoegen.py",
    "ui/views/beoordelen.py",
    "ui/components/strings.yaml",
    "ui/.streamlit/config.toml",
    "cases/vocabulary.yaml",
    "review/field_help.yaml",
    "handout.yaml",
)


def _run(command: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, fail the test with its output (not a bare CalledProcessError)."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that could lead the new venv back to the checkout or its settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
    env = {k: v for k, v in env.items() if not k.startswith("MORESPRUDENTIE_")}
    return {**env, **extra}


def _build_wheel(target: Path) -> Path:
    """A wheel built offline from a copy of the sources (so the build leaves nothing in the checkout)."""
    if importlib.util.find_spec("setuptools") is None:  # the build backend; offline, it cannot be fetched
        pytest.skip(f"cannot build the wheel offline: setuptools is not installed in {sys.prefix}")
    source = target / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "secrets.toml")
    shutil.copytree(ROOT / "moresprudentie", source / "moresprudentie", ignore=ignore)
    wheels = target / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source])
    [wheel] = wheels.glob("moresprudentie-*.whl")
    return wheel


def _fresh_venv(folder: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed and the dev venv's dependencies visible; its python."""
    _run([sys.executable, "-m", "venv", folder])
    python = folder / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dev_sites = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    # Plain path lines: appended after the venv's own site-packages, and the dev venv's .pth files
    # (among them the editable finder that maps moresprudentie to the checkout) are not processed.
    (site / "dev-dependencies.pth").write_text("".join(f"{path}\n" for path in dev_sites), encoding="utf-8")
    _run([python, "-m", "pip", "--disable-pip-version-check", "install", "--no-deps", "--no-index", wheel])
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the new venv's python, the installed package folder), outside the checkout."""
    base = tmp_path_factory.mktemp("installed")
    assert not base.resolve().is_relative_to(ROOT), f"{base} is inside the checkout"
    python = _fresh_venv(base / "venv", _build_wheel(base / "build"))
    probe = (
        "import json, moresprudentie\n"
        "from moresprudentie import settings\n"
        "print(json.dumps({'file': moresprudentie.__file__, 'checkout': str(settings.CHECKOUT),\n"
        "    'cases': str(settings.cases_dir()), 'roles': settings.ROLES.value()}))\n"
    )
    work = base / "work"
    work.mkdir()
    found = json.loads(_run([python, "-P", "-c", probe], cwd=work, env=_clean_env()).stdout)
    package = Path(found["file"]).parent
    assert package.is_relative_to(base / "venv"), f"imported {found['file']}, not the venv's own copy"
    assert found["checkout"] == "None"
    assert found["cases"] == "cases"  # relative: the working directory's cases/
    assert found["roles"] == str(Path(".streamlit") / "secrets.toml")
    yield python, package


def test_the_wheel_ships_the_page_scripts_and_data(installed: tuple[Path, Path]) -> None:
    _, package = installed
    missing = [name for name in SHIPPED_DATA if not (package / name).is_file()]
    assert not missing, f"not in the installed package: {missing}"
    assert not list(package.rglob("secrets.toml")), "a secrets file was packaged"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            pass
        if server.poll() is not None:
            pytest.fail(f"the app exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        time.sleep(0.5)
    pytest.fail(f"the app did not answer within {WAIT_SECONDS} s:\n{log.read_text(errors='replace')}")


def _stop(server: subprocess.Popen) -> None:
    """Stop the server and anything it started (it runs in a process group of its own)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)


def test_the_installed_app_command_builds_the_index_and_serves(installed: tuple[Path, Path], tmp_path: Path) -> None:
    python, _ = installed
    work = tmp_path / "work"
    work.mkdir()
    cases = shutil.copytree(COLLECTION, tmp_path / "cases")
    index = tmp_path / "index"
    port = _free_port()
    log = tmp_path / "server.log"
    command = [python.parent / "moresprudentie", "app", "--cases", cases, "--"]
    command += ["--server.port", str(port), "--server.headless", "true"]
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(part) for part in command],
            cwd=work,
            env=_clean_env(MORESPRUDENTIE_INDEX=str(index)),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_health(server, port, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert b'id="root"' in response.read()  # Streamlit's page shell, served from the installed streamlit
        assert (index / "CURRENT").is_file()  # the index was built before serving
        assert "2 case(s) ready" in log.read_text(errors="replace")
    finally:
        _stop(server)


def test_the_installed_router_runs_its_first_page(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """The HTTP server serves a shell without running the script; this runs the installed app.py itself."""
    python, package = installed
    cases = shutil.copytree(COLLECTION, tmp_path / "cases")
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file(sys.argv[1], default_timeout=120)\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "print(at.title[0].value if at.title else '')\n"
    )
    env = _clean_env(MORESPRUDENTIE_CASES=str(cases), MORESPRUDENTIE_INDEX=str(tmp_path / "index"))
    result = _run([python, "-P", "-c", script, package / "ui" / "app.py"], cwd=tmp_path, env=env, timeout=300)
    assert result.stdout.strip(), f"the first page drew no title:\n{result.stderr}"
