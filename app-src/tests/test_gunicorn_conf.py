"""gunicorn.conf.py's settings and hooks, evaluated in a child interpreter.

The config reads and sets environment variables, so it never runs inside the
pytest process: one child evaluates every case below, each with a fresh
os.environ, and reports what the config module defined.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

APP_SRC = Path(__file__).resolve().parent.parent

_CHILD = textwrap.dedent(
    """
    import json, logging, os, runpy, socket, sys, types
    base = dict(os.environ)
    real_isdir = os.path.isdir
    keys = ["wsgi_app", "bind", "worker_class", "workers", "threads", "graceful_timeout",
            "timeout", "keepalive", "worker_tmp_dir", "loglevel", "accesslog", "errorlog",
            "admin_port", "header_timeout"]
    results = {}
    for name, case in json.load(sys.stdin).items():
        os.environ.clear()
        os.environ.update(base)
        os.environ.update(case["env"])
        # "no_dev_shm": evaluate the config as on a machine without /dev/shm.
        os.path.isdir = (lambda p: p != "/dev/shm" and real_isdir(p)) if case.get("no_dev_shm") else real_isdir
        try:
            ns = runpy.run_path("gunicorn.conf.py")
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        out = {k: ns[k] for k in keys}
        out["logger_class"] = ns["logger_class"].__name__
        out["multiproc_dir"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        if case.get("action") == "on_starting":
            server = types.SimpleNamespace(cfg=types.SimpleNamespace(address=[("127.0.0.1", 1)]),
                                           log=logging.getLogger("test"))
            ns["on_starting"](server)
            listener = server.admin_listener
            out["admin_listener"] = [listener.getsockname()[0], listener.getsockname()[1] == ns["admin_port"],
                                     listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0,
                                     listener.gettimeout()]
            worker = types.SimpleNamespace()
            ns["post_fork"](server, worker)
            out["worker"] = [worker.header_timeout, worker.admin_listener is listener]
            listener.close()
        elif case.get("action") == "child_exit":
            ns["child_exit"](None, types.SimpleNamespace(pid=4242))
        results[name] = out
    print(json.dumps(results))
    """
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("conf")
    wipe, create, dead = root / "wipe", root / "not" / "yet", root / "dead"
    wipe.mkdir()
    for name in ("counter_10.db", "histogram_10.db", "gauge_livemax_10.db"):
        (wipe / name).write_bytes(b"x")
    (wipe / "notes.txt").write_text("not ours")
    dead.mkdir()
    for name in ("gauge_livemax_4242.db", "counter_4242.db", "gauge_livemax_5555.db"):
        (dead / name).write_bytes(b"x")
    return {"wipe": wipe, "create": create, "dead": dead}


@pytest.fixture(scope="module")
def results(dirs):
    cases = {
        "defaults": {"env": {}},
        "overrides": {"env": {
            "PORT": "9191", "ADMIN_PORT": "9292", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "8",
            "GUNICORN_GRACEFUL_TIMEOUT": "10", "GUNICORN_TIMEOUT": "60", "LOG_LEVEL": "debug",
            "GUNICORN_HEADER_TIMEOUT": "3", "GUNICORN_KEEPALIVE": "90",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/elsewhere"}},
        "bad_log_level": {"env": {"LOG_LEVEL": "chatty"}},
        "workers_two": {"env": {"GUNICORN_WORKERS": "two"}},
        "threads_zero": {"env": {"GUNICORN_THREADS": "0"}},
        "port_http": {"env": {"PORT": "http"}},
        "wipe": {"env": {"PROMETHEUS_MULTIPROC_DIR": str(dirs["wipe"]), "ADMIN_PORT": str(free_port()),
                         "GUNICORN_HEADER_TIMEOUT": "7"},
                 "action": "on_starting"},
        "create": {"env": {"PROMETHEUS_MULTIPROC_DIR": str(dirs["create"]), "ADMIN_PORT": str(free_port())},
                   "action": "on_starting"},
        "keepalive_120": {"env": {"GUNICORN_KEEPALIVE": "120"}},
        "keepalive_61": {"env": {"GUNICORN_KEEPALIVE": "61"}},
        "keepalive_60": {"env": {"GUNICORN_KEEPALIVE": "60"}},
        "keepalive_5": {"env": {"GUNICORN_KEEPALIVE": "5"}},
        "keepalive_0": {"env": {"GUNICORN_KEEPALIVE": "0"}},
        "keepalive_junk": {"env": {"GUNICORN_KEEPALIVE": "75s"}},
        "header_timeout_zero": {"env": {"GUNICORN_HEADER_TIMEOUT": "0"}},
        "admin_is_public": {"env": {"PORT": "8081", "ADMIN_PORT": "8081"}},
        "admin_port_junk": {"env": {"ADMIN_PORT": "metrics"}},
        "proxy_hops_1": {"env": {"TRUSTED_PROXY_HOPS": "1"}},
        "proxy_hops_negative": {"env": {"TRUSTED_PROXY_HOPS": "-1"}},
        "no_dev_shm": {"env": {}, "no_dev_shm": True},
        "dead": {"env": {"PROMETHEUS_MULTIPROC_DIR": str(dirs["dead"])}, "action": "child_exit"},
    }
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORT", "ADMIN_PORT", "LOG_LEVEL", "TRUSTED_PROXY_HOPS")
           and not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=APP_SRC, env=env, input=json.dumps(cases),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_defaults(results):
    assert results["defaults"] == {
        "wsgi_app": "app:create_app()",
        "bind": ["0.0.0.0:8080"],
        "admin_port": 9090,
        "worker_class": "app.worker.HeaderTimeoutWorker",
        "workers": 2,
        "threads": 4,
        "graceful_timeout": 25,
        "timeout": 30,
        "keepalive": 75,
        "header_timeout": 10,
        "worker_tmp_dir": "/dev/shm",
        "loglevel": "info",
        "accesslog": None,
        "errorlog": "-",
        "logger_class": "JsonLogger",
        "multiproc_dir": "/tmp/prometheus-multiproc",
    }


def test_environment_overrides(results):
    got = results["overrides"]
    assert got["bind"] == ["0.0.0.0:9191"]
    assert got["admin_port"] == 9292
    assert (got["header_timeout"], got["keepalive"]) == (3, 90)
    assert (got["workers"], got["threads"]) == (3, 8)
    assert (got["graceful_timeout"], got["timeout"]) == (10, 60)
    assert got["loglevel"] == "debug"
    assert got["multiproc_dir"] == "/tmp/elsewhere"


def test_bad_log_level_means_info(results):
    assert results["bad_log_level"]["loglevel"] == "info"


@pytest.mark.parametrize("case, message", [
    ("workers_two", "ValueError: GUNICORN_WORKERS must be an integer, got 'two'"),
    ("threads_zero", "ValueError: GUNICORN_THREADS must be >= 1, got 0"),
    ("port_http", "ValueError: PORT must be an integer, got 'http'"),
    ("header_timeout_zero", "ValueError: GUNICORN_HEADER_TIMEOUT must be >= 1, got 0"),
    ("admin_is_public", "ValueError: ADMIN_PORT must differ from PORT, both are 8081"),
    ("admin_port_junk", "ValueError: ADMIN_PORT must be an integer, got 'metrics'"),
    ("keepalive_junk", "ValueError: GUNICORN_KEEPALIVE must be an integer, got '75s'"),
    ("keepalive_0", "ValueError: GUNICORN_KEEPALIVE must be >= 1, got 0"),
    ("proxy_hops_negative", "ValueError: TRUSTED_PROXY_HOPS must be an integer >= 0, got -1"),
])
def test_invalid_numbers_stop_the_server(results, case, message):
    assert results[case] == {"error": message}


def test_on_starting_wipes_only_metric_files(results, dirs):
    assert "error" not in results["wipe"]
    assert sorted(p.name for p in dirs["wipe"].iterdir()) == ["notes.txt"]


def test_on_starting_creates_the_directory(results, dirs):
    assert "error" not in results["create"]
    assert dirs["create"].is_dir()


def test_child_exit_drops_the_dead_workers_live_gauge_only(results, dirs):
    assert "error" not in results["dead"]
    assert sorted(p.name for p in dirs["dead"].iterdir()) == ["counter_4242.db", "gauge_livemax_5555.db"]


@pytest.mark.parametrize("case", ["keepalive_60", "keepalive_5"])
def test_keepalive_not_above_the_alb_idle_timeout_is_refused(results, case):
    seconds = case.split("_")[1]
    assert results[case] == {"error": (
        "ValueError: GUNICORN_KEEPALIVE must be > 60 (the load balancer's idle timeout; "
        f"a shorter keep-alive causes sporadic 502s), got {seconds}")}


def test_keepalive_above_the_alb_idle_timeout_is_accepted(results):
    assert results["keepalive_61"]["keepalive"] == 61
    assert results["keepalive_120"]["keepalive"] == 120


def test_trusted_proxy_hops_is_accepted(results):
    assert "error" not in results["proxy_hops_1"]


def test_heartbeat_files_fall_back_to_the_default_without_dev_shm(results):
    assert results["no_dev_shm"]["worker_tmp_dir"] is None


def test_on_starting_binds_the_admin_port_and_post_fork_hands_it_over(results):
    # Same host as the first bind address, ADMIN_PORT, SO_REUSEADDR, non-blocking (every
    # worker accepts from it).
    assert results["wipe"]["admin_listener"] == ["127.0.0.1", True, True, 0.0]
    assert results["wipe"]["worker"] == [7, True]
