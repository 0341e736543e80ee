"""Soak test: does the server's memory stay flat while people keep searching for many minutes?

Virtual users (scripts/loadtest.py's websocket sessions) search with a person's pauses; every few
searches a user closes its tab and opens a new one, so sessions come and go as they do in real use.
Every --sample seconds the resident memory (RSS) of the server process is read from /proc. The report
gives RSS at the start (after the first minute, when caches have filled), at the end, the peak, and
the slope of a least-squares line through the samples after that first minute.

    python scripts/soak.py                         # 10 minutes, 5 users, own server on 127.0.0.1
    python scripts/soak.py --minutes 3 --json
    python scripts/soak.py --url http://127.0.0.1:8501 --pid 12345

Verdict: flat when the slope is at most --max-slope MB per minute (default 2) and nothing failed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ is not a package (and `python -P` leaves it out)

from _server import app_server, finish, rss_mb
from loadtest import Phase, user, warm_up

SETTLE_S = 60.0  # the first minute fills caches (model, index, BM25, Streamlit's own); not a leak


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return 60.0 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread


async def churning_user(url: str, phase: Phase, deadline: float, args: argparse.Namespace, seed: int) -> None:
    """One person: a tab with a few searches, closed, a new tab, … until the deadline."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        await user(url, phase, args.searches_per_session, args.think, rng)


async def sampler(pid: int, started: float, deadline: float, every: float, samples: list) -> None:
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - started, rss_mb(pid)))
        await asyncio.sleep(every)
    samples.append((time.monotonic() - started, rss_mb(pid)))


async def soak(url: str, pid: int, args: argparse.Namespace) -> dict[str, object]:
    await warm_up(url, args.startup_timeout)
    phase = Phase("soak", args.users)
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    deadline = started + 60.0 * args.minutes
    tasks = [churning_user(url, phase, deadline, args, args.seed + n) for n in range(args.users)]
    await asyncio.gather(sampler(pid, started, deadline, args.sample, samples), *tasks)
    phase.wall_seconds = time.monotonic() - started
    settled = [(t, m) for t, m in samples if t >= SETTLE_S] or samples
    slope = slope_per_minute(settled)
    summary = phase.summary()
    return {
        "url": url,
        "minutes": args.minutes,
        "users": args.users,
        "searches": summary["searches"],
        "errors": summary["errors"],
        "error_examples": summary["error_examples"],
        "p50_s": summary["p50_s"],
        "p95_s": summary["p95_s"],
        "rss_first_mb": round(samples[0][1], 1),
        "rss_start_mb": round(settled[0][1], 1),
        "rss_end_mb": round(samples[-1][1], 1),
        "rss_peak_mb": round(max(m for _, m in samples), 1),
        "slope_mb_per_min": round(slope, 2),
        "samples": [(round(t), round(m, 1)) for t, m in samples],
        "flat": slope <= args.max_slope and summary["errors"] == 0,
    }


def print_report(report: dict) -> None:
    print(
        f"{report['minutes']} min, {report['users']} users, {report['searches']} searches, {report['errors']} error(s), "
        f"p50 {report['p50_s']} s, p95 {report['p95_s']} s"
    )
    print(
        f"RSS: {report['rss_first_mb']} MB after warm-up, {report['rss_start_mb']} MB after the first minute, "
        f"{report['rss_end_mb']} MB at the end, peak {report['rss_peak_mb']} MB; "
        f"slope {report['slope_mb_per_min']} MB/min → {'flat' if report['flat'] else 'NOT flat'}"
    )
    for example in report["error_examples"]:
        print(f"  error: {example}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app on this machine (then also give --pid)")
    parser.add_argument("--pid", type=int, help="process id of the server behind --url")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to soak (0.5–120, default 10)")
    parser.add_argument("--users", type=int, default=5, help="concurrent users (1–50, default 5)")
    parser.add_argument("--searches-per-session", type=int, default=10, help="searches before a tab is reopened")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between searches, s")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between memory samples")
    parser.add_argument("--max-slope", type=float, default=2.0, help="MB per minute still called flat")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait for the app")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not (0.5 <= args.minutes <= 120 and 1 <= args.users <= 50 and 1 <= args.searches_per_session <= 100):
        parser.error("keep it bounded: --minutes 0.5–120, --users 1–50, --searches-per-session 1–100")
    if bool(args.url) != bool(args.pid):
        parser.error("--url and --pid go together (the running server and the process whose memory is watched)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with app_server(args.url, args.startup_timeout) as (url, own_pid):
        result = asyncio.run(soak(url, own_pid or args.pid, args))
    return finish(result, args.json, print_report, "flat")


if __name__ == "__main__":
    sys.exit(main())
