"""Every environment variable the function reads, read in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import SettingsError

BUNDLED_MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model")


@dataclass(frozen=True)
class Settings:
    """The function's configuration."""

    model_uri: str = BUNDLED_MODEL_DIR
    max_batch_size: int = 10_000
    max_body_bytes: int = 10 * 1024 * 1024
    project_id: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings, failing with a message that names the variable at fault."""
        return cls(
            model_uri=environ.get("MODEL_URI") or BUNDLED_MODEL_DIR,
            max_batch_size=_positive_int(environ, "MAX_BATCH_SIZE", cls.max_batch_size),
            max_body_bytes=_positive_int(environ, "MAX_BODY_BYTES", cls.max_body_bytes),
            project_id=environ.get("GOOGLE_CLOUD_PROJECT") or environ.get("GCP_PROJECT") or None,
        )


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number; got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1; got {value}")
    return value
