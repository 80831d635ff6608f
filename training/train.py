"""One training run: evaluate, fit on everything, write the artifact, the model card and the picture."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from importlib.metadata import version as package_version

import xgboost

from penguins.artifact import Artifact, write_artifact
from penguins.domain import MEASUREMENTS, SPECIES

from .data import load_training_data, training_ranges
from .evaluate import cross_validate
from .model import NUM_ROUNDS, PARAMS, fit, model_bytes, predict_proba
from .profile import reference_profile
from .report import write_confusion_matrix_png, write_model_card, write_reliability_png
from .typicality import fit_typicality


def train(out_dir: str, seed: int = 0, n_repeats: int = 5, num_rounds: int = NUM_ROUNDS) -> Artifact:
    """Train and write a complete artifact into out_dir."""
    data = load_training_data()
    metrics = cross_validate(data.X, data.y, seed, n_repeats=n_repeats, num_rounds=num_rounds)
    reliability = metrics.pop("reliability")
    booster = fit(data.X, data.y, seed, num_rounds=num_rounds)
    species_counts = data.frame["species"].value_counts()
    metadata = {
        "training_ranges": training_ranges(data),
        "typicality": fit_typicality(data.X[:, : len(MEASUREMENTS)], data.y, seed),
        "reference_profile": reference_profile(data.frame, predict_proba(booster, data.X)),
        "metrics": metrics,
        "xgboost_version": xgboost.__version__,
        "params": PARAMS,
        "num_rounds": num_rounds,
        "seed": seed,
        "training_data": {
            "source": f"palmerpenguins {package_version('palmerpenguins')}",
            "rows": int(len(data.frame)),
            "rows_sex_unknown": int(data.frame["sex"].isna().sum()),
            "species_counts": {name: int(species_counts.get(name, 0)) for name in SPECIES},
            "sha256": data.sha256,
        },
        "created_at": _created_at(),
    }
    artifact = write_artifact(out_dir, model_bytes(booster), metadata)
    write_model_card(artifact.manifest, artifact.version, out_dir)
    write_confusion_matrix_png(metrics, out_dir)
    write_reliability_png(reliability, metrics, out_dir)
    return artifact


def _created_at() -> str:
    # SOURCE_DATE_EPOCH (the reproducible-builds convention) pins the timestamp when set.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch) if epoch else time.time(), timezone.utc)
    return moment.isoformat(timespec="seconds")
