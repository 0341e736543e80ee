"""Where an employee can turn to in their own organisation: the configured contacts, read once per version.

The setting `--contacts` / MORESPRUDENTIE_CONTACTS names a file (moresprudentie.contacts); without
it this returns None and every page keeps its generic words. The file is read once per process and
read again only when its path, modification time or size changes, so an administrator's edit shows
without a restart while a page run costs one stat(). `moresprudentie app` refuses a bad file before
the app starts; a file that turns bad while the app runs is logged on the server and the pages fall
back to the generic texts, rather than show a half-read list or an error to every employee.

Kept apart from widgets.py (which draws the block) so that this module imports no page code.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from moresprudentie import settings
from moresprudentie.contacts import Contacts, ContactsFileError, load

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _read(path: str, modified_ns: int, size: int) -> Contacts | None:
    """The file at `path` as it was at (modified_ns, size); None when it is not valid (logged once)."""
    try:
        return load(path)
    except ContactsFileError as exc:
        log.warning("the contacts file is not used; the texts stay generic:\n%s", exc)
        return None


def contacts() -> Contacts | None:
    """The organisation's contacts, or None when none are configured (or the file cannot be used)."""
    path = settings.contacts_file()
    if path is None:
        return None
    try:
        stat = Path(path).stat()
    except OSError as exc:
        log.warning("the contacts file %s cannot be read (%s); the texts stay generic", path, exc.strerror or exc)
        return None
    return _read(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
