"""`moresprudentie export`: the collection, or the part the filters pick, as CSV, JSON Lines, Excel or Markdown.

Registered on the main `moresprudentie` app by register(), called from cli/main.py, as officer.py is. It
reads the case files, not the index: an export needs no model. Only published cases unless
--include-drafts, with the filters `search` has. Without --output the file goes to standard output,
byte for byte what --output would write (the CSV with its byte order mark), so `> cases.csv` and
`--output cases.csv` give the same file; an Excel file is binary, so it goes to standard output only
when that is a pipe or a file, never a terminal.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from moresprudentie import settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cli.options import CasesOption, FilterOptions, grouped
from moresprudentie.errors import UsageError
from moresprudentie.export import FORMATS, export
from moresprudentie.files import atomic_write

CHOICES = ", ".join(FORMATS)
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help=f"the file format: {CHOICES} (default: the --output suffix)", show_default=False
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="write to this file (default: standard output)", show_default=False),
]


def chosen_format(asked: str | None, output: Path | None) -> str:
    """The format asked for ('CSV' and '.csv' too), else the one the output file's suffix names."""
    if asked is None:
        suffix = output.suffix.lstrip(".").lower() if output else ""
        if suffix in FORMATS:
            return suffix
        raise UsageError(f"say which format: --format {CHOICES.replace(', ', '|')}")
    name = asked.strip().lower().lstrip(".")
    if name not in FORMATS:
        raise UsageError(f"--format {asked}: not a format I can write; choose one of {CHOICES}")
    return name


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _to_stdout(data: bytes) -> None:
    """The bytes as they are (no newline translation); a reader that stops early (`| head`) ends it quietly."""
    sys.stdout.flush()
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise typer.Exit(1) from None


@grouped
def export_command(
    file_format: FormatOption = None,
    output: OutputOption = None,
    cases: CasesOption = None,
    *,
    picked: FilterOptions,
) -> None:
    """Write the published cases as CSV, JSON Lines, Excel (xlsx) or Markdown, to a file or standard output.

    The filters are those of `search` (--theme, --tension loyaliteit:transparantie, --from 2023 …); drafts
    only with --include-drafts. CSV is UTF-8 with a byte order mark, so Excel reads it as it is.
    """
    name = chosen_format(file_format, output)
    if output is None and name == "xlsx" and stdout_is_terminal():
        raise UsageError("an Excel file is binary and would garble this terminal: add --output cases.xlsx")
    filters = picked.filters()
    folder = settings.cases_dir(cases)
    result = load_cases(folder)
    filters.check_against(result.cases.values())
    chosen = sorted(
        (case for case in result.cases.values() if filters.accepts(case)),
        key=lambda case: (case.date, case.id),
        reverse=True,  # newest first, as the app lists them
    )
    data = export(chosen, name)
    if output is None:
        _to_stdout(data)
    else:
        atomic_write(output, data)
    where = f" to {output}" if output is not None else ""
    typer.echo(f"{len(chosen)} case(s) exported as {name}{where}", err=True)
    invalid = {problem.path for problem in result.errors}
    if invalid:
        typer.echo(f"{len(invalid)} invalid case file(s) left out; run `moresprudentie validate` to see why", err=True)


def register(app: typer.Typer) -> None:
    """Add `export` to the main command (one direction: main imports this)."""
    app.command("export")(export_command)
