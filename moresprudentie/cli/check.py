"""`moresprudentie check`: the anonymisation check of case files, as the officer pages run it.

Its own module beside officer.py (the review steps): it reads files, never the store, and main.py
borrows its way of printing hidden characters (spelled_out) for every error line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from moresprudentie import settings
from moresprudentie.cli.options import JsonOption, echo_json
from moresprudentie.errors import MoresprudentieError, UsageError


def _check_targets(paths: list[Path]) -> list[Path]:
    """Case files named directly, or the *.yaml files of the folders named."""
    from moresprudentie.cases.collection import case_files

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(case_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder; give case files or folders of cases")
    return files


def spelled_out(text: str) -> str:
    """Hidden characters as <U+200B>: a zero-width or bidi character printed raw would hide or reorder
    exactly what the officer has to see."""
    from moresprudentie.anonymisation.normalise import is_hidden

    return "".join(f"<U+{ord(char):04X}>" if is_hidden(char) else char for char in text)


def check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="case files or folders of cases (default: the collection)")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="also exit 1 on warnings (quasi-identifiers)")] = False,
    warm_up: Annotated[
        bool, typer.Option("--warm-up", help="prepare the name detector (builds its cache once, over a minute)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Anonymisation check: print personal data found in cases, with a suggested replacement; exit 1 if any."""
    from dataclasses import asdict

    from moresprudentie.anonymisation import check as anonymisation

    if warm_up:
        anonymisation.warm_up()
        if not paths:
            typer.echo("name detector ready", err=True)
            raise typer.Exit(0)
    files = _check_targets(paths or [settings.cases_dir()])
    findings, errors = [], []
    for file in files:
        try:
            findings.extend((str(file), finding) for finding in anonymisation.check_file(file))
        except MoresprudentieError as exc:
            errors.append(str(exc))
    if as_json:
        rows = [{"path": path, **asdict(finding)} for path, finding in findings]
        echo_json({"findings": rows, "errors": errors})
    else:
        for path, f in findings:
            warning = " (warning)" if f.severity == "warn" else ""
            where = f"{path}:{f.line}" if f.line else path
            typer.echo(f"{where}: {f.kind}: {spelled_out(f.text)} → {spelled_out(f.replacement)}{warning}")
        for error in errors:
            typer.echo(f"error: {error}")
        blocking = sum(f.severity == "block" for _, f in findings)
        typer.echo(
            f"{len(files)} file(s): {blocking} finding(s), {len(findings) - blocking} warning(s), "
            f"{len(errors)} unreadable file(s). Replace personal data, or add a reviewed exception to allowed_terms.",
            err=True,
        )
    failed = errors or any(f.severity == "block" or strict for _, f in findings)
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Add `check` to the main command (one direction: main imports this)."""
    app.command()(check)
