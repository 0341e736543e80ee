"""Load test: many people searching the running app at once, through Streamlit's own websocket.

Each virtual user is a real Streamlit session (the protocol the browser speaks): it opens the search
page, types a dilemma into the search box and presses "Zoeken", and times each search from sending
the click to the end of the page's rerun (results drawn on the server, every element sent).
First one user alone (the baseline), then N users at once. Bounded in users, searches and time;
loopback only. Without --url it starts its own `streamlit run app.py` on 127.0.0.1 and stops it.

    python scripts/loadtest.py                      # 20 users × 5 searches, 2 s thinking between them
    python scripts/loadtest.py --think 0            # burst: every user searches back to back
    python scripts/loadtest.py --url http://127.0.0.1:8501 --users 10 --json
    python scripts/loadtest.py --replicas 2 --users 16 --searches 50 --think 0   # PostgreSQL + nginx + 2 apps

With --replicas N it builds N `moresprudentie app` replicas sharing a throwaway PostgreSQL store
behind a local nginx and tests them through the proxy (scripts/loadtest_replicas.py says how).

Target (issue 6): no errors, and p95 under load at most 3× the single user's median search time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ is not a package (and `python -P` leaves it out)

from _server import app_server, cpu_seconds, finish
from loadtest_replicas import STICKY_COOKIE, print_cluster, proxied_cluster

SEARCH_FORM = "search_form"
RUN_TIMEOUT_S = 120.0
ERROR_ALERT = 1  # Alert.Format.ERROR
QUERIES = (
    "Een leverancier biedt mij een kerstpakket aan tijdens een lopende aanbesteding.",
    "Mijn leidinggevende vraagt me een fout in het rapport niet te melden aan de raad.",
    "Een collega gebruikt de dienstauto in het weekend voor privéritten.",
    "Mag ik in het systeem het dossier van mijn buurman bekijken?",
    "A former colleague now lobbies me for a permit on behalf of a company.",
    "Een burger biedt mij een cadeau aan als dank voor mijn hulp bij de aanvraag.",
    "Should I tell the minister that the briefing was softened by the office?",
    "Een cliënt vraagt of ik een uitzondering kan maken op de regels voor de bijstand.",
)


@dataclass
class Search:
    """One timed search: seconds from the click to the finished rerun, and what went wrong, if anything."""

    seconds: float
    results: int = 0
    error: str | None = None


@dataclass
class Phase:
    name: str
    users: int
    searches: list[Search] = field(default_factory=list)
    wall_seconds: float = 0.0
    page_loads: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # sessions that could not open

    def summary(self) -> dict[str, object]:
        ok = sorted(s.seconds for s in self.searches if s.error is None)
        errors = [s.error for s in self.searches if s.error] + self.failures
        return {
            "phase": self.name,
            "users": self.users,
            "searches": len(self.searches),
            "errors": len(errors),
            "error_examples": sorted(set(errors))[:5],
            "throughput_per_s": round(len(ok) / self.wall_seconds, 2) if self.wall_seconds else 0.0,
            "p50_s": round(percentile(ok, 50), 3),
            "p95_s": round(percentile(ok, 95), 3),
            "max_s": round(ok[-1], 3) if ok else 0.0,
            "page_load_p50_s": round(percentile(sorted(self.page_loads), 50), 3),
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p95 is a time someone really waited)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


# -- one Streamlit session over the websocket ---------------------------------------------------------


class Session:
    """A browser tab as the server sees it: a websocket session that reruns the page with widget states."""

    def __init__(self, url: str, sticky: str = "") -> None:
        parsed = urlparse(url)
        self.stream = f"ws://{parsed.netloc}{parsed.path.rstrip('/')}/_stcore/stream"
        # The proxy's stickiness cookie, as a browser that loaded the page sends it (--replicas).
        self.headers = {"Cookie": f"{STICKY_COOKIE}={sticky}"} if sticky else None
        self.socket: websockets.ClientConnection | None = None
        self.text_area_id = ""
        self.submit_id = ""

    async def __aenter__(self) -> Session:
        self.socket = await websockets.connect(
            self.stream, subprotocols=["streamlit"], max_size=None, open_timeout=30, additional_headers=self.headers
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def _rerun(self, state: ClientState) -> tuple[int, list]:
        """Send one rerun; return the finish status and the new elements the page drew."""
        message = BackMsg()
        message.rerun_script.CopyFrom(state)
        if self.socket is None:
            raise RuntimeError("the session is not open")
        await self.socket.send(message.SerializeToString())
        elements = []
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await asyncio.wait_for(self.socket.recv(), RUN_TIMEOUT_S))
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                elements.append(forward.delta.new_element)
            elif kind == "script_finished":
                return forward.script_finished, elements

    async def open_page(self) -> None:
        """Load the search page and learn the ids of its search box and button (as a browser does)."""
        status, elements = await self._rerun(ClientState(query_string=""))
        problem = _problem(status, elements)
        if problem:
            raise RuntimeError(f"the search page failed to load: {problem}")
        for element in elements:
            kind = element.WhichOneof("type")
            if kind == "text_area" and element.text_area.form_id == SEARCH_FORM:
                self.text_area_id = element.text_area.id
            elif kind == "button" and element.button.is_form_submitter and element.button.form_id == SEARCH_FORM:
                self.submit_id = element.button.id
        if not (self.text_area_id and self.submit_id):
            raise RuntimeError(f"no search form '{SEARCH_FORM}' on the page")

    async def search(self, query: str) -> Search:
        state = ClientState(query_string="")
        box = state.widget_states.widgets.add()
        box.id, box.string_value = self.text_area_id, query
        button = state.widget_states.widgets.add()
        button.id, button.trigger_value = self.submit_id, True
        started = time.perf_counter()
        status, elements = await self._rerun(state)
        seconds = time.perf_counter() - started
        results = sum(element.WhichOneof("type") == "page_link" for element in elements)
        problem = _problem(status, elements) or (None if results else "no results")
        return Search(seconds, results, problem)


def _problem(status: int, elements: list) -> str | None:
    if status not in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
        return f"rerun ended with status {status}"
    for element in elements:
        kind = element.WhichOneof("type")
        if kind == "exception":
            return f"exception on the page: {element.exception.type}: {element.exception.message[:120]}"
        if kind == "alert" and element.alert.format == ERROR_ALERT:
            return f"error shown: {element.alert.body[:120]}"
    return None


# -- users ----------------------------------------------------------------------------------------------


async def user(url: str, phase: Phase, searches: int, think: float, rng: random.Random, sticky: str = "") -> None:
    """Open the page, then search `searches` times with a person's pause in between."""
    try:
        started = time.perf_counter()
        async with Session(url, sticky) as session:
            await session.open_page()
            phase.page_loads.append(time.perf_counter() - started)
            for _ in range(searches):
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
                try:
                    phase.searches.append(await session.search(rng.choice(QUERIES)))
                except (TimeoutError, websockets.ConnectionClosed) as exc:
                    phase.searches.append(Search(RUN_TIMEOUT_S, error=f"{type(exc).__name__}: {exc}"[:160]))
                    return
    except (OSError, TimeoutError, RuntimeError, websockets.WebSocketException) as exc:
        phase.failures.append(f"session: {type(exc).__name__}: {exc}"[:160])


async def run_phase(url: str, name: str, users: int, searches: int, think: float, limit_s: float, seed: int) -> Phase:
    """`users` sessions at once, each `searches` searches; cut off (as errors) after limit_s seconds."""
    phase = Phase(name, users)
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(user(url, phase, searches, think, random.Random(seed + n), f"user-{seed}-{n}"))
        for n in range(users)
    ]
    _, pending = await asyncio.wait(tasks, timeout=limit_s)
    for task in pending:
        task.cancel()
    if pending:
        phase.failures.append(f"{len(pending)} user(s) still busy after the {limit_s:.0f} s limit")
    phase.wall_seconds = time.perf_counter() - started
    return phase


async def warm_up(url: str, startup_s: float) -> float:
    """The first page load opens the engine (model, index): time it, and keep it out of the figures."""
    started = time.perf_counter()
    async with Session(url) as session:
        await asyncio.wait_for(session.open_page(), startup_s)
        await session.search(QUERIES[0])
    return time.perf_counter() - started


async def measure(url: str, pid: int | None, args: argparse.Namespace) -> dict[str, object]:
    warm = await warm_up(url, args.startup_timeout)
    cpu_before = cpu_seconds(pid)
    baseline = await run_phase(url, "single user", 1, args.baseline_searches, 0.0, args.time_limit, args.seed)
    cpu_after = cpu_seconds(pid)
    load = await run_phase(url, "concurrent", args.users, args.searches, args.think, args.time_limit, args.seed)
    single, under_load = baseline.summary(), load.summary()
    # The server's own CPU per search (page load included): what bounds throughput, whatever the machine does.
    per_search = (cpu_after - cpu_before) / args.baseline_searches if cpu_before is not None and cpu_after else None
    ratio = under_load["p95_s"] / single["p50_s"] if single["p50_s"] else float("inf")
    return {
        "url": url,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine skews every figure
        "warm_up_s": round(warm, 2),
        "server_cpu_per_search_s": round(per_search, 3) if per_search is not None else None,
        "think_s": args.think,
        "baseline": single,
        "load": under_load,
        "p95_over_single_p50": round(ratio, 2),
        "target_met": under_load["errors"] == 0 and single["errors"] == 0 and ratio <= 3.0,
    }


def print_report(report: dict) -> None:
    for key in ("baseline", "load"):
        phase = report[key]
        print(
            f"{phase['phase']:>12}: {phase['users']:3d} user(s), {phase['searches']:4d} searches, "
            f"{phase['errors']} error(s), {phase['throughput_per_s']:6.2f} searches/s, "
            f"p50 {phase['p50_s']:.3f} s, p95 {phase['p95_s']:.3f} s, max {phase['max_s']:.3f} s, "
            f"page load p50 {phase['page_load_p50_s']:.3f} s"
        )
        for example in phase["error_examples"]:
            print(f"              error: {example}")
    verdict = "met" if report["target_met"] else "NOT met"
    print(
        f"{report['cpus']} CPUs, load average {report['load_average_1min']}; "
        f"warm-up (engine load) {report['warm_up_s']} s; server CPU per search {report['server_cpu_per_search_s']} s; "
        f"think time {report['think_s']} s; "
        f"p95 under load = {report['p95_over_single_p50']}× the single user's median: target (no errors, ≤ 3×) {verdict}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app on this machine (default: start our own on a free port)")
    parser.add_argument("--pid", type=int, help="process id of the server behind --url (to report its CPU per search)")
    parser.add_argument("--users", type=int, default=20, help="concurrent sessions (1–100, default 20)")
    parser.add_argument("--searches", type=int, default=5, help="searches per user (1–50, default 5)")
    parser.add_argument("--baseline-searches", type=int, default=10, help="searches by the lone user (default 10)")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between a user's searches, s")
    parser.add_argument("--time-limit", type=float, default=300.0, help="cut each phase off after this many s")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait for the app")
    parser.add_argument("--seed", type=int, default=6, help="random seed for queries and pauses")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--replicas",
        type=int,
        choices=(1, 2),
        help="test N app replicas sharing a throwaway PostgreSQL store behind a local nginx (not with --url)",
    )
    args = parser.parse_args(argv)
    if args.replicas and args.url:
        parser.error("--replicas starts its own servers: leave out --url")
    if not (1 <= args.users <= 100 and 1 <= args.searches <= 50 and 1 <= args.baseline_searches <= 100):
        parser.error("keep it bounded: --users 1–100, --searches 1–50, --baseline-searches 1–100")
    return args


def behind_proxy(args: argparse.Namespace) -> dict[str, object]:
    """The load test through nginx in front of --replicas apps; each replica is warmed up directly first
    (a replica opens its engine on its first page), so no engine load falls into the figures."""
    with proxied_cluster(args.replicas, args.startup_timeout) as cluster:

        async def run() -> dict[str, object]:
            for replica in cluster.replicas:
                await warm_up(replica.url, args.startup_timeout)
            cluster.mark()
            return await measure(cluster.url, None, args)

        result = asyncio.run(run())
        result["cluster"] = cluster.report()
    result["errors"] = result["baseline"]["errors"] + result["load"]["errors"]
    result["no_errors"] = result["errors"] == 0 and result["cluster"]["replicas_alive"]
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.replicas:
        report = behind_proxy(args)
        return finish(report, args.json, lambda r: (print_report(r), print_cluster(r)), "no_errors")
    with app_server(args.url, args.startup_timeout) as (url, pid):
        result = asyncio.run(measure(url, pid or args.pid, args))
    return finish(result, args.json, print_report, "target_met")


if __name__ == "__main__":
    sys.exit(main())
