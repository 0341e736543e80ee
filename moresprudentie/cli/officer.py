"""The integrity officers' commands: `new` and the `review` group (list, changes, submit, approve, …);
`check` is in check.py.

Registered on the main `moresprudentie` app by register(), called from cli/main.py; the same library calls
and role checks as the app's officer pages. Not a security boundary: it is for people who can already write the
collection folder, and `--roles` may name any file, so the roles check is a convenience (docs/deployment.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from moresprudentie import settings
from moresprudentie.cli.options import (
    AuditLogOption,
    CasesOption,
    IndexOption,
    JsonOption,
    ModelOption,
    echo_json,
    grouped,
    open_engine,
)
from moresprudentie.errors import UsageError
from moresprudentie.storage import open_store

if TYPE_CHECKING:
    from moresprudentie.review.changes import Changes
    from moresprudentie.review.roles import Actor
    from moresprudentie.review.store import CaseStore
    from moresprudentie.review.withdrawal import PendingWithdrawal

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
HashOption = Annotated[
    str,
    typer.Option(
        "--hash",
        help="the version you read, as `review list` shows it (at least 8 hex digits); refused if the file changed",
        show_default=False,
    ),
]
WORD_DIFF = {"removed": "[-{}-]", "added": "{{+{}+}}", "same": "{}"}  # as `git diff --word-diff` marks words
review_app = typer.Typer(
    help="Draft → review → publish for integrity officers (the four-eyes rule applies).", no_args_is_help=True
)


@dataclass(frozen=True)
class IndexUpdate:
    """The options of a step that changes what employees find (publish, withdraw): the index is
    updated at once, so the CLI's next search agrees; --no-index leaves it to the next search."""

    index: IndexOption = None
    model: ModelOption = None
    no_index: Annotated[bool, typer.Option("--no-index", help="do not update the search index now")] = False

    def run(self, cases: Path | None) -> None:
        if not self.no_index:
            open_engine(cases, self.index, self.model, quiet=False)


@dataclass(frozen=True)
class Officer:
    """Who runs an officer command (--as, --roles): checked against the roles file, as the app checks its login."""

    as_name: AsOption = None
    roles: RolesOption = None

    def actor(self) -> Actor:
        from moresprudentie.review.roles import actor_for, load_officers

        if not self.as_name or not self.as_name.strip():
            raise UsageError("say who you are: --as NAME (or set MORESPRUDENTIE_USER); see docs/deployment.md")
        return actor_for(self.as_name, load_officers(self.roles))


@grouped
def new(
    case_id: CaseIdArgument,
    language: Annotated[str, typer.Option("--language", help="language of the case text: nl or en")] = "nl",
    stdout: Annotated[bool, typer.Option("--stdout", help="print the scaffold instead of creating the file")] = False,
    cases: CasesOption = None,
    audit_log: AuditLogOption = None,
    *,
    officer: Officer,
) -> None:
    """Create cases/ID.yaml: a draft with every field and Dutch hints, ready to fill in."""
    from moresprudentie.review.authoring import scaffold

    if language not in ("nl", "en"):
        raise UsageError(f"--language {language}: use nl or en")
    if stdout:
        typer.echo(scaffold(case_id, language), nl=False)
        return
    if settings.store_url() is not None:  # a database row cannot be edited in a text editor
        raise UsageError(
            f"the store is a PostgreSQL database: write the case as a file with `moresprudentie new {case_id} "
            f"--stdout > {case_id}.yaml`, fill it in, and add it with the app's form (upload) or with "
            "`moresprudentie store import FOLDER`; then `review submit` it"
        )
    path = open_store(cases, audit_log).create_scaffold(case_id, officer.actor(), language)
    typer.echo(f"created {path}: fill it in, run `moresprudentie validate` and `moresprudentie check {path}`")


@review_app.command("list")
def review_list(cases: CasesOption = None, audit_log: AuditLogOption = None, as_json: JsonOption = False) -> None:
    """The review queue: every draft and revision with its state and version hash, most urgent first,
    then every proposed withdrawal of a published case (state withdrawal_proposed, its reason as comment).

    The hash (sha256 of the file, as `sha256sum` prints it) names the version you read: approve,
    send-back and publish need it, so they never act on a text swapped in after you read it.
    """
    from moresprudentie.review.steps import short

    store = open_store(cases, audit_log)
    items = store.review_queue()
    rows = [
        {
            "id": item.version.case_id,
            "hash": item.version.hash,
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
    rows += [_withdrawal_row(item) for item in store.pending_withdrawals()]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        title = row["title"] or "(invalid: " + "; ".join(row["problems"]) + ")"
        authors = f" by {', '.join(row['authors'])}" if row["authors"] else ""
        extra = (" revision" if row["revision"] else "") + authors
        line = f"{row['state']:<10} {short(str(row['hash']))}  "
        typer.echo(f"{line}{row['id']}  {title}{extra}")
        if row["comment"]:
            typer.echo(f"{'':<{len(line)}}comment: {row['comment']}")  # under the id
    if not rows:
        typer.echo("no drafts waiting")


def _withdrawal_row(item: PendingWithdrawal) -> dict[str, object]:
    """A proposed withdrawal as a row of `review list`: state withdrawal_proposed (or _stale), the reason
    as its comment, the proposer as its author; the hash is the published file's, to name on --approve."""
    version, proposal = item.version, item.proposal
    return {
        "id": version.case_id,
        "hash": version.hash,
        "state": "withdrawal_stale" if item.stale else "withdrawal_proposed",
        "title": version.case.title if version.case else None,
        "revision": False,
        "authors": [proposal.proposer],
        "approvers": [],
        "comment": proposal.reason,
        "problems": [str(p) for p in version.problems if p.severity == "error"],
    }


@review_app.command("changes")
def review_changes(
    case_id: CaseIdArgument, cases: CasesOption = None, audit_log: AuditLogOption = None, as_json: JsonOption = False
) -> None:
    """What changed in a draft since it was last sent back: who sent it back and why, then each changed
    field with its words marked as `git diff --word-diff` marks them ([-removed-]{+added+}), then the
    fields that stayed the same. Read it before you approve a resubmitted draft."""
    store = open_store(cases, audit_log)
    found = store.changes_since_sent_back(*store.current_review(case_id))
    if as_json:
        echo_json(None if found is None else _changes_row(found))
    elif found is None:
        typer.echo(
            f"{case_id}: not sent back since it was last published (or not yet edited since); nothing to compare"
        )
    else:
        _echo_changes(case_id, found)


def _changes_row(found: Changes) -> dict[str, object]:
    """`review changes --json`: the send-back event, and each changed field before and after (null
    when the text sent back is not kept)."""
    event = found.sent_back
    fields = found.fields
    return {
        "sent_back": {"actor": event.actor, "time": event.time, "hash": event.hash, "comment": event.comment},
        "changed": None if fields is None else [asdict(field) for field in found.changed],
        "unchanged": None if fields is None else [field.field for field in found.unchanged],
    }


def _echo_changes(case_id: str, found: Changes) -> None:
    from moresprudentie.cli.check import spelled_out
    from moresprudentie.review.steps import short

    event = found.sent_back
    typer.echo(f"{case_id}: sent back by {event.actor} at {event.time} (version {short(event.hash)})")
    if event.comment:
        typer.echo(f"  remark: {spelled_out(event.comment)}")
    if found.fields is None:
        typer.echo("the version sent back is not kept (or one of the two is not a valid case): read the whole case")
        return
    for field in found.changed:
        text = "".join(WORD_DIFF[piece.kind].format(piece.text) for piece in field.pieces)
        typer.echo(f"{field.field}:")
        typer.echo("\n".join(f"  {line}" for line in spelled_out(text).split("\n")))
    names = ", ".join(field.field for field in found.unchanged)
    typer.echo(f"unchanged: {names}" if found.changed else f"nothing changed since it was sent back ({names})")


@dataclass(frozen=True)
class Step:
    """What submit and approve take: which case, a note for the log, where the collection and its log are.

    Approve also takes --hash (beside this block, not in it): submitting judges no text, so it names none.
    """

    case_id: CaseIdArgument
    comment: CommentOption = ""
    cases: CasesOption = None
    audit_log: AuditLogOption = None

    def store(self) -> CaseStore:
        return open_store(self.cases, self.audit_log)


@review_app.command("submit")
@grouped
def review_submit(
    step: Step,
    new_case: Annotated[
        bool, typer.Option("--new-case", help="a near-copy of a published case: it is a new case")
    ] = False,
    links: Annotated[
        str | None, typer.Option("--links", help="a near-copy: link it as OTHER-ID:follows|nuances|departs")
    ] = None,
    index: IndexOption = None,
    model: ModelOption = None,
    *,
    officer: Officer,
) -> None:
    """Offer a draft for review (a file you edited by hand counts as yours). A draft whose closest
    published case is above the near-duplicate threshold needs --new-case or --links."""
    store, actor = step.store(), officer.actor()
    note = _near_duplicate_note(step, store, actor, new_case, links, index, model)
    comment = "; ".join(part for part in (note, step.comment) if part)
    review = store.submit(step.case_id, actor, comment)
    typer.echo(f"{step.case_id}: {review.state}; a second officer can now approve it")


def _near_duplicate_note(
    step: Step, store: CaseStore, actor: Actor, new_case: bool, links: str | None, index: Path | None, model: str | None
) -> str:
    """Refuse a near-copy of a published case unless the officer said what it is (duplicates.submit_note)."""
    from moresprudentie.search.duplicates import submit_note

    engine = open_engine(step.cases, index, model, quiet=True, announce=False)
    return submit_note(engine, store, step.case_id, actor, new_case=new_case, links=links)


@review_app.command("approve")
@grouped
def review_approve(step: Step, *, seen_hash: HashOption, officer: Officer) -> None:
    """Approve the version you read (--hash) of a submitted draft, as the second officer (not its author)."""
    from moresprudentie.review.steps import short

    review = step.store().approve(step.case_id, officer.actor(), step.comment, seen_hash=seen_hash)
    typer.echo(
        f"{step.case_id}: {review.state}; publish it with "
        f"`moresprudentie review publish {step.case_id} --hash {short(seen_hash.strip().lower())}`"
    )


@review_app.command("send-back")
@grouped
def review_send_back(
    case_id: CaseIdArgument,
    comment: Annotated[str, typer.Option("--comment", "-m", help="what the author should change (required)")],
    cases: CasesOption = None,
    audit_log: AuditLogOption = None,
    *,
    seen_hash: HashOption,
    officer: Officer,
) -> None:
    """Reject the version you read (--hash) of a submitted draft: send it back to its author with a comment."""
    open_store(cases, audit_log).send_back(case_id, officer.actor(), comment, seen_hash=seen_hash)
    typer.echo(f"{case_id}: sent back to its author")


@review_app.command("publish")
@grouped
def review_publish(
    case_id: CaseIdArgument,
    cases: CasesOption = None,
    audit_log: AuditLogOption = None,
    *,
    update: IndexUpdate,
    seen_hash: HashOption,
    officer: Officer,
) -> None:
    """Publish the version you read (--hash) of an approved draft and update the search index.

    Publishing writes the text with status `published`, a new version with a new hash: it is printed,
    since that is the hash a later withdrawal or edit names."""
    from moresprudentie.review.steps import short

    store = open_store(cases, audit_log)
    published = store.publish(case_id, officer.actor(), seen_hash=seen_hash)
    version = store.editable_version(case_id)
    typer.echo(f"{case_id}: published ({published.title}); the published version's hash is {short(version.hash)}")
    update.run(cases)


@review_app.command("withdraw")
@grouped
def review_withdraw(
    case_id: CaseIdArgument,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-m",
            help="why the case should leave search (required to propose), or why you cancel another's proposal",
        ),
    ] = "",
    approve: Annotated[
        bool, typer.Option("--approve", help="approve another officer's proposal: the case leaves search")
    ] = False,
    cancel: Annotated[
        bool,
        typer.Option("--cancel", help="cancel the open proposal (another officer's with --reason); the case stays"),
    ] = False,
    cases: CasesOption = None,
    audit_log: AuditLogOption = None,
    *,
    update: IndexUpdate,
    seen_hash: HashOption,
    officer: Officer,
) -> None:
    """Withdraw a published case: propose it with --reason, then a second officer approves it with --approve;
    or --cancel the proposal instead (its proposer, or another officer saying why with --reason).

    --hash names the published version you read (`sha256sum cases/ID.yaml`, or `review list` once proposed).
    """
    from moresprudentie.review.steps import short

    if approve and cancel:
        raise UsageError("give --approve or --cancel, not both: approving withdraws the case, cancelling keeps it")
    store = open_store(cases, audit_log)
    if cancel:
        proposal = store.cancel_withdrawal(case_id, officer.actor(), reason, seen_hash=seen_hash)
        typer.echo(f"{case_id}: the withdrawal {proposal.proposer} proposed is cancelled; the case stays in search")
        return
    if not approve:
        proposal = store.propose_withdrawal(case_id, officer.actor(), reason, seen_hash)
        typer.echo(
            f"{case_id}: withdrawal proposed; a second officer approves it with "
            f"`moresprudentie review withdraw {case_id} --approve --hash {short(proposal.hash)}`"
        )
        return
    if reason.strip():
        raise UsageError("--approve takes no --reason: the proposal's reason is recorded with the withdrawal")
    archived = store.withdraw(case_id, officer.actor(), seen_hash=seen_hash)
    typer.echo(f"{case_id}: withdrawn; it left search, its file is kept in {archived}")
    update.run(cases)


def register(app: typer.Typer) -> None:
    """Add `new` and the `review` group to the main command (one direction: main imports this)."""
    app.command()(new)
    app.add_typer(review_app, name="review")
