"""The real server: gunicorn with gunicorn.conf.py, on free loopback ports (public and admin).

These tests start processes; each waits with a deadline for what it needs,
and none asserts a duration.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
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
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GUNICORN_", "PROMETHEUS_")) and k not in ("PORT", "ADMIN_PORT", "TRUSTED_PROXY_HOPS")}
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
    def __init__(self, proc, port, admin_port, out_path, err_path):
        self.proc, self.port, self.admin_port = proc, port, admin_port
        self.out_path, self.err_path = out_path, err_path

    def url(self, path, admin=False):
        return f"http://127.0.0.1:{self.admin_port if admin else self.port}{path}"

    def get(self, path, timeout=10, admin=False):
        """(status, body) of a GET on a fresh connection, to the public or the admin port."""
        status, _, body = self.request(path, timeout=timeout, admin=admin)
        return status, body

    def request(self, path, method="GET", headers=None, timeout=10, admin=False):
        """(status, headers, body) of one request on a fresh connection; the path is sent as is."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port if admin else self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read().decode()
        finally:
            conn.close()

    def wait_until_serving(self, path="/", admin=False):
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"gunicorn exited early ({self.proc.returncode}):\n{self.stderr()}")
            try:
                status, _ = self.get(path, timeout=2, admin=admin)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not serve {path} in time:\n{self.stderr()}")

    def json_lines(self):
        """Every stdout line, parsed (a line that is not JSON fails the test)."""
        return [json.loads(line) for line in self.out_path.read_text().splitlines()]

    def worker_pids(self):
        """PIDs of the master's children (the workers), from /proc/<pid>/stat."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        return pids

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
    """Run `gunicorn -c gunicorn.conf.py` from app-src, public and admin ports free loopback ports."""
    port, admin_port = free_port(), free_port()
    while admin_port == port:
        admin_port = free_port()
    out_path, err_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", *app_args],
            cwd=APP_SRC, env=dict(env, ADMIN_PORT=str(admin_port)), stdout=out, stderr=err,
            start_new_session=True,
        )
    server = Server(proc, port, admin_port, out_path, err_path)
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

        # The admin port: any worker answers with the whole pod's counts, and its own
        # requests (these scrapes, the probes) are not counted.
        for _ in range(3):
            server.get("/healthz", admin=True)
            status, text = server.get("/metrics", admin=True)
            assert status == 200
            labels = {"method": "GET", "route": "/", "status": "200"}
            assert sample_value(text, "app_http_requests_total", labels) == sent
            assert sample_value(text, "app_http_request_duration_seconds_count", labels) == sent
            assert sample_value(text, "app_info", {"version": "9.9.9-it"}) == 1.0
            routes = {s.labels.get("route") for f in text_string_to_metric_families(text) for s in f.samples}
            assert routes == {None, "/"}

        # Heartbeat files are in /dev/shm (gunicorn unlinks them right after creating them).
        assert len(server.worker_pids()) == 2
        for pid in server.worker_pids():
            fds = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            assert [f for f in fds if f.startswith("/dev/shm/wgunicorn-")], fds

        # Production exposition: exactly the names in the golden file, no _created,
        # no per-process collectors.
        names = sorted({s.name for f in text_string_to_metric_families(text) for s in f.samples})
        assert names == GOLDEN.read_text().split()

        assert server.stop() == 0

    lines = server.json_lines()  # every line is JSON
    assert sum(1 for line in lines if line.get("route") == "/") == sent  # one access line each
    assert {line["client"] for line in lines if line["logger"] == "app.access"} == {"127.0.0.1"}
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


# --- Helpers for raw HTTP on loopback -------------------------------------------------


def raw_exchange(port, data, timeout=15):
    """Send raw bytes on a new connection; return all the server sends until it closes."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse_raw(raw):
    """(status, lower-cased headers, body) of one raw HTTP response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def read_response(sock):
    """(status, body) of the next response on a kept-alive socket."""
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    try:
        return resp.status, resp.read().decode()
    finally:
        resp.close()


def closed_by_server(sock, within):
    """True when the server closes sock (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(1024):
            pass  # an error page would be fine too; wait for the close
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# --- Two listeners ----------------------------------------------------------------------


def test_public_and_admin_ports_serve_their_own_routes(tmp_path):
    with gunicorn(tmp_path, server_env(tmp_path / "multiproc", GUNICORN_WORKERS="1")) as server:
        server.wait_until_serving("/")
        server.wait_until_serving("/healthz", admin=True)

        for path in ("/", "/config", "/healthz", "/readyz"):
            status, headers, _ = server.request(path)
            assert status == 200, path
            assert headers["X-Content-Type-Options"] == "nosniff"
        assert server.request("/config")[1]["Cache-Control"] == "no-store"

        # No spelling of /metrics reaches the metrics on the public port.
        for path in ("/metrics", "//metrics", "/%6detrics", "/%6Detrics", "/metrics/", "/%2Fmetrics",
                     "/metrics%2F", "/metrics?format=text", "/static/app.css"):
            status, headers, body = server.request(path)
            assert status == 404, path
            assert headers["Content-Type"] == "application/json"
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert json.loads(body)["status"] == 404
            assert "app_info" not in body

        for path in ("/metrics", "/healthz", "/readyz"):
            status, headers, body = server.request(path, admin=True)
            assert status == 200, path
            assert headers["X-Content-Type-Options"] == "nosniff"
        assert "app_info" in server.get("/metrics", admin=True)[1]
        for path in ("/", "/config", "/nope"):
            status, headers, body = server.request(path, admin=True)
            assert status == 404, path
            assert json.loads(body)["status"] == 404
            assert headers["X-Content-Type-Options"] == "nosniff"

        assert server.stop() == 0
    messages = [line["msg"] for line in server.json_lines()]
    assert any(m.startswith("Admin listening at: http://127.0.0.1:") for m in messages)


def test_admin_port_answers_while_every_public_thread_is_busy(tmp_path):
    """Probes and scrapes do not queue behind the public requests: no shared thread pool."""
    marker = tmp_path / "slow-requests-started"
    env = server_env(tmp_path / "multiproc", GUNICORN_WORKERS="1", GUNICORN_THREADS="2",
                     SLOW_MARKER=str(marker), SLOW_SECONDS="15")
    with gunicorn(tmp_path, env, "--pythonpath", str(TESTS_DIR), "slow_wsgi:app") as server:
        server.wait_until_serving("/")
        server.wait_until_serving("/healthz", admin=True)

        done = []
        slow = [threading.Thread(target=lambda: done.append(server.get("/_test/slow", timeout=60)))
                for _ in range(2)]
        for t in slow:
            t.start()
        deadline = time.monotonic() + START_DEADLINE
        while not (marker.exists() and len(marker.read_text().splitlines()) == 2):
            assert time.monotonic() < deadline, "the slow requests never reached the app"
            time.sleep(0.02)

        # Both public threads are taken for 15 s: the public port cannot answer now...
        with pytest.raises(socket.timeout):
            server.get("/healthz", timeout=2)
        # ... the admin port can.
        assert server.get("/healthz", admin=True)[0] == 200
        assert server.get("/readyz", admin=True)[0] == 200
        assert server.get("/metrics", admin=True)[0] == 200
        assert done == [], "the admin answers must come while the slow requests are in flight"

        for t in slow:
            t.join(timeout=60)
        assert done == [(200, "slow done")] * 2
        assert server.stop() == 0


# --- Public pool protection -------------------------------------------------------------


def test_idle_and_slow_header_clients_do_not_hold_threads(tmp_path):
    """One worker, one thread: idle and trickling clients neither block it nor stay open."""
    env = server_env(tmp_path / "multiproc", GUNICORN_WORKERS="1", GUNICORN_THREADS="1",
                     GUNICORN_HEADER_TIMEOUT="2")
    with gunicorn(tmp_path, env) as server:
        server.wait_until_serving("/")
        address = ("127.0.0.1", server.port)
        idle = [socket.create_connection(address, timeout=30) for _ in range(3)]
        slow = socket.create_connection(address, timeout=30)
        head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 500 + b"\r\n\r\n"
        sent, stop = [], threading.Event()

        def trickle():
            """One byte every 0.25 s: a per-read timeout of 2 s would never fire."""
            try:
                for i in range(len(head)):
                    slow.sendall(head[i:i + 1])
                    sent.append(i)
                    if stop.wait(0.25):
                        return
            except OSError:
                pass  # closed by the server

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            # The only thread stays free for complete requests.
            for _ in range(3):
                assert server.get("/healthz", timeout=10)[0] == 200

            # Past the header timeout the server closes all four.
            for sock in idle + [slow]:
                assert closed_by_server(sock, within=30)
            assert 2 <= len(sent) < len(head), "the trickling client was dropped while still sending"
        finally:
            stop.set()
            trickler.join(timeout=10)
            for sock in idle + [slow]:
                sock.close()

        # Keep-alive still works across a pause longer than the header timeout ...
        with socket.create_connection(address, timeout=30) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(conn) == (200, '{"status":"ok"}\n')
            time.sleep(3.5)
            conn.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(conn) == (200, '{"status":"ready"}\n')
            # ... but a next request head that stalls is dropped like a first one.
            conn.sendall(b"GET /healthz HTTP/1.1\r\n")
            assert closed_by_server(conn, within=30)

        assert server.stop() == 0

    dropped = [line for line in server.json_lines() if line["msg"].startswith("dropped connection")]
    assert len(dropped) == 5
    for line in dropped:
        assert line["level"] == "INFO" and line["logger"] == "gunicorn.error"
        assert line["client"] == "127.0.0.1" and line["header_timeout_s"] == 2
        # The client's address and how much it sent, nothing of what it sent.
        assert set(line) <= {"ts", "level", "logger", "msg", "client", "header_timeout_s", "received_bytes"}
    assert sorted(line.get("received_bytes") for line in dropped if "received_bytes" in line)[:3] == [0, 0, 0]


# --- Small defects ----------------------------------------------------------------------


def test_unsupported_transfer_coding_is_a_logged_json_400_and_log_lines_stay_whole(tmp_path):
    with gunicorn(tmp_path, server_env(tmp_path / "multiproc", GUNICORN_WORKERS="1")) as server:
        server.wait_until_serving("/")
        codings = [b"chunked, identity", b"gzip", b"gzip, chunked"]
        for coding in codings:
            raw = raw_exchange(server.port, b"POST /config HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
                               + coding + b"\r\n\r\n0\r\n\r\n")
            status, headers, body = parse_raw(raw)
            assert status == 400, raw
            assert headers["content-type"] == "application/json"
            assert headers["x-content-type-options"] == "nosniff"
            assert json.loads(body) == {"error": "Bad Request", "status": 400,
                                        "message": "unsupported Transfer-Encoding"}

        # A path with U+2028 and NEL, and an X-Forwarded-For the server must not trust.
        raw = raw_exchange(server.port, b"GET /a%E2%80%A8b%C2%85c HTTP/1.1\r\nHost: t\r\n"
                           b"X-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n")
        assert parse_raw(raw)[0] == 404
        assert server.stop() == 0

    lines = server.json_lines()  # str.splitlines(): fails if any line was split
    assert len(lines) == len(server.out_path.read_bytes().split(b"\n")) - 1
    rejected = [line for line in lines if line["msg"].startswith("rejected request")]
    assert [(r["level"], r["status"], r["reason"], r["client"]) for r in rejected] == [
        ("INFO", 400, "unsupported Transfer-Encoding", "127.0.0.1")] * len(codings)
    assert "gzip" not in server.out_path.read_text()  # nothing the client sent is logged
    access = [line for line in lines if line["logger"] == "app.access" and line["status"] == 404]
    assert [(a["path"], a["client"]) for a in access] == [("/a\u2028b\x85c", "127.0.0.1")]


def test_flask_dev_server_still_serves_the_public_app(tmp_path):
    port = free_port()
    env = server_env(tmp_path / "unused")
    env.pop("PROMETHEUS_MULTIPROC_DIR")
    with open(tmp_path / "dev.log", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=APP_SRC, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Server(proc, port, None, tmp_path / "dev.log", tmp_path / "dev.log")
    try:
        server.wait_until_serving("/healthz")
        assert server.get("/")[0] == 200
        assert server.get("/config")[0] == 200
        assert server.get("/metrics")[0] == 404
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


# --- HSTS on HTTPS responses only -------------------------------------------------------------


def test_hsts_only_on_responses_to_https_behind_the_trusted_proxy(tmp_path):
    """The ALB terminates TLS and sets X-Forwarded-Proto; with TRUSTED_PROXY_HOPS=1 (the chart's
    setting behind the ALB) an HTTPS request gets Strict-Transport-Security, a plain one none."""
    env = server_env(tmp_path / "multiproc", GUNICORN_WORKERS="1", TRUSTED_PROXY_HOPS="1")
    with gunicorn(tmp_path, env) as server:
        server.wait_until_serving("/")
        for path, want_status in (("/", 200), ("/config", 200), ("/nope", 404)):
            status, headers, _ = server.request(path, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
            assert status == want_status, path
            assert headers["Strict-Transport-Security"] == "max-age=31536000", path
            status, headers, _ = server.request(path, headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.7"})
            assert "Strict-Transport-Security" not in headers, path
        # A client that prepends its own "https" to what the ALB appends is not believed: the
        # proxy's hop is the last one.
        status, headers, _ = server.request("/", headers={"X-Forwarded-Proto": "https, http"})
        assert "Strict-Transport-Security" not in headers
        # Probes and metrics on the admin port are never behind the ALB.
        status, headers, _ = server.request("/healthz", admin=True, headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in headers
        assert server.stop() == 0


def test_no_hsts_without_a_trusted_proxy(tmp_path):
    """With TRUSTED_PROXY_HOPS=0 a client-sent X-Forwarded-Proto is never looked at."""
    with gunicorn(tmp_path, server_env(tmp_path / "multiproc", GUNICORN_WORKERS="1")) as server:
        server.wait_until_serving("/")
        status, headers, _ = server.request("/", headers={"X-Forwarded-Proto": "https"})
        assert status == 200
        assert "Strict-Transport-Security" not in headers
        assert server.stop() == 0
