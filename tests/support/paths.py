"""Where things are, and the names the tests share: the repository, the function, the bundled model."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FUNCTION_DIR = ROOT / "function"
MAIN = FUNCTION_DIR / "main.py"
BUNDLED_MODEL = FUNCTION_DIR / "model"
# Every variable the function reads: the tests start with none of them set (conftest.py's _isolated_env).
ENV_VARS = (
    "MODEL_URI",
    "MODEL_FALLBACK",
    "MODEL_LOAD_TIMEOUT_SECONDS",
    "MODEL_REFRESH_SECONDS",
    "MODEL_CACHE_DIR",
    "MODEL_EXPECTED_VERSION",
    "MAX_BATCH_SIZE",
    "MAX_BODY_BYTES",
    "LOG_INPUTS_FRACTION",
    "GOOGLE_CLOUD_PROJECT",
    "GCP_PROJECT",
    "STORAGE_EMULATOR_HOST",
)
BUCKET = "models"
