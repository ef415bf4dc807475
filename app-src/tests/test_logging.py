"""Log lines: JSON, one access line per request, level handling, and no secrets."""

import json
import logging

import pytest

from conftest import FULL_ENV


def test_every_line_is_json_with_the_base_fields(full):
    full.client.get("/")
    lines = full.log_text.splitlines()
    assert lines, "expected log output"
    for line in lines:
        doc = json.loads(line)
        assert {"ts", "level", "logger", "msg"} <= set(doc)
        assert doc["ts"].endswith("Z")


def test_one_access_line_per_request_with_route_and_timing(full):
    full.client.get("/")
    full.client.get("/config")
    full.client.get("/does/not/exist")
    full.client.post("/healthz")
    access = full.access_lines()
    assert [(a["method"], a["route"], a["path"], a["status"]) for a in access] == [
        ("GET", "/", "/", 200),
        ("GET", "/config", "/config", 200),
        ("GET", "<unmatched>", "/does/not/exist", 404),
        ("POST", "<unmatched>", "/healthz", 405),
    ]
    for a in access:
        assert a["level"] == "INFO"
        assert isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0


def test_query_string_is_not_logged(full):
    full.client.get("/?token=do-not-log-me")
    assert "do-not-log-me" not in full.log_text
    assert full.access_lines()[-1]["path"] == "/"


def test_long_paths_are_truncated(full):
    full.client.get("/" + "a" * 5000)
    assert len(full.access_lines()[-1]["path"]) == 256


def test_secrets_never_reach_the_log(make_app):
    """Every endpoint, masked and revealed, errors included: the raw values never appear."""
    for reveal in ("false", "true"):
        a = make_app(dict(FULL_ENV, REVEAL_SECRETS=reveal, LOG_LEVEL="DEBUG"))

        @a.app.get("/boom")
        def boom():
            raise ValueError("boom")

        for path in ("/", "/config", "/healthz", "/readyz", "/metrics", "/nope", "/boom"):
            a.client.get(path)
        a.client.post("/config")
        assert a.access_lines(), "the test must have produced access lines"
        for secret in (FULL_ENV["SECRET_KEY"], FULL_ENV["DB_PASSWORD"]):
            assert secret not in a.log_text
        if reveal == "true":
            # ... though the response itself did carry it.
            assert a.client.get("/config").get_json()["SECRET_KEY"] == FULL_ENV["SECRET_KEY"]
            assert any("REVEAL_SECRETS" in line["msg"] for line in a.log_lines())


def test_bad_log_level_falls_back_to_info_with_a_warning(make_app):
    a = make_app(dict(FULL_ENV, LOG_LEVEL="LOUD"))
    warnings = [line for line in a.log_lines() if line["level"] == "WARNING"]
    assert len(warnings) == 1
    assert "LOG_LEVEL" in warnings[0]["msg"]
    assert warnings[0]["log_level"] == "LOUD"
    assert logging.getLogger().level == logging.INFO
    assert a.client.get("/config").get_json()["LOG_LEVEL"] == "INFO"
    assert [line["route"] for line in a.access_lines()] == ["/config"]  # INFO lines are written


@pytest.mark.parametrize(
    "raw, expected",
    [("debug", logging.DEBUG), (" Warning ", logging.WARNING), ("ERROR", logging.ERROR), ("", logging.INFO)],
)
def test_log_level_is_case_insensitive(make_app, raw, expected):
    a = make_app(dict(FULL_ENV, LOG_LEVEL=raw))
    assert logging.getLogger().level == expected
    assert not [line for line in a.log_lines() if line["level"] == "WARNING"]


def test_warning_level_suppresses_access_lines(make_app):
    a = make_app(dict(FULL_ENV, LOG_LEVEL="WARNING"))
    a.client.get("/")
    assert a.access_lines() == []


def test_creating_the_app_twice_does_not_duplicate_lines(make_app):
    make_app(dict(FULL_ENV))
    a = make_app(dict(FULL_ENV))
    a.client.get("/")
    assert len(a.access_lines()) == 1
