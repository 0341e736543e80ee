"""The app on a PostgreSQL store (issue 16), page by page in AppTest: it searches this replica's copy of
the shared collection, serves what another replica publishes, and when the database cannot be reached
it keeps searching under a read-only banner while the officer pages say plainly that nothing can be
read or saved. (tests/e2e/test_replicas.py does the same with two real servers and a browser.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from conftest import make_case, write_case

from moresprudentie import settings
from moresprudentie.review.roles import OFFICER, Actor
from moresprudentie.review.store import CaseStore
from moresprudentie.storage.exchange import import_folder
from moresprudentie.storage.postgres import PostgresStorage
from moresprudentie.ui.components import nav, resources
from moresprudentie.ui.components.i18n import text

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/moresprudentie"  # nothing listens on port 1
ANNA = {"is_logged_in": True, "email": "anna@example.nl"}
READ_ONLY = "**Alleen lezen.**"


def shown(at) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(element.value) for kind in kinds for element in at.get(kind))


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store that cannot be reached; returns where this replica's copy of the collection lives."""
    monkeypatch.setenv(settings.STORE.env, UNREACHABLE)
    resources.forget_engine()
    return tmp_path / "index" / "collection"  # open_app puts MORESPRUDENTIE_INDEX at tmp_path / "index"


def test_without_a_copy_yet_the_app_says_the_database_cannot_be_reached(open_app, unreachable: Path) -> None:
    at = open_app(unreachable, nav.SEARCH)
    assert "cannot be reached" in shown(at) and "no such folder" not in shown(at)


def test_with_the_database_down_search_answers_from_the_copy_under_a_banner(
    open_app, search_cases: Path, unreachable: Path
) -> None:
    shutil.copytree(search_cases, unreachable)  # what this replica fetched before the outage
    at = open_app(unreachable, nav.SEARCH, lambda at: at.query_params.update(q="kerstpakket van een leverancier"))
    assert READ_ONLY in shown(at)
    hits = [link.label for link in at.get("page_link") if "erstpakket" in link.label]
    assert hits, "results from the copy"


@pytest.mark.parametrize("page", [nav.REVIEW, nav.ADD_CASE])
def test_with_the_database_down_the_officer_pages_say_nothing_can_be_read_or_saved(
    officer_page, search_cases: Path, unreachable: Path, page
) -> None:
    shutil.copytree(search_cases, unreachable)
    at = officer_page(unreachable, page, ANNA)
    if page is nav.ADD_CASE:  # the form needs no database until saving; choosing a draft to edit does
        at.segmented_control(key="add_mode").set_value("edit").run()
    assert not at.exception
    expected = text("app.store_error", "nl", reason="").split(":")[0]
    assert expected in shown(at) and "nothing was written" in shown(at)


def test_a_case_published_through_another_replica_is_served_on_the_next_look(
    open_app, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moresprudentie.review import store as workflow

    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    monkeypatch.setattr(resources, "CHECK_INTERVAL_S", 0.0)  # look at every page run
    monkeypatch.setenv(settings.STORE.env, pg_url)
    resources.forget_engine()
    write_case(tmp_path / "import", "fiets-van-de-zaak", title="De fiets van de zaak")
    import_folder(PostgresStorage(pg_url), tmp_path / "import")
    local = tmp_path / "index" / "collection"

    at = open_app(local, nav.CASE, lambda at: at.query_params.update(case="fiets-van-de-zaak"))
    assert "De fiets van de zaak" in shown(at) + "".join(str(t.value) for t in at.title)

    other_replica = CaseStore.on(PostgresStorage(pg_url))
    anna, bram = Actor("anna@example.nl", frozenset({OFFICER})), Actor("bram@example.nl", frozenset({OFFICER}))
    draft = other_replica.save_draft(make_case("nieuw-elders", title="Elders gepubliceerd"), anna)
    other_replica.submit("nieuw-elders", anna)
    other_replica.approve("nieuw-elders", bram, seen_hash=draft.hash)
    other_replica.publish("nieuw-elders", bram, seen_hash=draft.hash)

    at = open_app(local, nav.CASE, lambda at: at.query_params.update(case="nieuw-elders"))
    assert "Elders gepubliceerd" in shown(at) + "".join(str(t.value) for t in at.title)
    assert (local / "nieuw-elders.yaml").exists()
    assert READ_ONLY not in shown(at)


def test_a_replica_looks_at_the_counter_and_fetches_only_what_changed(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every few seconds per replica: when nothing changed, one small query and no file is read."""
    from moresprudentie.review import store as workflow
    from moresprudentie.storage.replica import Replica

    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])
    write_case(tmp_path / "import", "fiets-van-de-zaak")
    write_case(tmp_path / "import" / ".withdrawn", "oude-casus")
    storage = PostgresStorage(pg_url)
    import_folder(storage, tmp_path / "import")
    replica = Replica(storage, tmp_path / "copy")
    assert replica.sync()
    assert (tmp_path / "copy" / "fiets-van-de-zaak.yaml").read_bytes() == (
        tmp_path / "import" / "fiets-van-de-zaak.yaml"
    ).read_bytes()
    assert (tmp_path / "copy" / ".withdrawn" / "oude-casus.yaml").exists()

    monkeypatch.setattr(storage, "hashes", lambda places: pytest.fail("compared hashes though nothing changed"))
    assert replica.sync() is False
    monkeypatch.undo()
    monkeypatch.setattr(workflow, "blocking_findings", lambda case: [])

    anna = Actor("anna@example.nl", frozenset({OFFICER}))
    monkeypatch.setattr(replica, "_local", lambda: pytest.fail("read every file again for one change"))
    CaseStore.on(storage).save_draft(make_case("nieuw-concept"), anna)  # a draft: in the collection, unpublished
    assert replica.sync() and (tmp_path / "copy" / "nieuw-concept.yaml").exists()
    with psycopg.connect(pg_url, autocommit=True) as conn:  # gone from the store (as after a withdrawal)
        conn.execute("DELETE FROM case_documents WHERE case_id = 'nieuw-concept'")
    assert replica.sync() and not (tmp_path / "copy" / "nieuw-concept.yaml").exists()
