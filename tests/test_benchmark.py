"""scripts/benchmark.py: which of the issue's targets apply to which collection size."""

from __future__ import annotations

from conftest import load_script


def _row(cases: int, update_s: float, p95: float, floor_p95: float, rss: float) -> dict[str, object]:
    return {
        "cases": cases,
        "build_model_share": 0.95,
        "update_s": update_s,
        "query": {"p50_ms": p95 / 2, "p95_ms": p95},
        "query_floor": {"p50_ms": floor_p95 / 2, "p95_ms": floor_p95},
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
