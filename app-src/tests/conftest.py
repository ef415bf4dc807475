"""Shared fixtures: the public and admin apps built from an explicit environment, with their log lines captured."""

import io
import json
import os

# The in-process tests use the default registry; a PROMETHEUS_MULTIPROC_DIR left in
# the caller's shell would switch prometheus_client to multiprocess mode on import.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
os.environ.pop("prometheus_multiproc_dir", None)

import pytest  # noqa: E402

from app import create_admin_app, create_app  # noqa: E402

FULL_ENV = {
    "SECRET_KEY": "s3cr3t-key-0123456789abcdef-XYZ",
    "DB_PASSWORD": "db-pa55word-!@#-unique",
    "API_BASE_URL": "https://api.example.invalid/v1",
    "LOG_LEVEL": "INFO",
    "MAX_CONNECTIONS": "100",
}


class AppUnderTest:
    """The public app (client) and the admin app (admin) of one environment, and the JSON log lines."""

    def __init__(self, env):
        self.stream = io.StringIO()
        self.app = create_app(environ=env, log_stream=self.stream)
        self.client = self.app.test_client()
        self.admin_app = create_admin_app(environ=env)
        self.admin = self.admin_app.test_client()

    @property
    def log_text(self):
        return self.stream.getvalue()

    def log_lines(self):
        """Every line parsed as JSON (a non-JSON line fails the calling test)."""
        return [json.loads(line) for line in self.log_text.splitlines() if line.strip()]

    def access_lines(self):
        return [line for line in self.log_lines() if line["logger"] == "app.access"]


@pytest.fixture
def make_app():
    """Factory: make_app(env_dict) -> AppUnderTest (env replaces os.environ entirely)."""
    return AppUnderTest


@pytest.fixture
def full(make_app):
    """An app with every variable set to a valid value."""
    return make_app(dict(FULL_ENV))
