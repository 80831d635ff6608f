"""The promotion gate: publish and promote compare a candidate with the current model (fake-gcs-server)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from penguins.artifact import write_artifact
from penguins.features import encoding_description
from penguins.store import GcsLocation
from tests.support.paths import BUCKET, ROOT
from training.data import load_training_data
from training.gate import (
    ACCURACY_TOLERANCE,
    LOG_LOSS_TOLERANCE,
    MACRO_F1_TOLERANCE,
    REFUSED,
    compare,
    format_comparison,
    golden_penguins,
    read_unchecked_dir,
    unchecked_artifact,
)
from training.model import fit, model_bytes
from training.publish import GateRefused, promote, publish
from training.train import train

URI = f"gs://{BUCKET}/penguins"
LOCATION = GcsLocation.parse(URI)
FORMAT_KEYS = ("schema_version", "model_file", "model_format", "model_sha256", "classes", *encoding_description())


@pytest.fixture(scope="module")
def weak_artifact(tmp_path_factory):
    """The small model deliberately weakened: three boosting rounds instead of ten, same data and evaluation."""
    out = tmp_path_factory.mktemp("weak-model")
    return out, train(str(out), seed=7, n_repeats=1, num_rounds=3)


@pytest.fixture(scope="module")
def mislabelled_artifact(small_artifact, tmp_path_factory):
    """The small model's manifest (so the same metrics), with a model that learned female Gentoos as Adelies."""
    _, source = small_artifact
    data = load_training_data()
    y = data.y.copy()
    y[(data.frame["species"] == "Gentoo").to_numpy() & (data.frame["sex"] == "female").to_numpy()] = 0
    booster = fit(data.X, y, seed=7, num_rounds=10)
    metadata = {key: value for key, value in source.manifest.items() if key not in FORMAT_KEYS}
    out = tmp_path_factory.mktemp("mislabelled-model")
    return out, write_artifact(str(out), model_bytes(booster), metadata)


def pointer_document(gcs) -> dict:
    return json.loads(gcs.client.bucket(BUCKET).blob(LOCATION.pointer).download_as_bytes())


def uploaded_versions(gcs) -> set[str]:
    return {blob.name.split("/")[2] for blob in gcs.client.list_blobs(BUCKET, prefix=LOCATION.artifacts)}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "training", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def with_manifest(artifact, **changes):
    """The same model file under a manifest with some fields changed (the model still matches its sha256)."""
    manifest = {**artifact.manifest, **changes}
    return unchecked_artifact((json.dumps(manifest, indent=2) + "\n").encode(), artifact.model_bytes)


def with_metric(artifact, name: str, delta: float):
    metrics = json.loads(json.dumps(artifact.manifest["metrics"]))
    metrics[name]["mean"] = round(metrics[name]["mean"] + delta, 4)
    return with_manifest(artifact, metrics=metrics)


# Through publish and promote, against a real GCS-compatible server


def test_first_publish_has_nothing_to_compare_with(gcs, small_artifact):
    version = publish(str(small_artifact[0]), URI, gcs.client)
    pointer = pointer_document(gcs)
    assert pointer["version"] == version and pointer["forced"] is False
    assert pointer["gate"]["compared_with"] is None and "first model" in pointer["gate"]["result"]


def test_a_better_model_passes_a_weakened_one_is_refused_and_force_publishes_it_on_the_record(
    gcs, small_artifact, weak_artifact
):
    weak = publish(str(weak_artifact[0]), URI, gcs.client)
    shown = []
    better = publish(str(small_artifact[0]), URI, gcs.client, report=shown.append)
    assert pointer_document(gcs)["gate"] == {
        "compared_with": weak,
        "result": "passed",
        "forced": False,
        "refusals": [],
    }
    assert "the candidate passes the gate" in shown[0]

    # Weakened again: refused, with the table, and nothing changes in the bucket.
    before = {b.name: b.generation for b in gcs.client.list_blobs(BUCKET)}
    refused = cli("publish", str(weak_artifact[0]), URI)
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"refused {weak} as a replacement for {better}" in refused.stderr
    assert [line for line in refused.stderr.splitlines() if line.startswith("log loss") and line.endswith(REFUSED)]
    assert "--force" in refused.stderr
    assert {b.name: b.generation for b in gcs.client.list_blobs(BUCKET)} == before

    forced = cli("publish", str(weak_artifact[0]), URI, "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.strip() == weak and "published anyway: --force" in forced.stderr
    pointer = pointer_document(gcs)
    assert pointer["version"] == weak and pointer["previous_version"] == better and pointer["forced"] is True
    assert pointer["gate"]["result"] == "refused, made current with --force"
    assert any(reason.startswith("log loss") for reason in pointer["gate"]["refusals"])


def test_promote_is_gated_too(gcs, small_artifact, weak_artifact):
    weak = publish(str(weak_artifact[0]), URI, gcs.client)
    better = publish(str(small_artifact[0]), URI, gcs.client)
    with pytest.raises(GateRefused, match="log loss"):
        promote(URI, weak, gcs.client)
    assert pointer_document(gcs)["version"] == better
    promote(URI, weak, gcs.client, force=True)
    assert pointer_document(gcs)["version"] == weak and pointer_document(gcs)["forced"] is True
    promote(URI, better, gcs.client)  # the way back passes
    assert pointer_document(gcs)["version"] == better and pointer_document(gcs)["forced"] is False


def test_a_refused_candidate_is_not_uploaded(gcs, small_artifact, weak_artifact):
    better = publish(str(small_artifact[0]), URI, gcs.client)
    with pytest.raises(GateRefused):
        publish(str(weak_artifact[0]), URI, gcs.client)
    assert uploaded_versions(gcs) == {better}


def test_compare_prints_the_table_for_local_and_gs_artifacts(gcs, small_artifact, weak_artifact):
    better = publish(str(small_artifact[0]), URI, gcs.client)
    local = cli("compare", str(small_artifact[0]), str(weak_artifact[0]))
    from_bucket = cli("compare", URI, str(weak_artifact[0]))
    by_version = cli("compare", f"{URI}/artifacts/{better}", str(weak_artifact[0]))
    assert local.returncode == from_bucket.returncode == by_version.returncode == 3, local.stderr + from_bucket.stderr
    assert local.stdout == from_bucket.stdout == by_version.stdout
    assert local.stdout.splitlines()[0].split() == [
        "check",
        "current",
        better,
        "candidate",
        weak_artifact[1].version,
        "difference",
        "allowed",
        "verdict",
    ]
    passing = cli("compare", str(weak_artifact[0]), URI)
    assert passing.returncode == 0 and passing.stdout.endswith("the candidate passes the gate\n")
    missing = cli("compare", f"gs://{BUCKET}/elsewhere", URI)
    assert missing.returncode == 1 and "nothing is published there" in missing.stderr


# The checks themselves


@pytest.mark.parametrize(
    "metric, delta, refused",
    [
        ("accuracy", -ACCURACY_TOLERANCE + 0.001, False),
        ("accuracy", -ACCURACY_TOLERANCE - 0.001, True),
        ("accuracy", +0.01, False),
        ("macro_f1", -MACRO_F1_TOLERANCE + 0.001, False),
        ("macro_f1", -MACRO_F1_TOLERANCE - 0.001, True),
        ("log_loss", +LOG_LOSS_TOLERANCE - 0.001, False),
        ("log_loss", +LOG_LOSS_TOLERANCE + 0.001, True),
        ("log_loss", -0.02, False),
    ],
)
def test_metric_tolerances(small_artifact, metric, delta, refused):
    current = read_unchecked_dir(str(small_artifact[0]))
    comparison = compare(current, with_metric(current, metric, delta))
    assert comparison.refused is refused
    assert [
        check.name.split(" (")[0].replace(" ", "_").lower() for check in comparison.checks if check.verdict == REFUSED
    ] == ([metric] if refused else [])


def test_metrics_from_other_training_data_are_shown_not_compared(small_artifact):
    current = read_unchecked_dir(str(small_artifact[0]))
    other_data = with_manifest(
        with_metric(current, "log_loss", 0.5), training_data={**current.manifest["training_data"], "sha256": "f" * 64}
    )
    comparison = compare(current, other_data)
    assert not comparison.refused
    assert "log loss (CV mean)" not in format_comparison(comparison)


@pytest.mark.parametrize(
    "changes",
    [
        {"encoding_version": 2},
        {"categories": {"sex": ["male", "female"], "island": ["Biscoe", "Dream", "Torgersen"]}},
        {"classes": ["Gentoo", "Chinstrap", "Adelie"]},
    ],
)
def test_a_candidate_on_another_encoding_is_refused(small_artifact, changes):
    current = read_unchecked_dir(str(small_artifact[0]))
    comparison = compare(with_manifest(current, **changes), current)
    [encoding] = [check for check in comparison.checks if check.name == "encoding"]
    assert encoding.verdict == REFUSED and set(encoding.difference.split(", ")) == set(changes)
    assert comparison.refused


def test_a_candidate_newly_wrong_on_golden_birds_is_refused_even_with_the_same_metrics(
    small_artifact, mislabelled_artifact
):
    current = read_unchecked_dir(str(small_artifact[0]))
    candidate = read_unchecked_dir(str(mislabelled_artifact[0]))
    comparison = compare(current, candidate)
    golden = {bird["row"]: bird for bird in golden_penguins()}
    newly_wrong = [d for d in comparison.golden_differences if d["current"] == d["species"]]
    assert newly_wrong and all(
        golden[d["row"]]["species"] == "Gentoo" and golden[d["row"]]["penguin"]["sex"] == "female" for d in newly_wrong
    )
    assert comparison.reasons == [
        f"golden birds newly wrong {len(newly_wrong)} ("
        + ", ".join(f"row {d['row']}" for d in newly_wrong)
        + "), allowed 0"
    ]
    for d in newly_wrong:
        assert f"golden row {d['row']} (Gentoo): current Gentoo, candidate Adelie" in format_comparison(comparison)


def test_an_identical_artifact_passes_with_no_golden_changes(small_artifact):
    current = read_unchecked_dir(str(small_artifact[0]))
    comparison = compare(current, current)
    assert not comparison.refused and comparison.golden_differences == []
