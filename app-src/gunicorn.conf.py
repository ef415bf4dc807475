"""Gunicorn configuration: how the container serves the Flask app.

Environment (all optional):
  PORT                       listen port on 0.0.0.0 (default 8080)
  GUNICORN_WORKERS           worker processes (default 2)
  GUNICORN_THREADS           threads per worker, gthread worker class (default 4)
  GUNICORN_GRACEFUL_TIMEOUT  seconds in-flight requests get after SIGTERM (default 25,
                             below Kubernetes' default 30 s terminationGracePeriodSeconds)
  GUNICORN_TIMEOUT           seconds a silent worker lives before it is killed (default 30)
  PROMETHEUS_MULTIPROC_DIR   where workers share metric values (default
                             /tmp/prometheus-multiproc; must be writable, /tmp is)
  LOG_LEVEL                  as for the app (DEBUG/INFO/WARNING/ERROR, default INFO)

Gunicorn's own log lines are JSON on stdout like the app's; its access log is
off because the app writes one access line per request with the Flask route.
"""

import glob
import os
import sys

# Before anything imports prometheus_client: it picks multiprocess mode at import time.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus-multiproc")

from gunicorn import glogging  # noqa: E402
from prometheus_client import multiprocess  # noqa: E402

from app.config import parse_log_level  # noqa: E402
from app.logs import JsonStreamHandler  # noqa: E402


def _int_env(name, default, minimum=1):
    """An integer from the environment, or default when unset; junk stops the server."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


class JsonLogger(glogging.Logger):
    """Gunicorn's logger, writing its error log as JSON lines to stdout and no access log."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.addHandler(JsonStreamHandler(sys.stdout))

    def access(self, resp, req, environ, request_time):
        """Dropped: the app logs each request itself, with its route label."""


wsgi_app = "app:create_app()"
bind = [f"0.0.0.0:{_int_env('PORT', 8080)}"]
worker_class = "gthread"
workers = _int_env("GUNICORN_WORKERS", 2)
threads = _int_env("GUNICORN_THREADS", 4)
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 25)
timeout = _int_env("GUNICORN_TIMEOUT", 30)
keepalive = 5

logger_class = JsonLogger
loglevel = parse_log_level(os.environ.get("LOG_LEVEL"))[0].lower()
errorlog = "-"
accesslog = None


def on_starting(server):
    """Wipe metric files left by an earlier server in this directory (counters restart at 0)."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    # Only prometheus_client's own files: a mistaken path such as "/" loses nothing.
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """Drop the live gauges (app_info) of a worker that exited."""
    multiprocess.mark_process_dead(worker.pid)
