"""The README tells the truth: every setting, every command and every room of the package is in it.

Why tests: documentation drifts one forgotten line at a time, and a newcomer trusts it before the
code (after datasette's test_settings_are_documented). A setting, a command or a module added
without its line in the docs fails here, and so does a line about a module that has gone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from moresprudentie import settings
from moresprudentie.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "moresprudentie"
README = (ROOT / "README.md").read_text(encoding="utf-8")
USER_DOCS = ("gebruikershandleiding.md", "deployment.md", "anonymisation.md", "case-format.md")
PATH_LIKE = re.compile(r"^[\w.-]+(/[\w.-]+)*/?$")


def _section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^#{{1,{len(level)}}} |\Z)", text, re.M | re.S)
    assert match, f"README has no section {heading!r}"
    return match.group(1)


def _table(text: str) -> list[list[str]]:
    """The rows of the first Markdown table in `text`, each a list of cells (header and rule left out)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) > 2, "no table found"
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines[2:]]


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


# -- settings --


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under the typer app, groups included, as (name path, click command).

    Duck-typed (a group has `commands`): typer ships its own copy of click, not the `click` package.
    """
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if not command.hidden:
            yield (*path, name), command
            yield from _commands(command, (*path, name))


COMMANDS = dict(_commands(typer.main.get_command(app)))
assert {("search",), ("review", "publish")} <= COMMANDS.keys(), "the walk over the typer app found no commands"
SETTINGS_ROWS = _table(_section(README, "### Settings"))


@pytest.mark.parametrize("setting", settings.ALL_SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_settings_table(setting: settings.Setting) -> None:
    rows = [row for row in SETTINGS_ROWS if f"--{setting.name}" in _code(row[0])]
    assert rows, f"README ### Settings has no row for --{setting.name}"
    [(_option, env, default, meaning)] = rows
    assert _code(env) == [setting.env], f"--{setting.name}: the variable is {setting.env}, the README says {env}"
    assert default and meaning, f"--{setting.name}: say its default and what it means"


@pytest.mark.parametrize("setting", settings.ALL_SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_an_option_of_some_command(setting: settings.Setting) -> None:
    """The table promises an option for each setting: some command must take it."""
    options = {opt for command in COMMANDS.values() for param in command.params for opt in param.opts}
    assert f"--{setting.name}" in options


def test_the_settings_table_has_no_unknown_rows() -> None:
    known = {f"--{setting.name}" for setting in settings.ALL_SETTINGS}
    documented = {_code(row[0])[0] for row in SETTINGS_ROWS}
    assert documented <= known, f"README documents settings that do not exist: {documented - known}"


# -- commands --

DOCUMENTED_COMMANDS = _section(README, "## Use") + "".join(
    (ROOT / "docs" / name).read_text(encoding="utf-8") for name in USER_DOCS
)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    words = r"\s+".join(re.escape(word) for word in ("moresprudentie", *path))
    assert re.search(rf"{words}(?![\w-])", DOCUMENTED_COMMANDS), (
        f"`moresprudentie {' '.join(path)}` is mentioned neither in the README's Use section nor in docs/ {USER_DOCS}"
    )


# -- the module map --

HOW = _section(README, "## How it works")
MAP = _table(HOW)


def _exists(token: str, bases: list[Path]) -> Path | None:
    for base in bases:
        if (base / token).exists():
            return (base / token).resolve()
    return None


def _row_bases(first_cell: str) -> list[Path]:
    """Where a row's names are read: the folders its first column names (a file's own folder), then the root."""
    bases = []
    for token in _code(first_cell):
        path = ROOT / token
        bases.append(path if path.is_dir() else path.parent)
    return [*bases, ROOT]


def _named_paths() -> dict[str, Path | None]:
    """Every file or folder name in the table (backticked), resolved against its row; None when it is missing."""
    named: dict[str, Path | None] = {}
    for row in MAP:
        bases = _row_bases(row[0])
        for token in _code(" | ".join(row)):
            if PATH_LIKE.match(token) and (token.endswith("/") or Path(token).suffix in (".py", ".yaml", ".toml")):
                named[f"{row[0]}: {token}"] = _exists(token, bases)
    return named


def test_the_module_map_names_only_what_exists() -> None:
    missing = [name for name, path in _named_paths().items() if path is None]
    assert not missing, f"README's module map names files or folders that do not exist: {missing}"
    for row in MAP:
        assert all((ROOT / token).exists() for token in _code(row[0])), f"first column: {row[0]}"


def test_every_room_of_the_package_is_on_the_map() -> None:
    """Each subpackage (at any depth) and each top-level module of moresprudentie/ is named in the table."""
    named = {path for path in _named_paths().values() if path is not None}
    rooms = {init.parent.resolve() for init in PACKAGE.rglob("__init__.py") if init.parent != PACKAGE}
    modules = {path.resolve() for path in PACKAGE.glob("*.py") if not path.name.startswith("__")}
    unnamed = sorted(str(path.relative_to(ROOT)) for path in (rooms | modules) - named)
    assert not unnamed, f"not on the README's module map: {unnamed}"


def test_the_flow_diagrams_name_only_what_exists() -> None:
    diagrams = "".join(re.findall(r"^```\n(.*?)^```", HOW, re.M | re.S))
    assert diagrams, "README's How it works has no diagrams"
    missing = []
    for token in set(re.findall(r"\w[\w./]*(?:\.py|/)", diagrams)):
        found = _exists(token, [ROOT, PACKAGE]) or next(PACKAGE.rglob(token.rstrip("/")), None)
        if found is None:
            missing.append(token)
    assert not missing, f"the diagrams name what does not exist: {sorted(missing)}"
