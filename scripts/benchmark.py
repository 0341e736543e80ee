"""Measure the search engine at scale, each figure beside the floor for the same work in the same run.

    python scripts/benchmark.py --sizes 1000,10000         # 100000 too by default (long)
    python scripts/benchmark.py --sizes 1000 --json

For every size a collection is generated from the public dilemma sets (repeated with a setting
sentence to reach the size; see evaldata) and measured in its own subprocess, so the
peak RSS is that of one size:
- build: SearchEngine.open on an empty index (load the YAML, embed, write), in cases/s; floors: the
  model embedding each case's full text once (half of the cases before the build, half after, so
  drift in the machine's load weighs on both alike; the build may take at most 1.5× this), the time
  spent inside embedder.embed during the build (the model's share), and the model alone on a sample
  of the same passages.
- update: refresh() after one case file changed; also a refresh with nothing changed.
- query: warm search latency mean/p50/p95 (embedding included); floor: embedding the query plus one
  exact numpy matrix product over one vector per case (the plain baseline's whole search), timed
  query by query, interleaved with the engine's.
- peak RSS of the process after build, update and warm-up queries (before the floors allocate).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
from blind import whole_text
from evaldata import DEFAULT_DATASETS, distractor_cases, scaled_cases, write_cases

from moresprudentie import settings
from moresprudentie.cases.collection import load_cases
from moresprudentie.cases.loading import dump_case
from moresprudentie.cases.model import Case
from moresprudentie.errors import MoresprudentieError
from moresprudentie.search.embedders import Embedder, embed_groups, load_embedder
from moresprudentie.search.engine import SearchEngine
from moresprudentie.search.passages import case_passages, embedding_text

RAW_BATCH = 256  # the model's best batch size here; the floor is its fastest honest throughput
WARM_UP_QUERIES = 10
K = 10
T = TypeVar("T")
TARGETS = (
    "build ≤ 1.5× embedding each case's text once; update ≤ 2 s at 10k; query mean and p95 ≤ 1.5× floor, "
    "p95 ≤ 50 ms at 10k; ≤ 2 GB RSS at 100k"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="collection sizes, comma separated")
    parser.add_argument("--model", default=None, help=settings.MODEL.help)
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets folder")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per size")
    parser.add_argument("--floor-passages", type=int, default=8000, help="passages embedded for the raw floor")
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated collections here (reused)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--collection", type=Path, default=None, help="measure this case folder instead of generated sizes"
    )
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)  # one size, in a subprocess
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _timed(function: Callable[..., T], *args: object) -> tuple[T, float]:
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def _cpu_timed(function: Callable[..., T], *args: object) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds of this process, all threads): on a machine shared with
    other work the CPU time shows what the work itself cost, the wall time what a user waited."""
    cpu = time.process_time()
    result, wall = _timed(function, *args)
    return result, wall, time.process_time() - cpu


# -- one size, inside the worker subprocess ------------------------------------------------------


def _change_one_case(engine: SearchEngine, folder: Path) -> int:
    """Edit one case file in the middle of the collection; returns its number of passages."""
    case_id = sorted(engine.cases)[len(engine.cases) // 2]
    case = engine.cases[case_id]
    changed = case.model_copy(update={"situation": case.situation + " It happened again a week later."})
    (folder / f"{case_id}.yaml").write_text(dump_case(changed), encoding="utf-8")
    return len(case_passages(changed))


def _benchmark_queries(engine: SearchEngine, count: int) -> list[str]:
    """Short titles and long stories, spread over the collection (queries users type are both)."""
    ordered = sorted(engine.cases.values(), key=lambda case: case.id)
    step = max(1, len(ordered) // count)
    picked = ordered[::step][:count]
    return [case.title if i % 2 else f"{case.situation} {case.dilemma}" for i, case in enumerate(picked)]


def _paired_latencies_ms(
    search: Callable[[str], object], floor: Callable[[str], object], queries: list[str]
) -> dict[str, dict[str, float]]:
    """Time search and floor query by query, interleaved, so load from other processes hits both alike."""
    times: dict[str, list[float]] = {"query": [], "query_floor": []}
    for query in queries:
        for name, function in (("query", search), ("query_floor", floor)):
            started = time.perf_counter()
            function(query)
            times[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {
            "mean_ms": float(np.mean(values)),
            "p50_ms": float(np.percentile(values, 50)),
            "p95_ms": float(np.percentile(values, 95)),
        }
        for name, values in times.items()
    }


class _ModelClock:
    """Wraps an embedder and adds up the wall time spent inside the model (embed, read_groups). Timed during the build, it
    gives the model's share of the build on the same passages at the same moment, which no drift in
    the machine's load can skew (on a shared machine the model's speed varies several-fold)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.seconds = 0.0

    def __getattr__(self, name: str) -> object:  # model_id, dimension, cross_lingual_scale, …
        return getattr(self._embedder, name)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._embedder.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def read_groups(self, groups: Sequence[Sequence[str]]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return embed_groups(self._embedder, groups)
        finally:
            self.seconds += time.perf_counter() - started


def _passage_sample(cases: Iterable[Case], size: int) -> list[str]:
    """An evenly spread sample of the texts the index embeds for these cases."""
    texts = [embedding_text(case, p) for case in cases for p in case_passages(case)]
    return texts[:: max(1, len(texts) // size)][:size]


def _raw_run(embedder: Embedder, texts: list[str]) -> tuple[int, float, float]:
    """(passages, wall s, CPU s) for the model alone on these texts, in its best batch size."""

    def embed_all() -> None:
        for start in range(0, len(texts), RAW_BATCH):
            embedder.embed(texts[start : start + RAW_BATCH])

    _, wall, cpu = _cpu_timed(embed_all)
    return len(texts), wall, cpu


def _query_floor(embedder: Embedder, rows: int) -> Callable[[str], object]:
    """Embed the query, then one exact matrix product over one vector per case."""
    matrix = np.random.default_rng(0).standard_normal((rows, embedder.dimension), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return lambda query: matrix @ embedder.embed([query])[0]


def _build(folder: Path, embedder: Embedder) -> tuple[SearchEngine, dict[str, float]]:
    clock = _ModelClock(embedder)
    engine, wall, cpu = _cpu_timed(SearchEngine.open, folder, folder.parent / "index", clock)
    cases = len(engine.cases)
    _log(f"{folder.parent.name}: {cases} cases in {wall:.1f} s; one-case update")
    return engine, {
        "build_s": wall,
        "build_model_s": clock.seconds,
        "build_model_share": clock.seconds / wall,
        "build_cases_per_s": cases / wall,
        "build_cases_per_cpu_s": cases / cpu,
    }


def _update(engine: SearchEngine, folder: Path) -> dict[str, float]:
    expected = _change_one_case(engine, folder)
    _, seconds = _timed(engine.refresh)
    embedded = engine.report.embedded_passages
    _, unchanged = _timed(engine.refresh)
    return {
        "update_s": seconds,
        "update_embedded_passages": embedded,
        "update_expected_passages": expected,
        "refresh_unchanged_s": unchanged,
    }


def _queries(engine: SearchEngine, embedder: Embedder, count: int, rows: int) -> dict[str, object]:
    """Peak RSS after warm-up queries (before the floor's matrix exists), then paired latencies."""
    queries = _benchmark_queries(engine, count)
    for query in queries[:WARM_UP_QUERIES]:
        engine.search(query, k=K)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    latency = _paired_latencies_ms(lambda query: engine.search(query, k=K), _query_floor(embedder, rows), queries)
    return {**latency, "peak_rss_mb": peak_rss_mb}


def _raw(before: tuple[int, float, float], after: tuple[int, float, float], per_case: float) -> dict[str, object]:
    passages, wall, cpu = (x + y for x, y in zip(before, after, strict=True))
    return {
        "raw_cases_per_s": passages / wall / per_case,
        "raw_cases_per_s_before_after": [n / seconds / per_case for n, seconds, _ in (before, after)],
        "raw_cases_per_cpu_s": passages / cpu / per_case,
        "raw_sample_passages": passages,
    }


def measure(folder: Path, model: str | None, queries: int, floor_passages: int) -> dict[str, object]:
    """Every figure for one collection folder (run in a fresh process, so RSS is this size's)."""
    embedder = load_embedder(model)
    # The raw floor runs on half its sample before the build and half after, so that the model's
    # warm-up and any drift in the machine's load weigh on the floor as on the build.
    loaded = list(load_cases(folder).cases.values())
    sample = _passage_sample(loaded, floor_passages // 2)
    whole = [whole_text(case) for case in loaded]
    _log(f"{folder.parent.name}: raw model throughput and half the full texts, then building the index")
    before = _raw_run(embedder, sample)
    whole_before = _raw_run(embedder, whole[::2])
    engine, build = _build(folder, embedder)
    update = _update(engine, folder)
    _log(f"{folder.parent.name}: queries")
    cases = len(engine.cases)
    passages = sum(len(case_passages(case)) for case in engine.cases.values())
    query = _queries(engine, embedder, queries, cases)
    _log(f"{folder.parent.name}: raw model throughput and the other half of the full texts")
    after = _raw_run(embedder, sample)
    whole_after = _raw_run(embedder, whole[1::2])
    floor = {"build_floor_s": whole_before[1] + whole_after[1]}
    floor["build_vs_floor"] = build["build_s"] / floor["build_floor_s"]
    figures = {"cases": cases, "passages": passages, "model": embedder.model_id}
    return figures | build | floor | _raw(before, after, passages / cases) | update | query


# -- the parent: generate, run one worker per size, report ---------------------------------------


def generate(size: int, workdir: Path, datasets: Path) -> Path:
    """A folder of `size` generated case files (reused when a previous run left it complete)."""
    folder = workdir / f"size-{size}" / "cases"
    if folder.is_dir() and sum(1 for _ in folder.glob("*.yaml")) == size:
        return folder
    if folder.parent.exists():
        shutil.rmtree(folder.parent)
    _log(f"generating {size} cases in {folder}")
    write_cases(scaled_cases(distractor_cases(datasets), size), folder)
    return folder


def run_worker(folder: Path, args: argparse.Namespace) -> dict[str, object]:
    index = folder.parent / "index"
    if index.exists():
        shutil.rmtree(index)  # a full build every time
    command = [sys.executable, __file__, "--worker", str(folder), "--queries", str(args.queries)]
    command += ["--floor-passages", str(args.floor_passages)] + (["--model", args.model] if args.model else [])
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise MoresprudentieError(f"the benchmark of {folder} failed (exit {done.returncode}); see the output above")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdicts(row: dict[str, object]) -> dict[str, bool | None]:
    """Each target of the issue, or None where it does not apply to this size. The absolute ones
    (update ≤ 2 s, p95 ≤ 50 ms) are set at 10k and hold for smaller collections too; above 10k only
    the relative one does (at 100k one exact matrix product alone takes about 50 ms here)."""
    cases, query, floor = row["cases"], row["query"], row["query_floor"]
    small = cases <= 10_000  # type: ignore[operator]
    relative = query["p95_ms"] <= 1.5 * floor["p95_ms"] and query["mean_ms"] <= 1.5 * floor["mean_ms"]  # type: ignore[index]
    return {
        "build": row["build_vs_floor"] <= 1.5,  # type: ignore[operator]
        "update": row["update_s"] <= 2.0 if small else None,  # type: ignore[operator]
        "query": relative and (not small or query["p95_ms"] <= 50),  # type: ignore[index]
        "rss": row["peak_rss_mb"] <= 2048 if cases >= 100_000 else None,  # type: ignore[operator]
    }


def print_table(rows: list[dict[str, object]]) -> None:
    def mark(ok: bool | None) -> str:
        return "" if ok is None else (" ok" if ok else " MISS")

    print(f"model {rows[0]['model']}; targets: {TARGETS}")
    print("build: seconds against the floor (the model embedding each case's full text once), the model's share")
    print(
        "cases  passages  build s (floor) ratio  model %  update s (unchanged)"
        "  query mean/p95 ms (floor) ratio  peak RSS MB"
    )
    for row in rows:
        ok = verdicts(row)
        q, f = row["query"], row["query_floor"]
        print(
            f"{row['cases']:>6} {row['passages']:>8}  {row['build_s']:>6.1f} ({row['build_floor_s']:.1f})"
            f" {row['build_vs_floor']:.2f}x{mark(ok['build'])}  {100 * row['build_model_share']:>5.0f}"  # type: ignore[operator]
            f"  {row['update_s']:>6.2f} ({row['refresh_unchanged_s']:.2f}){mark(ok['update'])}"
            f"  {q['mean_ms']:.1f}/{q['p95_ms']:.1f} ({f['mean_ms']:.1f}/{f['p95_ms']:.1f})"  # type: ignore[index]
            f" {q['mean_ms'] / f['mean_ms']:.2f}x{mark(ok['query'])}"  # type: ignore[index]
            f"  {row['peak_rss_mb']:>8.0f}{mark(ok['rss'])}"
        )


def copied(collection: Path, workdir: Path) -> Path:
    """A copy of a case folder to benchmark (its index is built beside the copy, never beside the original)."""
    folder = workdir / "collection" / "cases"
    if folder.parent.exists():
        shutil.rmtree(folder.parent)
    shutil.copytree(collection, folder)
    return folder


def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, object]]:
    rows = []
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    folders = (
        [copied(args.collection, workdir)] if args.collection else [generate(n, workdir, args.datasets) for n in sizes]
    )
    for folder in folders:
        row = run_worker(folder, args)
        row["targets_met"] = verdicts(row)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.worker:
            print(json.dumps(measure(args.worker, args.model, args.queries, args.floor_passages)))
            return 0
        if args.workdir:
            rows = run(args, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="moresprudentie-bench-") as temp:
                rows = run(args, Path(temp))
    except (MoresprudentieError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
