"""Property tests: the loader never crashes on anything, and what an officer types is what is stored."""

from __future__ import annotations

import time
import unicodedata

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from moresprudentie.cases.loading import Problem, dump_case, parse_case
from moresprudentie.cases.model import BIDI_CONTROLS, Case, normalise_text

FAST = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


def _assert_clean_outcome(outcome: tuple) -> None:
    case, problems = outcome
    assert case is None or isinstance(case, Case)
    assert all(isinstance(p, Problem) for p in problems)
    if case is None:
        assert any(p.severity == "error" for p in problems)


@FAST
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    started = time.perf_counter()
    _assert_clean_outcome(parse_case(data, "fuzz.yaml"))
    assert time.perf_counter() - started < 1.0


@FAST
@given(yaml_values)
def test_arbitrary_yaml_never_crashes(value: object) -> None:
    _assert_clean_outcome(parse_case(yaml.safe_dump(value, allow_unicode=True), "fuzz.yaml"))


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "title",
                "language",
                "date",
                "themes",
                "values",
                "situation",
                "related",
                "duration_minutes",
                "status",
            ]
        ),
        yaml_values,
    )
)
def test_arbitrary_case_shaped_yaml_never_crashes(value: dict) -> None:
    _assert_clean_outcome(parse_case(yaml.safe_dump(value, allow_unicode=True), "fuzz.yaml"))


# Text-direction controls are refused on purpose (model.BIDI_CONTROLS; test_loading.py covers that).
typed_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="".join(BIDI_CONTROLS)),
    min_size=1,
    max_size=300,
).filter(lambda s: normalise_text(s) != "")


@FAST
@given(title=typed_text, situation=typed_text, lessons=st.lists(typed_text, max_size=3))
@example(title="null", situation="regel\x85volgende\n\u2028regel", lessons=["~", "no"])
def test_typed_text_round_trips_through_yaml(title: str, situation: str, lessons: list[str]) -> None:
    """Form → YAML → load: equal to what was typed after NFC, \\n line ends and stripping."""
    title = title[:120]
    if not normalise_text(title):
        title = "x"
    case = Case(
        id="rond-trip",
        title=title,
        language="nl",
        date="2024",
        themes=["geschenken"],
        values=["zorg"],
        situation=situation,
        dilemma="Moet ik A of B?",
        judgement="j",
        reasoning="r",
        lessons=lessons,
    )
    loaded, problems = parse_case(dump_case(case).encode("utf-8"), "rond-trip.yaml", expected_id="rond-trip")
    assert loaded == case, [str(p) for p in problems]
    assert loaded.situation == unicodedata.normalize("NFC", situation.replace("\r\n", "\n").replace("\r", "\n")).strip()
