"""Monitoring as code: monitoring/'s definitions held to the function's real log lines, and applied by deploy.sh.

The metrics' filters and extractors are evaluated (tests/support/cloud_logging.py) on the lines a real
functions-framework server writes, turned into the LogEntry Cloud Run stores; deploy.sh's monitoring step
runs the real gcloud against tests/support/fake_gcp.py, which records the bodies it sends.
"""

from __future__ import annotations

import re

import pytest

from tests.support.cloud_logging import as_log_entry, extract, matches
from tests.support.deploy import (
    ALERTS,
    DASHBOARD,
    METRICS,
    MONITORING,
    PLACEHOLDER,
    assert_applied_from_scratch,
    deploy,
    filled,
    needs_gcloud,
    recorded_env,
    thresholds,
    without_thresholds,
)
from tests.support.paths import BUNDLED_MODEL, ROOT
from tools.examples import ADELIE, SEED_EXAMPLES, random_penguins

PROJECT, FUNCTION = "test-project", "penguin-species"


def test_every_placeholder_is_a_known_value_and_every_threshold_is_documented():
    known = {*thresholds(), "PROJECT", "FUNCTION_NAME", "NOTIFICATION_CHANNELS"}
    for path in [*METRICS, *ALERTS, DASHBOARD]:
        assert set(PLACEHOLDER.findall(path.read_text())) <= known, path.name
    text = (MONITORING / "thresholds.env").read_text()
    for name in thresholds():
        before = text.split(f"\n{name}=")[0].rstrip().splitlines()
        assert before[-1].startswith("#") or before[-1].split("=")[0].isupper(), f"{name} has no comment"
    docs = (ROOT / "docs" / "monitoring.md").read_text()
    assert [name for name in thresholds() if name not in docs] == []


def test_alerts_and_the_dashboard_read_only_metrics_that_exist():
    user_metrics = {filled(path)["name"] for path in METRICS}
    for path in [*ALERTS, DASHBOARD]:
        used = set(re.findall(r"logging\.googleapis\.com/user/([\w-]+)", str(filled(path))))
        assert used <= user_metrics, path.name
    assert {"penguin-species_predictions", "penguin-species_low_confidence"} <= user_metrics


# --- the metrics against the function's own log lines ---


def low_confidence_penguin() -> dict:
    """A penguin the bundled model answers with a top probability below LOW_CONFIDENCE."""
    from penguins.model_cache import load_served_model
    from penguins.service import predict
    from penguins.validation import PENGUIN

    model = load_served_model(str(BUNDLED_MODEL))
    low = float(thresholds()["LOW_CONFIDENCE"])
    for penguin in random_penguins(500, seed=5):
        if max(predict(model, [PENGUIN.validate_python(penguin)])[0]["probabilities"].values()) < low:
            return penguin
    raise AssertionError("no low-confidence penguin among 500: pick another seed")


@pytest.fixture(scope="module")
def entries(tmp_path_factory) -> list[dict]:
    """The LogEntries of a real server's lines: singles, a warning, a low-confidence answer, a batch, errors."""
    from tests.support.servers import Server

    server = Server({}, tmp_path_factory.mktemp("monitored") / "server.log")
    try:
        server.wait_listening()
        for penguin in [*SEED_EXAMPLES.values(), {**ADELIE, "body_mass_g": 6900}, low_confidence_penguin()]:
            assert server.post_json("/predict", penguin)[0] == 200
        assert server.post_json("/predict", {"instances": random_penguins(30, seed=1)})[0] == 200
        assert server.post_json("/predict", {**ADELIE, "island": "Mars"})[0] == 422
        assert server.request("GET", "/health")[0] == 200
        lines = server.log_lines()
    finally:
        server.stop()
    ours = [as_log_entry(line, PROJECT, FUNCTION, f"{FUNCTION}-00001-abc") for line in lines]
    another = [as_log_entry(line, PROJECT, "another-service", "another-service-00001-xyz") for line in lines]
    return ours + another


def our_lines(entries: list[dict], has: str) -> list[dict]:
    return [e for e in entries if e["resource"]["labels"]["service_name"] == FUNCTION and has in e["jsonPayload"]]


def matched(metric: dict, entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if matches(metric["filter"], entry)]


def test_the_predictions_metric_counts_each_single_prediction_with_its_labels(entries):
    metric = filled(MONITORING / "metrics" / "predictions.yaml")
    singles = our_lines(entries, "predicted_class")
    assert len(singles) == 5 and matched(metric, entries) == singles  # not the batch, the errors, other services
    labels = [{key: extract(ex, entry) for key, ex in metric["labelExtractors"].items()} for entry in singles]
    assert [label["predicted_class"] for label in labels[:3]] == list(SEED_EXAMPLES)
    assert {label["format"] for label in labels} == {"json"}
    assert all(len(label["model_version"]) == 12 for label in labels)
    assert {d["key"] for d in metric["metricDescriptor"]["labels"]} == set(metric["labelExtractors"])


def test_the_confidence_distribution_takes_each_answers_top_probability(entries):
    metric = filled(MONITORING / "metrics" / "confidence.yaml")
    singles = our_lines(entries, "predicted_class")
    assert matched(metric, entries) == singles
    values = [extract(metric["valueExtractor"], entry) for entry in singles]
    assert all(isinstance(v, float) and 1 / 3 <= v <= 1 for v in values)
    from penguins.service import CONFIDENCE_BIN_EDGES

    assert metric["bucketOptions"]["explicitBuckets"]["bounds"] == list(CONFIDENCE_BIN_EDGES)


def test_the_low_confidence_and_warnings_metrics_pick_out_their_lines(entries):
    low = filled(MONITORING / "metrics" / "low_confidence.yaml")
    threshold = float(thresholds()["LOW_CONFIDENCE"])
    expected_low = [e for e in our_lines(entries, "predicted_class") if e["jsonPayload"]["confidence"] < threshold]
    assert len(expected_low) == 1 and matched(low, entries) == expected_low
    warned = filled(MONITORING / "metrics" / "warnings.yaml")
    with_warnings = [e for e in our_lines(entries, "warnings") if e["jsonPayload"]["warnings"] > 0]
    assert len(with_warnings) >= 2  # the heavy Adelie, the odd penguin (and the batch, if any of its rows)
    assert matched(warned, entries) == with_warnings


def test_the_batch_rows_metric_takes_the_rows_of_many_row_lines(entries):
    metric = filled(MONITORING / "metrics" / "batch_rows.yaml")
    [batch] = matched(metric, entries)
    assert extract(metric["valueExtractor"], batch) == 30 == sum(batch["jsonPayload"]["predicted_classes"].values())
    assert extract(metric["labelExtractors"]["format"], batch) == "json"


# --- deploy.sh applies them with the real gcloud ---


def test_dry_run_shows_the_thresholds_and_definitions_and_runs_no_gcloud(recording_path):  # noqa: F811
    bin_dir, log = recording_path
    env = without_thresholds(recorded_env(bin_dir)) | {"LATENCY_P95_MAX_MS": "750"}
    result = deploy("--dry-run", "--project", "project-one", "--alert-email", "ops@example.com", env=env)
    assert result.returncode == 0, result.stderr
    assert not log.exists(), log.read_text()
    out = result.stdout
    for name, default in thresholds().items():
        assert f"  {name}={'750' if name == 'LATENCY_P95_MAX_MS' else default}\n" in out
    assert "thresholdValue: 750" in out and "penguin-species_predictions" in out
    assert out.count("+ gcloud logging metrics create") == len(METRICS)
    assert out.count("+ gcloud alpha monitoring policies create") == len(ALERTS) - 1  # no-traffic: off by default
    assert "+ gcloud monitoring dashboards create" in out and "channels create" in out


@needs_gcloud
@pytest.mark.long_only  # in make test, the first deploy of test_deploy.py applies monitoring from scratch
def test_monitoring_is_created_then_updated_in_place_with_the_committed_definitions(cloud):  # noqa: F811
    fake, env = cloud("http://127.0.0.1:9")  # no function is called by --monitoring-only
    env = without_thresholds(env)
    args = ("--monitoring-only", "--project", PROJECT)
    first = deploy(*args, "--alert-email", "ops@example.com", env=env, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    channels = assert_applied_from_scratch(fake)

    # Again, with a threshold changed and the no-traffic alert switched on: updates, one new policy, no duplicates.
    before = len(fake.calls)
    env = {**env, "ERROR_RATE_MAX": "0.02", "NO_TRAFFIC_PERIOD": "3600s"}
    second = deploy(*args, "--alert-email", "ops@example.com", env=env, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    rerun = fake.calls[before:]
    assert [c.path for c in rerun if c.method == "POST"] == [f"/v3/projects/{PROJECT}/alertPolicies"]  # no_traffic
    assert len(fake.log_metrics) == len(METRICS) and len(fake.alert_policies) == len(ALERTS)
    assert len(fake.dashboards) == 1 and len(fake.notification_channels) == 1
    updated = {c.path.rsplit("/", 1)[1]: c.body for c in rerun if c.method == "PUT"}
    assert updated == {filled(path)["name"]: filled(path) for path in METRICS}
    by_name = {p["displayName"]: p for p in fake.alert_policies.values()}
    overrides = {"ERROR_RATE_MAX": "0.02", "NO_TRAFFIC_PERIOD": "3600s"}
    for path in ALERTS:
        expected = filled(path, channels, **overrides)
        stored = {k: v for k, v in by_name[expected["displayName"]].items() if k != "name"}
        assert stored == expected, path.name
    assert by_name[f"{FUNCTION} 5xx share"]["conditions"][0]["conditionThreshold"]["thresholdValue"] == 0.02
    assert len([c for c in rerun if c.method == "PATCH" and "/dashboards/" in c.path]) == 1
