"""Option groups for the typer commands: a block of options declared once, shared by several commands.

Typer reads a command's options from its signature, so commands that take the same options would
each list them again. Here a frozen dataclass declares the block (its fields annotated like typer
parameters), and `grouped` shows typer the fields in place of the one parameter typed with it; the
command receives one instance. Help, order and defaults stay exactly what the fields say.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import logging
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from moresprudentie import settings

if TYPE_CHECKING:
    from moresprudentie.search.engine import SearchEngine
    from moresprudentie.search.filters import Filters
    from moresprudentie.search.sync import IndexReport

Command = TypeVar("Command", bound=Callable[..., Any])


def grouped(command: Command) -> Command:
    """Expand every parameter typed with a dataclass into that dataclass's fields (put below @app.command)."""
    signature = inspect.signature(command, eval_str=True)
    groups: dict[str, tuple[type, list[str]]] = {}
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        group = parameter.annotation
        if not (isinstance(group, type) and dataclasses.is_dataclass(group)):
            parameters.append(parameter)
            continue
        hints = typing.get_type_hints(group, include_extras=True)
        fields = dataclasses.fields(group)
        groups[parameter.name] = (group, [field.name for field in fields])
        parameters += [
            inspect.Parameter(
                field.name,
                parameter.kind,
                default=inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default,
                annotation=hints[field.name],
            )
            for field in fields
        ]

    @functools.wraps(command)
    def run(**values: Any) -> Any:
        for name, (group, fields) in groups.items():
            values[name] = group(**{field: values.pop(field) for field in fields})
        return command(**values)

    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": signature.return_annotation}
    return typing.cast(Command, run)


# -- option types and helpers shared by the search and the officer commands --

CasesOption = Annotated[
    Path | None, typer.Option("--cases", help=settings.CASES.help + f" [env {settings.CASES.env}]", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]
IndexOption = Annotated[
    Path | None, typer.Option("--index", help=settings.INDEX.help + f" [env {settings.INDEX.env}]", show_default=False)
]
AuditLogOption = Annotated[
    Path | None,
    typer.Option("--audit-log", help=settings.AUDIT_LOG.help + f" [env {settings.AUDIT_LOG.env}]", show_default=False),
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help=settings.MODEL.help + f" [env {settings.MODEL.env}]", show_default=False)
]
StoreOption = Annotated[
    str | None, typer.Option("--store", help=settings.STORE.help + f" [env {settings.STORE.env}]", show_default=False)
]


# -- which cases: the filters search, similar and export share --

ThemeOption = Annotated[list[str] | None, typer.Option("--theme", help="only cases with this theme (repeatable)")]
ValueOption = Annotated[list[str] | None, typer.Option("--value", help="only cases weighing this value (repeatable)")]
LanguageOption = Annotated[list[str] | None, typer.Option("--language", help="only cases in this language: nl or en")]
OrganisationOption = Annotated[
    list[str] | None, typer.Option("--organisation", help="only cases from this kind of organisation (repeatable)")
]
MethodOption = Annotated[list[str] | None, typer.Option("--method", help="only cases discussed with this method")]
DateFromOption = Annotated[str | None, typer.Option("--from", help="only cases dated from YYYY[-MM[-DD]]")]
DateToOption = Annotated[str | None, typer.Option("--to", help="only cases dated up to YYYY[-MM[-DD]]")]
TensionOption = Annotated[
    str | None,
    typer.Option(
        "--tension",
        help="only cases that weighed these two values against each other, as A:B (order does not matter), "
        "e.g. loyaliteit:transparantie",
    ),
]
RoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role", help="only cases whose dilemma is this role's: medewerker, leidinggevende, bestuurder, team"
    ),
]
DraftsOption = Annotated[bool, typer.Option("--include-drafts", help="also show cases that are still drafts")]


@dataclasses.dataclass(frozen=True)
class FilterOptions:
    """The filter options as one block, taken by `search`, `similar` and `export`."""

    theme: ThemeOption = None
    value: ValueOption = None
    language: LanguageOption = None
    organisation: OrganisationOption = None
    method: MethodOption = None
    date_from: DateFromOption = None
    date_to: DateToOption = None
    tension: TensionOption = None
    role: RoleOption = None
    include_drafts: DraftsOption = False

    def filters(self) -> Filters:
        """The picked filters (search/filters.py reads them as case files are read: 'Discretionaire ruimte')."""
        from moresprudentie.search.filters import Filters

        return Filters(
            themes=frozenset(self.theme or ()),
            values=frozenset(self.value or ()),
            languages=frozenset(self.language or ()),
            organisations=frozenset(self.organisation or ()),
            methods=frozenset(self.method or ()),
            date_from=self.date_from,
            date_to=self.date_to,
            tension=self.tension,
            roles=frozenset(self.role or ()),
            include_drafts=self.include_drafts,
        )


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


class _EchoHandler(logging.Handler):
    """Library warnings (a damaged index being rebuilt, a read-only folder) as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def open_engine(
    cases: Path | None,
    index: Path | None,
    model: str | None,
    quiet: bool,
    rebuild: bool = False,
    announce: bool = True,
    store: str | None = None,
) -> SearchEngine:
    """Open the engine (progress bar unless quiet); say on stderr what the index update did.

    With a PostgreSQL store the engine reads this machine's copy of the shared collection, brought up
    to date first; when the database is down, the copy last fetched is searched, with a warning.
    """
    from moresprudentie.errors import StoreUnavailableError
    from moresprudentie.search.engine import SearchEngine
    from moresprudentie.storage import search_folders

    library_log = logging.getLogger("moresprudentie")
    if not any(isinstance(h, _EchoHandler) for h in library_log.handlers):
        library_log.addHandler(_EchoHandler(logging.WARNING))
    folders = search_folders(cases, index, store)
    try:
        folders.sync()
    except StoreUnavailableError as exc:
        if not folders.cases.is_dir():
            raise
        typer.echo(f"warning: {exc}; searching the copy fetched before ({folders.cases})", err=True)
    engine = SearchEngine.open(folders.cases, folders.index, model=model, progress=not quiet, rebuild=rebuild)
    report = engine.report
    if announce and not quiet and report.changed_anything:
        typer.echo(report_line(report), err=True)
    return engine


def report_line(report: IndexReport) -> str:
    line = (
        f"index {report.path}: {report.cases} case(s); {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.embedded_passages} passage(s) embedded"
    )
    if report.rebuilt_because:
        line += f" (rebuilt: {report.rebuilt_because})"
    if not report.saved:
        line += " (not saved: the index folder is not writable)"
    return line
