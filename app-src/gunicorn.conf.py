"""Gunicorn configuration: how the container serves the Flask app.

Two listeners:
  PORT        the public app (app:create_app(): /, /config, /healthz, /readyz), served by
              gunicorn's gthread pool through app.worker.HeaderTimeoutWorker;
  ADMIN_PORT  the admin app (/metrics, /healthz, /readyz), NOT one of gunicorn's listeners:
              the master binds it in on_starting, on the host of the first bind address
              (0.0.0.0 by default), and every worker serves it from a thread of its own
              (app/admin.py), so busy or stalled public connections never delay probes
              and scrapes.

Environment (all optional):
  PORT                       public port on 0.0.0.0 (default 8080)
  ADMIN_PORT                 admin port (default 9090); must differ from PORT
  GUNICORN_WORKERS           worker processes (default 2)
  GUNICORN_THREADS           threads per worker, gthread worker class (default 4)
  GUNICORN_GRACEFUL_TIMEOUT  seconds in-flight requests get after SIGTERM (default 25,
                             below Kubernetes' default 30 s terminationGracePeriodSeconds)
  GUNICORN_TIMEOUT           seconds a silent worker lives before it is killed (default 30)
  GUNICORN_HEADER_TIMEOUT    seconds a connection has to deliver a complete request head
                             before it is closed (default 10)
  GUNICORN_KEEPALIVE         seconds an idle keep-alive connection stays open (default 75);
                             must exceed the ALB's 60 s idle timeout, so values <= 60 are refused
  TRUSTED_PROXY_HOPS         proxies in front whose X-Forwarded-For is trusted (default 0);
                             checked here too, so a bad value stops the master at once
  PROMETHEUS_MULTIPROC_DIR   where workers share metric values (default
                             /tmp/prometheus-multiproc; must be writable, /tmp is)
  LOG_LEVEL                  as for the app (DEBUG/INFO/WARNING/ERROR, default INFO)

Gunicorn's own log lines are JSON on stdout like the app's; its access log is
off because the app writes one access line per request with the Flask route.
The only files written at run time are under /tmp (metrics) and /dev/shm (worker
heartbeats), the read-only root filesystem's writable mounts.
"""

import glob
import os
import sys

# Before anything imports prometheus_client: it picks multiprocess mode at import time.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus-multiproc")

from gunicorn import glogging  # noqa: E402
from prometheus_client import multiprocess  # noqa: E402

from app import admin, create_admin_app  # noqa: E402
from app.config import parse_log_level, parse_trusted_proxy_hops  # noqa: E402
from app.logs import JsonStreamHandler  # noqa: E402

# The ALB's idle timeout: gunicorn must keep idle connections open longer, or the ALB
# may reuse a connection gunicorn is closing and answer 502.
ALB_IDLE_TIMEOUT = 60


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


def _keepalive():
    """GUNICORN_KEEPALIVE (default 75), refused unless it exceeds the ALB's idle timeout."""
    value = _int_env("GUNICORN_KEEPALIVE", 75)
    if value <= ALB_IDLE_TIMEOUT:
        raise ValueError(
            f"GUNICORN_KEEPALIVE must be > {ALB_IDLE_TIMEOUT} (the load balancer's idle timeout; "
            f"a shorter keep-alive causes sporadic 502s), got {value}"
        )
    return value


def _admin_port(public_port):
    """ADMIN_PORT (default 9090); it cannot be the public port."""
    value = _int_env("ADMIN_PORT", 9090)
    if value == public_port:
        raise ValueError(f"ADMIN_PORT must differ from PORT, both are {value}")
    return value


def _admin_host(addresses):
    """The host of the first TCP bind address (0.0.0.0 by default), for the admin listener."""
    for address in addresses:
        if isinstance(address, tuple):
            return address[0] or "0.0.0.0"
    return "0.0.0.0"


class JsonLogger(glogging.Logger):
    """Gunicorn's logger, writing its error log as JSON lines to stdout and no access log."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.addHandler(JsonStreamHandler(sys.stdout))

    def access(self, resp, req, environ, request_time):
        """Dropped: the app logs each request itself, with its route label."""


public_port = _int_env("PORT", 8080)
admin_port = _admin_port(public_port)
header_timeout = _int_env("GUNICORN_HEADER_TIMEOUT", 10)
# Validated here only to stop the master early; the app reads it itself.
trusted_proxy_hops = parse_trusted_proxy_hops(os.environ.get("TRUSTED_PROXY_HOPS"))

# Gunicorn would set the request's scheme from X-Forwarded-Proto (and friends) itself whenever
# the peer is in forwarded_allow_ips (127.0.0.1 by default: a sidecar, a port-forward). The app
# alone decides, through ProxyFix and TRUSTED_PROXY_HOPS, so a client-sent header never makes a
# plain request HTTPS (and earns it Strict-Transport-Security).
secure_scheme_headers = {}
forwarded_allow_ips = ""

wsgi_app = "app:create_app()"
bind = [f"0.0.0.0:{public_port}"]
worker_class = "app.worker.HeaderTimeoutWorker"  # gthread, hardened (app/worker.py)
workers = _int_env("GUNICORN_WORKERS", 2)
threads = _int_env("GUNICORN_THREADS", 4)
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 25)
timeout = _int_env("GUNICORN_TIMEOUT", 30)
keepalive = _keepalive()
# Worker heartbeat files: every worker updates its file about once a second and the master
# checks it; on /tmp (a disk-backed emptyDir in the cluster) slow disk I/O can stall the
# heartbeat and get healthy workers killed. /dev/shm is memory (tmpfs). Without /dev/shm,
# None keeps gunicorn's default (the system temporary directory, /tmp).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

logger_class = JsonLogger
loglevel = parse_log_level(os.environ.get("LOG_LEVEL"))[0].lower()
errorlog = "-"
accesslog = None


def on_starting(server):
    """Wipe old metric files (counters restart at 0), then bind the admin port once, in the master."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    # Only prometheus_client's own files: a mistaken path such as "/" loses nothing.
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)

    host = _admin_host(server.cfg.address)
    server.admin_listener = admin.listen(host, admin_port)
    server.log.info("Admin listening at: http://%s:%s", host, admin_port)


def post_fork(server, worker):
    """In the new worker: hand it the header timeout and the master's admin socket."""
    worker.header_timeout = header_timeout
    worker.admin_listener = getattr(server, "admin_listener", None)


def post_worker_init(worker):
    """The worker's app is loaded: start serving the admin app on the admin socket."""
    if worker.admin_listener is not None:
        worker.admin_server = admin.serve_in_background(worker.admin_listener, create_admin_app())


def child_exit(server, worker):
    """Drop the live gauges (app_info) of a worker that exited."""
    multiprocess.mark_process_dead(worker.pid)
