"""Log lines: JSON, one access line per request, level handling, and no secrets."""

import io
import json
import logging

import pytest

from app import create_app
from app.logs import JsonFormatter
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
        assert a["client"] == "127.0.0.1"


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


# Characters some line splitter treats as a line break: str.splitlines() splits on all of these.
LINE_BREAKERS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", LINE_BREAKERS + ["\x00", "\x1b", "\x7f", "\ufeff"])
def test_a_log_line_is_one_line_whatever_the_path_contains(full, char):
    # PATH_INFO as a WSGI server passes it: the raw UTF-8 bytes, decoded as latin-1.
    path = "/a" + char + "b"
    full.client.get("/", environ_overrides={"PATH_INFO": path.encode("utf-8").decode("latin-1")})
    lines = full.log_text.splitlines()
    assert len(lines) == len(full.log_text.rstrip("\n").split("\n"))
    for line in lines:
        json.loads(line)
        assert line.isascii()
    assert full.access_lines()[-1]["path"] == path


@pytest.mark.parametrize("char", LINE_BREAKERS + ["\ud83d"])
def test_formatter_output_is_one_ascii_line(char):
    record = logging.makeLogRecord({"msg": "x" + char + "y", "levelname": "INFO", "name": "t", "field": char})
    out = JsonFormatter().format(record)
    assert out.splitlines() == [out] and out.isascii()
    doc = json.loads(out)
    assert doc["msg"] == "x" + char + "y" and doc["field"] == char


def test_client_ignores_x_forwarded_for_by_default(full):
    full.client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert full.access_lines()[-1]["client"] == "127.0.0.1"


@pytest.mark.parametrize("hops, forwarded, expected", [
    ("1", "203.0.113.9", "203.0.113.9"),
    ("1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # only the last hop (the ALB's) is trusted
    ("2", "198.51.100.1, 203.0.113.9", "198.51.100.1"),
    ("0", "203.0.113.9", "127.0.0.1"),
    ("", "203.0.113.9", "127.0.0.1"),
])
def test_client_from_x_forwarded_for_with_trusted_proxy_hops(make_app, hops, forwarded, expected):
    a = make_app(dict(FULL_ENV, TRUSTED_PROXY_HOPS=hops))
    a.client.get("/", headers={"X-Forwarded-For": forwarded})
    assert a.access_lines()[-1]["client"] == expected


def test_client_without_x_forwarded_for_is_the_peer(make_app):
    a = make_app(dict(FULL_ENV, TRUSTED_PROXY_HOPS="1"))
    a.client.get("/", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert a.access_lines()[-1]["client"] == "10.1.2.3"


@pytest.mark.parametrize("raw, message", [
    ("-1", "TRUSTED_PROXY_HOPS must be an integer >= 0, got -1"),
    ("one", "TRUSTED_PROXY_HOPS must be an integer >= 0, got 'one'"),
    ("1.5", "TRUSTED_PROXY_HOPS must be an integer >= 0, got '1.5'"),
])
def test_invalid_trusted_proxy_hops_stops_startup(raw, message):
    with pytest.raises(ValueError) as err:
        create_app(environ=dict(FULL_ENV, TRUSTED_PROXY_HOPS=raw), log_stream=io.StringIO())
    assert str(err.value) == message


def test_admin_requests_are_logged_at_debug_only(make_app):
    a = make_app(dict(FULL_ENV, LOG_LEVEL="DEBUG"))
    a.admin.get("/healthz")
    a.admin.get("/nope")
    admin = [line for line in a.log_lines() if line["logger"] == "app.admin"]
    assert [(line["level"], line["route"], line["status"]) for line in admin] == [
        ("DEBUG", "/healthz", 200), ("DEBUG", "<unmatched>", 404)]
    assert a.access_lines() == []  # the public access log (logger app.access) has none of them

    quiet = make_app(dict(FULL_ENV))  # INFO: no admin lines at all
    quiet.admin.get("/metrics")
    assert [line for line in quiet.log_lines() if line["logger"] == "app.admin"] == []
