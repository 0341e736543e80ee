"""Measure the search engine at scale, each figure beside the floor for the same work in the same run.

    python scripts/benchmark.py --sizes 1000,10000         # 100000 too by default (long)
    python scripts/benchmark.py --sizes 1000 --json

For every size a collection is generated from the public dilemma sets (repeated with a setting
sentence to reach the size; see moresprudentie.datasets) and measured in its own subprocess, so the
peak RSS is that of one size:
- build: SearchEngine.open on an empty index (load the YAML, embed, write), in cases/s; floor: the
  model alone (embedder.embed on a sample of the same passages), in cases/s.
- update: refresh() after one case file changed; also a refresh with nothing changed.
- query: warm search latency p50/p95 (embedding included); floor: embedding the query plus one exact
  numpy matrix product over a passage matrix of the same shape.
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
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from moresprudentie import settings
from moresprudentie.datasets import DEFAULT_DATASETS, distractor_cases, scaled_cases, write_cases
from moresprudentie.embedders import Embedder, load_embedder
from moresprudentie.errors import MoresprudentieError
from moresprudentie.index import case_passages, embedding_text
from moresprudentie.loading import dump_case
from moresprudentie.search import SearchEngine

RAW_BATCH = 256  # the model's best batch size here; the floor is its fastest honest throughput
WARM_UP_QUERIES = 10
K = 10
T = TypeVar("T")
TARGETS = "build ≥ 80% of raw; update ≤ 2 s at 10k; p95 ≤ 50 ms at 10k and ≤ 1.5× floor; ≤ 2 GB RSS at 100k"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="collection sizes, comma separated")
    parser.add_argument("--model", default=None, help=settings.MODEL.help)
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets folder")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per size")
    parser.add_argument("--floor-passages", type=int, default=8000, help="passages embedded for the raw floor")
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated collections here (reused)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
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
        name: {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95))}
        for name, values in times.items()
    }


def _raw_throughput(embedder: Embedder, texts: list[str], sample: int) -> tuple[float, float]:
    """Passages per wall second and per CPU second of the model alone, on an evenly spread sample
    of the same passages."""
    chosen = texts[:: max(1, len(texts) // sample)][:sample]

    def embed_all() -> None:
        for start in range(0, len(chosen), RAW_BATCH):
            embedder.embed(chosen[start : start + RAW_BATCH])

    _, wall, cpu = _cpu_timed(embed_all)
    return len(chosen) / wall, len(chosen) / cpu


def _query_floor(embedder: Embedder, rows: int) -> Callable[[str], object]:
    """Embed the query, then one exact matrix product over a passage matrix of the engine's shape."""
    matrix = np.random.default_rng(0).standard_normal((rows, embedder.dimension), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return lambda query: matrix @ embedder.embed([query])[0]


def measure(folder: Path, model: str | None, queries: int, floor_passages: int) -> dict[str, object]:
    """Every figure for one collection folder (run in a fresh process, so RSS is this size's)."""
    embedder = load_embedder(model)
    _log(f"{folder.parent.name}: building the index")
    engine, build_s, build_cpu_s = _cpu_timed(SearchEngine.open, folder, folder.parent / "index", embedder)
    cases = len(engine.cases)
    _log(f"{folder.parent.name}: {cases} cases in {build_s:.1f} s; one-case update")
    passages_changed = _change_one_case(engine, folder)
    _, update_s = _timed(engine.refresh)
    embedded = engine.report.embedded_passages
    _, noop_s = _timed(engine.refresh)
    _log(f"{folder.parent.name}: queries")
    query_texts = _benchmark_queries(engine, queries)
    for query in query_texts[:WARM_UP_QUERIES]:
        engine.search(query, k=K)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the floor's matrix
    texts = [embedding_text(case, p) for case in engine.cases.values() for p in case_passages(case)]
    latency = _paired_latencies_ms(
        lambda query: engine.search(query, k=K), _query_floor(embedder, len(texts)), query_texts
    )
    _log(f"{folder.parent.name}: raw model throughput")
    raw, raw_cpu = _raw_throughput(embedder, texts, floor_passages)
    per_case = len(texts) / cases
    return {
        "cases": cases,
        "passages": len(texts),
        "model": embedder.model_id,
        "build_s": build_s,
        "build_cases_per_s": cases / build_s,
        "raw_cases_per_s": raw / per_case,
        "build_cases_per_cpu_s": cases / build_cpu_s,
        "raw_cases_per_cpu_s": raw_cpu / per_case,
        "raw_sample_passages": min(floor_passages, len(texts)),
        "update_s": update_s,
        "update_embedded_passages": embedded,
        "update_expected_passages": passages_changed,
        "refresh_unchanged_s": noop_s,
        **latency,
        "peak_rss_mb": peak_rss_mb,
    }


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
    """Each target of the issue, or None where it does not apply to this size."""
    cases, query, floor = row["cases"], row["query"], row["query_floor"]
    return {
        "build": row["build_cases_per_s"] >= 0.8 * row["raw_cases_per_s"],  # type: ignore[operator]
        "update": row["update_s"] <= 2.0 if cases >= 10_000 else None,  # type: ignore[operator]
        "query": query["p95_ms"] <= 1.5 * floor["p95_ms"] and (cases < 10_000 or query["p95_ms"] <= 50),  # type: ignore[index]
        "rss": row["peak_rss_mb"] <= 2048 if cases >= 100_000 else None,  # type: ignore[operator]
    }


def print_table(rows: list[dict[str, object]]) -> None:
    def mark(ok: bool | None) -> str:
        return "" if ok is None else (" ok" if ok else " MISS")

    print(f"model {rows[0]['model']}; targets: {TARGETS}")
    print("build: cases/s (raw model), and build/raw by wall and by CPU time; update: s (nothing changed)")
    print("cases  passages  build c/s (raw)  wall/cpu %  update s (unchanged)  query p50/p95 ms (floor)  peak RSS MB")
    for row in rows:
        ok = verdicts(row)
        q, f = row["query"], row["query_floor"]
        wall = 100 * row["build_cases_per_s"] / row["raw_cases_per_s"]  # type: ignore[operator]
        cpu = 100 * row["build_cases_per_cpu_s"] / row["raw_cases_per_cpu_s"]  # type: ignore[operator]
        print(
            f"{row['cases']:>6} {row['passages']:>8}  {row['build_cases_per_s']:>6.1f} ({row['raw_cases_per_s']:.1f})"
            f"  {wall:>3.0f}/{cpu:.0f}{mark(ok['build'])}"
            f"  {row['update_s']:>6.2f} ({row['refresh_unchanged_s']:.2f}){mark(ok['update'])}"
            f"  {q['p50_ms']:.1f}/{q['p95_ms']:.1f} ({f['p50_ms']:.1f}/{f['p95_ms']:.1f}){mark(ok['query'])}"
            f"  {row['peak_rss_mb']:>8.0f}{mark(ok['rss'])}"
        )


def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, object]]:
    rows = []
    for size in (int(part) for part in args.sizes.split(",") if part.strip()):
        row = run_worker(generate(size, workdir, args.datasets), args)
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
