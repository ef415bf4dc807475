"""The admin listener (ADMIN_PORT): /metrics, /healthz and /readyz outside gunicorn's request pool.

Kubelet probes and Prometheus scrapes must get an answer even when slow or
idle clients, or slow requests, hold every gthread thread of the public port.
So the admin port is not one of gunicorn's listeners:

- the gunicorn master binds it once, before forking (listen(), called from
  gunicorn.conf.py's on_starting hook), so it survives worker restarts;
- every worker serves the inherited socket from a daemon thread of its own
  (serve_in_background(), from the post_worker_init hook): a small threading
  WSGI server from the standard library, one short-lived thread per
  connection, at most ADMIN_MAX_CONNECTIONS at a time per worker;
- each admin connection must deliver its request within
  ADMIN_REQUEST_TIMEOUT seconds in total (not per read: a client trickling
  bytes cannot hold a thread longer), else it is closed.

Whichever worker accepts a connection answers it; /metrics reads every
worker's values (prometheus_client multiprocess mode), so the answer is the
whole pod's either way.
"""

from __future__ import annotations

import io
import logging
import socket
import socketserver
import threading
import time
from typing import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

#: Seconds an admin connection has to send its whole request (kubelet and
#: Prometheus send theirs at once); also the timeout of each socket write.
ADMIN_REQUEST_TIMEOUT = 5.0

#: Concurrent admin connections per worker; more are closed at once.
ADMIN_MAX_CONNECTIONS = 16

#: Listen backlog of the admin socket.
ADMIN_BACKLOG = 64

log = logging.getLogger("app.admin")


def listen(host: str, port: int, backlog: int = ADMIN_BACKLOG) -> socket.socket:
    """Bind and listen on host:port (SO_REUSEADDR), non-blocking; for the gunicorn master.

    A port that cannot be bound raises RuntimeError naming it, which stops
    gunicorn at start-up.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as err:
        sock.close()
        raise RuntimeError(f"cannot listen on the admin port {host}:{port}: {err.strerror or err}") from err
    # Every worker accepts from this socket; the one that loses the race must not block.
    sock.setblocking(False)
    return sock


class _DeadlineReader(io.RawIOBase):
    """The read side of a socket that times out once an absolute deadline has passed."""

    def __init__(self, sock: socket.socket, deadline: float, write_timeout: float) -> None:
        super().__init__()
        self._sock, self._deadline, self._write_timeout = sock, deadline, write_timeout

    def readable(self) -> bool:
        """Always: this is the read side."""
        return True

    def readinto(self, buffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("admin request not received in time")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._write_timeout)


class _AdminRequestHandler(WSGIRequestHandler):
    """wsgiref's handler with a total deadline for the request and no stderr logging."""

    def setup(self) -> None:
        self.timeout = self.server.request_timeout
        super().setup()
        # Replace the plain socket reader with one that enforces the total deadline.
        self.rfile.close()
        deadline = time.monotonic() + self.server.request_timeout
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline, self.timeout))

    def end_headers(self) -> None:
        """Only wsgiref's own error pages (e.g. 400, 414) pass here; the app sets its headers itself."""
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        """Silenced: the admin app writes its own JSON access lines (DEBUG)."""


class AdminServer(socketserver.ThreadingMixIn, WSGIServer):
    """A threading WSGI server on an already listening socket, with a connection cap."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        listener: socket.socket,
        app: Callable,
        request_timeout: float = ADMIN_REQUEST_TIMEOUT,
        max_connections: int = ADMIN_MAX_CONNECTIONS,
    ) -> None:
        address = listener.getsockname()
        super().__init__(address, _AdminRequestHandler, bind_and_activate=False)
        # TCPServer made a socket of its own: serve the inherited listener instead.
        self.socket.close()
        self.socket = listener
        self.server_address = address
        self.server_name, self.server_port = address[0], address[1]
        self.setup_environ()
        self.set_app(app)
        self.request_timeout = request_timeout
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:
        """Serve the connection on a new thread, or close it at once when all slots are taken."""
        if not self._slots.acquire(blocking=False):
            log.debug("admin connection refused: too many open", extra={"client": client_address[0]})
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        """Serve one connection (on its own thread) and give its slot back."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        """A timed-out or reset admin connection: one DEBUG line, not a traceback on stderr."""
        log.debug("admin connection closed on error", extra={"client": client_address[0]}, exc_info=True)


def serve_in_background(
    listener: socket.socket,
    app: Callable,
    request_timeout: float = ADMIN_REQUEST_TIMEOUT,
    max_connections: int = ADMIN_MAX_CONNECTIONS,
) -> AdminServer:
    """Serve app on listener from a daemon thread (it ends with the process); returns the server."""
    listener.setblocking(False)
    server = AdminServer(listener, app, request_timeout, max_connections)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="admin-server", daemon=True
    )
    thread.start()
    return server
