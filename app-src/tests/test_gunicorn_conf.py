"""gunicorn.conf.py's settings and hooks, evaluated in a child interpreter.

The config reads and sets environment variables, so it never runs inside the
pytest process: one child evaluates every case below, each with a fresh
os.environ, and reports what the config module defined.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

APP_SRC = Path(__file__).resolve().parent.parent

_CHILD = textwrap.dedent(
    """
    import json, os, runpy, sys, types
    base = dict(os.environ)
    keys = ["wsgi_app", "bind", "worker_class", "workers", "threads", "graceful_timeout",
            "timeout", "loglevel", "accesslog", "errorlog"]
    results = {}
    for name, case in json.load(sys.stdin).items():
        os.environ.clear()
        os.environ.update(base)
        os.environ.update(case["env"])
        try:
            ns = runpy.run_path("gunicorn.conf.py")
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        out = {k: ns[k] for k in keys}
        out["logger_class"] = ns["logger_class"].__name__
        out["multiproc_dir"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        if case.get("action") == "on_starting":
            ns["on_starting"](None)
        elif case.get("action") == "child_exit":
            ns["child_exit"](None, types.SimpleNamespace(pid=4242))
        results[name] = out
    print(json.dumps(results))
    """
)


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
            "PORT": "9090", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "8",
            "GUNICORN_GRACEFUL_TIMEOUT": "10", "GUNICORN_TIMEOUT": "60", "LOG_LEVEL": "debug",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/elsewhere"}},
        "bad_log_level": {"env": {"LOG_LEVEL": "chatty"}},
        "workers_two": {"env": {"GUNICORN_WORKERS": "two"}},
        "threads_zero": {"env": {"GUNICORN_THREADS": "0"}},
        "port_http": {"env": {"PORT": "http"}},
        "wipe": {"env": {"PROMETHEUS_MULTIPROC_DIR": str(dirs["wipe"])}, "action": "on_starting"},
        "create": {"env": {"PROMETHEUS_MULTIPROC_DIR": str(dirs["create"])}, "action": "on_starting"},
        "dead": {"env": {"PROMETHEUS_MULTIPROC_DIR": str(dirs["dead"])}, "action": "child_exit"},
    }
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORT", "LOG_LEVEL") and not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
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
        "worker_class": "gthread",
        "workers": 2,
        "threads": 4,
        "graceful_timeout": 25,
        "timeout": 30,
        "loglevel": "info",
        "accesslog": None,
        "errorlog": "-",
        "logger_class": "JsonLogger",
        "multiproc_dir": "/tmp/prometheus-multiproc",
    }


def test_environment_overrides(results):
    got = results["overrides"]
    assert got["bind"] == ["0.0.0.0:9090"]
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
