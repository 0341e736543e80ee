"""`moresprudentie store import|export|status`: move a collection into the configured store and out again.

YAML stays the exchange format (storage/exchange.py): a collection folder goes in, byte for byte, and
comes out as the same files. With MORESPRUDENTIE_STORE=postgresql://… (or --store) that is how a
collection moves into the shared database; with the file store it copies into the cases folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from moresprudentie.cli.options import AuditLogOption, CasesOption, JsonOption, StoreOption

if TYPE_CHECKING:
    from moresprudentie.storage.base import Storage

store_app = typer.Typer(help="Move a collection into the store (a cases folder or PostgreSQL) and out again.")

FolderArgument = Annotated[Path, typer.Argument(help="the collection folder (<id>.yaml, .revisions/, .withdrawn/)")]


def _storage(cases: Path | None, audit_log: Path | None, store: str | None) -> Storage:
    from moresprudentie.storage import open_storage

    return open_storage(cases, audit_log, store)


@store_app.command("import")
def store_import(
    folder: FolderArgument,
    store: StoreOption = None,
    cases: CasesOption = None,
    audit_log: AuditLogOption = None,
    as_name: Annotated[
        str | None, typer.Option("--as", envvar="MORESPRUDENTIE_USER", help="who imports (for the audit log)")
    ] = None,
) -> None:
    """Import a collection folder: every case must be valid and free of personal data, or nothing is
    imported. New and changed documents are written (one `imported` audit event each); none is deleted."""
    from moresprudentie.storage.exchange import import_folder

    storage = _storage(cases, audit_log, store)
    report = import_folder(storage, folder, as_name)
    typer.echo(
        f"imported into {storage.describe()}: {_per_place(report.written, 'nothing new')}; {report.unchanged} unchanged"
    )


@store_app.command("export")
def store_export(
    folder: FolderArgument,
    store: StoreOption = None,
    cases: CasesOption = None,
    audit_log: AuditLogOption = None,
) -> None:
    """Write every case of the store into an empty folder, as the files they were imported or saved as."""
    from moresprudentie.storage.exchange import export_folder

    storage = _storage(cases, audit_log, store)
    report = export_folder(storage, folder)
    typer.echo(f"exported {report.total} document(s) from {storage.describe()} to {folder}")


@store_app.command("status")
def store_status(
    store: StoreOption = None, cases: CasesOption = None, audit_log: AuditLogOption = None, as_json: JsonOption = False
) -> None:
    """Which store the settings name, whether it answers, and how many documents and audit events it holds."""
    import json

    storage = _storage(cases, audit_log, store)
    counts = storage.counts()
    status = {"store": storage.describe(), "documents": counts, "audit_events": storage.event_count()}
    if as_json:
        typer.echo(json.dumps(status, ensure_ascii=False))
        return
    typer.echo(f"{status['store']}: {_per_place(counts, 'empty')}; {status['audit_events']} audit event(s)")


def _per_place(counts: Mapping[str, int], none: str) -> str:
    """'3 collection, 1 revision': document counts by place, or `none` when there are none."""
    return ", ".join(f"{count} {place}" for place, count in sorted(counts.items())) or none


def register(app: typer.Typer) -> None:
    """Add `store` to the main command (one direction: main imports this)."""
    app.add_typer(store_app, name="store")
