"""gunicorn's gthread worker, hardened for the public port (gunicorn.conf.py: worker_class).

Stock gthread hands every new connection to a pool thread at once, and that
thread blocks in recv() until the request head arrives: a few clients that
connect and send nothing, or send the head a byte at a time, hold every
thread forever and the port stops answering anyone. A socket timeout would
not help against the second kind (each byte restarts it). This worker:

- keeps a new connection in its event loop, with no thread, until the whole
  request head (up to the blank line) has arrived, and only then gives it to
  the pool with those bytes already read;
- closes a connection whose head is not complete `header_timeout` seconds
  (GUNICORN_HEADER_TIMEOUT) after it was accepted, and logs one JSON line
  (INFO, client address only);
- on a keep-alive connection (which gthread parks in its event loop until
  the next request's first bytes are readable) bounds the read of the next
  head by the same timeout, counted from when a thread takes it over;
- answers requests gunicorn's parser rejects (bad request line or header,
  unsupported Transfer-Encoding such as "chunked, identity", ...) with a JSON
  400 and an INFO line, where stock gunicorn 20.1 answers an HTML page, and for
  unsupported transfer codings a 500 that nothing logs.

Request bodies and responses are read and written as by stock gthread; TLS
(not used here) falls back to stock behaviour. This code depends on gthread
internals, which is safe because packages.txt pins gunicorn exactly.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import ssl
import time
from collections import deque
from functools import partial

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread

#: The end of a request head.
HEAD_END = b"\r\n\r\n"

#: A head still incomplete at this size goes to a thread anyway: gunicorn's parser
#: rejects it (request line or header limits) or reads the rest within the deadline.
MAX_BUFFERED_HEAD = 64 * 1024

#: Default of GUNICORN_HEADER_TIMEOUT (gunicorn.conf.py sets the worker's value).
DEFAULT_HEADER_TIMEOUT = 10.0

# gunicorn's parse errors -> (status, reason, message). The message is fixed text:
# nothing the client sent is echoed in the response or the log.
_REJECTIONS = (
    (http_errors.UnsupportedTransferCoding, 400, "Bad Request", "unsupported Transfer-Encoding"),
    (http_errors.InvalidRequestLine, 400, "Bad Request", "invalid request line"),
    (http_errors.InvalidRequestMethod, 400, "Bad Request", "invalid request method"),
    (http_errors.InvalidHTTPVersion, 400, "Bad Request", "invalid HTTP version"),
    ((http_errors.InvalidHeader, http_errors.InvalidHeaderName), 400, "Bad Request", "invalid header"),
    (http_errors.LimitRequestLine, 400, "Bad Request", "request line too long"),
    (http_errors.LimitRequestHeaders, 400, "Bad Request", "request headers too large"),
    (http_errors.InvalidProxyLine, 400, "Bad Request", "invalid PROXY protocol line"),
    (http_errors.InvalidSchemeHeaders, 400, "Bad Request", "contradictory scheme headers"),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden"),
    (ssl.SSLError, 403, "Forbidden", "TLS error"),
)


def classify_error(exc: BaseException) -> tuple[int, str, str]:
    """(status, reason, message) for an exception gunicorn's handle_error receives."""
    for types, status, reason, message in _REJECTIONS:
        if isinstance(exc, types):
            return status, reason, message
    return 500, "Internal Server Error", "internal server error"


def json_error_response(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 response with the app's JSON error body; the connection then closes."""
    body = json.dumps({"error": reason, "status": status, "message": message}).encode("ascii")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


def client_address(addr) -> str:
    """The peer's IP address as a string ("" for a unix socket)."""
    return addr[0] if isinstance(addr, tuple) and addr else ""


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader, with an optional deadline.

    While `deadline` (a time.monotonic() value) is set, each read waits at
    most until then; past it the reader calls on_expire() once and reports
    end of input, so gunicorn's parser gives up quietly and the connection
    is closed.
    """

    def __init__(self, sock, on_expire, max_chunk=8192):
        super().__init__(sock, max_chunk)
        self.deadline = None
        self._on_expire = on_expire

    def chunk(self):
        if self.deadline is None:
            return super().chunk()
        remaining = self.deadline - time.monotonic()
        if remaining > 0:
            self.sock.settimeout(remaining)
            try:
                return self.sock.recv(self.mxchunk)
            except socket.timeout:
                pass
            finally:
                self.sock.settimeout(None)
        self.deadline = None
        self._on_expire()
        return b""


class Connection(gthread.TConn):
    """gthread's connection, plus the bytes of a request head still arriving and its deadline."""

    def __init__(self, cfg, sock, client, server, on_head_timeout):
        super().__init__(cfg, sock, client, server)
        self.head = None  # bytearray while the event loop collects the first head
        self.head_deadline = None  # monotonic time by which the current head must be complete
        self._on_head_timeout = on_head_timeout

    def init(self):
        """As gthread's, and give a new parser the deadline-aware reader."""
        fresh = self.parser is None
        super().init()
        if fresh:
            self.parser.unreader = DeadlineUnreader(self.sock, partial(self._on_head_timeout, self))


class HeaderTimeoutWorker(gthread.ThreadWorker):
    """ThreadWorker whose threads only ever wait for a request head up to header_timeout."""

    header_timeout = DEFAULT_HEADER_TIMEOUT

    def init_process(self):
        # Connections collecting their first head, in accept (= deadline) order; a
        # connection leaves as soon as its head is complete, it closes or it expires.
        self._heads = deque()
        super().init_process()

    def accept(self, server, listener):
        """Accept a connection and collect its request head in the event loop (no thread yet)."""
        if self.cfg.is_ssl:
            return super().accept(server, listener)
        try:
            sock, client = listener.accept()
        except EnvironmentError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = Connection(self.cfg, sock, client, server, self._log_head_timeout)
        self.nr_conns += 1
        conn.head = bytearray()
        conn.head_deadline = time.monotonic() + self.header_timeout
        self._heads.append(conn)
        with self._lock:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn, _sock):
        """Poller callback: add what arrived; hand the connection to a thread once the head is in."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before sending a request
            self._stop_collecting(conn)
            self._close(conn)
            return
        conn.head += data
        if HEAD_END in conn.head or len(conn.head) >= MAX_BUFFERED_HEAD:
            head = bytes(conn.head)
            self._stop_collecting(conn)
            conn.init()
            conn.parser.unreader.unread(head)
            self.enqueue_req(conn)

    def _stop_collecting(self, conn):
        """Take conn out of the event loop's head collection (its deque entry and the poller)."""
        conn.head = None
        try:
            self._heads.remove(conn)
        except ValueError:
            pass
        with self._lock:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass

    def _close(self, conn):
        """Close a connection no thread has; it no longer counts against worker_connections."""
        conn.close()
        self.nr_conns -= 1

    def murder_keepalived(self):
        """gthread's keep-alive expiry, plus closing connections whose first head is late."""
        super().murder_keepalived()
        now = time.monotonic()
        while self._heads and self._heads[0].head_deadline <= now:
            conn = self._heads[0]
            received = len(conn.head)
            self._stop_collecting(conn)
            self._close(conn)
            self._log_head_timeout(conn, received)

    def _log_head_timeout(self, conn, received=None):
        """One INFO line per connection dropped for a late request head; client address only."""
        fields = {"client": client_address(conn.client), "header_timeout_s": self.header_timeout}
        if received is not None:
            fields["received_bytes"] = received
        self.log.info("dropped connection: request head not complete within the header timeout", extra=fields)

    def handle(self, conn):
        """Run gthread's handler with the head read bounded by the header deadline."""
        if isinstance(conn, Connection):
            if conn.head_deadline is None:  # a keep-alive connection's next request
                conn.head_deadline = time.monotonic() + self.header_timeout
            conn.parser.unreader.deadline = conn.head_deadline
        return super().handle(conn)

    def handle_request(self, req, conn):
        """The head is complete: lift the deadline before the app reads the body."""
        if isinstance(conn, Connection):
            conn.parser.unreader.deadline = None
            conn.head_deadline = None
        return super().handle_request(req, conn)

    def handle_error(self, req, client, addr, exc):
        """Answer a request gunicorn could not handle with a JSON error, and log one line.

        Parse errors are the client's (4xx, INFO line); anything else is a
        500 with its traceback at ERROR, also when no request was parsed
        (stock gunicorn logs nothing then).
        """
        status, reason, message = classify_error(exc)
        fields = {"client": client_address(addr), "status": status, "reason": message}
        if status >= 500:
            self.log.exception("error handling request", extra=fields)
        else:
            self.log.info("rejected request gunicorn could not parse", extra=fields)
        try:
            util.write_nonblock(client, json_error_response(status, reason, message))
        except Exception:  # the client may be gone already
            self.log.debug("failed to send the error response")
