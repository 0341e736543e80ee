"""The one reader of a case folder: which files are cases, every case in them, and what is wrong.

A bad file never stops the rest: it becomes a Problem (path:line: field: message) and the other cases
load. The engine re-reads a folder on every refresh, so the reader keeps what it learnt about each file
(FileState) and parses only files whose stat changed since; `load_cases` is the same read from scratch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from moresprudentie.cases.loading import CASE_SUFFIX, LoadResult, Problem, content_hash, load_case_file
from moresprudentie.cases.model import Case, suggest
from moresprudentie.errors import UsageError


def case_files(directory: Path) -> list[Path]:
    """The case files of a collection: `*.yaml` directly in the folder, hidden files excluded.

    Sorted by name as strings: sorting 100k Path objects compares their parts lists (seconds)."""
    directory = Path(directory)
    try:
        with os.scandir(directory) as entries:
            names = sorted(e.name for e in entries if _is_case_name(e.name))
    except (FileNotFoundError, NotADirectoryError):
        return []  # as Path.glob: no folder, no case files
    return [directory / name for name in names]


def _is_case_name(name: str) -> bool:
    return name.endswith(CASE_SUFFIX) and not name.startswith(".")


StatKey = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns: any write or replace changes one


def collection_fingerprint(directory: Path) -> dict[str, StatKey]:
    """The stat key of every case file, by file name: what `read_collection` compares to see what changed.

    Why: a running app must notice changes made outside it (the CLI, another app process, a `git pull`)
    without reading any YAML. Comparing this with the keys of the files it last read costs one folder
    scan and one stat per file (milliseconds for thousands of cases). Revisions and conflict copies live
    in hidden subfolders the loader never reads, so they are not in it. No folder: no files (as
    case_files); a file that vanishes mid-scan is left out, one that cannot be stat'ed gets a zero key.
    """
    keys: dict[str, StatKey] = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if _is_case_name(entry.name):
                    try:
                        info = entry.stat()
                    except FileNotFoundError:
                        continue  # deleted between the listing and the stat
                    except OSError:
                        keys[entry.name] = (0, 0, 0, 0)
                        continue
                    keys[entry.name] = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return keys


@dataclass(frozen=True, slots=True)
class FileState:
    """One case file as last read: re-read only when its stat key changes (slots: 100k of them)."""

    key: StatKey  # as collection_fingerprint gives it
    case: Case | None
    hash: str | None
    problems: tuple[Problem, ...]


def read_collection(folder: Path, previous: Mapping[str, FileState]) -> tuple[LoadResult, dict[str, FileState]]:
    """Every case in a folder, re-parsing only files changed since `previous` (a refresh of a 10k-case
    collection then costs a few stat calls, not ten thousand YAML parses); the new file states come
    back for the next read. Keyed by file name, not Path: a Path costs more memory, 100k times over."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; pass --cases DIR or set MORESPRUDENTIE_CASES")
    states: dict[str, FileState] = {}
    result = LoadResult()
    for name, key in sorted(collection_fingerprint(folder).items()):  # stat first, then read: a write
        state = previous.get(name)  # between the two leaves a changed key, so the next read sees it
        if state is None or state.key != key:
            case, problems = load_case_file(folder / name)
            state = FileState(key, case, content_hash(case) if case else None, tuple(problems))
        states[name] = state
        result.problems.extend(state.problems)
        if state.case is not None and state.hash is not None:
            result.cases[state.case.id] = state.case
            result.hashes[state.case.id] = state.hash
    result.problems.extend(link_problems(result.cases.values(), folder))
    return result, states


def load_cases(directory: Path | str) -> LoadResult:
    """Load every case in a folder; bad files become problems, never exceptions."""
    return read_collection(Path(directory), {})[0]


WITHDRAWN = ".withdrawn"  # withdrawn cases: a hidden subfolder the loader never reads (review/withdrawal.py)


def withdrawn_titles(directory: Path | str) -> dict[str, str]:
    """The title of every withdrawn case, by id, read from the collection's archive folder.

    Why: a link to a withdrawn case is history, not a typo. The case page shows it as text marked
    "withdrawn" and validate says it was withdrawn, instead of the link vanishing or looking broken.
    """
    titles: dict[str, str] = {}
    for path in case_files(Path(directory) / WITHDRAWN):
        case, _ = load_case_file(path)
        if case is not None:
            titles[case.id] = case.title
    return titles


def link_problems(cases: Iterable[Case], directory: Path) -> list[Problem]:
    """Links to cases not in the collection: withdrawn ones (said as such) or unknown ones (a typo?)."""
    known = {case.id for case in cases}
    withdrawn: dict[str, str] | None = None  # read only when some link is not known: most reads need none
    problems = []
    for case in cases:
        for link in case.related:
            if link.id in known:
                continue
            if withdrawn is None:
                withdrawn = withdrawn_titles(directory)
            if link.id in withdrawn:
                message = f"'{link.id}' was withdrawn; the link shows as withdrawn (remove it if it no longer helps)"
            else:
                hint = suggest(link.id, sorted(known))
                fix = f"; did you mean '{hint}'?" if hint else ""
                message = f"'{link.id}' is not a case in this collection{fix}"
            problems.append(Problem(str(directory / f"{case.id}{CASE_SUFFIX}"), None, "related", message, "warning"))
    return problems
