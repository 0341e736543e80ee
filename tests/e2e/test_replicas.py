"""Two app replicas, one PostgreSQL database: what one publishes or withdraws the other serves within 5 s,
and a database outage leaves search answering under a read-only banner (issue 16).

Real servers, no mocks: a throwaway PostgreSQL from Debian's packages (tests/pg_server.py, run as the
`postgres` user when root), the test collection imported with `moresprudentie store import`, and two
`moresprudentie app` servers on two ports, each with its own index folder. Replica A runs in trial mode,
so the browser is an officer there and publishes and withdraws through A's review page; replica B is
what an employee elsewhere sees. Timings go to test-output/e2e-replicas.txt.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import _browser
import pytest
from _browser import OUTPUT, require_browser, settle
from _live_app import COLLECTION, free_port, stop
from conftest import make_case

from moresprudentie.errors import StoreUnavailableError
from moresprudentie.review.roles import OFFICER, Actor
from moresprudentie.review.store import CaseStore
from moresprudentie.storage.postgres import PostgresStorage

pytestmark = pytest.mark.e2e
require_browser()
browser = _browser.browser  # the shared Chromium fixture (module scope)

LIMIT_S = 5.0
NOT_FOUND = "Er is geen gepubliceerde casus"
READ_ONLY = "Alleen lezen."
ANNA, BRAM = (Actor(name, frozenset({OFFICER})) for name in ("anna@example.nl", "bram@example.nl"))
NEW_ID, NEW_TITLE = "replica-gedeelde-taart", "Een taart gedeeld over twee replica's"


@dataclass
class Replica:
    url: str
    process: subprocess.Popen
    log: Path
    token: str = ""

    def path(self, path: str) -> str:
        joiner = "&" if "?" in path else "?"
        return f"{self.url}/{path}{joiner}token={self.token}" if self.token else f"{self.url}/{path}"


@contextlib.contextmanager
def replica(base: Path, name: str, url: str, trial: bool) -> Iterator[Replica]:
    """`moresprudentie app` with the shared store and its own index folder; stopped afterwards."""
    port = free_port()
    env = {**os.environ, "MORESPRUDENTIE_STORE": url, "MORESPRUDENTIE_INDEX": str(base / f"index-{name}")}
    for variable in ("MORESPRUDENTIE_TRIAL_OFFICER", "MORESPRUDENTIE_TRIAL_TOKEN", "MORESPRUDENTIE_CASES"):
        env.pop(variable, None)
    if trial:
        env["MORESPRUDENTIE_TRIAL_OFFICER"] = "1"
    OUTPUT.mkdir(exist_ok=True)
    log = OUTPUT / f"e2e-replica-{name}.log"
    with log.open("w") as out:
        command = [sys.executable, "-m", "moresprudentie", "app", "--server.port", str(port)]
        process = subprocess.Popen(command, cwd=base, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            text = log.read_text()
            found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([\w-]+)", text)
            if process.poll() is not None:
                raise RuntimeError(f"replica {name} exited: {text}")
            if (found or not trial) and "You can now view" in text:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"replica {name} did not start within 180 s; see {log}")
        yield Replica(f"http://127.0.0.1:{port}", process, log, found[1] if found else "")
    finally:
        stop(process)


@dataclass
class Cluster:
    url: str
    a: Replica
    b: Replica
    server: object

    def store(self) -> CaseStore:
        return CaseStore.on(PostgresStorage(self.url))


@pytest.fixture(scope="module")
def cluster(postgres_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("replicas")
    url = postgres_server.new_database()
    shutil.copytree(COLLECTION, base / "import")
    env = {**os.environ, "MORESPRUDENTIE_STORE": url}
    done = subprocess.run(
        [sys.executable, "-m", "moresprudentie", "store", "import", str(base / "import"), "--as", "beheer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with replica(base, "a", url, trial=True) as a, replica(base, "b", url, trial=False) as b:
        yield Cluster(url, a, b, postgres_server)


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def case_page(page, replica: Replica, case_id: str, title: str) -> str:
    """Open a case's page on a replica as a new session; the text it settles on (the case or 'not found')."""
    page.goto(replica.path(f"casus?case={case_id}"))
    page.wait_for_function(
        "([a, b]) => document.body.innerText.includes(a) || document.body.innerText.includes(b)",
        arg=[title, NOT_FOUND],
    )
    return page.inner_text("body")


def seconds_until(page, replica: Replica, text: str, started: float, case_id: str = NEW_ID) -> float:
    while time.monotonic() - started < 4 * LIMIT_S:
        if text in case_page(page, replica, case_id, NEW_TITLE):
            return time.monotonic() - started
        page.wait_for_timeout(200)
    pytest.fail(f"'{text}' not shown by {replica.url} within {4 * LIMIT_S:.0f} s; see {replica.log}")


def click(page, label: str) -> None:
    page.get_by_role("button", name=label).last.click()
    settle(page)


def test_a_publish_and_a_withdrawal_in_one_replica_reach_the_other_within_5_s(cluster: Cluster, page) -> None:
    store = cluster.store()
    draft = store.save_draft(make_case(NEW_ID, title=NEW_TITLE), ANNA)
    store.submit(NEW_ID, ANNA)
    store.approve(NEW_ID, BRAM, seen_hash=draft.hash)
    assert NOT_FOUND in case_page(page, cluster.b, NEW_ID, NEW_TITLE)  # B is warm and does not have it

    page.goto(cluster.a.path("beoordelen"))
    page.get_by_role("button", name="Publiceren").last.wait_for()
    settle(page)
    click(page, "Publiceren")
    published_at = time.monotonic()
    assert store.editable_version(NEW_ID).is_published
    shown = seconds_until(page, cluster.b, NEW_TITLE, published_at)

    version = store.storage.published(NEW_ID)
    store.propose_withdrawal(NEW_ID, ANNA, "Achterhaald", version.hash)
    page.goto(cluster.a.path("beoordelen"))
    page.get_by_role("button", name="Intrekking goedkeuren").last.wait_for()
    settle(page)
    click(page, "Intrekking goedkeuren")
    withdrawn_at = time.monotonic()
    assert store.storage.published_or_none(NEW_ID) is None
    gone = seconds_until(page, cluster.b, NOT_FOUND, withdrawn_at)

    timing = f"published in A -> shown in B: {shown:.1f} s; withdrawn in A -> gone from B: {gone:.1f} s"
    (OUTPUT / "e2e-replicas.txt").write_text(timing + "\n")
    print(f"\n{timing}")
    assert shown <= LIMIT_S and gone <= LIMIT_S, timing
    assert [event.action for event in store.storage.events(NEW_ID)][-3:] == [
        "published",
        "withdrawal_proposed",
        "withdrawn",
    ]


def test_with_the_database_down_search_answers_read_only_and_writes_fail_cleanly(cluster: Cluster, page) -> None:
    server, store = cluster.server, cluster.store()
    [known] = [case for _, case, _ in store.storage.documents() if case == "fiets-van-de-zaak"]
    server.stop()
    try:
        page.wait_for_timeout(3_500)  # past the replica's check interval: the next page run looks
        page.goto(cluster.b.path("?q=fiets%20van%20de%20zaak%20priv%C3%A9%20gebruiken"))
        page.get_by_text(READ_ONLY).first.wait_for()
        page.get_by_text("fiets", exact=False).first.wait_for()  # results from the last copy
        body = page.inner_text("body")
        assert READ_ONLY in body and "Traceback" not in body

        with pytest.raises(StoreUnavailableError, match="nothing was written"):
            store.save_draft(make_case("tijdens-storing"), ANNA)
        page.goto(cluster.a.path("beoordelen"))
        page.get_by_text("kunnen nu niet worden gelezen of opgeslagen").first.wait_for()
        assert "Traceback" not in page.inner_text("body")
        assert cluster.a.process.poll() is None and cluster.b.process.poll() is None
    finally:
        server.start()

    saved = store.save_draft(
        make_case("na-de-storing", title="Opgeslagen na de storing"), ANNA
    )  # no restart of anything but the database
    assert saved.changed and known
    page.wait_for_timeout(3_500)
    page.goto(cluster.b.path("?q=fiets"))
    page.get_by_text("fiets", exact=False).first.wait_for()
    settle(page)
    assert READ_ONLY not in page.inner_text("body")
    page.goto(cluster.a.path("beoordelen"))
    page.get_by_text("Opgeslagen na de storing").first.wait_for()  # A's review page reads the database again
