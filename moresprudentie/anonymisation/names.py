"""Names of people, places and institutions: Deduce (Dutch de-identification) plus rules for case text.

Deduce was built for medical records, where almost every capitalised word near "mevrouw" is a
patient. Case texts about public-sector dilemmas are different: they are full of roles ("wethouder",
"de teamleider"), pseudonyms ("collega B"), vocabulary terms and ordinary words that happen to be
surnames too ("Bos", "Groen"). The rules below drop those without listing any particular case's words:

- role words and titles are never a name themselves; "wethouder Jansen" yields "Jansen";
- a single letter is a pseudonym ("medewerker A"), already anonymous;
- a single ordinary word (Deduce's own common-word list, stop words, the vocabulary) is not a name
  when it starts a sentence, follows an article ("het Rijk") or appears in lower case elsewhere.

English text gets the same pipeline with English stop words as ordinary words, plus titles
(Mr, Ms, Dr, …) followed by a capitalised word. Deduce's lists are Dutch: an English surname used
alone without a title is not found (see docs/anonymisation.md).

Deduce's first initialisation builds a lookup cache (over a minute); after that loading takes
seconds. One instance is shared per process (`deduce_instance`) and `warm_up()` builds it at setup.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any

from moresprudentie.anonymisation.patterns import Hit
from moresprudentie.cases.model import vocabulary
from moresprudentie.errors import ModelError

# Deduce groups that the deterministic detectors cover (validated there) or that we do not want.
DISABLED = frozenset(
    {"dates", "ages", "identifiers", "phone_numbers", "email_addresses", "urls", "postbus", "postal_code"}
    | {"merge_adjacent_annotations", "redactor"}
)
TAG_KINDS = {"persoon": "name", "patient": "name", "ziekenhuis": "institution", "zorginstelling": "institution"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ROLE_WORDS = _words(
    """
    wethouder burgemeester gedeputeerde commissaris minister staatssecretaris kamerlid raadslid statenlid
    griffier secretaris voorzitter directeur manager teamleider afdelingshoofd leidinggevende hoofd chef
    collega medewerker ambtenaar beleidsmedewerker adviseur inspecteur toezichthouder handhaver boa agent
    wijkagent rechercheur officier rechter advocaat notaris dokter arts huisarts verpleegkundige dominee
    pastoor juf meester mevrouw meneer heer mijnheer dhr mw mevr mej mr dr drs ir ing prof ds burger
    aanvrager klant cliënt inwoner bewoner melder vertrouwenspersoon integriteitscoördinator
    mrs ms miss sir dame alderman councillor mayor judge officer inspector sergeant detective colleague
    director chief deputy minister secretary chair chairman chairwoman professor doctor nurse constable
    """
)
ENGLISH_TITLE_RE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Alderman|Councillor|Mayor|Judge|Inspector|Officer|Sergeant|Detective)"
    r"\.?\s+(?P<name>(?:(?:van|de|der|den|von|le|la)\s+)*[A-Z][\w'’-]+(?:\s+(?:van|de|der|den|von|le|la|[A-Z][\w'’-]+))*)"
)
INTERFIXES = _words("van de der den het ten ter te 't op in")
ARTICLES = frozenset({"de", "het", "een", "'t", "the", "a", "an", "this", "that", "deze", "die", "dit"})
OBJECT_WORDS = _words(
    "de het een die dat deze dit je jouw uw hem haar hen hun mij me ons zich iets niets alles "
    "the a an this that these those your my our their it them me him us something nothing everything"
)
PARTICLES = _words("uit aan op af in mee door terug na vast over toe at to up out back off into on")
# closed-class Dutch words (prepositions, conjunctions, adverbs) that open sentences: "Volgens Jansen …"
DUTCH_FUNCTION_WORDS = _words(
    """volgens tijdens na voor door zonder met bij binnen buiten namens vanwege ondanks dankzij sinds tot
    toen nadat omdat hoewel terwijl zodra als ook daarna daarom daarnaast bovendien echter wel niet nog
    alleen vervolgens uiteindelijk samen misschien zowel"""
)
ENGLISH_FUNCTION_WORDS = _words(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday i dutch english european according during after before without "
    "within despite since although while however instead meanwhile perhaps"
)
WORD_RE = re.compile(r"[\w'’.-]+")
NAME_TAIL_RE = re.compile(r"(?:['’-][A-Z]?\w+|\s[A-Z]['’][A-Z]\w+)+")

_lock = threading.Lock()
_instance: Any = None


def _load_deduce() -> Any:
    """Import and initialise Deduce without letting it reconfigure this process's logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from deduce import Deduce

        return Deduce()
    except Exception as exc:  # an install problem: say how to fix it, never a traceback
        raise ModelError(
            f"the name detector (deduce) could not be loaded ({exc}); reinstall with `pip install deduce` "
            "and run `moresprudentie check --warm-up`"
        ) from exc
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def deduce_instance() -> Any:
    """The one Deduce instance of this process, created on first use (thread-safe)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = _load_deduce()
    return _instance


def warm_up() -> None:
    """Build Deduce's lookup cache and this process's instance now (setup runs this once)."""
    deduce_instance()


@cache
def _ordinary_words(language: str) -> frozenset[str]:
    """Lower-case words that are ordinary language, not names, when they stand alone."""
    vocabulary_words = {
        word
        for entries in vocabulary().values()
        for term, labels in entries.items()
        for text in (term.replace("-", " "), *labels.values())
        for word in text.lower().split()
    }
    if language == "en":
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        return frozenset(STOPWORDS_EN_PLUS) | ENGLISH_FUNCTION_WORDS | vocabulary_words | ROLE_WORDS
    structs = deduce_instance().lookup_structs
    deduce_words = {
        word.lower() for name in ("common_word", "stop_word", "whitelist") for word in structs[name].items()
    }
    return frozenset(deduce_words) | DUTCH_FUNCTION_WORDS | vocabulary_words | ROLE_WORDS


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'‘“(*•-")
    return not before or before[-1] in ".!?:;\n" or text[:start].endswith("\n")


def _previous_word(text: str, start: int) -> str:
    words = WORD_RE.findall(text[max(0, start - 30) : start])
    return words[-1].lower() if words else ""


def _is_role(word: re.Match[str]) -> bool:
    return word.group().rstrip(".").lower() in ROLE_WORDS


def _is_lead(words: list[re.Match[str]], text: str, language: str) -> bool:
    """A leading word that is not part of the name: a role or title ('wethouder', 'de heer'), a lower-case
    interfix ('van Bos' → 'Bos'), or an ordinary word capitalised only because it opens the sentence."""
    word = words[0].group()
    if _is_role(words[0]) or (word.lower() == "de" and len(words) > 1 and _is_role(words[1])):
        return True
    if word.islower():
        return True
    return (
        len(words) > 1
        and word.lower() not in INTERFIXES
        and word.lower() in _ordinary_words(language)
        and _sentence_initial(text, words[0].start())
    )


def _trim_name(text: str, start: int, end: int, language: str) -> tuple[int, int] | None:
    """The name inside a Deduce span without leading roles or titles; None for roles or pseudonyms only."""
    words = [m for m in WORD_RE.finditer(text, start, end) if m.group().strip(".-'’")]
    dropped = []
    while words and _is_lead(words, text, language):
        dropped.append(words.pop(0).group().lower())
    if not words or all(len(w.group().rstrip(".")) == 1 for w in words):
        return None
    if dropped[-1:] == ["van"] and len(dropped) > 1 and not _known_name(words[0].group()):
        return None  # "de collega van Schuldhulpverlening": a department, unless a known surname follows
    tail = NAME_TAIL_RE.match(text, words[-1].end())  # "James O'Brien", "Mulder-Smit": Deduce stops at the mark
    return words[0].start(), tail.end() if tail else words[-1].end()


def _known_name(word: str) -> bool:
    structs = deduce_instance().lookup_structs
    return [word] in structs["surname"] or [word] in structs["first_name"]


def _imperative(text: str, end: int) -> bool:
    """Followed by a determiner or pronoun ('Take the', 'Leg je'), or by a particle that no proper noun
    follows ('Look at it', 'Leg uit waarom'): a verb or adverb opening a sentence, not its subject."""
    following = WORD_RE.findall(text[end : end + 40])
    if not following:
        return False
    first = following[0].lower()
    if first in OBJECT_WORDS:
        return True
    return first in PARTICLES and not (len(following) > 1 and following[1][:1].isupper())


def _is_ordinary(text: str, start: int, end: int, language: str, context: str) -> bool:
    """A single word used as a word, not a name (see the module docstring)."""
    word = text[start:end]
    if " " in word:
        return False
    initial = _sentence_initial(text, start)
    if initial and _imperative(text, end):
        return True
    if word.lower() not in _ordinary_words(language):
        return False
    if initial or _previous_word(text, start) in ARTICLES:
        return True
    return re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", context) is not None


def _deduce_hits(text: str) -> Iterable[tuple[str, int, int]]:
    deduce = deduce_instance()
    with _lock:  # Deduce does not promise thread safety; a call takes about a millisecond
        document = deduce.deidentify(text, disabled=set(DISABLED))
    for annotation in document.annotations:
        yield TAG_KINDS.get(annotation.tag, "place"), annotation.start_char, annotation.end_char


def _english_titles(text: str) -> Iterable[tuple[str, int, int]]:
    for match in ENGLISH_TITLE_RE.finditer(text):
        yield "name", match.start("name"), match.end("name")


def find_names(text: str, language: str = "nl", context: str | None = None) -> list[Hit]:
    """Names of people (block), institutions (block) and places (warn) in text.

    `context` is the whole case text, so that a word written in lower case elsewhere in the case
    counts as an ordinary word; it defaults to the text itself.
    """
    context = context if context is not None else text
    candidates = list(_deduce_hits(text))
    if language == "en":
        candidates.extend(_english_titles(text))
    hits = []
    for kind, start, end in candidates:
        span = _trim_name(text, start, end, language) if kind == "name" else (start, end)
        if span is None or _is_ordinary(text, *span, language, context):
            continue
        hits.append(Hit(kind, *span))
    return hits
