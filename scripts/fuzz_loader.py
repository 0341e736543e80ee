"""Coverage-guided fuzzing of the case loader with atheris (libFuzzer), bounded in time.

What must hold for any bytes at all (the same contract as tests/test_loading_properties.py, but
with a fuzzer that steers towards new code paths in PyYAML and the loader):
- parse_case never raises: every problem is reported as a Problem, a refused file has an error;
- it never hangs: libFuzzer's -timeout (10 s per input, under instrumentation that makes PyYAML
  many times slower) catches alias bombs and pathological nesting; the one-second budget itself is
  checked uninstrumented by tests/test_loading*.py;
- a case it accepts survives dump_case → parse_case unchanged (what is stored is what is shown).

    python scripts/fuzz_loader.py                       # 60 s, seeded with the hostile fixtures
    python scripts/fuzz_loader.py -max_total_time=600   # any libFuzzer flag overrides the defaults

The corpus lives in test-output/fuzz/corpus/ and crashes are written to test-output/fuzz/; re-run one with
`python scripts/fuzz_loader.py test-output/fuzz/crash-…`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["yaml", "moresprudentie"]):
    from moresprudentie.cases.loading import dump_case, parse_case

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [ROOT / "tests" / "fixtures" / "hostile", ROOT / "tests" / "fixtures" / "collection", ROOT / "cases"]
DEFAULTS = ["-max_total_time=60", "-timeout=10", "-rss_limit_mb=2048", "-max_len=16384"]


def one_input(data: bytes) -> None:
    case, problems = parse_case(data, "fuzz.yaml")
    if case is None and not any(problem.severity == "error" for problem in problems):
        raise AssertionError(f"refused without an error: {problems}")
    if case is not None:
        again, problems = parse_case(dump_case(case).encode("utf-8"), "again.yaml")
        if again != case:
            raise AssertionError(f"round trip changed the case: {problems}")


def seed_corpus(corpus: Path) -> Path:
    """The corpus folder (git-ignored, kept between runs: libFuzzer adds what found new paths),
    seeded with the fixtures and a few shipped cases the first time."""
    if not corpus.is_dir():
        corpus.mkdir(parents=True)
        for folder in SEEDS:
            for path in sorted(folder.glob("*.yaml"))[:20]:
                shutil.copy(path, corpus / f"{folder.name}-{path.name}")
    return corpus


def main() -> None:
    artifacts = ROOT / "test-output" / "fuzz"
    artifacts.mkdir(parents=True, exist_ok=True)
    given = sys.argv[1:]
    flags = [flag for flag in DEFAULTS if flag.split("=")[0] not in {g.split("=")[0] for g in given}]
    inputs = [arg for arg in given if not arg.startswith("-")]
    corpus = [] if inputs else [str(seed_corpus(artifacts / "corpus"))]
    atheris.Setup([sys.argv[0], *flags, f"-artifact_prefix={artifacts}/", *given, *corpus], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
