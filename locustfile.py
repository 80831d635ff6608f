"""Load against the function, local or deployed: a realistic mix, every answer checked.

    locust -f locustfile.py --host https://REGION-PROJECT.cloudfunctions.net/penguin-species   # web UI
    make load                                  # headless, against a local function, HTML report
    make load HOST=https://... ID_TOKEN=$(gcloud auth print-identity-token)

The mix: single predictions of penguins drawn from the Palmer Penguins data (a real row, measurements
jittered by a few percent), small batches, GET /health, and a share of invalid bodies that must get their
4xx. Set ID_TOKEN for a private function. At the end the run fails (exit code 1) when more than
LOAD_MAX_FAILURE_RATIO (default 0.01) of requests failed or p95 exceeds LOAD_P95_MS (default 1000).
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
from pathlib import Path

from locust import FastHttpUser, between, events, task

SPECIES = {"Adelie", "Chinstrap", "Gentoo"}
MEASUREMENTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
LIMITS = {
    "bill_length_mm": (30, 60),
    "bill_depth_mm": (10, 25),
    "flipper_length_mm": (170, 240),
    "body_mass_g": (2500, 7000),
}
VALID = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750,
    "island": "Torgersen",
    "sex": "male",
}
# Bodies a careless client sends, with the status each must get.
INVALID = [
    ("not-json", b'{"bill_length_mm": 39.1,', "application/json", 400),
    ("kilograms", json.dumps({**VALID, "body_mass_g": 3.75}).encode(), "application/json", 422),
    ("string-number", json.dumps({**VALID, "bill_length_mm": "39.1"}).encode(), "application/json", 422),
    ("unknown-island", json.dumps({**VALID, "island": "Anvers"}).encode(), "application/json", 422),
    (
        "typo-field",
        json.dumps({**{k: v for k, v in VALID.items() if k != "sex"}, "sexx": "male"}).encode(),
        "application/json",
        422,
    ),
    ("form-encoded", b"bill_length_mm=39.1", "application/x-www-form-urlencoded", 415),
    ("empty-batch", b'{"instances": []}', "application/json", 422),
]


def _load_rows() -> list[dict]:
    """Complete rows of the Palmer Penguins data, from the CSV the palmerpenguins package ships."""
    try:
        import palmerpenguins
    except ImportError:
        raise SystemExit("locustfile.py needs palmerpenguins: run `make venv`, then use .venv/bin/locust") from None
    path = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    with open(path, newline="") as f:
        return [row for row in csv.DictReader(f) if all(row[m] not in ("", "NA") for m in MEASUREMENTS)]


ROWS = _load_rows()


def random_penguin(rng: random.Random) -> dict:
    """A real penguin's measurements jittered by up to 3%, clipped to the API's limits; sex sometimes unknown."""
    row = rng.choice(ROWS)
    penguin = {}
    for name in MEASUREMENTS:
        low, high = LIMITS[name]
        penguin[name] = round(min(high, max(low, float(row[name]) * rng.uniform(0.97, 1.03))), 1)
    penguin["island"] = row["island"]
    sex = row["sex"] if row["sex"] in ("male", "female") else None
    if sex is not None and rng.random() > 0.1:
        penguin["sex"] = sex
    return penguin


def _check_prediction(answer: dict) -> str | None:
    """Why a prediction is wrong, or None."""
    if answer.get("prediction") not in SPECIES:
        return f"prediction {answer.get('prediction')!r} is not a species"
    probabilities = answer.get("probabilities", {})
    if set(probabilities) != SPECIES or not math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-4):
        return f"probabilities {probabilities} do not cover the species and sum to 1"
    if not isinstance(answer.get("warnings"), list):
        return "warnings missing"
    return None


class PenguinClient(FastHttpUser):
    """A client of the penguin API: mostly single predictions, some batches, health checks and mistakes."""

    wait_time = between(0.01, 0.1)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.headers = {"Content-Type": "application/json"}
        token = os.environ.get("ID_TOKEN")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _post(self, body: bytes, name: str, content_type: str = "application/json"):
        return self.client.post(
            "/predict",
            data=body,
            headers={**self.headers, "Content-Type": content_type},
            name=name,
            catch_response=True,
        )

    @task(70)
    def predict_one(self) -> None:
        with self._post(json.dumps(random_penguin(self.rng)).encode(), "POST /predict (one)") as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            answer = response.json()
            problem = _check_prediction(answer) or (None if answer.get("model_version") else "no model_version")
            if problem:
                response.failure(problem)

    @task(15)
    def predict_batch(self) -> None:
        penguins = [random_penguin(self.rng) for _ in range(self.rng.randint(2, 20))]
        with self._post(json.dumps({"instances": penguins}).encode(), "POST /predict (batch)") as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            predictions = response.json().get("predictions", [])
            if len(predictions) != len(penguins):
                response.failure(f"{len(predictions)} predictions for {len(penguins)} penguins")
                return
            problem = next(filter(None, map(_check_prediction, predictions)), None)
            if problem:
                response.failure(problem)

    @task(10)
    def health(self) -> None:
        with self.client.get("/health", headers=self.headers, name="GET /health", catch_response=True) as response:
            if response.status_code != 200 or response.json().get("status") not in ("ok", "degraded"):
                response.failure(f"status {response.status_code}: {response.text[:200]}")

    @task(5)
    def invalid_body(self) -> None:
        name, body, content_type, expected = self.rng.choice(INVALID)
        with self._post(body, f"POST /predict (invalid: {name})", content_type) as response:
            if response.status_code != expected:
                response.failure(f"expected {expected}, got {response.status_code}: {response.text[:200]}")
                return
            error = response.json()
            if not error.get("error") or not isinstance(error.get("detail"), list):
                response.failure(f"error body without error/detail: {response.text[:200]}")
            else:
                response.success()  # a 4xx that was asked for is a pass


@events.quitting.add_listener
def _verdict(environment, **_kwargs) -> None:
    """Exit code 1 when too many requests failed or p95 is too slow; print a short summary."""
    total = environment.stats.total
    max_failure_ratio = float(os.environ.get("LOAD_MAX_FAILURE_RATIO", "0.01"))
    p95_limit_ms = float(os.environ.get("LOAD_P95_MS", "1000"))
    p95 = total.get_response_time_percentile(0.95) or 0
    print(
        f"load summary: {total.num_requests} requests, {total.num_failures} failed "
        f"({total.fail_ratio:.2%}), {total.total_rps:.0f} req/s, p50 {total.median_response_time:.0f} ms, "
        f"p95 {p95:.0f} ms, p99 {total.get_response_time_percentile(0.99) or 0:.0f} ms"
    )
    if total.num_requests == 0 or total.fail_ratio > max_failure_ratio or p95 > p95_limit_ms:
        print(f"load verdict: FAIL (allowed failure ratio {max_failure_ratio:.2%}, p95 limit {p95_limit_ms:.0f} ms)")
        environment.process_exit_code = 1
    else:
        print("load verdict: PASS")
