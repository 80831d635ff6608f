"""deploy.sh's test harness: its environment kept clean, how to run it, and the monitoring checks it shares."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.paths import BUCKET, ROOT

DEPLOY = ROOT / "deploy.sh"
BIN = Path(sys.executable).parent
PROJECT = "test-project"
REGION = "europe-west1"
SERVICE_ACCOUNT = f"penguin-species@{PROJECT}.iam.gserviceaccount.com"
SERVICE = "penguin-species"
# What deploy.sh reads from the environment: none may leak in from the developer's shell.
DEPLOY_VARS = (
    "PROJECT REGION FUNCTION_NAME BUCKET MODEL_PREFIX ARTIFACT MEMORY CPU CONCURRENCY MIN_INSTANCES MAX_INSTANCES "
    "TIMEOUT BASE_IMAGE SERVICE_ACCOUNT_ID PUBLIC DRY_RUN PYTHON ID_TOKEN SMOKE_RETRIES FUNCTION_USE_ASGI "
    "TRAFFIC_SETTLE_SECONDS "
    "ALERT_EMAIL NOTIFICATION_CHANNEL MONITORING MONITORING_ONLY"
).split()


needs_gcloud = pytest.mark.skipif(
    shutil.which("gcloud") is None, reason="the Google Cloud SDK (gcloud) is not installed"
)


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without deploy.sh's variables or any gcloud setting, plus extra."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in DEPLOY_VARS and not k.startswith(("CLOUDSDK_", "CANARY", "ROLLBACK_TO"))
    }
    return {**env, "PYTHON": sys.executable, **extra}


def recorded_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """clean_env with recording_path's bin folder first on PATH: its gcloud, curl and bq only record a call."""
    return clean_env(PATH=f"{bin_dir}:{os.environ['PATH']}", **extra)


def deploy(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEPLOY), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# Monitoring (deploy/monitoring.sh) has its own whole runs in tests/deploy/test_monitoring.py: ~16 more gcloud calls.
DEPLOY_ARGS = ("--project", PROJECT, "--region", REGION, "--bucket", BUCKET, "--no-monitoring")


def without_thresholds(env: dict[str, str]) -> dict[str, str]:
    """The environment without the developer's own threshold overrides."""
    return {name: value for name, value in env.items() if name not in thresholds()}


def assert_applied_from_scratch(fake) -> str:
    """What a first apply made: the e-mail channel, every metric, every alert but no_traffic, the dashboard.

    Returns the policies' notificationChannels, as filled in. test_deploy.py's first deploy checks this too.
    """
    assert fake.unhandled() == []
    [channel] = fake.notification_channels.values()
    assert channel["type"] == "email" and channel["labels"] == {"email_address": "ops@example.com"}
    channels = f'["{channel["name"]}"]'
    created = {c.body["name"]: c.body for c in fake.find("POST", "logging", r"/v2/projects/test-project/metrics$")}
    assert created == {filled(path)["name"]: filled(path) for path in METRICS}
    policies = [c.body for c in fake.find("POST", "monitoring", r"/alertPolicies$")]
    defaults = [filled(path, channels) for path in ALERTS if path.name != "no_traffic.yaml"]
    assert sorted(policies, key=canonical) == sorted(defaults, key=canonical)
    [dashboard] = [c.body for c in fake.find("POST", "monitoring", r"/dashboards$")]
    assert dashboard == filled(DASHBOARD)
    return channels


def thresholds() -> dict[str, str]:
    """thresholds.env's names and defaults, in order."""
    pairs = re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (MONITORING / "thresholds.env").read_text(), re.M)
    return dict(pairs)


# deploy/monitoring.sh's definitions, and how it fills them in (test_monitoring.py's names, in one place).
MONITORING = ROOT / "monitoring"
METRICS = sorted((MONITORING / "metrics").glob("*.yaml"))
ALERTS = sorted((MONITORING / "alerts").glob("*.yaml"))
DASHBOARD = MONITORING / "dashboard.yaml"
MONITORED_FUNCTION = "penguin-species"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def filled(path: Path, channels: str = "[]", **overrides: str) -> dict:
    """A definition as deploy/monitoring.sh fills it in, parsed."""
    values = {**thresholds(), **overrides, "PROJECT": PROJECT, "FUNCTION_NAME": MONITORED_FUNCTION}
    values["NOTIFICATION_CHANNELS"] = channels
    text = PLACEHOLDER.sub(lambda m: values[m.group(1)], path.read_text())
    return yaml.safe_load(text)


def canonical(body: dict) -> str:
    return json.dumps(body, sort_keys=True)
