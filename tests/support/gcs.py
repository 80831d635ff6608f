"""Helpers of the GCS tests: the model URI on the fake bucket, one prediction, waiting for a condition."""

from __future__ import annotations

import json
import time

from tests.support.paths import BUCKET
from tools.examples import ADELIE

URI = f"gs://{BUCKET}/penguins"
JSON = {"Content-Type": "application/json"}


def post(client, payload=ADELIE):
    """POST a penguin to an in-process app's /predict."""
    return client.post("/predict", data=json.dumps(payload), headers=JSON)


def wait_for(condition, timeout: float, interval: float = 0.1):
    """condition()'s first truthy result, polling until timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
