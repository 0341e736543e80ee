"""Every setting once, as data: name, default, environment variable and help.

The CLI builds its options from these and the app reads them, so a default is never written twice.

Defaults depend on where the package runs from. In a checkout (the folder above the package holds
this project's pyproject.toml) the collection is the checkout's `cases/` and the roles file its
`.streamlit/secrets.toml`, from whatever folder a command starts. Installed in site-packages, paths
beside the package mean nothing, so the defaults are `./cases` and `./.streamlit/secrets.toml` in the
working directory: the folder a deployment starts the app from, where Streamlit itself reads secrets.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from moresprudentie.errors import UsageError

PROJECT_NAME = "moresprudentie"
DEFAULT_MODEL = "use-m3"


def _is_checkout(folder: Path) -> bool:
    """Does `folder` hold this project's pyproject.toml (not merely some file of that name)?"""
    try:
        with (folder / "pyproject.toml").open("rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(project, dict) and project.get("name") == PROJECT_NAME


_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
CHECKOUT: Path | None = _PACKAGE_PARENT if _is_checkout(_PACKAGE_PARENT) else None
"""The project checkout this package runs from, or None when it is installed (e.g. in site-packages)."""

# Relative when installed: an OS call reads a relative path against the working directory at that moment.
_BASE = CHECKOUT if CHECKOUT is not None else Path()


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str

    def value(self, override: str | Path | None = None) -> str:
        """The explicit value, else the environment variable, else the default."""
        if override not in (None, ""):
            return str(override)
        return os.environ.get(self.env) or self.default

    def path_beside(self, cases: Path, suffix: str, override: str | Path | None = None) -> Path:
        """The explicit path, else `.<cases-folder-name><suffix>` beside the collection (git-ignored)."""
        explicit = self.value(override)
        if explicit:
            return Path(explicit).expanduser()
        cases = Path(cases).resolve()
        return cases.parent / f".{cases.name}{suffix}"


CASES = Setting(
    "cases",
    "MORESPRUDENTIE_CASES",
    str(_BASE / "cases"),
    "folder with the case files (<id>.yaml); default: cases/ in the checkout, "
    "or ./cases in the working directory when installed",
)
INDEX = Setting("index", "MORESPRUDENTIE_INDEX", "", "index folder (default: a hidden folder beside the cases folder)")
MODEL = Setting(
    "model",
    "MORESPRUDENTIE_MODEL",
    DEFAULT_MODEL,
    "embedding model: 'use-m3' (multilingual, default), 'minilm' (bundled English model), "
    "or any sentence-transformers model name or local path",
)
AUDIT_LOG = Setting(
    "audit-log", "MORESPRUDENTIE_AUDIT_LOG", "", "append-only audit log (default: beside the cases folder)"
)
ROLES = Setting(
    "roles",
    "MORESPRUDENTIE_ROLES",
    str(_BASE / ".streamlit" / "secrets.toml"),
    "TOML file listing who may write: officers = a list of names, in table moresprudentie (the app's "
    "secrets.toml); default: .streamlit/secrets.toml in the checkout, or in the working directory when installed",
)
CONTACTS = Setting(
    "contacts",
    "MORESPRUDENTIE_CONTACTS",
    "",
    "YAML file naming your organisation's own help: integrity officer, confidential adviser "
    "(vertrouwenspersoon), intranet pages (docs/deployment.md); default: none, the texts stay generic",
)
STORE = Setting(
    "store",
    "MORESPRUDENTIE_STORE",
    "files",
    "where cases, drafts and the audit log live: 'files' (the cases folder and an audit log file; default) "
    "or a PostgreSQL database, postgresql://user@host:port/db, that several app replicas share (docs/deployment.md)",
)
ALL_SETTINGS = (CASES, INDEX, MODEL, AUDIT_LOG, ROLES, CONTACTS, STORE)


def cases_dir(override: str | Path | None = None) -> Path:
    return Path(CASES.value(override)).expanduser()


def index_dir(cases: Path, override: str | Path | None = None) -> Path:
    """Explicit index folder, or `.<cases-folder-name>-index` beside the collection (git-ignored)."""
    return INDEX.path_beside(cases, "-index", override)


def store_url(override: str | None = None) -> str | None:
    """The PostgreSQL URL of a shared store, or None for the file store (the default)."""
    value = STORE.value(override).strip()
    if value == "files":
        return None
    if value.startswith(("postgresql://", "postgres://")):
        return value
    shown = value.split("@")[-1] if "@" in value else value  # never echo a password
    raise UsageError(
        f"store: '{shown}' is not a store; use 'files' or a PostgreSQL URL such as postgresql://user@host:5432/db "
        f"(--store or {STORE.env})"
    )


def collection_dir(cases: str | Path | None = None, index: str | Path | None = None, store: str | None = None) -> Path:
    """The folder of case files the search engine reads: the cases folder, or with a PostgreSQL store this
    replica's local copy of the shared collection, `collection/` in its index folder (MORESPRUDENTIE_INDEX,
    else `.<cases-folder>-replica/` beside the cases folder; storage/replica.py)."""
    folder = cases_dir(cases)
    if store_url(store) is None:
        return folder
    # Not the file store's index folder: a replica's copy and index never mix with a checkout's cases/.
    return INDEX.path_beside(folder, "-replica", index) / "collection"


def model_name(override: str | None = None) -> str:
    return MODEL.value(override)


def contacts_file(override: str | Path | None = None) -> Path | None:
    """The organisation's contacts file, or None: then every text names no one and stays generic."""
    value = CONTACTS.value(override).strip()
    return Path(value).expanduser() if value else None


def audit_log_path(cases: Path, override: str | Path | None = None) -> Path:
    """Explicit audit log, or `.<cases-folder-name>-audit.jsonl` beside the collection (git-ignored)."""
    return AUDIT_LOG.path_beside(cases, "-audit.jsonl", override)


# Trial mode: officer powers for whoever started the app on this machine (docs/deployment.md). Not
# settings a user sets per command, so not in ALL_SETTINGS: `moresprudentie app` writes the token,
# the app reads both. One place for the names, shared by the CLI and the UI.
TRIAL_ENV = "MORESPRUDENTIE_TRIAL_OFFICER"
TRIAL_TOKEN_ENV = "MORESPRUDENTIE_TRIAL_TOKEN"  # noqa: S105 - a variable name; set by `moresprudentie app`
TRIAL_TOKEN_PARAM = "token"  # noqa: S105 - the query parameter of the printed link, not a secret
