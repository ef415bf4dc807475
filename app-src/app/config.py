"""Runtime settings read from environment variables, and secret masking.

Settings are read once, when the app is created: a pod's environment does not
change while it runs, and a frozen snapshot keeps request handling free of
os.environ look-ups and makes tests pass their own environment explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

#: Environment variables without which the app reports itself not ready.
REQUIRED_KEYS = ("SECRET_KEY", "DB_PASSWORD", "API_BASE_URL")

#: LOG_LEVEL values the app accepts (case-insensitive); anything else means INFO.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LOG_LEVEL = "INFO"


def parse_log_level(raw: Optional[str]) -> tuple[str, bool]:
    """Return (effective level name, whether raw was invalid).

    Unset or empty means INFO without complaint; an unknown value means INFO
    and the caller logs a warning.
    """
    if raw is None or not raw.strip():
        return DEFAULT_LOG_LEVEL, False
    name = raw.strip().upper()
    if name in LOG_LEVELS:
        return name, False
    return DEFAULT_LOG_LEVEL, True


def parse_trusted_proxy_hops(raw: Optional[str]) -> int:
    """TRUSTED_PROXY_HOPS as an integer >= 0; unset or empty means 0.

    Anything else raises ValueError naming the variable, so a typo stops the
    server at start-up instead of silently trusting (or ignoring) X-Forwarded-For.
    """
    if raw is None or not raw.strip():
        return 0
    try:
        hops = int(raw.strip())
    except ValueError:
        raise ValueError(f"TRUSTED_PROXY_HOPS must be an integer >= 0, got {raw[:32]!r}") from None
    if hops < 0:
        raise ValueError(f"TRUSTED_PROXY_HOPS must be an integer >= 0, got {hops}")
    return hops


def mask_secret(value: Optional[str]) -> str:
    """Describe a secret without revealing anything about it: "set" or "unset".

    No length and no hash: a fingerprint of a human-chosen password lets
    anyone who can read /config confirm guesses offline.
    """
    return "set" if value else "unset"


def _non_empty(env: Mapping[str, str], key: str) -> Optional[str]:
    value = env.get(key)
    return value if value else None


@dataclass(frozen=True)
class Settings:
    """The app's configuration, as read from one environment snapshot."""

    secret_key: Optional[str]
    db_password: Optional[str]
    api_base_url: Optional[str]
    max_connections: Optional[str]
    log_level: str
    log_level_raw: Optional[str]
    log_level_invalid: bool
    app_version: str
    reveal_secrets: bool
    trusted_proxy_hops: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Read settings; empty strings count as unset. An invalid TRUSTED_PROXY_HOPS raises ValueError."""
        raw_level = env.get("LOG_LEVEL")
        level, invalid = parse_log_level(raw_level)
        return cls(
            secret_key=_non_empty(env, "SECRET_KEY"),
            db_password=_non_empty(env, "DB_PASSWORD"),
            api_base_url=_non_empty(env, "API_BASE_URL"),
            max_connections=_non_empty(env, "MAX_CONNECTIONS"),
            log_level=level,
            log_level_raw=raw_level,
            log_level_invalid=invalid,
            app_version=_non_empty(env, "APP_VERSION") or "dev",
            reveal_secrets=(env.get("REVEAL_SECRETS", "").strip().lower() == "true"),
            trusted_proxy_hops=parse_trusted_proxy_hops(env.get("TRUSTED_PROXY_HOPS")),
        )

    def missing_required(self) -> list[str]:
        """Names of required variables that are unset or empty, in REQUIRED_KEYS order."""
        present = {
            "SECRET_KEY": self.secret_key,
            "DB_PASSWORD": self.db_password,
            "API_BASE_URL": self.api_base_url,
        }
        return [key for key in REQUIRED_KEYS if not present[key]]

    def secret_view(self, value: Optional[str]) -> Optional[str]:
        """What /config shows for a secret: masked unless REVEAL_SECRETS=true."""
        if self.reveal_secrets:
            return value
        return mask_secret(value)
