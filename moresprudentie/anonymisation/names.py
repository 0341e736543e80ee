"""Names of people, places and institutions: Deduce (Dutch de-identification) plus rules for case text.

Deduce was built for medical records, where almost every capitalised word near "mevrouw" is a
patient. Case texts about public-sector dilemmas are different: they are full of roles ("wethouder",
"de teamleider"), pseudonyms ("collega B"), vocabulary terms and ordinary words that happen to be
surnames too ("Bos", "Groen"). The rules below drop those without listing any particular case's words:

- role words and titles are never a name themselves; "wethouder Jansen" yields "Jansen";
- a single letter is a pseudonym ("medewerker A"), already anonymous;
- a single ordinary word (Deduce's own common-word list, stop words, the vocabulary) is not a name
  when it starts a sentence or a title, follows an article ("het Rijk") or appears in lower case elsewhere;
- a capital that only opens a sentence or title proves nothing, so there the word decides: one the case
  writes in lower case elsewhere ("Zwart geld …" beside "zwart geld") is a word, and so is a plural or
  diminutive of a noun or adjective of the lists ("Bloemen voor de baliemedewerker", "Taartjes") where
  a plural fits what follows ("Bloemen belde" is a surname); a first name Deduce knows is never read
  as a plural ("Maarten"), and a word the case uses as a name elsewhere (capitalised mid-sentence:
  "… zei Kok") is a name at the start of a sentence too.

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
SINGULAR_VERBS = _words(
    "ben is was heb heeft had wordt werd kan kon wil wou zal zou moet moest mag mocht zei kwam ging"
)
MIN_STEM = 3  # the shortest stem a plural or diminutive is read back to
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


@cache
def _content_words(language: str) -> frozenset[str]:
    """The ordinary words that have plurals and diminutives: nouns and adjectives, not closed-class words
    (so "Metten" is no plural of "met", nor "Vooren" of "voor")."""
    closed = DUTCH_FUNCTION_WORDS | ENGLISH_FUNCTION_WORDS | OBJECT_WORDS | PARTICLES | INTERFIXES
    if language == "en":
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        closed |= frozenset(STOPWORDS_EN_PLUS)
    else:
        closed |= {word.lower() for word in deduce_instance().lookup_structs["stop_word"].items()}
    return frozenset(word for word in _ordinary_words(language) if len(word) >= MIN_STEM and word not in closed)


def _base_forms(word: str, language: str) -> set[str]:
    """The words `word` may be a plural or diminutive of: "bloemen" → bloem, "bomen" → boom, "katten" →
    kat, "brieven" → brief, "tafels" → tafel, "auto's" → auto, "taartjes" → taart, "flowers" → flower.

    Spelling rules only, so some candidates are no words: they are looked up, never trusted.
    """
    word = word.lower().replace("’", "'")
    if language == "en":
        return {
            stem
            for suffix, add in (("ies", "y"), ("es", ""), ("s", ""))
            if word.endswith(suffix)
            for stem in [word[: -len(suffix)] + add]
        }
    forms: set[str] = set()
    if word.endswith("'s"):
        forms.add(word[:-2])  # "auto's", "collega's"
    elif word.endswith("s") and re.search(r"(?:e[lmnr]|[aeiouy])s$", word):
        forms.add(word[:-1])  # "tafels", "bakkers", "cadeaus"
    diminutive = re.fullmatch(r"(.+?)(?:et|p|k)?jes?", word)
    if diminutive:  # "bloemetje", "boompje", "koninkje", "taartje" (the t is the stem's or the suffix's)
        stem = diminutive.group(1)
        forms |= {stem, stem[:-1] if stem[-1:] == "t" else stem, word[: word.rfind("je")]}
        forms |= {_undoubled(form) for form in list(forms)}
    if word.endswith("en") and not word.endswith("een"):  # a word in -e takes -n: "Hoogsteen" is none
        stem = word[:-2]
        voiceless = stem[:-1] + {"v": "f", "z": "s"}.get(stem[-1:], stem[-1:])
        for form in {stem, voiceless}:
            forms |= {form, _undoubled(form)}
            if re.search(r"(?:^|[^aeiouy])[aeiou][^aeiouy]$", form):
                forms.add(form[:-1] + form[-2:])  # an open syllable lost its long vowel: "bomen" → boom
    return {form for form in forms if len(form) >= MIN_STEM and form != word}


def _undoubled(stem: str) -> str:
    """'katt' → 'kat': a consonant doubled before a plural or diminutive ending."""
    return stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouy" else stem


def _inflected_ordinary(word: str, language: str) -> bool:
    """A plural or diminutive of a content word of the lexicon ("Bloemen", "Taartjes").

    A first name Deduce knows is never read as one ("Maarten" is no plural of "maart").
    """
    if language == "nl" and [word] in deduce_instance().lookup_structs["first_name"]:
        return False
    return not _base_forms(word, language).isdisjoint(_content_words(language))


def _plural_fits(text: str, end: int) -> bool:
    """Whether a word opening a sentence may be a plural by what follows it: nothing (a title "Bloemen"),
    a closed-class word ("Bloemen voor de balie", "Heuvels en dalen") or a plural verb ("Bloemen zijn
    …", "Bloemen kregen …"). A surname is the subject of a singular verb ("Prinsen belde", "Prinsen is")
    or has an apposition ("Prinsen, die …"): those stay names.
    """
    rest = text[end : end + 40]
    if not rest.strip() or rest.lstrip()[:1] in ".!?;:":
        return True
    following = re.match(r"[ \t]+([\w'’-]+)", rest)
    if following is None or not following.group(1).islower():
        return False
    word = following.group(1)
    return word not in SINGULAR_VERBS and (word in _follows_a_plural() or word.endswith("en"))


@cache
def _follows_a_plural() -> frozenset[str]:
    stop_words = {word.lower() for word in deduce_instance().lookup_structs["stop_word"].items()}
    return frozenset(stop_words | DUTCH_FUNCTION_WORDS | INTERFIXES | PARTICLES) - SINGULAR_VERBS


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
    """Followed directly by a determiner or pronoun ('Take the', 'Leg je'), or by a particle that no proper
    noun follows ('Look at it', 'Leg uit waarom'): a verb or adverb opening a sentence, not its subject.

    Not after a comma: "Jansen, die …" and "Fatima, de baliemedewerker, …" are names with an apposition.
    """
    if not text[end : end + 1].isspace():
        return False
    following = WORD_RE.findall(text[end : end + 40])
    if not following:
        return False
    first = following[0].lower()
    if first in OBJECT_WORDS:
        return True
    return first in PARTICLES and not (len(following) > 1 and following[1][:1].isupper())


def _written_lower(word: str, context: str) -> bool:
    """Whether the case writes the word in lower case somewhere: as an ordinary word."""
    return re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", context) is not None


def _used_as_name(word: str, context: str) -> bool:
    """Whether the case writes the word capitalised in mid-sentence, not after an article ("zei Kok",
    "wethouder Kok"; not "het Rijk"): a capital that does not come from the sentence, so a name."""
    for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", context):
        if not _sentence_initial(context, match.start()) and _previous_word(context, match.start()) not in ARTICLES:
            return True
    return False


def _is_ordinary(text: str, start: int, end: int, language: str, context: str) -> bool:
    """A single word used as a word, not a name (see the module docstring).

    At the start of a sentence or title the capital says nothing, so the word itself decides: a verb
    opening the sentence, a word the case writes in lower case elsewhere, an ordinary word, or a plural
    or diminutive of one where a plural fits (_plural_fits) is no name, unless the case uses it as a name
    elsewhere. In mid-sentence only a word of the lexicon itself (no
    plural read back) after an article or written in lower case elsewhere is no name.
    """
    word = text[start:end]
    if " " in word:
        return False
    if _sentence_initial(text, start):
        if _used_as_name(word, context):
            return False
        if _imperative(text, end) or _written_lower(word, context) or word.lower() in _ordinary_words(language):
            return True
        return _inflected_ordinary(word, language) and (language == "en" or _plural_fits(text, end))
    if word.lower() not in _ordinary_words(language):
        return False
    return _previous_word(text, start) in ARTICLES or _written_lower(word, context)


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
