"""The in-process benchmark scripts `make bench` runs still run and report what they say (not how fast)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.paths import ROOT


def run(module: str, count: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", f"tools.bench.{module}", str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_inprocess_latency_reports_percentiles_of_a_request_and_of_the_predictor():
    figures = run("inprocess_latency", 300)
    for part in ("request", "predictor"):
        assert 0 < figures[part]["p50_us"] <= figures[part]["p99_us"]
    assert figures["predictor"]["p50_us"] < figures["request"]["p50_us"]


def test_ablation_replaces_parts_that_exist_and_reports_each():
    figures = run("ablation", 300)  # exits non-zero when a part it replaces was renamed
    assert figures["floor_function_us"] > 0
    assert len(figures["costs_us"]) == 7
    assert all(isinstance(us, float) for us in figures["costs_us"].values())
