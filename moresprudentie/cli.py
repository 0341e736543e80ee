"""The `moresprudentie` command: a thin shell that parses options, calls the library and prints.

Exit codes: 0 success, 1 problems found (invalid cases, findings, errors), 2 usage errors.
Library errors (MoresprudentieError) become one plain line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import __version__, settings
from .errors import MoresprudentieError, UsageError
from .loading import load_cases

if TYPE_CHECKING:  # the search stack (FAISS, BM25, models) is imported only when a search command runs
    from .index import IndexReport
    from .roles import Actor
    from .search import Filters, Hit, SearchEngine

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


@app.command("app", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(
    ctx: typer.Context,
    cases: CasesOption = None,
    model: Annotated[str | None, typer.Option("--model", help=settings.MODEL.help)] = None,
) -> None:
    """Build or update the index, then start the web app (extra options go to `streamlit run`)."""
    import os

    from .search import SearchEngine

    folder = settings.cases_dir(cases)
    engine = SearchEngine.open(folder, model=model, progress=sys.stderr.isatty())
    typer.echo(f"{len(engine.cases)} case(s) ready; starting the app on http://127.0.0.1:8501", err=True)
    env = {**os.environ, settings.CASES.env: str(folder.resolve())}
    if model:
        env[settings.MODEL.env] = model
    app_file = str(settings.PROJECT_ROOT / "app.py")
    command = [sys.executable, "-m", "streamlit", "run", app_file, *ctx.args]
    os.execve(sys.executable, command, env)  # noqa: S606 - hand the terminal to streamlit, no shell


# -- search commands (index, search, similar) are registered below this line --

IndexOption = Annotated[
    Path | None, typer.Option("--index", help=settings.INDEX.help + f" [env {settings.INDEX.env}]", show_default=False)
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help=settings.MODEL.help + f" [env {settings.MODEL.env}]", show_default=False)
]
KOption = Annotated[int, typer.Option("-k", help="number of results", min=1, max=1000)]
ThemeOption = Annotated[list[str] | None, typer.Option("--theme", help="only cases with this theme (repeatable)")]
ValueOption = Annotated[list[str] | None, typer.Option("--value", help="only cases weighing this value (repeatable)")]
LanguageOption = Annotated[list[str] | None, typer.Option("--language", help="only cases in this language: nl or en")]
OrganisationOption = Annotated[
    list[str] | None, typer.Option("--organisation", help="only cases from this kind of organisation (repeatable)")
]
MethodOption = Annotated[list[str] | None, typer.Option("--method", help="only cases discussed with this method")]
DateFromOption = Annotated[str | None, typer.Option("--from", help="only cases dated from YYYY[-MM[-DD]]")]
DateToOption = Annotated[str | None, typer.Option("--to", help="only cases dated up to YYYY[-MM[-DD]]")]
DraftsOption = Annotated[bool, typer.Option("--include-drafts", help="also show cases that are still drafts")]


class _EchoHandler(logging.Handler):
    """Library warnings (a damaged index being rebuilt, a read-only folder) as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def _open_engine(
    cases: Path | None,
    index: Path | None,
    model: str | None,
    quiet: bool,
    rebuild: bool = False,
    announce: bool = True,
) -> SearchEngine:
    """Open the engine (progress bar unless quiet); say on stderr what the index update did."""
    from .search import SearchEngine

    library_log = logging.getLogger("moresprudentie")
    if not any(isinstance(h, _EchoHandler) for h in library_log.handlers):
        library_log.addHandler(_EchoHandler(logging.WARNING))
    engine = SearchEngine.open(cases, index, model=model, progress=not quiet, rebuild=rebuild)
    report = engine.report
    if announce and not quiet and report.changed_anything:
        typer.echo(_report_line(report), err=True)
    return engine


def _report_line(report: IndexReport) -> str:
    line = (
        f"index {report.path}: {report.cases} case(s); {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.embedded_passages} passage(s) embedded"
    )
    if report.rebuilt_because:
        line += f" (rebuilt: {report.rebuilt_because})"
    if not report.saved:
        line += " (not saved: the index folder is not writable)"
    return line


def _hit_json(hit: Hit) -> dict:
    case = hit.case
    return {
        "id": case.id,
        "title": case.title,
        "score": hit.score,
        "language": case.language,
        "date": case.date,
        "organisation": case.organisation,
        "themes": case.themes,
        "values": case.values,
        "status": case.status,
        "matched": {"field": hit.matched.field, "text": hit.matched.text},
    }


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    if as_json:
        echo_json([_hit_json(hit) for hit in hits])
        return
    if not hits:
        typer.echo("no matching cases (try other words or fewer filters)")
    for rank, hit in enumerate(hits, 1):
        case = hit.case
        draft = ", draft" if case.status == "draft" else ""
        typer.echo(f"{rank:2}. {hit.score:.2f}  {case.title}  [{case.id}, {case.language}, {case.date}{draft}]")
        text = " ".join(hit.matched.text.split())
        typer.echo(f"    {hit.matched.field}: {text[:200] + '…' if len(text) > 200 else text}")


def _filters(
    theme: list[str] | None,
    value: list[str] | None,
    language: list[str] | None,
    organisation: list[str] | None,
    method: list[str] | None,
    date_from: str | None,
    date_to: str | None,
    include_drafts: bool,
) -> Filters:
    from .search import Filters

    return Filters(
        themes=frozenset(theme or ()),
        values=frozenset(value or ()),
        languages=frozenset(language or ()),
        organisations=frozenset(organisation or ()),
        methods=frozenset(method or ()),
        date_from=date_from,
        date_to=date_to,
        include_drafts=include_drafts,
    )


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
    engine = _open_engine(cases, index, model, quiet=as_json, rebuild=rebuild, announce=False)
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
        typer.echo(_report_line(report) + ("" if report.changed_anything else " (up to date)"))
    invalid = {p.path for p in engine.problems if p.severity == "error"}
    if invalid and not as_json:
        typer.echo(f"{len(invalid)} invalid case file(s) left out; run `moresprudentie validate` to see why", err=True)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="what you are looking for, in Dutch or English")] = None,
    queries: Annotated[
        Path | None, typer.Option("--queries", help="run every line of this file as a query ('-' reads stdin)")
    ] = None,
    cases: CasesOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    k: KOption = 10,
    as_json: JsonOption = False,
    theme: ThemeOption = None,
    value: ValueOption = None,
    language: LanguageOption = None,
    organisation: OrganisationOption = None,
    method: MethodOption = None,
    date_from: DateFromOption = None,
    date_to: DateToOption = None,
    include_drafts: DraftsOption = False,
) -> None:
    """Find the cases closest to a question or situation (the index is updated first when needed)."""
    if (query is None) == (queries is None):
        raise UsageError('give one query ("…") or --queries FILE with one query per line')
    filters = _filters(theme, value, language, organisation, method, date_from, date_to, include_drafts)
    lines = _query_lines(queries) if queries is not None else [query or ""]
    engine = _open_engine(cases, index, model, quiet=as_json)
    for line in lines:
        if queries is not None and not as_json:
            typer.echo(f"\n== {line}")
        _print_hits(engine.search(line, k=k, filters=filters) if line else [], as_json)


@app.command()
def similar(
    case_id: Annotated[str, typer.Argument(metavar="ID", help="the id of a case (its file name without .yaml)")],
    cases: CasesOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    k: KOption = 10,
    as_json: JsonOption = False,
    theme: ThemeOption = None,
    value: ValueOption = None,
    language: LanguageOption = None,
    organisation: OrganisationOption = None,
    method: MethodOption = None,
    date_from: DateFromOption = None,
    date_to: DateToOption = None,
    include_drafts: DraftsOption = False,
) -> None:
    """More like this: the cases closest to a given case."""
    filters = _filters(theme, value, language, organisation, method, date_from, date_to, include_drafts)
    engine = _open_engine(cases, index, model, quiet=as_json)
    _print_hits(engine.similar(case_id, k=k, filters=filters), as_json)


# -- officer commands (new, review …): draft → review → publish, same rules as the app --

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as", envvar="MORESPRUDENTIE_USER", help="who you are (must be listed as officer in the roles file)"
    ),
]
RolesOption = Annotated[
    Path | None, typer.Option("--roles", help=settings.ROLES.help + f" [env {settings.ROLES.env}]", show_default=False)
]
CaseIdArgument = Annotated[str, typer.Argument(metavar="ID", help="the case id (its file name without .yaml)")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="a note for the audit log and the author")]
review_app = typer.Typer(
    help="Draft → review → publish for integrity officers (the four-eyes rule applies).", no_args_is_help=True
)
app.add_typer(review_app, name="review")


def _cli_actor(as_name: str | None, roles: Path | None) -> Actor:
    from .roles import actor_for, load_officers

    if not as_name or not as_name.strip():
        raise UsageError("say who you are: --as NAME (or set MORESPRUDENTIE_USER); see docs/deployment.md")
    return actor_for(as_name, load_officers(roles))


@app.command()
def new(
    case_id: CaseIdArgument,
    language: Annotated[str, typer.Option("--language", help="language of the case text: nl or en")] = "nl",
    stdout: Annotated[bool, typer.Option("--stdout", help="print the scaffold instead of creating the file")] = False,
    cases: CasesOption = None,
    as_name: AsOption = None,
    roles: RolesOption = None,
) -> None:
    """Create cases/ID.yaml: a draft with every field and Dutch hints, ready to fill in."""
    from .authoring import scaffold
    from .workflow import create_scaffold

    if language not in ("nl", "en"):
        raise UsageError(f"--language {language}: use nl or en")
    if stdout:
        typer.echo(scaffold(case_id, language), nl=False)
        return
    path = create_scaffold(settings.cases_dir(cases), case_id, _cli_actor(as_name, roles), language)
    typer.echo(f"created {path}: fill it in, run `moresprudentie validate` and `moresprudentie check {path}`")


@review_app.command("list")
def review_list(cases: CasesOption = None, as_json: JsonOption = False) -> None:
    """The review queue: every draft and revision with its state, most urgent first."""
    from .drafts import review_queue

    items = review_queue(settings.cases_dir(cases))
    rows = [
        {
            "id": item.version.case_id,
            "state": item.review.state,
            "title": item.version.case.title if item.version.case else None,
            "revision": item.version.is_revision,
            "authors": sorted(item.review.authors),
            "approvers": list(item.review.approvers),
            "comment": item.review.last_comment,
            "problems": [str(p) for p in item.version.problems if p.severity == "error"],
        }
        for item in items
    ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        title = row["title"] or "(invalid: " + "; ".join(row["problems"]) + ")"
        authors = f" by {', '.join(row['authors'])}" if row["authors"] else ""
        extra = (" revision" if row["revision"] else "") + authors
        typer.echo(f"{row['state']:<10} {row['id']}  {title}{extra}")
        if row["comment"]:
            typer.echo(f"           comment: {row['comment']}")
    if not rows:
        typer.echo("no drafts waiting")


@review_app.command("submit")
def review_submit(
    case_id: CaseIdArgument,
    comment: CommentOption = "",
    cases: CasesOption = None,
    as_name: AsOption = None,
    roles: RolesOption = None,
) -> None:
    """Offer a draft for review (a file you edited by hand counts as yours)."""
    from .workflow import submit

    review = submit(settings.cases_dir(cases), case_id, _cli_actor(as_name, roles), comment)
    typer.echo(f"{case_id}: {review.state}; a second officer can now approve it")


@review_app.command("approve")
def review_approve(
    case_id: CaseIdArgument,
    comment: CommentOption = "",
    cases: CasesOption = None,
    as_name: AsOption = None,
    roles: RolesOption = None,
) -> None:
    """Approve a submitted draft as the second officer (not its author)."""
    from .workflow import approve

    review = approve(settings.cases_dir(cases), case_id, _cli_actor(as_name, roles), comment)
    typer.echo(f"{case_id}: {review.state}; publish it with `moresprudentie review publish {case_id}`")


@review_app.command("send-back")
def review_send_back(
    case_id: CaseIdArgument,
    comment: Annotated[str, typer.Option("--comment", "-m", help="what the author should change (required)")],
    cases: CasesOption = None,
    as_name: AsOption = None,
    roles: RolesOption = None,
) -> None:
    """Reject a submitted draft: send it back to its author with a comment."""
    from .workflow import send_back

    send_back(settings.cases_dir(cases), case_id, _cli_actor(as_name, roles), comment)
    typer.echo(f"{case_id}: sent back to its author")


@review_app.command("publish")
def review_publish(
    case_id: CaseIdArgument,
    cases: CasesOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    no_index: Annotated[bool, typer.Option("--no-index", help="do not update the search index now")] = False,
    as_name: AsOption = None,
    roles: RolesOption = None,
) -> None:
    """Publish an approved draft and update the search index, so employees find it."""
    from .workflow import publish

    folder = settings.cases_dir(cases)
    published = publish(folder, case_id, _cli_actor(as_name, roles))
    typer.echo(f"{case_id}: published ({published.title})")
    if not no_index:
        _open_engine(folder, index, model, quiet=False)


def _check_targets(paths: list[Path]) -> list[Path]:
    """Case files named directly, or the *.yaml files of the folders named."""
    from .loading import case_files

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(case_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder; give case files or folders of cases")
    return files


@app.command()
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

    from . import anonymisation

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
            typer.echo(f"{where}: {f.kind}: {f.text} → {f.replacement}{warning}")
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
