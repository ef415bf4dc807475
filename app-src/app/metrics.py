"""Prometheus metrics: the names and labels here are a contract with the Grafana dashboard.

- app_http_requests_total{method,route,status}            counter
- app_http_request_duration_seconds{method,route,status}  histogram (_bucket/_count/_sum)
- app_info{version}                                        gauge, always 1

`route` is the Flask URL rule (e.g. "/config"), or "<unmatched>" when no rule
matched (404, and 405 for a known path with a wrong method), so a scan of
random paths cannot create new series. `method` is one of the standard HTTP
methods or "other" for the same reason. tests/metrics.golden lists the sample
names a scrape exposes; change it together with this file and the dashboard.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR is set before this module is imported
(gunicorn.conf.py), so prometheus_client keeps each worker's values in mmap'd
files there and /metrics aggregates all workers. Without it (tests, the Flask
dev server) the process-local default registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

UNMATCHED_ROUTE = "<unmatched>"

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)

# Latency buckets for a small web app: sub-millisecond responses up to 10 s.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# prometheus_client decides between in-process and mmap'd values when it is
# imported; decide the registry the same way, once.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ

REQUESTS = Counter(
    "app_http_requests",
    "HTTP requests handled, by method, Flask route and status code.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "app_http_request_duration_seconds",
    "Time spent handling an HTTP request inside the app, by method, Flask route and status code.",
    ["method", "route", "status"],
    buckets=DURATION_BUCKETS,
)
# livemax: one series per version across workers, dropped when a worker dies
# (gunicorn.conf.py's child_exit hook).
INFO = Gauge(
    "app_info",
    "Always 1; the version label carries APP_VERSION.",
    ["version"],
    multiprocess_mode="livemax",
)


def normalise_method(method: str) -> str:
    """Return the method if it is a standard HTTP method, else "other"."""
    return method if method in KNOWN_METHODS else "other"


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Record one handled request."""
    labels = (normalise_method(method), route, str(status))
    REQUESTS.labels(*labels).inc()
    DURATION.labels(*labels).observe(seconds)


def set_info(version: str) -> None:
    """Publish app_info{version=...} 1."""
    INFO.labels(version).set(1)


def exposition() -> tuple[bytes, str]:
    """Render the current metrics in the Prometheus text format."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
