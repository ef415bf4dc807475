"""Endpoints and their edge cases, through Flask's test client: the public app and the admin app."""

import pytest

from app import GREETING
from app.config import mask_secret
from conftest import FULL_ENV

PUBLIC_PATHS = ["/", "/config", "/healthz", "/readyz"]
ADMIN_PATHS = ["/metrics", "/healthz", "/readyz"]


def test_index_returns_the_greeting_as_text(full):
    resp = full.client.get("/")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "Hello, this is a message from your Python app!"
    assert resp.get_data(as_text=True) == GREETING
    assert resp.mimetype == "text/plain"


def test_head_is_served_without_a_body(full):
    resp = full.client.head("/")
    assert resp.status_code == 200
    assert resp.get_data() == b""


def test_config_masks_secrets_by_default(full):
    resp = full.client.get("/config")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body == {
        "message": "Config and secrets accessed",
        "SECRET_KEY": "set",
        "DB_PASSWORD": "set",
        "API_BASE_URL": "https://api.example.invalid/v1",
        "LOG_LEVEL": "INFO",
        "MAX_CONNECTIONS": "100",
    }
    raw = resp.get_data(as_text=True)
    assert FULL_ENV["SECRET_KEY"] not in raw
    assert FULL_ENV["DB_PASSWORD"] not in raw


def test_mask_secret_says_only_set_or_unset():
    """No length and no hash: nothing that would let anyone confirm a guessed password."""
    assert mask_secret(None) == "unset"
    assert mask_secret("") == "unset"
    for value in ("abc", "é" * 4, FULL_ENV["DB_PASSWORD"], "x" * 500):
        assert mask_secret(value) == "set"


def test_config_is_not_cacheable(full):
    resp = full.client.get("/config")
    assert resp.headers["Cache-Control"] == "no-store"
    assert "sha256" not in resp.get_data(as_text=True)


def test_config_reports_unset_and_empty_secrets_as_unset(make_app):
    a = make_app({"SECRET_KEY": "", "API_BASE_URL": "http://x.invalid"})
    body = a.client.get("/config").get_json()
    assert body["SECRET_KEY"] == "unset"
    assert body["DB_PASSWORD"] == "unset"
    assert body["MAX_CONNECTIONS"] is None
    assert body["LOG_LEVEL"] == "INFO"


@pytest.mark.parametrize("flag", ["true", "TRUE", " True "])
def test_reveal_secrets_true_returns_raw_values(make_app, flag):
    a = make_app(dict(FULL_ENV, REVEAL_SECRETS=flag))
    body = a.client.get("/config").get_json()
    assert body["SECRET_KEY"] == FULL_ENV["SECRET_KEY"]
    assert body["DB_PASSWORD"] == FULL_ENV["DB_PASSWORD"]


@pytest.mark.parametrize("flag", ["false", "1", "yes", "on", ""])
def test_reveal_secrets_other_values_keep_masking(make_app, flag):
    a = make_app(dict(FULL_ENV, REVEAL_SECRETS=flag))
    body = a.client.get("/config").get_json()
    assert body["SECRET_KEY"] == "set"
    assert body["DB_PASSWORD"] == "set"


def test_reveal_secrets_with_unset_secret_is_null(make_app):
    a = make_app({"REVEAL_SECRETS": "true"})
    body = a.client.get("/config").get_json()
    assert body["SECRET_KEY"] is None
    assert body["DB_PASSWORD"] is None


def test_max_connections_is_returned_as_given(make_app):
    a = make_app(dict(FULL_ENV, MAX_CONNECTIONS="  not-a-number "))
    assert a.client.get("/config").get_json()["MAX_CONNECTIONS"] == "  not-a-number "


def test_healthz_is_ok_even_without_config(make_app):
    resp = make_app({}).client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_readyz_lists_every_missing_required_key(make_app):
    resp = make_app({"LOG_LEVEL": "INFO"}).client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {
        "status": "not ready",
        "missing": ["SECRET_KEY", "DB_PASSWORD", "API_BASE_URL"],
    }


@pytest.mark.parametrize("key", ["SECRET_KEY", "DB_PASSWORD", "API_BASE_URL"])
def test_readyz_names_the_one_missing_key(make_app, key):
    env = dict(FULL_ENV)
    env[key] = ""  # empty counts as missing
    resp = make_app(env).client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["missing"] == [key]


def test_readyz_ok_when_required_config_present(make_app):
    env = {k: FULL_ENV[k] for k in ("SECRET_KEY", "DB_PASSWORD", "API_BASE_URL")}
    resp = make_app(env).client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/nope", "/config/", "/a/b/c?x=1", "/%00"])
def test_unknown_routes_get_json_404(full, path):
    resp = full.client.get(path)
    assert resp.status_code == 404
    assert resp.is_json
    body = resp.get_json()
    assert body["status"] == 404
    assert body["error"] == "Not Found"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("port, path", [("public", p) for p in PUBLIC_PATHS] + [("admin", p) for p in ADMIN_PATHS])
def test_wrong_method_gets_json_405_with_allow(full, method, port, path):
    client = full.client if port == "public" else full.admin
    resp = client.open(path, method=method)
    assert resp.status_code == 405
    assert resp.is_json
    assert resp.get_json()["status"] == 405
    allowed = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed
    assert method not in allowed


def test_unexpected_exception_is_a_json_500_without_details(make_app):
    a = make_app(dict(FULL_ENV))

    @a.app.get("/boom")
    def boom():
        raise RuntimeError("internal detail: connection to db-7.internal failed")

    resp = a.client.get("/boom")
    assert resp.status_code == 500
    assert resp.get_json() == {"error": "Internal Server Error", "status": 500}
    assert "db-7" not in resp.get_data(as_text=True)
    # The traceback goes to the log, as JSON, for the operator.
    errors = [line for line in a.log_lines() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert "RuntimeError" in errors[0]["exc"]


@pytest.mark.parametrize("path", ["/metrics", "//metrics", "/%6detrics", "/%6Detrics", "/metrics/", "/METRICS",
                                  "/metrics?x=1", "/./metrics", "/static/app.css"])
def test_public_app_has_no_metrics_route(full, path):
    """Metrics live on the admin port only; no spelling of the path reaches them on the public one."""
    if path.startswith("//"):  # the test client would read "//metrics" as a host name
        resp = full.client.get("/", environ_overrides={"PATH_INFO": path})
    else:
        resp = full.client.get(path)
    assert resp.status_code == 404
    assert resp.is_json and resp.get_json()["status"] == 404
    assert "app_http_requests_total" not in resp.get_data(as_text=True)


def test_admin_app_serves_metrics_and_probes(full):
    resp = full.admin.get("/metrics")
    assert resp.status_code == 200
    assert "app_info" in resp.get_data(as_text=True)
    assert full.admin.get("/healthz").get_json() == {"status": "ok"}
    assert full.admin.get("/readyz").get_json() == {"status": "ready"}


def test_admin_readyz_reports_missing_configuration(make_app):
    resp = make_app({}).admin.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["missing"] == ["SECRET_KEY", "DB_PASSWORD", "API_BASE_URL"]


@pytest.mark.parametrize("path", ["/", "/config", "/nope", "/static/x.css"])
def test_admin_app_serves_nothing_else(full, path):
    resp = full.admin.get(path)
    assert resp.status_code == 404
    assert resp.is_json and resp.get_json()["status"] == 404
    assert FULL_ENV["API_BASE_URL"] not in resp.get_data(as_text=True)


def test_no_static_route_on_either_app(full):
    for app in (full.app, full.admin_app):
        assert app.static_folder is None
        assert [r.rule for r in app.url_map.iter_rules() if r.endpoint == "static"] == []


def test_nosniff_on_every_response(make_app):
    a = make_app(dict(FULL_ENV))

    @a.app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    responses = [a.client.get(p) for p in PUBLIC_PATHS + ["/nope", "/boom"]]
    responses += [a.client.post("/"), a.client.head("/")]
    responses += [a.admin.get(p) for p in ADMIN_PATHS + ["/nope"]] + [a.admin.post("/metrics")]
    assert {r.status_code for r in responses} >= {200, 404, 405, 500}
    for resp in responses:
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", resp.request.path
