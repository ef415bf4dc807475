"""JSON-lines logging to stdout, shared by the app and gunicorn's own logger.

Every record becomes one JSON object on one line: ts, level, logger, msg,
plus any `extra=` fields (the access log's method/route/path/status/duration_ms/
client) and, for exceptions, the formatted traceback under "exc". The JSON is
pure ASCII, so no value (a request path with U+2028, NEL or a control
character, a lone surrogate) can split a line for any line splitter or fail to
encode. Nothing here reads settings or environment values, so a secret can
reach the log only if a caller passes one explicitly; the app never does.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Optional

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line, ASCII-only JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii escapes every non-ASCII character (U+2028/U+2029 and NEL, which
        # str.splitlines() and some log shippers treat as line breaks, included) and
        # json escapes all control characters: one record is always one physical line.
        return json.dumps(doc, default=str, ensure_ascii=True)


class JsonStreamHandler(logging.StreamHandler):
    """A StreamHandler (stdout by default) that always formats with JsonFormatter.

    It is a class of its own so configure_logging can find and replace the
    handler it installed earlier without touching anyone else's (pytest's
    caplog, for one).
    """

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        super().__init__(stream if stream is not None else sys.stdout)
        self.setFormatter(JsonFormatter())


def configure_logging(level: str, stream: Optional[IO[str]] = None) -> None:
    """Send the root logger's records, at `level` and above, as JSON lines to stream.

    Idempotent: a JsonStreamHandler installed by an earlier call is replaced,
    so creating the app twice does not double every line.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, JsonStreamHandler):
            root.removeHandler(handler)
    root.addHandler(JsonStreamHandler(stream))
    root.setLevel(level)
