"""The `moresprudentie` command: a thin shell that parses options, calls the library and prints.

Exit codes: 0 success, 1 problems found (invalid cases, findings, errors), 2 usage errors.
Library errors (MoresprudentieError) become one plain line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from moresprudentie import __version__, settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cli import check, export, officer, store
from moresprudentie.cli.options import (
    CasesOption,
    FilterOptions,
    IndexOption,
    JsonOption,
    ModelOption,
    StoreOption,
    echo_json,
    grouped,
    open_engine,
    report_line,
)
from moresprudentie.errors import MoresprudentieError, UsageError

if TYPE_CHECKING:  # the search stack (FAISS, BM25, models) is imported only when a search command runs
    from moresprudentie.search.engine import Hit, SearchEngine

app = typer.Typer(
    help="moresprudentie: find, check and publish anonymised moral deliberation cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


DEFAULT_PORT = 8501  # Streamlit's


def _option_value(args: list[str], name: str) -> str | None:
    """The value of a Streamlit option among the extra arguments (`--name value` or `--name=value`)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def _trial_start(args: list[str], env: dict[str, str]) -> list[str]:
    """For trial mode: a fresh token in `env`, the tokened URL printed, and the port fixed.

    The token is the proof that a request comes from the browser of whoever started the app (see
    ui/components/auth.py), so it is new for every start and printed only here, on the console of
    the person who started it. The port is passed explicitly so Streamlit fails rather than
    silently moving to the next free port, which would make the printed URL point elsewhere.
    """
    import secrets

    port_text = _option_value(args, "--server.port") or env.get("STREAMLIT_SERVER_PORT") or str(DEFAULT_PORT)
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"--server.port must be a number, not {port_text!r}") from None
    token = secrets.token_urlsafe(32)
    env[settings.TRIAL_TOKEN_ENV] = token
    address = _option_value(args, "--server.address") or env.get("STREAMLIT_SERVER_ADDRESS") or "127.0.0.1"
    host = f"[{address}]" if ":" in address else address
    typer.echo(
        f"Trial mode: every officer power is yours, but only in the browser that opens this link\n"
        f"  http://{host}:{port}/?{settings.TRIAL_TOKEN_PARAM}={token}\n"
        "Keep it to yourself; it is new every time the app starts.",
        err=True,
    )
    explicit: list[str] = []
    skip = False
    for arg in args:  # every --server.port given, with its value, makes way for the one fixed here
        if skip or arg == "--server.port" or arg.startswith("--server.port="):
            skip = arg == "--server.port"
            continue
        explicit.append(arg)
    return [*explicit, f"--server.port={port}"]


@app.command("app", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(
    ctx: typer.Context,
    cases: CasesOption = None,
    model: Annotated[str | None, typer.Option("--model", help=settings.MODEL.help)] = None,
    contacts: Annotated[
        Path | None,
        typer.Option("--contacts", help=settings.CONTACTS.help + f" [env {settings.CONTACTS.env}]", show_default=False),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Build or update the index, then start the web app (extra options go to `streamlit run`).

    With a PostgreSQL store (--store or MORESPRUDENTIE_STORE) this app is one replica: it searches its
    own copy of the shared collection in its index folder (MORESPRUDENTIE_INDEX), kept fresh from the
    database, and takes every officer's step in the database.

    In trial mode (MORESPRUDENTIE_TRIAL_OFFICER=1) it prints a link with a one-time token: only a
    browser that opened that link gets the officer powers.
    """
    import os

    from moresprudentie import contacts as help_contacts

    contacts_file = settings.contacts_file(contacts)
    if contacts_file is not None:  # a bad file is said here, once, rather than ignored by every page
        help_contacts.load(contacts_file)
    folder = settings.cases_dir(cases)
    engine = open_engine(cases, None, model, quiet=not sys.stderr.isatty(), store=store)
    typer.echo(f"{len(engine.cases)} case(s) ready; starting the app …", err=True)
    env = {**os.environ, settings.CASES.env: str(folder.resolve())}
    if store:
        env[settings.STORE.env] = store
    env.pop(settings.TRIAL_TOKEN_ENV, None)  # never a token from the caller's environment
    if model:
        env[settings.MODEL.env] = model
    if contacts_file is not None:
        env[settings.CONTACTS.env] = str(contacts_file.resolve())
    args = list(ctx.args)
    if env.get(settings.TRIAL_ENV, "").strip() == "1":
        args = _trial_start(args, env)
    app_file = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")  # inside the installed package
    # `serve` is `streamlit run` without the external-IP lookup (ui/app.py); -P: not from the cwd.
    launcher = "from moresprudentie.ui.app import serve; serve()"
    command = [sys.executable, "-P", "-c", launcher, "run", app_file, *args]
    os.execve(sys.executable, command, env)  # noqa: S606 - hand the terminal to streamlit, no shell


# -- search commands (index, search, similar) --

KOption = Annotated[int, typer.Option("-k", help="number of results", min=1, max=1000)]


@dataclass(frozen=True)
class ResultOptions:
    """The options `search` and `similar` share: where cases and index are, how many hits, how shown
    (which cases: FilterOptions, the block `export` takes too)."""

    cases: CasesOption = None
    index: IndexOption = None
    model: ModelOption = None
    k: KOption = 10
    as_json: JsonOption = False
    store: StoreOption = None

    def engine(self) -> SearchEngine:
        """The engine, quiet with --json (stdout is then one JSON document per query)."""
        return open_engine(self.cases, self.index, self.model, quiet=self.as_json, store=self.store)

    def print_hits(self, hits: list[Hit], banded: bool = True) -> None:
        """Print the hits; `banded` (a typed query) adds each hit's match band and, when none is at
        least fair, says plainly that there is no good match (the bands are measured for typed
        queries, not for case-to-case likeness, so `similar` shows scores only)."""
        _print_hits(hits, self.as_json, banded)


# In Dutch first, as the app says it (the people who read it work in Dutch), then in English.
NO_GOOD_MATCH = (
    "Geen goede overeenkomst gevonden: de eerdere beraden hieronder lijken maar zwak op dit dilemma; "
    "lees ze kritisch. Verwoord het anders (de situatie en waar je over twijfelt), probeer een paar "
    "trefwoorden of een --theme- of --value-filter, of praat met de integriteitsfunctionaris of de "
    "vertrouwenspersoon van je organisatie.\n"
    "No good match: the earlier deliberations below resemble this only weakly; read them critically. "
    "Rephrase it, with the situation and what you doubt, try a few keywords or a --theme/--value "
    "filter, or talk to your organisation's integrity officer or confidential adviser."
)


# A query of stopwords only finds nothing (SearchEngine.search); said as the app says it, then in English.
NOTHING_TO_SEARCH = (
    "Hier staat nog niets om op te zoeken: beschrijf het dilemma in een paar zinnen, of geef een paar "
    "trefwoorden.\nNothing to search for yet: describe the dilemma in a few sentences, or give a few keywords."
)


def _hit_json(hit: Hit, banded: bool) -> dict:
    case = hit.case
    return {
        "id": case.id,
        "title": case.title,
        "score": hit.score,
        **({"match": hit.match} if banded else {}),
        "language": case.language,
        "date": case.date,
        "organisation": case.organisation,
        "themes": case.themes,
        "values": case.values,
        "role": case.role,
        "tensions": [{"between": list(tension.between), "prevailed": tension.prevailed} for tension in case.tensions],
        "status": case.status,
        "matched": {"field": hit.matched.field, "text": hit.matched.text},
    }


def _print_hits(hits: list[Hit], as_json: bool, banded: bool) -> None:
    if as_json:
        echo_json([_hit_json(hit, banded) for hit in hits])
        return
    if not hits:
        typer.echo("no matching cases (try other words or fewer filters)")
    elif banded and all(hit.match == "weak" for hit in hits):
        typer.echo(NO_GOOD_MATCH)
    for rank, hit in enumerate(hits, 1):
        case = hit.case
        draft = ", draft" if case.status == "draft" else ""
        band = f" {hit.match:<6}" if banded else ""
        typer.echo(f"{rank:2}. {hit.score:.2f}{band}  {case.title}  [{case.id}, {case.language}, {case.date}{draft}]")
        text = " ".join(hit.matched.text.split())
        typer.echo(f"    {hit.matched.field}: {text[:200] + '…' if len(text) > 200 else text}")


def _query_lines(path: Path) -> list[str]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the queries file ({exc}); give a UTF-8 text file, one query per line"
        ) from None
    return [line.strip() for line in text.splitlines()]


@app.command("index")
def index_command(
    cases: CasesOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="re-embed every case from scratch")] = False,
    as_json: JsonOption = False,
) -> None:
    """Build or update the search index (only new or changed cases are embedded)."""
    engine = open_engine(cases, index, model, quiet=as_json, rebuild=rebuild, announce=False)
    report = engine.report
    if as_json:
        echo_json(
            {
                "index": str(report.path),
                "cases": report.cases,
                "added": report.added,
                "changed": report.changed,
                "removed": report.removed,
                "embedded_passages": report.embedded_passages,
                "rebuilt_because": report.rebuilt_because,
                "saved": report.saved,
            }
        )
    else:
        typer.echo(report_line(report) + ("" if report.changed_anything else " (up to date)"))
    invalid = {p.path for p in engine.problems if p.severity == "error"}
    if invalid and not as_json:
        typer.echo(f"{len(invalid)} invalid case file(s) left out; run `moresprudentie validate` to see why", err=True)


@app.command()
@grouped
def search(
    query: Annotated[str | None, typer.Argument(help="what you are looking for, in Dutch or English")] = None,
    queries: Annotated[
        Path | None, typer.Option("--queries", help="run every line of this file as a query ('-' reads stdin)")
    ] = None,
    *,
    options: ResultOptions,
    picked: FilterOptions,
) -> None:
    """Find the cases closest to a question or situation (the index is updated first when needed)."""
    if (query is None) == (queries is None):
        raise UsageError('give one query ("…") or --queries FILE with one query per line')
    filters = picked.filters()  # built after the query check, so a missing query is said before a bad --from
    lines = _query_lines(queries) if queries is not None else [query or ""]
    engine = options.engine()
    filters.check_against(engine.cases.values())
    from moresprudentie.search.text import content_words

    for line in lines:
        if queries is not None and not options.as_json:
            typer.echo(f"\n== {line}")
        if not content_words(line) and not options.as_json:  # "wat nu": no filter is to blame, as the app says
            typer.echo(NOTHING_TO_SEARCH)
            continue
        options.print_hits(engine.search(line, k=options.k, filters=filters))


@app.command()
@grouped
def similar(
    case_id: Annotated[str, typer.Argument(metavar="ID", help="the id of a case (its file name without .yaml)")],
    *,
    options: ResultOptions,
    picked: FilterOptions,
) -> None:
    """More like this: the cases closest to a given case."""
    filters = picked.filters()
    engine = options.engine()
    filters.check_against(engine.cases.values())
    options.print_hits(engine.similar(case_id, k=options.k, filters=filters), banded=False)


# The officers' commands (new, review …): draft → review → publish, same rules as the app.
officer.register(app)
check.register(app)  # `check`: the anonymisation check of case files
export.register(app)  # `export`: the collection as CSV, JSON Lines, Excel or Markdown
store.register(app)  # `store import|export|status`: a collection into the store (files or PostgreSQL) and out


def main() -> None:
    """Entry point: run the CLI and turn library errors into one friendly line.

    Hidden characters are spelled out (<U+200B>), as `check` prints them: a refusal for personal data
    names the text it found, and a zero-width or bidi character printed raw would hide or reorder it.
    """
    try:
        app()
    except UsageError as exc:
        typer.echo(f"error: {check.spelled_out(str(exc))}", err=True)
        sys.exit(2)
    except MoresprudentieError as exc:
        typer.echo(f"error: {check.spelled_out(str(exc))}", err=True)
        sys.exit(1)
