"""Locust against the real local function: the locustfile's checks pass with no failed request."""

from __future__ import annotations

import csv
import json

import pytest

from tools.load import run_locust


def aggregated(csv_prefix) -> dict:
    with open(f"{csv_prefix}_stats.csv", newline="") as f:
        return next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")


@pytest.mark.slow
def test_locust_mix_has_no_failed_request(start_server, tmp_path, long_run):
    server = start_server()
    users, run_time = (50, "60s") if long_run else (20, "8s")
    prefix = tmp_path / "load"
    exit_code = run_locust(
        server.url, users, 20, run_time, tmp_path / "load.html", prefix, env={"LOAD_MAX_FAILURE_RATIO": "0"}
    )
    stats = aggregated(prefix)
    assert int(stats["Request Count"]) > 500
    assert int(stats["Failure Count"]) == 0
    assert exit_code == 0
    assert (tmp_path / "load.html").stat().st_size > 10_000


def test_locust_fails_the_run_when_requests_fail(start_server, tmp_path):
    # A function with no model answers 503 to predictions: the verdict must be a failing exit code.
    server = start_server(MODEL_URI=str(tmp_path / "no-model"), MODEL_FALLBACK="none")
    prefix = tmp_path / "load"
    exit_code = run_locust(server.url, 2, 2, "3s", None, prefix)
    assert int(aggregated(prefix)["Failure Count"]) > 0
    assert exit_code == 1


def run_profile(server_url: str, profile: str, report, **env: str) -> int:
    """One profile of locustfile.py at a twentieth of its length (each phase at least MIN_PHASE_SECONDS)."""
    env = {"LOAD_TIME_SCALE": "0.05", "LOAD_REPORT_JSON": str(report), **env}
    return run_locust(server_url, 0, 0, "", None, None, env=env, profile=profile, timeout_s=120)


def test_short_spike_passes_with_a_table_per_phase(start_server, tmp_path, capfd):
    server = start_server()
    report = tmp_path / "spike.json"
    exit_code = run_profile(server.url, "spike", report)
    result = json.loads(report.read_text())
    phases = {row["phase"]: row for row in result["phases"]}
    assert list(phases) == ["warm-up", "ramp to 100", "at 100", "recovery"]
    assert [row["measured"] for row in phases.values()] == [False, True, True, True]
    assert phases["at 100"]["users"] == 100 and phases["warm-up"]["users"] == 1
    for row in result["phases"]:
        assert row["requests"] > 0 and row["failures"] == 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    # A hundred users send more requests per second than one.
    assert phases["at 100"]["rps"] > 2 * phases["warm-up"]["rps"]
    assert result["breaches"] == [] and exit_code == 0
    out = capfd.readouterr().out
    assert "| warm-up (not counted) | 1 |" in out and "load verdict: PASS" in out


def test_a_profile_fails_when_a_measured_phase_breaks_a_latency_threshold(start_server, tmp_path):
    server = start_server()
    report = tmp_path / "baseline.json"
    # p95 held to a microsecond, p99 to a minute: the verdict names the one broken threshold.
    exit_code = run_profile(server.url, "baseline", report, LOAD_P95_MS="0.001", LOAD_P99_MS="60000")
    result = json.loads(report.read_text())
    assert result["thresholds"]["p95_ms"] == 0.001
    assert [breach.split(" ms")[0].rsplit(" ", 1)[0] for breach in result["breaches"]] == ["steady: p95"]
    assert exit_code == 1


def test_a_profile_counts_failed_requests_against_its_threshold(start_server, tmp_path):
    # No model: every prediction answers 503, so the measured phase fails on its failure ratio.
    server = start_server(MODEL_URI=str(tmp_path / "no-model"), MODEL_FALLBACK="none")
    report = tmp_path / "baseline.json"
    exit_code = run_profile(server.url, "baseline", report)
    [steady] = [row for row in json.loads(report.read_text())["phases"] if row["measured"]]
    assert steady["failures"] > 0
    assert exit_code == 1
