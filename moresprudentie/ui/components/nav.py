"""The pages of the app, as data: app.py builds the navigation from this and pages link through it.

Paths are absolute, inside the installed package (Streamlit resolves a relative page path against
the main script's folder, which differs between `moresprudentie app` and a checkout's app.py shim).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "views"


@dataclass(frozen=True)
class PageSpec:
    path: str
    url_path: str
    title_key: str
    icon: str
    section: str  # key in strings.yaml under nav.sections
    hidden: bool = False


SEARCH = PageSpec(str(PAGES_DIR / "zoeken.py"), "zoeken", "nav.search", ":material/search:", "everyone")
CASE = PageSpec(str(PAGES_DIR / "casus.py"), "casus", "nav.case", ":material/article:", "everyone", hidden=True)
SESSION = PageSpec(str(PAGES_DIR / "beraad.py"), "beraad", "nav.session", ":material/groups:", "everyone")
WEIGH = PageSpec(str(PAGES_DIR / "afwegen.py"), "afwegen", "nav.weigh", ":material/balance:", "everyone")
CONCEPTS = PageSpec(str(PAGES_DIR / "begrippen.py"), "begrippen", "nav.concepts", ":material/menu_book:", "everyone")
OVERVIEW = PageSpec(str(PAGES_DIR / "overzicht.py"), "overzicht", "nav.overview", ":material/bar_chart:", "everyone")
ADD_CASE = PageSpec(str(PAGES_DIR / "toevoegen.py"), "toevoegen", "nav.add_case", ":material/edit_note:", "officers")
REVIEW = PageSpec(str(PAGES_DIR / "beoordelen.py"), "beoordelen", "nav.review", ":material/fact_check:", "officers")

PAGES = (SEARCH, WEIGH, CASE, SESSION, OVERVIEW, CONCEPTS, ADD_CASE, REVIEW)
