"""The model card says what is known: intervals over birds, a baseline on the same splits, the hardest birds."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from palmerpenguins import load_penguins
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from penguins.artifact import read_artifact_dir
from penguins.domain import MEASUREMENTS
from tests.support.paths import BUNDLED_MODEL
from training.data import load_training_data
from training.evaluate import CALIBRATION_BINS, splits
from training.intervals import LEVEL, bird_bootstrap
from training.report import model_card

# Numbers the card's prose states as method, not result: its calibration bins, the typicality check's
# folds, the interval's level, the data's citation year.
PROSE_NUMBERS = {str(CALIBRATION_BINS), "5", f"{LEVEL:.0%}".rstrip("%"), "2014"}


def numbers_in(value, out: set[str]) -> set[str]:
    """Every way the card may print a number found in the manifest."""
    if isinstance(value, dict):
        for item in value.values():
            numbers_in(item, out)
    elif isinstance(value, list):
        for item in value:
            numbers_in(item, out)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int | float):
        out |= {f"{value:.4f}", f"{value:g}", f"{value:.2f}", f"{value * 100:.1f}", f"{value * 100:.0f}", str(value)}
    elif isinstance(value, str):
        out |= set(re.findall(r"\d+(?:\.\d+)*", value))
    return out


@pytest.mark.parametrize("which", ["bundled", "small"])
def test_every_figure_on_the_card_comes_from_the_manifest(which, small_artifact):
    artifact = read_artifact_dir(str(BUNDLED_MODEL)) if which == "bundled" else small_artifact[1]
    manifest = artifact.manifest
    card = model_card(manifest, artifact.version)
    for text in (artifact.version, manifest["training_data"]["sha256"], json.dumps(manifest["params"])):
        card = card.replace(text, "")
    allowed = numbers_in(manifest, set()) | PROSE_NUMBERS
    stated = set(re.findall(r"(?<![\w.])\d+(?:\.\d+)*", card))
    assert stated - allowed == set()
    metrics = manifest["metrics"]
    for name in ("accuracy", "macro_f1", "log_loss"):
        assert f"{metrics[name]['low']:.4f} – {metrics[name]['high']:.4f}" in card
        assert f"{manifest['baseline'][name]:.4f} |" in card
    for bird in manifest["hardest_penguins"]:
        assert f"| {bird['row']} | {bird['species']} | {bird['predicted']} | {bird['wrong']}/" in card


def test_the_card_changes_with_the_run(small_artifact):
    manifest = json.loads(json.dumps(small_artifact[1].manifest))
    manifest["metrics"]["accuracy"].update(low=0.1234, high=0.5678)
    manifest["hardest_penguins"] = manifest["hardest_penguins"][:1]
    card = model_card(manifest, "0" * 12)
    assert "0.1234 – 0.5678" in card
    assert len(re.findall(r"^\| \d+ \| (?:Adelie|Chinstrap|Gentoo) \|", card, flags=re.MULTILINE)) == 1


def test_the_hardest_birds_are_real_rows_with_their_measurements():
    manifest = read_artifact_dir(str(BUNDLED_MODEL)).manifest
    hardest = manifest["hardest_penguins"]
    raw = load_penguins()
    assert hardest and [b["wrong"] for b in hardest] == sorted((b["wrong"] for b in hardest), reverse=True)
    for bird in hardest:
        row = raw.loc[bird["row"]]
        assert row["species"] == bird["species"] != bird["predicted"] and row["island"] == bird["island"]
        assert [float(row[name]) for name in MEASUREMENTS] == [bird[name] for name in MEASUREMENTS]
    assert sum(b["wrong"] for b in hardest) <= manifest["metrics"]["wrong"]
    matrix = np.array(manifest["metrics"]["confusion_matrix"]["counts"])
    assert manifest["metrics"]["wrong"] == matrix.sum() - np.trace(matrix)


def test_the_baseline_is_scored_on_the_same_splits_as_the_model():
    manifest = read_artifact_dir(str(BUNDLED_MODEL)).manifest
    data = load_training_data()
    folds = splits(data.y, manifest["seed"], n_repeats=5)
    pipeline = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler(), LogisticRegression(max_iter=1000))
    accuracy = cross_val_score(pipeline, data.X, data.y, cv=folds, scoring="accuracy").mean()
    assert round(float(accuracy), 4) == manifest["baseline"]["accuracy"]


def synthetic(birds: int, wrong: int, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Confident predictions about `birds` birds of three classes, `wrong` of them wrong in every repeat."""
    y = np.arange(birds) % 3
    answered = y.copy()
    answered[:wrong] = (y[:wrong] + 1) % 3
    probabilities = np.full((repeats, birds, 3), 0.05)
    probabilities[:, np.arange(birds), answered] = 0.9
    return probabilities, y


def test_the_interval_reflects_the_birds_not_the_repeats():
    one, y = synthetic(342, 12, repeats=1)
    five, _ = synthetic(342, 12, repeats=5)
    single, repeated = bird_bootstrap(one, y, seed=0), bird_bootstrap(five, y, seed=0)
    assert single["accuracy"] == repeated["accuracy"]  # five copies of a prediction tell nothing new
    p = 1 - 12 / 342
    half_width = 1.96 * np.sqrt(p * (1 - p) / 342)  # the normal approximation for 342 independent birds
    interval = single["accuracy"]
    assert interval["out_of_fold"] == round(p, 4)
    assert interval["high"] - interval["low"] == pytest.approx(2 * half_width, rel=0.15)


def test_the_pooled_macro_f1_is_sklearns():
    rng = np.random.default_rng(3)
    probabilities = rng.dirichlet(np.ones(3), size=(5, 60))
    y = np.arange(60) % 3
    pooled = f1_score(np.tile(y, 5), probabilities.argmax(axis=2).ravel(), average="macro")
    assert bird_bootstrap(probabilities, y, seed=0)["macro_f1"]["out_of_fold"] == round(pooled, 4)
