"""One training run: evaluate, fit on everything, write the artifact, the model card and the pictures.

Nothing time-dependent goes into the artifact: the same code, data and seed give the same bytes, and so
the same version. When a model went live is recorded in the bucket's pointer (training/publish.py).
"""

from __future__ import annotations

from importlib.metadata import version as package_version

import xgboost

from penguins.domain import MEASUREMENTS, SPECIES
from penguins.model.artifact import Artifact, write_artifact

from .data import load_training_data, training_ranges
from .evaluate import evaluate
from .model import NUM_ROUNDS, PARAMS, fit, model_bytes, predict_proba
from .profile import reference_profile
from .report import write_confusion_matrix_png, write_model_card, write_reliability_png
from .typicality import fit_typicality


def train(out_dir: str, seed: int = 0, n_repeats: int = 5, num_rounds: int = NUM_ROUNDS) -> Artifact:
    """Train and write a complete artifact into out_dir."""
    data = load_training_data()
    evaluation = evaluate(data, seed, n_repeats=n_repeats, num_rounds=num_rounds)
    metrics = evaluation.metrics
    reliability = metrics.pop("reliability")
    booster = fit(data.X, data.y, seed, num_rounds=num_rounds)
    species_counts = data.frame["species"].value_counts()
    metadata = {
        "training_ranges": training_ranges(data),
        "typicality": fit_typicality(data.X[:, : len(MEASUREMENTS)], data.y, seed),
        "reference_profile": reference_profile(data.frame, predict_proba(booster, data.X)),
        "metrics": metrics,
        "baseline": evaluation.baseline,
        "hardest_penguins": evaluation.hardest_penguins,
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
    }
    artifact = write_artifact(out_dir, model_bytes(booster), metadata)
    write_model_card(artifact.manifest, artifact.version, out_dir)
    write_confusion_matrix_png(metrics, out_dir)
    write_reliability_png(reliability, metrics, out_dir)
    return artifact
