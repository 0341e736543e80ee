"""Fresh everywhere: a change made to the case folder outside the app process (the CLI, another app
process, a `git pull`) is served by a running app within CHECK_INTERVAL_S, without a restart.

The core: collection_fingerprint and SearchEngine.is_stale (cheap: no YAML read). The holder:
resources._keep_fresh (at most one look per interval, one session refreshes, failures keep the old
cases). The app in AppTest: a case written by "another process" becomes findable, a deleted one goes,
a broken one is listed for officers and takes nothing down. The real server: tests/e2e/test_freshness_live.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_case
from streamlit.testing.v1 import AppTest

from moresprudentie.cases import collection
from moresprudentie.review.roles import OFFICER, Actor
from moresprudentie.search.engine import SearchEngine
from moresprudentie.storage import SearchFolders
from moresprudentie.ui.components import auth, nav, resources

NEW_ID = "zeilboot-van-de-wethouder"
NEW_TITLE = "Een zeilboot van de wethouder"
NEW_FIELDS = {
    "title": NEW_TITLE,
    "situation": "Een wethouder biedt een ambtenaar zijn zeilboot aan voor een weekend op het IJsselmeer.",
    "dilemma": "Mag ik de zeilboot van de wethouder lenen?",
}
QUERY = "zeilboot van de wethouder lenen op het IJsselmeer"


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "text", "title", "subheader", "header", "info", "warning", "error")
    parts = [e.value for kind in kinds for e in at.get(kind)] + [e.proto.label for e in at.get("page_link")]
    return "\n".join(str(p) for p in parts)  # a hit's title is a link to its case


@pytest.fixture
def engine(search_cases: Path, tmp_path: Path, fake_embedder) -> SearchEngine:
    return SearchEngine.open(search_cases, tmp_path / "index", embedder=fake_embedder)


# -- the core: a fingerprint of the folder, and is_stale ------------------------------------------------


def test_fingerprint_has_every_case_file_and_changes_with_each_write(search_cases: Path) -> None:
    (search_cases / ".revisions").mkdir()
    write_case(search_cases / ".revisions", "dienstauto-zaterdag")  # revisions are never read by the loader
    (search_cases / "notities.txt").write_text("geen casus", encoding="utf-8")
    (search_cases / ".verborgen.yaml").write_text("id: x", encoding="utf-8")
    before = collection.collection_fingerprint(search_cases)
    assert sorted(before) == sorted(path.name for path in collection.case_files(search_cases))
    assert len(before) == 6

    path = write_case(search_cases, "dienstauto-zaterdag", title="De dienstauto op zondag")
    changed = collection.collection_fingerprint(search_cases)
    assert changed["dienstauto-zaterdag.yaml"] != before["dienstauto-zaterdag.yaml"]
    assert {k: v for k, v in changed.items() if k != path.name} == {k: v for k, v in before.items() if k != path.name}

    stat = path.stat()  # same size, same mtime, but a new file in its place (git checkout, atomic rename)
    replacement = path.with_name("tmp.part")
    replacement.write_bytes(path.read_bytes())
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    assert collection.collection_fingerprint(search_cases)[path.name] != changed[path.name]

    assert collection.collection_fingerprint(search_cases / "bestaat-niet") == {}


def test_a_fresh_engine_is_not_stale_and_each_outside_change_makes_it_stale(engine: SearchEngine) -> None:
    folder = engine.cases_dir
    assert not engine.is_stale()
    (folder / "notities.txt").write_text("geen casus", encoding="utf-8")
    (folder / ".revisions").mkdir()
    write_case(folder / ".revisions", "dienstauto-zaterdag")
    assert not engine.is_stale(), "only the case files the loader reads count"

    write_case(folder, NEW_ID, **NEW_FIELDS)  # added
    assert engine.is_stale()
    engine.refresh()
    assert not engine.is_stale() and NEW_ID in engine.cases

    write_case(folder, NEW_ID, **{**NEW_FIELDS, "title": "Een andere titel"})  # changed
    assert engine.is_stale()
    engine.refresh()
    assert engine.cases[NEW_ID].title == "Een andere titel"

    (folder / f"{NEW_ID}.yaml").unlink()  # removed
    assert engine.is_stale()
    engine.refresh()
    assert not engine.is_stale() and NEW_ID not in engine.cases


def test_is_stale_reads_no_yaml(engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_reading(path):
        raise AssertionError(f"is_stale parsed {path}")

    monkeypatch.setattr(collection, "load_case_file", no_reading)
    write_case(engine.cases_dir, NEW_ID, **NEW_FIELDS)
    assert engine.is_stale()


def test_a_refresh_after_an_outside_change_embeds_only_what_changed(engine: SearchEngine, fake_embedder) -> None:
    before = fake_embedder.texts_embedded
    write_case(engine.cases_dir, NEW_ID, **NEW_FIELDS)
    engine.refresh()
    assert engine.report.added == 1 and engine.report.changed == 0
    assert 0 < fake_embedder.texts_embedded - before < 20  # the new case's passages, not the collection's


# -- the holder: at most one look per interval, one session refreshes ------------------------------------


@pytest.fixture
def held(engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> SearchEngine:
    """`engine` as if resources had just opened it (last look: now)."""
    import time

    monkeypatch.setattr(resources, "_last_check", time.monotonic())
    return engine


def keep_fresh(engine: SearchEngine) -> None:
    """One look of the holder at the file store the engine reads (no replica to fetch into)."""
    resources._keep_fresh(engine, SearchFolders(engine.cases_dir, None))


def test_keep_fresh_looks_at_most_once_per_interval(held: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    write_case(held.cases_dir, NEW_ID, **NEW_FIELDS)
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 3600.0)
    keep_fresh(held)
    assert NEW_ID not in held.cases  # looked less than an interval ago: no look at all
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)  # as if the interval had passed
    keep_fresh(held)
    assert NEW_ID in held.cases


def test_a_session_finding_another_refreshing_does_not_wait(
    held: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)
    write_case(held.cases_dir, NEW_ID, **NEW_FIELDS)
    assert resources._checking.acquire(blocking=False)  # another session is looking
    try:
        keep_fresh(held)  # returns at once (a blocking wait would hang this test)
        assert NEW_ID not in held.cases  # and serves the old snapshot meanwhile
    finally:
        resources._checking.release()
    keep_fresh(held)
    assert NEW_ID in held.cases


def test_a_failing_refresh_keeps_the_cases_read_before(
    held: SearchEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)
    write_case(held.cases_dir, NEW_ID, **NEW_FIELDS)
    cases = held.cases

    def broken_refresh() -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(held, "refresh", broken_refresh)
    keep_fresh(held)  # does not raise
    assert held.cases is cases
    assert "could not be read again" in caplog.text
    monkeypatch.undo()
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)
    keep_fresh(held)  # the next look tries again
    assert NEW_ID in held.cases


# -- the app: a case written by another process shows up, goes, and a broken file harms nothing ----------


@pytest.fixture
def app(search_cases: Path, open_app) -> Callable[..., AppTest]:
    def make(page: nav.PageSpec | None = None, **params: str) -> AppTest:
        return open_app(search_cases, page, lambda at: at.query_params.update(params))

    return make


def test_the_app_serves_outside_changes_after_the_interval(
    app, search_cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(q=QUERY)
    assert NEW_TITLE not in texts(at)

    write_case(search_cases, NEW_ID, **NEW_FIELDS)  # as the CLI or another app process would
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 3600.0)
    at.run()
    assert NEW_TITLE not in texts(at), "looked again within the interval"
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)  # the interval has passed
    at.run()
    assert not at.exception
    assert NEW_TITLE in texts(at)
    assert resources.engine().search(QUERY, k=1)[0].case.id == NEW_ID

    (search_cases / f"{NEW_ID}.yaml").unlink()
    at.run()
    assert not at.exception
    assert NEW_TITLE not in texts(at)


def test_a_case_page_opened_after_the_change_shows_it_and_then_not(
    app, search_cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)
    at = app(nav.CASE, case=NEW_ID)
    assert at.warning  # not found yet
    write_case(search_cases, NEW_ID, **NEW_FIELDS)
    at.run()
    assert not at.warning and NEW_TITLE in texts(at)
    (search_cases / f"{NEW_ID}.yaml").unlink()
    at.run()
    assert at.warning and NEW_TITLE not in texts(at)


def test_a_broken_file_from_outside_is_a_problem_for_officers_not_a_crash(
    app, search_cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)
    monkeypatch.setattr(auth, "current_actor", lambda: Actor("functionaris@example.nl", frozenset({OFFICER})))
    at = app(nav.OVERVIEW)
    assert "kapot-van-buiten.yaml" not in texts(at)
    (search_cases / "kapot-van-buiten.yaml").write_text("id: kapot-van-buiten\ntitle: [unclosed\n", encoding="utf-8")
    at.run()
    assert not at.exception
    assert "kapot-van-buiten.yaml" in texts(at)
    at.switch_page(nav.SEARCH.path).run()
    assert not at.exception
    assert at.text_area  # the search page still renders


def test_a_folder_gone_for_a_moment_keeps_the_cases_read_before(
    held: SearchEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)
    folder = held.cases_dir
    cases = held.cases
    folder.rename(folder.with_name("elders"))  # a `git checkout` swapping the folder, say
    try:
        keep_fresh(held)  # the folder looks changed; the refresh fails; nothing raises
        assert held.cases is cases
        assert "serving the cases read before" in caplog.text
    finally:
        folder.with_name("elders").rename(folder)
    write_case(folder, NEW_ID, **NEW_FIELDS)
    keep_fresh(held)
    assert NEW_ID in held.cases and "dienstauto-zaterdag" in held.cases
