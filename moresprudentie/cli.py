"""The `moresprudentie` command: a thin shell that parses options, calls the library and prints.

Exit codes: 0 success, 1 problems found (invalid cases, findings, errors), 2 usage errors.
Library errors (MoresprudentieError) become one plain line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import __version__, settings
from .errors import MoresprudentieError, UsageError
from .loading import load_cases

app = typer.Typer(
    help="moresprudentie: find, check and publish anonymised moral deliberation cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CasesOption = Annotated[
    Path | None, typer.Option("--cases", help=settings.CASES.help + f" [env {settings.CASES.env}]", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"moresprudentie {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """moresprudentie: find, check and publish anonymised moral deliberation cases."""


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@app.command()
def validate(cases: CasesOption = None, as_json: JsonOption = False) -> None:
    """Check every case file: print problems and warnings; exit 1 when any case is invalid."""
    folder = settings.cases_dir(cases)
    result = load_cases(folder)
    if as_json:
        echo_json(
            [
                {"path": p.path, "line": p.line, "field": p.field, "message": p.message, "severity": p.severity}
                for p in result.problems
            ]
        )
    else:
        for problem in result.problems:
            typer.echo(str(problem))
        files = len({p.path for p in result.errors})
        typer.echo(
            f"{len(result.cases)} valid case(s), {files} invalid file(s), {len(result.warnings)} warning(s) in {folder}",
            err=True,
        )
    raise typer.Exit(1 if result.errors else 0)


# -- search commands (index, search, similar) are registered below this line --


def main() -> None:
    """Entry point: run the CLI and turn library errors into one friendly line."""
    try:
        app()
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except MoresprudentieError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
