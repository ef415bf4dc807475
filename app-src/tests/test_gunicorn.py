"""The real server: gunicorn with gunicorn.conf.py, two workers, on a free loopback port.

These tests start processes; each waits with a deadline for what it needs,
and none asserts a duration.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import FULL_ENV

APP_SRC = Path(__file__).resolve().parent.parent
TESTS_DIR = Path(__file__).resolve().parent
GOLDEN = TESTS_DIR / "metrics.golden"
GRACEFUL_TIMEOUT = 15
START_DEADLINE = 30


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(mp_dir, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
    env.update(FULL_ENV)
    env.update(
        PROMETHEUS_MULTIPROC_DIR=str(mp_dir),
        GUNICORN_WORKERS="2",
        GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
        APP_VERSION="9.9.9-it",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


class Server:
    def __init__(self, proc, port, out_path, err_path):
        self.proc, self.port, self.out_path, self.err_path = proc, port, out_path, err_path

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, timeout=10):
        """(status, body) of a GET on a fresh connection."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def wait_until_serving(self, path="/"):
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"gunicorn exited early ({self.proc.returncode}):\n{self.stderr()}")
            try:
                status, _ = self.get(path, timeout=2)
                if status == 200:
                    return
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not serve {path} in time:\n{self.stderr()}")

    def stop(self):
        """SIGTERM the master; return its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=GRACEFUL_TIMEOUT + 15)

    def stdout_lines(self):
        return self.out_path.read_text().splitlines()

    def stderr(self):
        return self.err_path.read_text()


@contextmanager
def gunicorn(tmp_path, env, *app_args):
    """Run `gunicorn -c gunicorn.conf.py` from app-src, bound to a free loopback port."""
    port = free_port()
    out_path, err_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", *app_args],
            cwd=APP_SRC, env=env, stdout=out, stderr=err, start_new_session=True,
        )
    server = Server(proc, port, out_path, err_path)
    try:
        yield server
    finally:
        if proc.poll() is None:  # a failed test: do not leave the server running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def worker_pids_with_counters(mp_dir):
    return {m.group(1) for f in mp_dir.iterdir() if (m := re.fullmatch(r"counter_(\d+)\.db", f.name))}


def sample_value(text, name, labels):
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


def test_two_workers_share_metrics_and_sigterm_exits_zero(tmp_path):
    mp_dir = tmp_path / "multiproc"
    mp_dir.mkdir()
    (mp_dir / "counter_1.db").write_bytes(b"stale file from an earlier server")

    with gunicorn(tmp_path, server_env(mp_dir)) as server:
        server.wait_until_serving("/")
        assert not (mp_dir / "counter_1.db").exists(), "on_starting must wipe old metric files"

        # Only "/" has been requested so far (the readiness poll above included), so
        # the per-worker counter files come from "/" requests alone. Send batches on
        # fresh connections until both workers have served some.
        def fetch(_):
            return server.get("/")

        sent = 1  # the readiness poll's one successful GET /
        for _ in range(20):
            with ThreadPoolExecutor(max_workers=8) as pool:
                assert all(status == 200 for status, _ in pool.map(fetch, range(40)))
            sent += 40
            if len(worker_pids_with_counters(mp_dir)) >= 2:
                break
        assert len(worker_pids_with_counters(mp_dir)) == 2, "both workers should have served /"

        status, text = server.get("/metrics")
        assert status == 200
        labels = {"method": "GET", "route": "/", "status": "200"}
        assert sample_value(text, "app_http_requests_total", labels) == sent
        assert sample_value(text, "app_http_request_duration_seconds_count", labels) == sent
        assert sample_value(text, "app_info", {"version": "9.9.9-it"}) == 1.0

        # Production exposition: exactly the names in the golden file, no _created,
        # no per-process collectors.
        names = sorted({s.name for f in text_string_to_metric_families(text) for s in f.samples})
        assert names == GOLDEN.read_text().split()

        assert server.stop() == 0

    lines = [json.loads(line) for line in server.stdout_lines()]  # every line is JSON
    assert sum(1 for line in lines if line.get("route") == "/") == sent  # one access line each
    gunicorn_msgs = [line["msg"] for line in lines if line["logger"] == "gunicorn.error"]
    assert sum(msg.startswith("Booting worker") for msg in gunicorn_msgs) == 2
    assert "Handling signal: term" in gunicorn_msgs
    output = server.out_path.read_text() + server.stderr()
    for secret in (FULL_ENV["SECRET_KEY"], FULL_ENV["DB_PASSWORD"]):
        assert secret not in output


def test_sigterm_lets_an_in_flight_request_finish(tmp_path):
    marker = tmp_path / "slow-request-started"
    env = server_env(tmp_path / "multiproc", SLOW_MARKER=str(marker), SLOW_SECONDS="2")
    with gunicorn(tmp_path, env, "--pythonpath", str(TESTS_DIR), "slow_wsgi:app") as server:
        server.wait_until_serving("/")

        result = {}

        def call_slow():
            result["response"] = server.get("/_test/slow", timeout=30)

        client = threading.Thread(target=call_slow)
        client.start()
        deadline = time.monotonic() + START_DEADLINE
        while not marker.exists():
            assert time.monotonic() < deadline, "slow request never reached the app"
            time.sleep(0.02)

        exit_code = server.stop()  # SIGTERM while /_test/slow sleeps
        client.join(timeout=30)

    assert exit_code == 0
    assert result.get("response") == (200, "slow done")
    access = [json.loads(line) for line in server.stdout_lines() if '"logger": "app.access"' in line]
    assert any(a["route"] == "/_test/slow" and a["status"] == 200 for a in access)
