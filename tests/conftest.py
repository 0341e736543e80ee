"""Shared test fixtures: a small deterministic fake embedder (no model load) and temp collections."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

    from moresprudentie.cases.model import Case
    from moresprudentie.review.store import CaseStore
    from moresprudentie.ui.components.nav import PageSpec

APP = str(Path(__file__).parent.parent / "moresprudentie" / "ui" / "app.py")
FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED_CASES = Path(__file__).parent.parent / "cases"
SCRIPTS = Path(__file__).parent.parent / "scripts"


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a module: the scripts are no package, but their functions are tested."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


class FakeEmbedder:
    """Hashed bag of word prefixes: texts sharing words are close, and it is the same on every run.

    Good enough to test ranking plumbing (not quality) in milliseconds.
    """

    model_id = "fake-hash-256"
    dimension = 256
    cross_lingual_scale = 1.0
    relevance_calibration = (10.0, -4.0)  # bag-of-words cosines: a shared word or two is not a match

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word[:6].encode("utf-8"), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
            norm = np.linalg.norm(vectors[row])
            if norm == 0:
                vectors[row, 0] = 1.0
            else:
                vectors[row] /= norm
        return vectors


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


def write_case(folder: Path, case_id: str, **fields: object) -> Path:
    """Write a valid case file with sensible defaults; keyword arguments override fields."""
    from moresprudentie import dump_case
    from moresprudentie.cases.model import Case

    data: dict[str, object] = {
        "id": case_id,
        "title": f"Case {case_id}",
        "language": "nl",
        "date": "2024-03",
        "themes": ["vertrouwen"],
        "values": ["integriteit"],
        "situation": f"Situatie van {case_id}.",
        "dilemma": "Moet ik dit doen of laten?",
        "judgement": "De groep koos voor zorgvuldigheid.",
        "reasoning": "Zorgvuldigheid woog zwaarder dan snelheid.",
    }
    data.update(fields)
    _with_force_field(data)
    path = Path(folder) / f"{case_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_case(Case.model_validate(data)), encoding="utf-8")
    return path


def _with_force_field(data: dict[str, object]) -> None:
    """Give a test case the force field review requires (role, a tension, a sourced norm, a decisive
    fact) unless the test sets those fields itself; `None` leaves a field out."""
    values = list(data["values"]) if isinstance(data.get("values"), list) else [data.get("values")]
    if "tensions" not in data and len(values) < 2:
        values.append("zorgvuldigheid" if values[0] != "zorgvuldigheid" else "integriteit")
        data["values"] = values
    defaults = {
        "role": "medewerker",
        "tensions": [{"between": values[:2], "prevailed": values[0]}],
        "norms": [{"text": "Gedragscode, artikel 3", "source": "organisatorisch"}],
        "decisive_facts": ["Het ging om een eerste keer."],
    }
    for name, value in defaults.items():
        data.setdefault(name, value)
    for name in [name for name, value in data.items() if value is None]:
        del data[name]


SEARCH_CASES: dict[str, dict[str, object]] = {
    "kerstpakket-leverancier": {
        "title": "Een kerstpakket van een leverancier",
        "organisation": "gemeente",
        "method": "dilemmamethode",
        "date": "2021-05",
        "themes": ["geschenken", "aanbesteding"],
        "values": ["onpartijdigheid"],
        "situation": "Een inkoper krijgt een duur kerstpakket van een leverancier tijdens een lopende aanbesteding.",
        "dilemma": "Moet ik het kerstpakket aannemen of terugsturen?",
        "norms": [{"text": "Gedragscode artikel 4.2 over geschenken", "source": "organisatorisch"}],
        "lessons": ["Geschenken tijdens een aanbesteding altijd weigeren."],
    },
    "dienstauto-zaterdag": {
        "title": "De dienstauto op zaterdag",
        "organisation": "waterschap",
        "method": "intervisie",
        "date": "2019",
        "themes": ["misbruik-middelen"],
        "values": ["zuinigheid", "collegialiteit"],
        "situation": "Een opzichter rijdt op zaterdag met de dienstauto naar de bouwmarkt voor zijn verbouwing.",
        "dilemma": "Moet ik mijn collega aanspreken op het gebruik van de dienstauto?",
    },
    "dossier-buurman": {
        "title": "Het politiedossier van de buurman",
        "organisation": "politie",
        "method": "socratisch-gesprek",
        "date": "2023-11",
        "themes": ["privacy", "vertrouwelijkheid"],
        "values": ["privacy"],
        "situation": "Een agent wil in het systeem het dossier van zijn lastige buurman inzien.",
        "dilemma": "Mag ik het dossier van mijn buurman bekijken?",
    },
    "unpaid-overtime": {
        "title": "Reporting unpaid overtime",
        "language": "en",
        "organisation": "rijksoverheid",
        "date": "2025-01",
        "themes": ["leiderschap"],
        "values": ["eerlijkheid"],
        "situation": "A manager asks the team to work unpaid overtime and not record the hours.",
        "dilemma": "Should I record my real hours or follow the manager?",
        "judgement": "Record the real hours.",
        "reasoning": "Honesty about working time protects the team.",
    },
    "political-tweet": {
        "title": "A critical tweet about the alderman",
        "language": "en",
        "organisation": "gemeente",
        "date": "2022-02",
        "themes": ["sociale-media"],
        "values": ["loyaliteit", "vrijheid-van-meningsuiting"],
        "situation": "A policy officer wants to tweet criticism of the alderman's housing plan.",
        "dilemma": "Should I post my criticism on social media?",
        "judgement": "Do not post it; raise it internally.",
        "reasoning": "Loyalty to the administration weighs against free speech here.",
    },
    "fles-wijn-concept": {
        "title": "Een fles wijn van een burger",
        "status": "draft",
        "organisation": "gemeente",
        "themes": ["geschenken"],
        "values": ["onpartijdigheid"],
        "situation": "Een burger brengt een fles wijn als dank voor een snelle vergunning.",
        "dilemma": "Moet ik de fles wijn aannemen?",
    },
}


@pytest.fixture
def search_cases(tmp_path: Path) -> Path:
    """Six small cases with distinct words (so the fake embedder ranks them): nl and en, one draft."""
    folder = tmp_path / "search-cases"
    for case_id, fields in SEARCH_CASES.items():
        write_case(folder, case_id, **fields)
    return folder


# -- the officer pages: sign-in, and a name detector that knows one surname ----------------------------

OFFICER_AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test", "client_id": "x"}
OFFICERS = {"officers": ["anna@example.nl", "bram@example.nl"]}
SURNAME = "Verhoeven"  # the one name the fake detector flags


def fake_names(text: str, language: str = "nl", context: str | None = None) -> list:
    """Deduce, replaced by a finder of one seeded surname: the officer pages' tests run in seconds."""
    from moresprudentie.anonymisation.patterns import Hit

    return [Hit("name", m.start(), m.end()) for m in re.finditer(SURNAME, text)]


@pytest.fixture
def officer_page(monkeypatch: pytest.MonkeyPatch, open_app) -> Callable[..., AppTest]:
    """officer_page(cases, page, user=None, secrets=True, lang=None): an officer page opened as `user`
    (a login dict such as {"is_logged_in": True, "email": …}) with OIDC and the officers configured."""
    from moresprudentie import settings
    from moresprudentie.anonymisation import check as anonymisation
    from moresprudentie.ui.components import auth

    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    monkeypatch.delenv(auth.TRIAL_ENV, raising=False)
    monkeypatch.setattr(anonymisation, "find_names", fake_names)
    monkeypatch.setattr(anonymisation, "warm_up", lambda: None)

    def make(
        cases: Path, page: PageSpec, user: dict | None = None, secrets: bool = True, lang: str | None = None
    ) -> AppTest:
        def sign_in(at: AppTest) -> None:
            if secrets:
                at.secrets["auth"] = OFFICER_AUTH
                at.secrets["moresprudentie"] = OFFICERS
            at.user = user or {"is_logged_in": False}
            if lang:
                at.query_params["lang"] = lang

        return open_app(cases, page, sign_in)

    return make


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The files a page hands to Streamlit for download, by file name (what a person would save)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    captured: dict[str, str] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def capture(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes | str):
            data = path_or_data.decode("utf-8") if isinstance(path_or_data, bytes) else path_or_data
            captured[filename] = data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    return captured


@pytest.fixture
def empty_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty case folder whose audit log is in its default place."""
    from moresprudentie import settings

    folder = tmp_path / "cases"
    folder.mkdir()
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    return folder


@pytest.fixture
def cases(empty_cases: Path) -> Path:
    """The collection a test works on: empty unless its module says otherwise (a module's own `cases`)."""
    return empty_cases


@pytest.fixture
def store(cases: Path) -> CaseStore:
    """The CaseStore (file store) of the module's `cases`."""
    from moresprudentie.review.store import CaseStore

    return CaseStore(cases)


@pytest.fixture
def shipped_cases(tmp_path: Path) -> Path:
    """A private copy of the shipped collection, safe to modify."""
    target = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES, target)
    return target


@pytest.fixture
def open_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder) -> Iterator[Callable[..., AppTest]]:
    """open_app(cases, page=None, prepare=None): app.py in AppTest on `cases`, with the fake embedder.

    The index goes to tmp_path and the resource caches start and end empty (each test its own engine).
    `prepare(at)` sets query params, secrets or the user before the first run; then the app is
    switched to `page` and run again, and must not have raised.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from moresprudentie import settings
    from moresprudentie.ui.components import resources

    monkeypatch.setenv(settings.INDEX.env, str(tmp_path / "index"))
    monkeypatch.setattr(resources, "load_embedder", lambda name=None: fake_embedder)
    st.cache_resource.clear()

    def open_(cases: Path, page: PageSpec | None = None, prepare: Callable[[AppTest], None] | None = None) -> AppTest:
        monkeypatch.setenv(settings.CASES.env, str(cases))
        at = AppTest.from_file(APP, default_timeout=60)
        if prepare is not None:
            prepare(at)
        at.run()
        if page is not None:
            at.switch_page(page.path).run()
        assert not at.exception, at.exception
        return at

    yield open_
    st.cache_resource.clear()


def make_case(case_id: str = "taart-van-aanvrager", **fields: object) -> Case:
    """A small valid case (a cake from a grateful applicant); `fields` override or add any field."""
    from moresprudentie.cases.model import Case

    data: dict[str, object] = {
        "id": case_id,
        "title": "Een taart van een dankbare aanvrager",
        "language": "nl",
        "date": "2024-03",
        "themes": ["geschenken"],
        "values": ["onpartijdigheid"],
        "situation": "Een medewerker vergunningen krijgt een taart van een aanvrager.",
        "dilemma": "Moet ik de taart aannemen of weigeren?",
        "judgement": "Delen met het team mocht, eenmalig.",
        "reasoning": "De waarde was laag en de vergunning al verleend.",
    }
    data.update(fields)
    _with_force_field(data)
    return Case.model_validate(data)


# -- a real PostgreSQL server for the shared store (tests/pg_server.py) ------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One throwaway PostgreSQL server for the session; the test skips, with the reason, where it is missing."""
    from pg_server import PostgresServer, find_bin

    bin_dir, why = find_bin()
    if bin_dir is None:
        pytest.skip(why)
    server = PostgresServer(bin_dir).init()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_url(postgres_server) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return postgres_server.new_database()
