"""scripts/loadtest_replicas.py without servers: the proxy's config and the reading of its access log.

The two-replica load test is only worth its figures if the proxy spreads distinct sessions over the
replicas while keeping each websocket on one: these check the config says so, and that nginx accepts
it (`nginx -t`, where nginx is installed), in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import load_script


def test_the_config_balances_over_every_replica_sticky_by_cookie(tmp_path: Path) -> None:
    replicas = load_script("loadtest_replicas")
    config = replicas.nginx_config(tmp_path, 8080, [9001, 9002])
    assert "listen 127.0.0.1:8080;" in config
    assert "server 127.0.0.1:9001" in config and "server 127.0.0.1:9002" in config
    assert "hash $replica_key;" in config  # a split that does not depend on the (random) ports
    assert f"map $cookie_{replicas.STICKY_COOKIE} $replica_key" in config  # the key is the browser's cookie
    assert "ip_hash" not in config and "$remote_addr consistent" not in config  # one address for all users
    assert "daemon off;" in config and f"pid {tmp_path / 'nginx.pid'};" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config  # the websocket is forwarded
    assert "user root;" not in config
    assert "user root;" in replicas.nginx_config(tmp_path, 8080, [9001], as_root=True)
    with pytest.raises(ValueError):
        replicas.nginx_config(tmp_path, 8080, [])


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    conf = tmp_path / "nginx.conf"
    config = load_script("loadtest_replicas").nginx_config(tmp_path, 8080, [9001, 9002], as_root=os.geteuid() == 0)
    conf.write_text(config)
    check = [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)]
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_sessions_are_counted_per_replica_from_the_access_log() -> None:
    log = "\n".join(
        [
            '127.0.0.1 [t] "GET /_stcore/stream HTTP/1.1" 101 127.0.0.1:9001 user-6-0',
            '127.0.0.1 [t] "GET /_stcore/stream HTTP/1.1" 101 127.0.0.1:9002 user-6-1',
            '127.0.0.1 [t] "GET /_stcore/stream HTTP/1.1" 101 127.0.0.1:9001 user-6-2',
            '127.0.0.1 [t] "GET /_stcore/health HTTP/1.1" 200 127.0.0.1:9002 abc',
        ]
    )
    assert load_script("loadtest_replicas").spread(log) == {"127.0.0.1:9001": 2, "127.0.0.1:9002": 1}


def test_replicas_mode_takes_one_or_two_and_no_url() -> None:
    loadtest = load_script("loadtest")
    assert loadtest.parse_args(["--replicas", "2"]).replicas == 2
    assert loadtest.parse_args([]).replicas is None
    for bad in (["--replicas", "3"], ["--replicas", "1", "--url", "http://127.0.0.1:8501"]):
        with pytest.raises(SystemExit):
            loadtest.parse_args(bad)
