"""Endpoints and their edge cases, through Flask's test client."""

import hashlib

import pytest

from app import GREETING
from app.config import mask_secret
from conftest import FULL_ENV


def fingerprint(value):
    return f"set, {len(value)} chars, sha256:{hashlib.sha256(value.encode()).hexdigest()[:8]}"


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
        "SECRET_KEY": fingerprint(FULL_ENV["SECRET_KEY"]),
        "DB_PASSWORD": fingerprint(FULL_ENV["DB_PASSWORD"]),
        "API_BASE_URL": "https://api.example.invalid/v1",
        "LOG_LEVEL": "INFO",
        "MAX_CONNECTIONS": "100",
    }
    raw = resp.get_data(as_text=True)
    assert FULL_ENV["SECRET_KEY"] not in raw
    assert FULL_ENV["DB_PASSWORD"] not in raw


def test_mask_secret_format():
    assert mask_secret(None) == "unset"
    assert mask_secret("") == "unset"
    # sha256("abc") starts with ba7816bf (FIPS 180-2 test vector).
    assert mask_secret("abc") == "set, 3 chars, sha256:ba7816bf"
    # Length counts characters, not bytes.
    assert mask_secret("é" * 4).startswith("set, 4 chars, sha256:")


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
    assert body["SECRET_KEY"] == fingerprint(FULL_ENV["SECRET_KEY"])
    assert body["DB_PASSWORD"] == fingerprint(FULL_ENV["DB_PASSWORD"])


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
@pytest.mark.parametrize("path", ["/", "/config", "/healthz", "/readyz", "/metrics"])
def test_wrong_method_gets_json_405_with_allow(full, method, path):
    resp = full.client.open(path, method=method)
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
