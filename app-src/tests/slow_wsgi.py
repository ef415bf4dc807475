"""Test-only WSGI entry point: the real app plus one deliberately slow route.

Used by test_gunicorn.py to have a request in flight when SIGTERM arrives. It
lives under tests/, which the image never contains (.dockerignore), so the
shipped app has no such endpoint.
"""

import os
import time
from pathlib import Path

from app import create_app

app = create_app()


@app.get("/_test/slow")
def slow():
    # Tell the test the request is being handled (one line per request), then take a while.
    with Path(os.environ["SLOW_MARKER"]).open("a") as marker:
        marker.write("started\n")
    time.sleep(float(os.environ.get("SLOW_SECONDS", "2")))
    return "slow done"
