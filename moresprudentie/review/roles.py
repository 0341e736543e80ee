"""Who may write: the acting user and the officer role, checked inside every library write.

Roles are configuration, not code: a TOML table `[moresprudentie] officers = ["a@x.nl", …]`. The app
reads it from Streamlit's `secrets.toml` (beside the OIDC login settings); the CLI reads the same
format from the file named by `--roles` / MORESPRUDENTIE_ROLES (default: `.streamlit/secrets.toml` in
the checkout, or in the working directory when installed; see settings.py), so one file can serve
both. Names are compared case-insensitively, because identity providers differ in how they
capitalise e-mail addresses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moresprudentie import settings
from moresprudentie.errors import PermissionDeniedError, UsageError

OFFICER = "officer"
CONFIG_TABLE = "moresprudentie"
CONFIG_KEY = "officers"


@dataclass(frozen=True)
class Actor:
    """The person doing something: a name (the login e-mail in the app) and the roles they hold."""

    name: str
    roles: frozenset[str] = frozenset()

    @property
    def is_officer(self) -> bool:
        return OFFICER in self.roles and bool(self.name.strip())


def normalise_name(name: str) -> str:
    return name.strip().casefold()


def officers_from_config(config: Mapping[str, Any] | None) -> frozenset[str]:
    """The officer names in a parsed config (e.g. the whole of st.secrets or of a roles file)."""
    table = (config or {}).get(CONFIG_TABLE, {})
    names = table.get(CONFIG_KEY, []) if isinstance(table, Mapping) else []
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        raise UsageError(
            f'[{CONFIG_TABLE}] {CONFIG_KEY} must be a list of names, e.g. {CONFIG_KEY} = ["a.jansen@example.nl"]'
        )
    return frozenset(normalise_name(name) for name in names if name.strip())


def load_officers(path: Path | str | None = None) -> frozenset[str]:
    """The officers listed in a roles file (missing file: nobody is an officer)."""
    path = Path(settings.ROLES.value(path)).expanduser()
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the roles file ({exc}); it must be TOML with [{CONFIG_TABLE}]") from None
    return officers_from_config(config)


def actor_for(name: str, officers: frozenset[str]) -> Actor:
    """The actor for a user name: an officer when the name is in the officers list."""
    roles = frozenset({OFFICER}) if normalise_name(name) in officers and name.strip() else frozenset()
    return Actor(name.strip(), roles)


def permission_error(actor: Actor, action: str) -> PermissionDeniedError | None:
    """The error for an actor without the officer role (None for an officer), saying how to grant it."""
    if actor.is_officer:
        return None
    who = f"'{actor.name}'" if actor.name.strip() else "an anonymous user"
    return PermissionDeniedError(
        f"{who} may not {action}: only integrity officers may write. Add the name to "
        f"[{CONFIG_TABLE}] {CONFIG_KEY} in the roles configuration (see docs/deployment.md)."
    )


def require_officer(actor: Actor, action: str) -> None:
    """Raise PermissionDeniedError unless the actor holds the officer role."""
    error = permission_error(actor, action)
    if error is not None:
        raise error
