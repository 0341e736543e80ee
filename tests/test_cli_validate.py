"""`moresprudentie validate`: exit codes and one line per problem, through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "moresprudentie", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_valid_collection_exits_0() -> None:
    result = run("validate", "--cases", str(FIXTURES / "collection"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 valid case(s)" in result.stderr


def test_hostile_collection_exits_1_with_one_line_per_file() -> None:
    result = run("validate", "--cases", str(FIXTURES / "hostile"))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line]
    files = {line.split(":")[0] for line in lines}
    assert len(files) == len(list((FIXTURES / "hostile").glob("*.yaml")))
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run("validate", "--cases", "/no/such/folder").returncode == 2
    assert run("validate", "--no-such-option").returncode == 2


def test_cases_folder_from_environment(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "MORESPRUDENTIE_CASES": str(FIXTURES / "hostile")}
    assert run("validate", env=env).returncode == 1
