"""moresprudentie: a case-law knowledge base of anonymised moral dilemmas, with semantic search.

The public API: the Case model and loading; search lives in `moresprudentie.search`.
"""

from .case import Case, RelatedCase, Relation, label, vocabulary
from .errors import MoresprudentieError
from .loading import LoadResult, Problem, dump_case, load_case_file, load_cases, parse_case

__version__ = "0.1.0"

__all__ = [
    "Case",
    "LoadResult",
    "MoresprudentieError",
    "Problem",
    "RelatedCase",
    "Relation",
    "__version__",
    "dump_case",
    "label",
    "load_case_file",
    "load_cases",
    "parse_case",
    "vocabulary",
]
