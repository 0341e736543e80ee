"""moresprudentie: a case-law knowledge base of anonymised moral dilemmas, with semantic search.

The public API: the Case model and loading; search lives in `moresprudentie.search.engine`.
"""

from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.loading import LoadResult, Problem, dump_case, load_case_file, parse_case
from moresprudentie.cases.model import Case, RelatedCase, Relation, label, vocabulary
from moresprudentie.errors import MoresprudentieError

__version__ = "0.1.0"

# Search pulls in FAISS and BM25; import it on first use so that `validate` and the loader stay fast.
_LAZY = {
    "Embedder": "search.embedders",
    "load_embedder": "search.embedders",
    "Filters": "search.filters",
    "Hit": "search.engine",
    "Match": "search.engine",
    "SearchEngine": "search.engine",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Case",
    "Embedder",
    "Filters",
    "Hit",
    "LoadResult",
    "Match",
    "MoresprudentieError",
    "Problem",
    "RelatedCase",
    "Relation",
    "SearchEngine",
    "__version__",
    "dump_case",
    "label",
    "load_case_file",
    "load_cases",
    "load_embedder",
    "parse_case",
    "vocabulary",
]
