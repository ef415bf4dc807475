"""The Flask app: a greeting, a masked view of its configuration, probes and metrics.

create_app() is the only entry point; gunicorn calls it once per worker
(gunicorn.conf.py: wsgi_app = "app:create_app()") and `flask --app app run`
finds it by name.
"""

from __future__ import annotations

import logging
import os
import time
from typing import IO, Mapping, Optional

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import metrics
from .config import Settings
from .logs import configure_logging

GREETING = "Hello, this is a message from your Python app!"

log = logging.getLogger("app")
access_log = logging.getLogger("app.access")

# Longest request path written to the access log; the query string is never logged.
_MAX_LOGGED_PATH = 256


def create_app(
    environ: Optional[Mapping[str, str]] = None,
    log_stream: Optional[IO[str]] = None,
) -> Flask:
    """Build the app from an environment snapshot (os.environ by default).

    log_stream replaces stdout as the log destination; tests use it to read
    the JSON lines back.
    """
    settings = Settings.from_env(os.environ if environ is None else environ)
    configure_logging(settings.log_level, log_stream)
    if settings.log_level_invalid:
        log.warning(
            "invalid LOG_LEVEL, using INFO",
            extra={"log_level": (settings.log_level_raw or "")[:32], "allowed": "DEBUG,INFO,WARNING,ERROR"},
        )
    if settings.reveal_secrets:
        log.warning("REVEAL_SECRETS=true: /config returns raw secret values; never set this in production")

    app = Flask(__name__)
    app.config["APP_SETTINGS"] = settings
    metrics.set_info(settings.app_version)

    _register_instrumentation(app)
    _register_routes(app, settings)
    _register_error_handlers(app)

    log.info(
        "app created",
        extra={"version": settings.app_version, "metrics_multiprocess": metrics.MULTIPROCESS},
    )
    return app


def _register_instrumentation(app: Flask) -> None:
    """Time every request, count it in the metrics and write one access-log line.

    after_request also runs for the JSON error responses below (404, 405,
    500), so every request is counted, /metrics scrapes and probes included.
    """

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        rule = request.url_rule
        route = rule.rule if rule is not None else metrics.UNMATCHED_ROUTE
        metrics.observe(request.method, route, response.status_code, seconds)
        access_log.info(
            "request",
            extra={
                "method": metrics.normalise_method(request.method),
                "route": route,
                "path": request.path[:_MAX_LOGGED_PATH],
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 3),
            },
        )
        return response


def _register_routes(app: Flask, settings: Settings) -> None:
    @app.get("/")
    def index() -> Response:
        return Response(GREETING, mimetype="text/plain")

    @app.get("/config")
    def config() -> Response:
        return jsonify(
            message="Config and secrets accessed",
            SECRET_KEY=settings.secret_view(settings.secret_key),
            DB_PASSWORD=settings.secret_view(settings.db_password),
            API_BASE_URL=settings.api_base_url,
            LOG_LEVEL=settings.log_level,
            MAX_CONNECTIONS=settings.max_connections,
        )

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness: the process serves requests; configuration does not matter here."""
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        """Readiness: 503 and the names of missing variables until required config is present."""
        missing = settings.missing_required()
        if missing:
            return jsonify(status="not ready", missing=missing), 503
        return jsonify(status="ready"), 200

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        """JSON body for 4xx/5xx raised by routing or abort(); keeps headers such as Allow."""
        response = exc.get_response()
        response.set_data(
            app.json.dumps({"error": exc.name, "status": exc.code, "message": exc.description})
        )
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> tuple[Response, int]:
        """Log the traceback; the client gets a generic 500 with no details."""
        log.error("unhandled exception", exc_info=exc)
        return jsonify(error="Internal Server Error", status=500), 500
