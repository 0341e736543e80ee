"""scripts/benchmark.py: which of the issue's targets apply to which collection size."""

from __future__ import annotations

from conftest import load_script


def _row(
    cases: int, update_s: float, p95: float, floor_p95: float, rss: float, build: float = 1.4, mean: float = 1.0
) -> dict[str, object]:
    """A benchmark row; `build` and `mean` are the build's and the mean query's ratio to their floors."""
    return {
        "cases": cases,
        "build_vs_floor": build,
        "update_s": update_s,
        "query": {"mean_ms": mean * floor_p95 / 2, "p50_ms": p95 / 2, "p95_ms": p95},
        "query_floor": {"mean_ms": floor_p95 / 2, "p50_ms": floor_p95 / 2, "p95_ms": floor_p95},
        "peak_rss_mb": rss,
    }


def test_absolute_targets_hold_up_to_10k_and_the_relative_ones_everywhere() -> None:
    verdicts = load_script("benchmark").verdicts
    assert verdicts(_row(10_000, 1.0, 14, 10, 436)) == {"build": True, "update": True, "query": True, "rss": None}
    assert verdicts(_row(10_000, 2.5, 60, 45, 436))["update"] is False
    assert verdicts(_row(10_000, 1.0, 60, 45, 436))["query"] is False  # within 1.5x, but over 50 ms
    # at 100k: no absolute update or latency target, but the floor ratio and the memory target
    assert verdicts(_row(100_000, 10.2, 51.7, 48.0, 1828)) == {
        "build": True,
        "update": None,
        "query": True,
        "rss": True,
    }
    assert verdicts(_row(100_000, 10.2, 80, 48.0, 2100))["query"] is False
    assert verdicts(_row(100_000, 10.2, 51.7, 48.0, 2100))["rss"] is False


def test_build_and_mean_query_must_stay_within_one_and_a_half_times_their_floor() -> None:
    verdicts = load_script("benchmark").verdicts
    assert verdicts(_row(2_800, 1.0, 6, 5, 400, build=1.6))["build"] is False
    assert verdicts(_row(2_800, 1.0, 6, 5, 400, mean=1.6))["query"] is False
    assert verdicts(_row(2_800, 1.0, 6, 5, 400, build=1.49, mean=1.44)) == {
        "build": True,
        "update": True,
        "query": True,
        "rss": None,
    }
