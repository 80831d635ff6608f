"""Locust against the real local function: the locustfile's checks pass with no failed request."""

from __future__ import annotations

import csv

import pytest

from run_load import run_locust


def aggregated(csv_prefix) -> dict:
    with open(f"{csv_prefix}_stats.csv", newline="") as f:
        return next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")


@pytest.mark.slow
def test_locust_mix_has_no_failed_request(start_server, tmp_path, long_run):
    server = start_server()
    users, run_time = (50, "60s") if long_run else (20, "15s")
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
