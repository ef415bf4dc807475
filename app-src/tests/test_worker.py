"""app/worker.py's pieces in isolation (test_gunicorn.py runs the worker inside real gunicorn)."""

import json
import socket
import time

import pytest
from gunicorn.http import errors as http_errors

from app.worker import DeadlineUnreader, classify_error, json_error_response


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_without_a_deadline_the_reader_reads_as_gunicorns(pair):
    server, client = pair
    reader = DeadlineUnreader(server, on_expire=lambda: pytest.fail("no deadline was set"))
    client.sendall(b"GET / HTTP/1.1\r\n")
    assert reader.read() == b"GET / HTTP/1.1\r\n"


def test_data_before_the_deadline_is_returned(pair):
    server, client = pair
    reader = DeadlineUnreader(server, on_expire=lambda: pytest.fail("expired early"))
    reader.deadline = time.monotonic() + 30
    client.sendall(b"abc")
    assert reader.read() == b"abc"
    assert server.gettimeout() is None  # blocking again for whatever reads next


def test_past_the_deadline_the_reader_reports_end_of_input_once(pair):
    server, _client = pair
    expired = []
    reader = DeadlineUnreader(server, on_expire=lambda: expired.append(1))
    reader.deadline = time.monotonic() + 0.3
    assert reader.read() == b""
    assert expired == [1]
    assert reader.deadline is None
    assert server.gettimeout() is None


def test_an_already_passed_deadline_does_not_read(pair):
    server, client = pair
    expired = []
    reader = DeadlineUnreader(server, on_expire=lambda: expired.append(1))
    client.sendall(b"late")
    reader.deadline = time.monotonic() - 1
    assert reader.read() == b""
    assert expired == [1]


@pytest.mark.parametrize("exc, expected", [
    (http_errors.UnsupportedTransferCoding("chunked, identity"), (400, "unsupported Transfer-Encoding")),
    (http_errors.InvalidRequestLine("x"), (400, "invalid request line")),
    (http_errors.InvalidHeader("CONTENT-LENGTH"), (400, "invalid header")),
    (http_errors.InvalidHeaderName("a b"), (400, "invalid header")),
    (http_errors.LimitRequestLine(9000, 4094), (400, "request line too long")),
    (http_errors.ForbiddenProxyRequest("10.0.0.1"), (403, "forbidden")),
    (RuntimeError("boom"), (500, "internal server error")),
])
def test_classify_error(exc, expected):
    status, _reason, message = classify_error(exc)
    assert (status, message) == expected


def test_json_error_response_is_complete_http():
    raw = json_error_response(400, "Bad Request", "unsupported Transfer-Encoding")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers == {
        "Connection": "close",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "X-Content-Type-Options": "nosniff",
    }
    assert json.loads(body) == {"error": "Bad Request", "status": 400, "message": "unsupported Transfer-Encoding"}
