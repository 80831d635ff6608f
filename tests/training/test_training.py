"""Training: deterministic, reproduces the bundled model, writes a complete artifact, and round-trips into serving."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from penguins.artifact import read_artifact_dir, sha256_hex
from tests.support.paths import BUNDLED_MODEL, ROOT
from training.data import load_training_data
from training.model import PARAMS, fit, model_bytes, predict_proba
from training.report import model_card
from training.train import train


@pytest.fixture(scope="module")
def data():
    return load_training_data()


def test_same_seed_gives_a_byte_identical_model_file(data):
    assert model_bytes(fit(data.X, data.y, seed=3)) == model_bytes(fit(data.X, data.y, seed=3))


def test_bundled_model_is_what_the_committed_training_code_produces(data):
    bundled = read_artifact_dir(str(BUNDLED_MODEL))
    manifest = bundled.manifest
    assert manifest["params"] == PARAMS
    assert manifest["training_data"]["sha256"] == data.sha256
    retrained = model_bytes(fit(data.X, data.y, seed=manifest["seed"], num_rounds=manifest["num_rounds"]))
    assert sha256_hex(retrained) == manifest["model_sha256"] == sha256_hex((BUNDLED_MODEL / "model.json").read_bytes())


def test_bundled_model_card_is_generated_from_the_manifest(data):
    bundled = read_artifact_dir(str(BUNDLED_MODEL))
    assert (BUNDLED_MODEL / "MODEL_CARD.md").read_text() == model_card(bundled.manifest, bundled.version)
    assert bundled.manifest["metrics"]["accuracy"]["mean"] >= 0.98
    assert bundled.manifest["training_data"]["rows"] == len(data.y) == 342


@pytest.mark.slow
def test_retraining_with_the_same_seed_gives_a_byte_identical_folder(tmp_path, long_run):
    # The long version retrains the bundled model itself: `make model` on a clean checkout changes nothing.
    size = {} if long_run else {"n_repeats": 1, "num_rounds": 10}
    first = train(str(tmp_path / "first"), seed=0, **size)
    second = train(str(tmp_path / "second"), seed=0, **size)
    folders = [tmp_path / "first", tmp_path / "second", *([BUNDLED_MODEL] if long_run else [])]
    names = sorted(p.name for p in folders[0].iterdir())
    assert names == ["MODEL_CARD.md", "confusion_matrix.png", "manifest.json", "model.json", "reliability.png"]
    for folder in folders[1:]:
        assert sorted(p.name for p in folder.iterdir()) == names
        for name in names:
            assert (folder / name).read_bytes() == (folders[0] / name).read_bytes(), name
    assert first.version == second.version
    other_seed = train(str(tmp_path / "other"), seed=1, **size)
    assert other_seed.version != first.version


def test_rows_with_unknown_sex_are_kept(data):
    assert data.frame["sex"].isna().sum() == 9
    assert np.isnan(data.X[:, 4]).sum() == 9


def test_cli_writes_a_complete_artifact(tmp_path):
    out = tmp_path / "artifact"
    result = subprocess.run(
        [sys.executable, "-m", "training", "train", "--out", str(out), "--seed", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    artifact = read_artifact_dir(str(out))
    assert f"wrote model {artifact.version}" in result.stdout
    manifest = artifact.manifest
    for key in (
        "schema_version",
        "features",
        "categories",
        "classes",
        "training_ranges",
        "metrics",
        "xgboost_version",
        "model_sha256",
        "training_data",
        "seed",
        "baseline",
        "hardest_penguins",
    ):
        assert key in manifest
    assert manifest["seed"] == 5
    metrics = manifest["metrics"]
    for key in (
        "accuracy",
        "macro_f1",
        "log_loss",
        "accuracy_sex_withheld",
        "confusion_matrix",
        "expected_calibration_error",
        "temperature_scaling",
    ):
        assert key in metrics
    assert 0 <= metrics["expected_calibration_error"] < 0.05
    assert manifest["typicality"]["threshold"] > 0
    assert sum(map(sum, metrics["confusion_matrix"]["counts"])) == 5 * 342  # every penguin once per repeat
    card = (out / "MODEL_CARD.md").read_text()
    assert f"{metrics['accuracy']['mean']:.4f} ± {metrics['accuracy']['std']:.4f}" in card
    for picture in ("confusion_matrix.png", "reliability.png"):
        assert (out / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{metrics['expected_calibration_error']:.4f}" in card


def test_cli_rejects_a_missing_out(tmp_path):
    result = subprocess.run([sys.executable, "-m", "training", "train"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "--out" in result.stderr


def test_round_trip_serving_answers_as_training_predicts(small_artifact, make_client, data):
    folder, artifact = small_artifact
    booster = fit(data.X, data.y, seed=artifact.manifest["seed"], num_rounds=artifact.manifest["num_rounds"])
    expected = predict_proba(booster, data.X)
    frame = data.frame
    instances = [
        {
            "bill_length_mm": r.bill_length_mm,
            "bill_depth_mm": r.bill_depth_mm,
            "flipper_length_mm": r.flipper_length_mm,
            "body_mass_g": r.body_mass_g,
            "island": r.island,
            "sex": None if not isinstance(r.sex, str) else r.sex,
        }
        for r in frame.itertuples(index=False)
    ]
    client = make_client(MODEL_URI=str(folder))
    response = client.post(
        "/predict", data=json.dumps({"instances": instances}), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["model_version"] == artifact.version
    served = np.array([[p["probabilities"][c] for c in ("Adelie", "Chinstrap", "Gentoo")] for p in body["predictions"]])
    np.testing.assert_allclose(served, expected, atol=1e-6)
    assert [p["prediction"] for p in body["predictions"]] == [
        artifact.manifest["classes"][i] for i in expected.argmax(1)
    ]
