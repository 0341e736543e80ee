"""The pages of the app, as data: app.py builds the navigation from this and pages link through it.

Paths are relative to app.py (Streamlit resolves page files against the main script's folder).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str
    url_path: str
    title_key: str
    icon: str
    section: str  # key in strings.yaml under nav.sections
    hidden: bool = False


SEARCH = PageSpec("moresprudentie/ui/search.py", "zoeken", "nav.search", ":material/search:", "everyone")
CASE = PageSpec("moresprudentie/ui/case.py", "casus", "nav.case", ":material/article:", "everyone", hidden=True)
SESSION = PageSpec("moresprudentie/ui/session.py", "beraad", "nav.session", ":material/groups:", "everyone")
OVERVIEW = PageSpec("moresprudentie/ui/overview.py", "overzicht", "nav.overview", ":material/bar_chart:", "everyone")
ADD_CASE = PageSpec("moresprudentie/ui/add_case.py", "toevoegen", "nav.add_case", ":material/edit_note:", "officers")
REVIEW = PageSpec("moresprudentie/ui/review.py", "beoordelen", "nav.review", ":material/fact_check:", "officers")

PAGES = (SEARCH, CASE, SESSION, OVERVIEW, ADD_CASE, REVIEW)
