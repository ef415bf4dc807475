"""The Flask apps: the public app and the admin app, built from the same settings.

create_app() builds the public app (/, /config, /healthz, /readyz); gunicorn
calls it once per worker (gunicorn.conf.py: wsgi_app = "app:create_app()") and
`flask --app app run` finds it by name. create_admin_app() builds the admin app
(/metrics, /healthz, /readyz), which gunicorn.conf.py serves on ADMIN_PORT from
a small thread in every worker (app/admin.py), outside gunicorn's request pool.
"""

from __future__ import annotations

import logging
import os
import time
from typing import IO, Mapping, Optional

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import metrics
from .config import Settings
from .logs import configure_logging

GREETING = "Hello, this is a message from your Python app!"

log = logging.getLogger("app")
access_log = logging.getLogger("app.access")
admin_access_log = logging.getLogger("app.admin")

# Longest request path written to the access log; the query string is never logged.
_MAX_LOGGED_PATH = 256


def create_app(
    environ: Optional[Mapping[str, str]] = None,
    log_stream: Optional[IO[str]] = None,
) -> Flask:
    """Build the public app from an environment snapshot (os.environ by default).

    log_stream replaces stdout as the log destination; tests use it to read
    the JSON lines back. An invalid TRUSTED_PROXY_HOPS raises ValueError.
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

    app = _new_flask_app(settings)
    metrics.set_info(settings.app_version)
    _register_access_log(app, access_log, logging.INFO, count_in_metrics=True)
    _register_public_routes(app, settings)
    _register_probes(app, settings)
    _register_hsts(app)
    if settings.trusted_proxy_hops:
        # X-Forwarded-For and X-Forwarded-Proto, and only as many hops as there are trusted
        # proxies (the ALB: 1, which sets both); with 0 a client-sent header is never looked
        # at, so a request reaching gunicorn directly is never taken for HTTPS.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    log.info(
        "app created",
        extra={
            "version": settings.app_version,
            "metrics_multiprocess": metrics.MULTIPROCESS,
            "trusted_proxy_hops": settings.trusted_proxy_hops,
        },
    )
    return app


def create_admin_app(environ: Optional[Mapping[str, str]] = None) -> Flask:
    """Build the admin app: /metrics, /healthz and /readyz, everything else a JSON 404.

    Its requests are not counted in the request metrics and are logged at
    DEBUG only (logger app.admin), so probes and scrapes add no noise. It does
    not configure logging: create_app does, and gunicorn builds that first.
    """
    settings = Settings.from_env(os.environ if environ is None else environ)
    app = _new_flask_app(settings)
    _register_access_log(app, admin_access_log, logging.DEBUG, count_in_metrics=False)
    _register_probes(app, settings)

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        """Prometheus text format; under gunicorn the sum over all workers of the pod."""
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    return app


def _new_flask_app(settings: Settings) -> Flask:
    """A Flask app with JSON errors and nosniff on every response, and no static route.

    static_folder=None: Flask's default /static/<path:filename> rule would
    otherwise exist (and could show up as a metrics route label).
    """
    app = Flask(__name__, static_folder=None)
    app.config["APP_SETTINGS"] = settings
    _register_error_handlers(app)

    @app.after_request
    def _nosniff(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


# One year, the minimum the HSTS preload list asks for; no includeSubDomains or preload: those
# bind every name under the domain, which is the domain owner's decision, not this app's.
HSTS = "max-age=31536000"


def _register_hsts(app: Flask) -> None:
    """Strict-Transport-Security on every response to an HTTPS request (RFC 6797 section 7.2:
    never over plain HTTP). Behind the ALB the request is HTTPS when the trusted proxy says so
    (X-Forwarded-Proto: https, read by ProxyFix); a client's own header counts only with
    TRUSTED_PROXY_HOPS > 0.
    """

    @app.after_request
    def _hsts(response: Response) -> Response:
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response


def _register_access_log(app: Flask, logger: logging.Logger, level: int, count_in_metrics: bool) -> None:
    """Time every request, optionally count it in the metrics, and write one access-log line.

    after_request also runs for the JSON error responses below (404, 405,
    500), so every request to the app is counted and logged.
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
        if count_in_metrics:
            metrics.observe(request.method, route, response.status_code, seconds)
        logger.log(level, "request", extra=_access_fields(route, response.status_code, seconds))
        return response


def _access_fields(route: str, status: int, seconds: float) -> dict:
    """The access line's fields. client is the peer address, or the X-Forwarded-For
    address ProxyFix picked when TRUSTED_PROXY_HOPS > 0."""
    return {
        "method": metrics.normalise_method(request.method),
        "route": route,
        "path": request.path[:_MAX_LOGGED_PATH],
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "client": request.remote_addr,
    }


def _register_public_routes(app: Flask, settings: Settings) -> None:
    """The public port's own routes (the probes are added by _register_probes)."""

    @app.get("/")
    def index() -> Response:
        return Response(GREETING, mimetype="text/plain")

    @app.get("/config")
    def config() -> Response:
        """The configuration, secrets masked ("set"/"unset") unless REVEAL_SECRETS=true; never cached."""
        response = jsonify(
            message="Config and secrets accessed",
            SECRET_KEY=settings.secret_view(settings.secret_key),
            DB_PASSWORD=settings.secret_view(settings.db_password),
            API_BASE_URL=settings.api_base_url,
            LOG_LEVEL=settings.log_level,
            MAX_CONNECTIONS=settings.max_connections,
        )
        response.headers["Cache-Control"] = "no-store"
        return response


def _register_probes(app: Flask, settings: Settings) -> None:
    """/healthz and /readyz, served on both ports."""

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


def _register_error_handlers(app: Flask) -> None:
    """JSON bodies for every error the app answers itself."""

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
