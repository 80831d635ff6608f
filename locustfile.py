"""Load against the function, local or deployed: a realistic mix, every answer checked.

    locust -f locustfile.py --host https://REGION-PROJECT.cloudfunctions.net/penguin-species   # web UI
    make load                                  # headless, against a local function, HTML report
    make load PROFILE=spike                    # one of the load profiles below, with its own verdict
    make load HOST=https://... ID_TOKEN=$(gcloud auth print-identity-token)

The mix: single predictions of penguins drawn from the Palmer Penguins data (a real row, measurements
jittered by a few percent), small batches, GET /health, and a share of invalid bodies that must get their
4xx. Set ID_TOKEN for a private function.

Without a profile the run takes --users and --run-time, and fails (exit code 1) when more than
LOAD_MAX_FAILURE_RATIO (default 0.01) of requests failed or p95 exceeds LOAD_P95_MS (default 1000).

LOAD_PROFILE=baseline|normal|stress|spike runs that profile's load shape instead (PROFILES below): phases
of users over time, the first a warm-up whose requests are left out of the figures. At the end it prints
a table per phase (requests/s, p50/p95/p99, failures) and fails when any measured phase breaks the
profile's thresholds (LOAD_MAX_FAILURE_RATIO, LOAD_P95_MS and LOAD_P99_MS override them).
LOAD_TIME_SCALE (default 1) multiplies every phase's length, down to MIN_PHASE_SECONDS: CI runs the spike
at 0.05. LOAD_REPORT_JSON names a file to write the phase figures and the verdict to.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gevent
from locust import FastHttpUser, LoadTestShape, between, events, task

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
    # Found, not imported: importing palmerpenguins imports pandas, seconds on a busy machine.
    spec = importlib.util.find_spec("palmerpenguins")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("locustfile.py needs palmerpenguins: run `make venv`, then use .venv/bin/locust")
    path = Path(spec.submodule_search_locations[0]) / "data" / "penguins.csv"
    with open(path, newline="") as f:
        return [row for row in csv.DictReader(f) if all(row[m] not in ("", "NA") for m in MEASUREMENTS)]


ROWS = _load_rows()
# Locust's --run-time timer counts from the event loop's cached clock, which stood still while Locust and
# this file were imported: on a busy machine that took over 3 s and a 3 s run ended at once. Catch it up.
gevent.get_hub().loop.update_now()


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


# --- load profiles: phases of users over time, each profile with its own pass thresholds ---

MIN_PHASE_SECONDS = 2.0  # Locust's shape runner looks at the schedule once a second: shorter phases blur
SPAWN_AT_ONCE = 100.0  # users/s for a phase that jumps to its user count (Locust warns above 100)


@dataclass(frozen=True)
class Phase:
    """A stretch of the run at one user count; a ramp reaches `users` evenly over the phase."""

    name: str
    seconds: float
    users: int
    ramp: bool = False
    measured: bool = True  # False for the warm-up: its requests are left out of the figures and the verdict


@dataclass(frozen=True)
class Thresholds:
    """What every measured phase of a profile must stay within."""

    max_failure_ratio: float
    p95_ms: float
    p99_ms: float

    def overridden(self) -> Thresholds:
        """These thresholds with LOAD_MAX_FAILURE_RATIO, LOAD_P95_MS and LOAD_P99_MS applied where set."""
        return Thresholds(
            float(os.environ.get("LOAD_MAX_FAILURE_RATIO", self.max_failure_ratio)),
            float(os.environ.get("LOAD_P95_MS", self.p95_ms)),
            float(os.environ.get("LOAD_P99_MS", self.p99_ms)),
        )


@dataclass
class PhaseFigures:
    """What one phase saw: its requests' response times and failures, and how long it lasted."""

    phase: Phase
    users: int
    started: float
    ended: float | None = None
    response_times_ms: list[float] = field(default_factory=list)
    failures: int = 0

    def summary(self) -> dict:
        """The phase's figures: requests/s, p50/p95/p99 in ms, failures."""
        times = sorted(self.response_times_ms)
        seconds = max((self.ended or time.monotonic()) - self.started, 1e-9)
        return {
            "phase": self.phase.name,
            "measured": self.phase.measured,
            "users": self.users,
            "seconds": round(seconds, 1),
            "requests": len(times),
            "rps": round(len(times) / seconds, 1),
            "p50_ms": _percentile(times, 0.50),
            "p95_ms": _percentile(times, 0.95),
            "p99_ms": _percentile(times, 0.99),
            "failures": self.failures,
            "failure_ratio": round(self.failures / len(times), 4) if times else 0.0,
        }


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    return round(sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)], 1)


class ProfileShape(LoadTestShape):
    """Runs `phases` in order (lengths times LOAD_TIME_SCALE) and files every request under its phase."""

    abstract = True  # Locust runs the one concrete shape: the profile LOAD_PROFILE chose (see the end)
    phases: tuple[Phase, ...] = ()
    thresholds = Thresholds(0.01, 1000, 2000)

    def __init__(self) -> None:
        super().__init__()
        scale = float(os.environ.get("LOAD_TIME_SCALE", "1"))
        self.scheduled = [(p, max(MIN_PHASE_SECONDS, p.seconds * scale)) for p in self.phases]
        self.figures: list[PhaseFigures] = []
        self.finished = False

    def tick(self) -> tuple[int, float] | None:
        run_time, previous_users, ends_at = self.get_run_time(), 0, 0.0
        for index, (phase, seconds) in enumerate(self.scheduled):
            ends_at += seconds
            if run_time < ends_at:
                if len(self.figures) <= index:  # entering the phase: from now on its requests are its own
                    self._enter(phase)
                rate = abs(phase.users - previous_users) / seconds if phase.ramp else SPAWN_AT_ONCE
                return phase.users, max(rate, 0.1)
            previous_users = phase.users
        self._finish()
        return None

    def _enter(self, phase: Phase) -> None:
        now = time.monotonic()
        if self.figures:
            self.figures[-1].ended = now
        self.figures.append(PhaseFigures(phase, phase.users, now))

    def _finish(self) -> None:
        if self.figures and not self.finished:
            self.figures[-1].ended = time.monotonic()
        self.finished = True

    def record(self, response_time_ms: float, failed: bool) -> None:
        """File one finished request under the current phase (none before the first or after the last)."""
        if self.figures and not self.finished:
            current = self.figures[-1]
            current.response_times_ms.append(response_time_ms)
            current.failures += failed


class Baseline(ProfileShape):
    """One user for a minute: the latency of an unloaded function."""

    phases = (Phase("warm-up", 10, 1, measured=False), Phase("steady", 60, 1))
    thresholds = Thresholds(0.01, 100, 250)


class Normal(ProfileShape):
    """Ten users for five minutes: everyday traffic."""

    phases = (Phase("warm-up", 20, 10, ramp=True, measured=False), Phase("steady", 300, 10))
    thresholds = Thresholds(0.01, 250, 500)


class Stress(ProfileShape):
    """Fifty users for two minutes: more than one instance's worth."""

    phases = (Phase("warm-up", 20, 50, ramp=True, measured=False), Phase("steady", 120, 50))
    thresholds = Thresholds(0.01, 1000, 2000)


class Spike(ProfileShape):
    """From one user to a hundred within a minute, a while at a hundred, then back to one."""

    phases = (
        Phase("warm-up", 10, 1, measured=False),
        Phase("ramp to 100", 60, 100, ramp=True),
        Phase("at 100", 30, 100),
        Phase("recovery", 20, 1),
    )
    thresholds = Thresholds(0.01, 2000, 4000)


PROFILES: dict[str, type[ProfileShape]] = {"baseline": Baseline, "normal": Normal, "stress": Stress, "spike": Spike}
PROFILE = os.environ.get("LOAD_PROFILE", "").strip().lower()
if PROFILE and PROFILE not in PROFILES:
    raise SystemExit(f"LOAD_PROFILE must be one of {', '.join(PROFILES)}; got {PROFILE!r}")
for _name, _shape in PROFILES.items():
    _shape.abstract = _name != PROFILE  # Locust runs the concrete shapes: the chosen one, or none


_shapes: list[ProfileShape] = []  # the running profile's shape, once Locust has set up its environment


@events.init.add_listener
def _find_shape(environment, **_kwargs) -> None:
    if isinstance(environment.shape_class, ProfileShape):
        _shapes.append(environment.shape_class)


@events.request.add_listener
def _file_under_phase(response_time, exception, **_kwargs) -> None:
    for shape in _shapes:
        shape.record(response_time, exception is not None)


def phase_verdict(rows: list[dict], thresholds: Thresholds) -> list[str]:
    """Why the measured phases fail their thresholds: one sentence per breach; empty when they pass."""
    problems = []
    for row in (r for r in rows if r["measured"]):
        if row["requests"] == 0:
            problems.append(f"{row['phase']}: no requests")
            continue
        if row["failure_ratio"] > thresholds.max_failure_ratio:
            problems.append(
                f"{row['phase']}: {row['failure_ratio']:.2%} failed (allowed {thresholds.max_failure_ratio:.2%})"
            )
        for name, limit in (("p95_ms", thresholds.p95_ms), ("p99_ms", thresholds.p99_ms)):
            if row[name] > limit:
                problems.append(f"{row['phase']}: {name[:3]} {row[name]:.0f} ms (limit {limit:.0f} ms)")
    return problems


def phase_table(rows: list[dict]) -> str:
    """The per-phase figures as a markdown table; the warm-up marked as left out."""
    lines = [
        "| phase | users | s | requests | req/s | p50 ms | p95 ms | p99 ms | failures |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = r["phase"] if r["measured"] else f"{r['phase']} (not counted)"
        lines.append(
            f"| {name} | {r['users']} | {r['seconds']} | {r['requests']} | {r['rps']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['p99_ms']} | {r['failures']} ({r['failure_ratio']:.2%}) |"
        )
    return "\n".join(lines)


def _profile_verdict(environment, shape: ProfileShape) -> None:
    shape._finish()
    rows = [figures.summary() for figures in shape.figures]
    thresholds = shape.thresholds.overridden()
    problems = phase_verdict(rows, thresholds)
    if len(rows) < len(shape.scheduled):
        problems.append(f"the run stopped after {len(rows)} of {len(shape.scheduled)} phases")
    print(f"\nload profile {PROFILE}: {', '.join(f'{p.name} {s:g} s' for p, s in shape.scheduled)}")
    print(phase_table(rows))
    print(
        f"thresholds per measured phase: failures <= {thresholds.max_failure_ratio:.2%}, "
        f"p95 <= {thresholds.p95_ms:g} ms, p99 <= {thresholds.p99_ms:g} ms"
    )
    for problem in problems:
        print(f"  breach: {problem}")
    print(f"load verdict: {'FAIL' if problems else 'PASS'}")
    if problems:
        environment.process_exit_code = 1
    report = os.environ.get("LOAD_REPORT_JSON")
    if report:
        Path(report).write_text(
            json.dumps({"profile": PROFILE, "thresholds": asdict(thresholds), "phases": rows, "breaches": problems})
        )


@events.quitting.add_listener
def _verdict(environment, **_kwargs) -> None:
    """Exit code 1 when too many requests failed or p95 is too slow; print a short summary."""
    if isinstance(environment.shape_class, ProfileShape):
        _profile_verdict(environment, environment.shape_class)
        return
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
