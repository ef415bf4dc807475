"""app/admin.py: the admin listener's threading server, in-process on a free loopback port.

(test_gunicorn.py runs it inside real gunicorn workers.)
"""

import http.client
import socket
import threading
import time

import pytest

from app import admin, create_admin_app
from conftest import FULL_ENV


@pytest.fixture
def serve():
    """serve(app, **kwargs) -> port: the admin server on 127.0.0.1, shut down after the test."""
    servers = []

    def start(app=None, **kwargs):
        listener = admin.listen("127.0.0.1", 0)
        server = admin.serve_in_background(listener, app or create_admin_app(environ=dict(FULL_ENV)), **kwargs)
        servers.append(server)
        return listener.getsockname()[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(port, path, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode()
    finally:
        conn.close()


def closed_within(sock, seconds):
    """True when the server closes sock (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(1024):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_serves_the_admin_app(serve):
    port = serve()
    status, headers, body = get(port, "/healthz")
    assert (status, body.strip()) == (200, '{"status":"ok"}')
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert get(port, "/metrics")[0] == 200
    assert get(port, "/")[0] == 404


def test_serves_concurrent_requests(serve):
    port = serve()
    results = []
    threads = [threading.Thread(target=lambda: results.append(get(port, "/readyz")[0])) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [200] * 10


def test_a_trickling_client_is_cut_off_at_the_request_deadline(serve, capsys):
    """The deadline is for the whole request, not per read: bytes every 0.2 s do not extend it."""
    port = serve(request_timeout=1.0)
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 300 + b"\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        try:
            while sent < len(head) and time.monotonic() - started < 30:
                sock.sendall(head[sent:sent + 1])
                sent += 1
                time.sleep(0.2)
        except OSError:
            pass  # closed by the server
        assert closed_within(sock, 30)
    assert sent < len(head)
    assert capsys.readouterr().err == ""  # no traceback on stderr; a DEBUG line instead
    assert get(port, "/healthz")[0] == 200  # and the server goes on serving


def test_connections_beyond_the_cap_are_closed_at_once(serve):
    port = serve(request_timeout=30.0, max_connections=2)
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
    try:
        time.sleep(0.5)  # let the server accept both
        with socket.create_connection(("127.0.0.1", port), timeout=10) as third:
            third.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert closed_within(third, 20)
    finally:
        for sock in held:
            sock.close()
    # Slots come back when connections end.
    deadline = time.monotonic() + 30
    while True:
        try:
            if get(port, "/healthz", timeout=5)[0] == 200:
                break
        except (OSError, http.client.HTTPException):
            pass
        assert time.monotonic() < deadline, "the admin server did not recover its slots"
        time.sleep(0.2)


def test_listen_names_the_port_it_cannot_bind():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on the admin port 127.0.0.1:{port}"):
            admin.listen("127.0.0.1", port)


def test_listen_returns_a_non_blocking_reusable_socket():
    sock = admin.listen("127.0.0.1", 0)
    try:
        assert sock.gettimeout() == 0.0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
    finally:
        sock.close()
