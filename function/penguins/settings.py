"""Every environment variable the function reads, read in this one place."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import SettingsError

BUNDLED_MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model")
FALLBACKS = ("bundled", "none")
VERSION_PATTERN = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Settings:
    """The function's configuration."""

    model_uri: str = BUNDLED_MODEL_DIR
    model_fallback: str = "bundled"
    model_load_timeout_seconds: float = 10.0
    model_refresh_seconds: float = 60.0
    model_cache_dir: str = os.path.join(tempfile.gettempdir(), "penguin-models")
    # The version current.json named when this code was deployed (deploy.sh sets it): when the bundled model
    # is that version, a cold start answers from it at once and confirms the pointer in the background.
    model_expected_version: str | None = None
    max_batch_size: int = 10_000
    max_body_bytes: int = 10 * 1024 * 1024
    project_id: str | None = None
    # The share of prediction lines that carry the validated inputs (drift reads them): 1 logs every one.
    log_inputs_fraction: float = 1.0

    @property
    def uses_bundled_model(self) -> bool:
        """True when the configured model is the one shipped inside function/."""
        return "://" not in self.model_uri and os.path.abspath(self.model_uri) == BUNDLED_MODEL_DIR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings, failing with a message that names the variable at fault."""
        fallback = (environ.get("MODEL_FALLBACK") or cls.model_fallback).strip().lower()
        if fallback not in FALLBACKS:
            raise SettingsError(f"MODEL_FALLBACK must be one of {', '.join(FALLBACKS)}; got {fallback!r}")
        expected = (environ.get("MODEL_EXPECTED_VERSION") or "").strip() or None
        if expected is not None and not VERSION_PATTERN.match(expected):
            raise SettingsError(f"MODEL_EXPECTED_VERSION must be a model version (12 hex digits); got {expected!r}")
        return cls(
            model_uri=environ.get("MODEL_URI") or BUNDLED_MODEL_DIR,
            model_fallback=fallback,
            model_load_timeout_seconds=_number(
                environ, "MODEL_LOAD_TIMEOUT_SECONDS", cls.model_load_timeout_seconds, minimum=0.1
            ),
            model_refresh_seconds=_number(environ, "MODEL_REFRESH_SECONDS", cls.model_refresh_seconds, minimum=0),
            model_cache_dir=environ.get("MODEL_CACHE_DIR") or cls.model_cache_dir,
            model_expected_version=expected,
            max_batch_size=int(_number(environ, "MAX_BATCH_SIZE", cls.max_batch_size, minimum=1, whole=True)),
            max_body_bytes=int(_number(environ, "MAX_BODY_BYTES", cls.max_body_bytes, minimum=1, whole=True)),
            log_inputs_fraction=_number(environ, "LOG_INPUTS_FRACTION", cls.log_inputs_fraction, minimum=0, maximum=1),
            project_id=environ.get("GOOGLE_CLOUD_PROJECT") or environ.get("GCP_PROJECT") or None,
        )


def _number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    minimum: float,
    whole: bool = False,
    maximum: float = float("inf"),
) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(f"{name} must be {kind}; got {raw!r}") from None
    if not value >= minimum:  # also refuses NaN
        raise SettingsError(f"{name} must be at least {minimum:g}; got {raw!r}")
    if value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}; got {raw!r}")
    return value
