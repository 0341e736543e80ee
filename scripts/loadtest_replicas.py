"""`scripts/loadtest.py --replicas N`: the app as N replicas sharing one PostgreSQL store, behind nginx.

Issue 16 asks whether the app scales out: several `moresprudentie app` processes, one shared database,
one proxy in front. This module builds that on 127.0.0.1 for one load test and takes it down again:

1. a throwaway PostgreSQL server (tests/pg_server.py) with a fresh database, into which the shipped
   `cases/` are imported with `moresprudentie store import cases --as beheer` (the anonymisation check
   included), exactly as an administrator loads a collection;
2. N `moresprudentie app` replicas on free ports, each with MORESPRUDENTIE_STORE set and its own
   MORESPRUDENTIE_INDEX folder (its local copy of the collection and its own index), each run from its
   own folder so it takes the package's shipped Streamlit settings, as an installed app does;
3. nginx on a free port with a temporary nginx.conf (`daemon off`, `-p <tmpdir>`, pid, logs and
   temp files in the tmp dir) balancing over the replicas.

Stickiness. A Streamlit session lives in one process: its websocket must stay on the replica that
holds its state. `ip_hash` / `hash $remote_addr` would keep that, but every virtual user comes from
127.0.0.1, so all of them would land on one replica and the second would idle. Open-source nginx has
no sticky-cookie directive, so the proxy makes one: a request without the `mp_replica` cookie gets a
fresh key (`$request_id`), is routed by it and is answered with `Set-Cookie: mp_replica=<key>`; every
later request of that browser (the websocket included) carries the cookie and is hashed
(`hash $replica_key`) to the same replica. So distinct browsers spread over the replicas while each
session stays on one, and a real deployment can use the same block (with the security parts of
docs/deployment.md around it). The load test's virtual users open the websocket directly, so each
sends its own `mp_replica` cookie (`user-<seed>-<n>`), as a browser that loaded the page would.
Plain `hash`, not `hash … consistent`: the ketama ring of `consistent` places the replicas by their
addresses, which are random free ports here, so the same 12 users split 7/7, 9/5 and 11/3 over two
replicas in three runs (measured); plain `hash` (crc32 of the key modulo the replicas) gives the
same split every run, 6/6 for the default seed, so runs compare. `consistent` only matters when
replicas are added or removed (fewer sessions move), which a load test never does.
The rate limits of the deployment example are left out: every virtual user shares 127.0.0.1.

Everything started is stopped on the way out (also on an error, Ctrl-C or SIGTERM): nginx, the
replicas, then PostgreSQL. Logs are kept in test-output/loadtest-replica-<i>.log and
test-output/loadtest-nginx-*.log.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from _server import ROOT, cpu_seconds, free_port, wait_healthy

STICKY_COOKIE = "mp_replica"
ACCESS_FORMAT = '$remote_addr [$time_local] "$request" $status $upstream_addr $replica_key'
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
OUTPUT = ROOT / "test-output"


def nginx_config(folder: Path, port: int, upstreams: list[int], as_root: bool = False) -> str:
    """The nginx.conf for the proxy: `upstreams` (ports on 127.0.0.1) behind 127.0.0.1:`port`, sticky by cookie.

    Pure (no files written) so that tests can check it without nginx. `as_root`: nginx started by root
    drops its workers to `nobody`, who cannot write into our private tmp dir; keep them as root then.
    """
    if not upstreams:
        raise ValueError("no upstream replica to proxy to")
    servers = "\n".join(f"        server 127.0.0.1:{upstream} max_fails=0;" for upstream in upstreams)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in TEMP_KINDS)
    return f"""{"user root;" if as_root else ""}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    log_format sticky '{ACCESS_FORMAT}';
    access_log {folder / "access.log"} sticky;
{temp}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    # A browser's first request has no cookie: it gets a fresh key, is routed by it and keeps it.
    map $cookie_{STICKY_COOKIE} $replica_key {{ "" $request_id; default $cookie_{STICKY_COOKIE}; }}
    map $cookie_{STICKY_COOKIE} $replica_set_cookie {{
        "" "{STICKY_COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Strict";
        default "";
    }}
    upstream moresprudentie {{
        hash $replica_key;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        add_header Set-Cookie $replica_set_cookie;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        location = /_stcore/stream {{
            proxy_pass http://moresprudentie;
            proxy_read_timeout 86400;
        }}
        location / {{
            proxy_pass http://moresprudentie;
        }}
    }}
}}
"""


def spread(access_log: str) -> dict[str, int]:
    """Websocket sessions per replica (upstream address), read from the proxy's access log."""
    counts: Counter[str] = Counter()
    for line in access_log.splitlines():
        if '"GET /_stcore/stream ' in line:
            parts = line.rsplit(" ", 2)  # ... <status> <upstream_addr> <replica_key>
            counts[parts[-2] if len(parts) == 3 else "?"] += 1
    return dict(sorted(counts.items()))


def _stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Ask a process to stop; kill it when it has not within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises SystemExit, so the `finally` blocks stop what we started (default: die at once)."""

    def unwind(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def postgres_store(startup_s: float) -> Iterator[str]:
    """A throwaway PostgreSQL with the shipped cases imported; yields the database URL, removes it after."""
    sys.path.insert(0, str(ROOT / "tests"))  # tests/ is no package; pg_server is the tests' own server
    from pg_server import PostgresServer, find_bin

    bin_dir, why_not = find_bin()
    if bin_dir is None:
        raise SystemExit(why_not)
    server = PostgresServer(bin_dir)
    try:
        server.init().start()
        url = server.new_database()
        env = {**os.environ, "MORESPRUDENTIE_STORE": url}
        command = [sys.executable, "-m", "moresprudentie", "store", "import", str(ROOT / "cases"), "--as", "beheer"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=startup_s, check=False)
        if done.returncode != 0:
            raise SystemExit(f"store import failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        print(f"store: {done.stdout.strip()}", file=sys.stderr)
        yield url
    finally:
        server.remove()


@dataclass
class Replica:
    """One `moresprudentie app` process: its port, process and log."""

    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def app_replicas(count: int, store_url: str, base: Path, startup_s: float) -> Iterator[list[Replica]]:
    """`count` replicas on free ports, each with its own index folder; yields once all are healthy."""
    started: list[Replica] = []
    try:
        for number in range(1, count + 1):
            home = base / f"replica-{number}"
            home.mkdir()
            env = {**os.environ, "MORESPRUDENTIE_STORE": store_url, "MORESPRUDENTIE_INDEX": str(home / "index")}
            for name in ("MORESPRUDENTIE_TRIAL_OFFICER", "MORESPRUDENTIE_TRIAL_TOKEN", "MORESPRUDENTIE_CASES"):
                env.pop(name, None)
            port = free_port()
            log = OUTPUT / f"loadtest-replica-{number}.log"
            with log.open("w", encoding="utf-8") as out:  # the child keeps its own copy of the descriptor
                command = [sys.executable, "-m", "moresprudentie", "app", "--server.port", str(port)]
                process = subprocess.Popen(command, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
            started.append(Replica(port, process, log))
        for replica in started:  # started together: each builds its index while the others do
            wait_healthy(replica.url, replica.process, startup_s)
        yield started
    finally:
        for replica in started:
            _stop(replica.process)


@contextlib.contextmanager
def nginx_proxy(folder: Path, upstreams: list[int]) -> Iterator[tuple[int, subprocess.Popen]]:
    """nginx in front of the replicas; yields its port and process, keeps its logs in test-output/."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(nginx_config(folder, port, upstreams, as_root=os.geteuid() == 0), encoding="utf-8")
    command = [nginx, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"nginx refused the config: {check.stderr.strip()}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, 20)
        except SystemExit as exc:
            log = folder / "error.log"
            raise SystemExit(f"nginx did not come up: {log.read_text() if log.exists() else exc}") from exc
        yield port, process
    finally:
        _stop(process, 10)
        for name in ("error.log", "access.log"):
            if (folder / name).exists():
                shutil.copy(folder / name, OUTPUT / f"loadtest-nginx-{name}")


@dataclass
class Cluster:
    """The running set-up: the proxy's URL, the replicas behind it, and where the proxy logs."""

    url: str
    replicas: list[Replica]
    proxy_pid: int
    access_log: Path
    cpu_start: dict[str, float | None] = field(default_factory=dict)

    def cpu(self) -> dict[str, float | None]:
        """CPU seconds used so far: each replica, the proxy, and this load-test client itself."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds = {f"replica {r.port}": cpu_seconds(r.process.pid) for r in self.replicas}
        seconds["nginx"] = _nginx_cpu(self.proxy_pid)
        seconds["load client"] = usage.ru_utime + usage.ru_stime
        return seconds

    def report(self) -> dict[str, object]:
        """What the cluster did since the last mark(): CPU per process, sessions per replica, replica health."""
        now = self.cpu()
        used = {
            name: round(value - before, 1)
            for name, value in now.items()
            if value is not None and (before := self.cpu_start.get(name)) is not None
        }
        return {
            "replicas": len(self.replicas),
            "proxy": self.url,
            "cpu_seconds": used,
            "sessions_per_replica": spread(self.access_log.read_text(encoding="utf-8")),
            "replicas_alive": all(r.process.poll() is None for r in self.replicas),
        }

    def mark(self) -> None:
        self.cpu_start = self.cpu()


def _nginx_cpu(master: int) -> float | None:
    """CPU seconds of nginx: its master and its worker(s), found as the master's children in /proc."""
    total = cpu_seconds(master)
    if total is None:
        return None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()[1]) == master:
                total += cpu_seconds(int(stat.parent.name)) or 0.0
    return total


@contextlib.contextmanager
def proxied_cluster(count: int, startup_s: float) -> Iterator[Cluster]:
    """PostgreSQL, `count` replicas and nginx, started in that order and stopped in reverse."""
    if count < 1:
        raise ValueError("at least one replica")
    OUTPUT.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_sigterm_unwinds())
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="moresprudentie-replicas-")))
        store_url = stack.enter_context(postgres_store(startup_s))
        started = time.monotonic()
        replicas = stack.enter_context(app_replicas(count, store_url, base, startup_s))
        print(f"{count} replica(s) healthy after {time.monotonic() - started:.0f} s", file=sys.stderr)
        proxy = base / "nginx"
        proxy.mkdir()
        port, process = stack.enter_context(nginx_proxy(proxy, [r.port for r in replicas]))
        yield Cluster(f"http://127.0.0.1:{port}", replicas, process.pid, proxy / "access.log")


def print_cluster(report: dict) -> None:
    """The lines --replicas adds to the load test's report."""
    cluster = report["cluster"]
    print(
        f"{cluster['replicas']} replica(s) behind nginx ({cluster['proxy']}), PostgreSQL store; "
        f"websocket sessions per replica {cluster['sessions_per_replica']}; "
        f"replicas alive at the end: {cluster['replicas_alive']}"
    )
    print(f"CPU seconds during the measurement: {cluster['cpu_seconds']}")
    print(f"errors in all: {report['errors']}")
