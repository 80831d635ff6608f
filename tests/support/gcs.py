"""Helpers of the GCS tests: the model URI on the fake bucket, one prediction, waiting for a condition."""

from __future__ import annotations

import json
import time

from tests.support.paths import BUCKET
from tools.examples import ADELIE

URI = f"gs://{BUCKET}/penguins"


def post(client, payload=ADELIE):
    return client.post("/predict", data=json.dumps(payload), headers=JSON)


def wait_for(condition, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


JSON = {"Content-Type": "application/json"}
