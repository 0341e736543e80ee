"""The "Casus toevoegen" page with the real detectors: hidden identifiers and identifiers in the id
and terms are shown, replaced whole, and cannot be put on the allow-list (issue 12).

The form's check itself is tested per evasive identifier in test_anonymisation_evasive.py; this
test runs the page (AppTest) once to see the findings rendered and fixed in one click.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_app_officer import fill, run

from moresprudentie import settings
from moresprudentie.anonymisation.check import warm_up
from moresprudentie.anonymisation.normalise import hidden_runs
from moresprudentie.ui.components import auth, nav

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test", "client_id": "x"}
OFFICERS = {"officers": ["anna@example.nl", "bram@example.nl"]}
ANNA = {"is_logged_in": True, "email": "anna@example.nl"}
FIELDS = {
    "id": "melding-945807302",
    "title": "Een melding aan de balie",
    "date": "2024-03",
    "themes": ["vertrouwen", "06-12345678"],
    "values": ["integriteit"],
    "situation": "Een inwoner geeft BSN 111\u200b222\u200b333 op en mailt p.hen\u200bdriks@hotmail.com.",
    "dilemma": "Moet ik de gegevens doorgeven?",
    "judgement": "Niet doorgeven.",
    "reasoning": "Doelbinding weegt zwaar.",
}


def keys(at: AppTest, prefix: str) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith(prefix)]


@pytest.fixture
def page(search_cases: Path, open_app, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv(settings.AUDIT_LOG.env, raising=False)
    monkeypatch.delenv(auth.TRIAL_ENV, raising=False)
    warm_up()

    def sign_in(at: AppTest) -> None:
        at.secrets["auth"] = AUTH
        at.secrets["moresprudentie"] = OFFICERS
        at.user = ANNA

    return open_app(search_cases, nav.ADD_CASE, sign_in)


def test_the_form_shows_and_replaces_evasive_identifiers_whole(page: AppTest) -> None:
    at = fill(page, **FIELDS)
    replace, allow = keys(at, "replace."), keys(at, "allow.")
    assert any(key.startswith("replace.id.") for key in replace)  # the BSN in the id
    assert sum(key.startswith("replace.situation.") for key in replace) == 2  # the BSN and the e-mail
    assert not any(key.startswith("replace.themes.") for key in replace)  # a pick list: remove the term by hand
    assert allow == []  # identifiers can never be allowed
    labels = " ".join(b.label for b in at.button)
    assert "[bsn]" in labels and "[e-mailadres]" in labels
    for _ in range(3):  # one click per finding; the page checks again after each
        remaining = keys(at, "replace.situation.")
        if not remaining:
            break
        at = run(next(b for b in at.button if b.key == remaining[0]).click())
    situation = at.text_area(key="form.situation").value
    assert situation == "Een inwoner geeft BSN [bsn] op en mailt [e-mailadres]."
    assert hidden_runs(situation) == []
    at = run(next(b for b in at.button if (b.key or "").startswith("replace.id.")).click())
    assert at.text_input(key="form.id").value == "melding-bsn"
