"""The human-readable side of an artifact: MODEL_CARD.md and a confusion-matrix picture."""

from __future__ import annotations

import json
import os

MODEL_CARD_FILE = "MODEL_CARD.md"
CONFUSION_MATRIX_FILE = "confusion_matrix.png"
RELIABILITY_FILE = "reliability.png"


def write_confusion_matrix_png(metrics: dict, out_dir: str) -> str:
    """Draw the cross-validated confusion matrix with matplotlib; returns the file's path."""
    import matplotlib

    matplotlib.use("Agg")  # no display here, nor in CI
    import matplotlib.pyplot as plt

    matrix = metrics["confusion_matrix"]
    labels, counts = matrix["labels"], matrix["counts"]
    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.imshow(counts, cmap="Blues")
    peak = max(max(row) for row in counts)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            axes.text(j, i, str(count), ha="center", va="center", color="white" if count > peak / 2 else "black")
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"Out-of-fold predictions ({metrics['cv']})", fontsize=9)
    figure.tight_layout()
    path = os.path.join(out_dir, CONFUSION_MATRIX_FILE)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)
    return path


def write_reliability_png(reliability: list[dict], metrics: dict, out_dir: str) -> str:
    """The reliability diagram: how often the top class was right, against how confident the model was."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.plot([1 / 3, 1], [1 / 3, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.plot(
        [r["confidence"] for r in reliability], [r["accuracy"] for r in reliability], marker="o", label="out-of-fold"
    )
    for r in reliability:
        axes.annotate(
            str(r["count"]),
            (r["confidence"], r["accuracy"]),
            fontsize=7,
            textcoords="offset points",
            xytext=(0, 5),
            ha="center",
        )
    axes.set_xlabel("confidence of the predicted species")
    axes.set_ylabel("share predicted correctly")
    axes.set_title(f"Reliability (ECE {metrics['expected_calibration_error']:.4f}; counts per bin)", fontsize=9)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path = os.path.join(out_dir, RELIABILITY_FILE)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)
    return path


def model_card(manifest: dict, version: str) -> str:
    """MODEL_CARD.md, every figure taken from the manifest written by the same run."""
    metrics = manifest["metrics"]
    data = manifest["training_data"]
    matrix = metrics["confusion_matrix"]
    labels = matrix["labels"]
    matrix_rows = "\n".join(
        f"| **{label}** | " + " | ".join(str(c) for c in row) + " |" for label, row in zip(labels, matrix["counts"])
    )
    ranges = "\n".join(f"| {name} | {r['min']:g} | {r['max']:g} |" for name, r in manifest["training_ranges"].items())
    counts = ", ".join(f"{name} {count}" for name, count in data["species_counts"].items())

    params = json.dumps(manifest["params"])
    hardest = "\n".join(
        f"| {b['row']} | {b['species']} | {b['predicted']} | {b['wrong']}/{b['repeats']} | "
        f"{b['baseline_wrong']}/{b['repeats']} | {b['island']} | {b['sex'] or 'unknown'} | "
        f"{b['bill_length_mm']:g} mm | {b['bill_depth_mm']:g} mm | {b['flipper_length_mm']:g} mm | "
        f"{b['body_mass_g']:g} g |"
        for b in manifest["hardest_penguins"]
    )
    typicality = manifest["typicality"]
    scaling = metrics["temperature_scaling"]
    temperature = scaling["best_temperature"]
    gain = scaling["log_loss_uncalibrated"] - scaling["log_loss_at_best"]
    verdict = (
        ": too small a gain for a calibration step, so none is applied."
        if gain < 0.005
        else ": worth a calibration step, which this version does not yet apply."
    )

    baseline = manifest["baseline"]

    def row(label: str, name: str) -> str:
        m = metrics[name]
        return (
            f"| {label} | {m['out_of_fold']:.4f} | {m['low']:.4f} – {m['high']:.4f} | "
            f"{m['mean']:.4f} ± {m['std']:.4f} | {baseline[name]:.4f} |"
        )

    withheld = metrics["accuracy_sex_withheld"]
    return f"""# Model card: penguin species ({version})

XGBoost ({manifest["xgboost_version"]}) multi-class classifier predicting Adelie, Chinstrap or Gentoo from a
penguin's measurements. Trained with seed {manifest["seed"]}; the same code, data and seed give this same
file, byte for byte.

## Data
{data["source"]}: {data["rows"]} penguins with all four measurements ({counts});
{data["rows_sex_unknown"]} of them with unknown sex, kept (XGBoost learns where a missing value goes).
sha256 of the training table: `{data["sha256"]}`.

Features, in order: {", ".join(f"`{f}`" for f in manifest["features"])}. `year` is not a feature.

## Evaluation ({metrics["cv"]})
{metrics["predictions"]} out-of-fold predictions about {data["rows"]} birds, {metrics["wrong"]} of them wrong. They are
not {metrics["predictions"]} independent trials: the interval is a {metrics["interval"]}, so it
reflects how few birds there are, which the spread over folds does not. The baseline is a {baseline["model"]},
scored on the same splits ({baseline["wrong"]} of its {baseline["predictions"]} predictions wrong).

| metric | out of fold | 95% interval | fold mean ± std | baseline (fold mean) |
|---|---|---|---|---|
{row("accuracy", "accuracy")}
{row("macro F1", "macro_f1")}
{row("log loss", "log_loss")}

With sex withheld from every held-out bird, accuracy is {withheld["mean"]:.4f} ± {withheld["std"]:.4f}
(fold mean ± std).

Confusion matrix ({matrix["rows_are"]} in rows, predicted in columns; summed over all repeats):

| | {" | ".join(labels)} |
|---|{"---|" * len(labels)}
{matrix_rows}

![confusion matrix]({CONFUSION_MATRIX_FILE})

Calibration: expected calibration error of the top class, out of fold, {metrics["expected_calibration_error"]:.4f}
(10 confidence bins). Temperature scaling fitted out of fold would take the log loss from
{scaling["log_loss_uncalibrated"]:.4f} to {scaling["log_loss_at_best"]:.4f} (temperature {temperature:g}){verdict}

![reliability diagram]({RELIABILITY_FILE})

## The birds most often wrong
The {len(manifest["hardest_penguins"])} birds answered wrongly in the most repeats, out of fold, with the
baseline's count for the same bird. Ambiguous or possibly mislabelled: the data cannot tell which.

| penguins.csv row | recorded | answered | wrong | baseline wrong | island | sex | bill length | bill depth | flipper \
| mass |
|---|---|---|---|---|---|---|---|---|---|---|
{hardest}

## A penguin unlike the training data
Each species' four measurements are modelled as a Gaussian; a penguin whose squared Mahalanobis distance
to every species exceeds {typicality["threshold"]:.2f} (the {typicality["quantile"]:.0%} quantile of held-out penguins'
distance to their nearest species, 5-fold) is answered with a warning. Held out, that flags
{typicality["held_out_flag_rate"]:.1%} of real penguins.

## Training ranges
Inputs outside these ranges (but inside the API's hard limits) are answered with a warning.

| measurement | min | max |
|---|---|---|
{ranges}

## Intended use and limits
For teaching and field triage of the three Palmer Archipelago species measured the same way (Gorman et al.,
2014). It knows no other species: any penguin gets one of these three names, and a bird unlike the training
data gets a confident answer that may be wrong. Parameters: `{params}`, {manifest["num_rounds"]} rounds.
"""


def write_model_card(manifest: dict, version: str, out_dir: str) -> str:
    """Write MODEL_CARD.md; returns its path."""
    path = os.path.join(out_dir, MODEL_CARD_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(model_card(manifest, version))
    return path
