"""The drift report: the function's request lines against the training data's reference profile.

Per feature a population stability index (PSI) on the reference's fixed bins, out-of-range and
unknown-category rates; the predicted-class mix and the confidence against training. Writes drift.json
(for a scheduler) and drift.html (for a person). Exit status: 0 no drift, 1 drift, 2 unusable input
(nothing read, no prediction lines, or fewer than the minimum: "insufficient data").
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence

from penguins.artifact import read_artifact_dir
from penguins.domain import MEASUREMENTS, SPECIES

from .drift_logs import Observations, read_sources
from .profile import CATEGORY_VALUES, bin_counts, shares

PSI_WARN = 0.1  # a moderate shift: worth a look
PSI_ALERT = 0.25  # a significant shift: the feature has drifted
# Below this many predictions (or logged inputs, for a feature), sampling noise alone reaches PSI_WARN
# too often to judge: the report says "insufficient data" instead of guessing. tests/training/test_drift.py measures
# the false-alarm rate at this size on samples of the training data itself.
MIN_PREDICTIONS = 200
# An empty bin would make the PSI infinite: each share is floored at this.
SHARE_FLOOR = 1e-4
EXIT_NO_DRIFT, EXIT_DRIFT, EXIT_UNUSABLE = 0, 1, 2


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index: the sum over bins of (current - reference) * ln(current / reference)."""
    total = 0.0
    for ref, cur in zip(reference, current):
        ref, cur = max(ref, SHARE_FLOOR), max(cur, SHARE_FLOOR)
        total += (cur - ref) * math.log(cur / ref)
    return round(total, 6)


def _status(value: float | None) -> str:
    if value is None:
        return "insufficient data"
    return "drift" if value >= PSI_ALERT else "warn" if value >= PSI_WARN else "ok"


def _verdict(value: float | None) -> dict:
    return {"psi": value, "status": _status(value), "drifted": value is not None and value >= PSI_ALERT}


def _measurement(name: str, reference: dict, inputs: list[dict], minimum: int) -> dict:
    values = [penguin[name] for penguin in inputs]
    edges = reference["bin_edges"]
    current = shares(bin_counts(values, edges))
    enough = len(values) >= minimum
    outside = sum(not reference["min"] <= value <= reference["max"] for value in values)
    return {
        **_verdict(psi(reference["shares"], current) if enough else None),
        "count": len(values),
        "out_of_range_rate": round(outside / len(values), 6) if values else None,
        "training_range": [reference["min"], reference["max"]],
        "bin_edges": edges,
        "reference": reference["shares"],
        "current": current,
    }


def _category(name: str, reference: dict[str, float], inputs: list[dict], minimum: int) -> dict:
    values = [penguin[name] for penguin in inputs]
    known = CATEGORY_VALUES[name]
    unknown = sum(value not in known for value in values)
    current = dict(zip(known, shares([values.count(category) for category in known] + [unknown])))
    enough = len(values) >= minimum
    # An unknown category is one more bin, empty in the reference: it raises the PSI as it should.
    reference_shares = [reference[category] for category in known] + [0.0]
    current_shares = [current[category] for category in known] + [round(unknown / len(values), 6) if values else 0]
    return {
        **_verdict(psi(reference_shares, current_shares) if enough else None),
        "count": len(values),
        "unknown_category_rate": round(unknown / len(values), 6) if values else None,
        "reference": reference,
        "current": current,
    }


def compare(seen: Observations, profile: dict, minimum: int = MIN_PREDICTIONS) -> dict:
    """The report as drift.json holds it."""
    count = seen.prediction_count
    enough = count >= minimum
    features = {name: _measurement(name, profile["measurements"][name], seen.inputs, minimum) for name in MEASUREMENTS}
    features.update(
        (name, _category(name, profile["categories"][name], seen.inputs, minimum)) for name in CATEGORY_VALUES
    )
    mix = shares([seen.predictions[name] for name in SPECIES])
    reference_mix = profile["predicted_classes"]
    prediction_mix = {
        **_verdict(psi([reference_mix[name] for name in SPECIES], mix) if enough else None),
        "reference": reference_mix,
        "current": dict(zip(SPECIES, mix)),
        "counts": {name: seen.predictions[name] for name in SPECIES},
    }
    reference_confidence = profile["confidence"]
    confidence = {
        "bin_edges": reference_confidence["bin_edges"],
        "reference": reference_confidence["shares"],
        "current": shares(seen.confidence_counts),
        "reference_mean": reference_confidence["mean"],
        "mean": round(seen.confidence_sum / count, 6) if count else None,
    }
    drifted_features = [name for name, feature in features.items() if feature["drifted"]]
    drifted = bool(drifted_features) or prediction_mix["drifted"]
    status = "insufficient data" if not enough else "drift" if drifted else "no drift"
    return {
        "status": status,
        "drifted": drifted,
        "drifted_features": drifted_features,
        "predictions": count,
        "inputs": len(seen.inputs),
        "minimum_predictions": minimum,
        "thresholds": {"psi_warn": PSI_WARN, "psi_alert": PSI_ALERT},
        "lines": {
            "read": seen.lines_read,
            "predictions": seen.prediction_lines,
            "skipped": dict(seen.skipped.most_common()),
            "predictions_per_model_version": dict(seen.per_model_version.most_common()),
            "predictions_per_format": dict(seen.per_format.most_common()),
        },
        "features": features,
        "prediction_mix": prediction_mix,
        "confidence": confidence,
    }


def exit_status(report: dict) -> int:
    """0 no drift, 1 drift, 2 unusable input (no prediction lines, or too few to judge)."""
    if report["status"] == "insufficient data" or not report["lines"]["predictions"]:
        return EXIT_UNUSABLE
    return EXIT_DRIFT if report["drifted"] else EXIT_NO_DRIFT


def run(sources: Sequence[str], reference_dir: str, out_dir: str, minimum: int = MIN_PREDICTIONS) -> int:
    """Read the sources, compare them with the reference artifact, write the report, print a summary."""
    artifact = read_artifact_dir(reference_dir)
    profile = artifact.manifest.get("reference_profile")
    if profile is None:
        print(f"error: the artifact in {reference_dir} has no reference_profile: retrain it (make model)")
        return EXIT_UNUSABLE
    print(f"reference: model {artifact.version} from {reference_dir}, {profile['rows']} training rows")
    seen = read_sources(sources)
    report = {**compare(seen, profile, minimum), "reference_model_version": artifact.version}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "drift.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    from .drift_html import write_html  # matplotlib only once there is something to draw

    write_html(report, os.path.join(out_dir, "drift.html"))
    print(summary(report))
    print(f"wrote {os.path.join(out_dir, 'drift.json')} and {os.path.join(out_dir, 'drift.html')}")
    return exit_status(report)


def summary(report: dict) -> str:
    """A few readable lines: the verdict, then each feature's PSI and status."""
    lines = report["lines"]
    skipped = ", ".join(f"{n} {reason}" for reason, n in lines["skipped"].items()) or "none"
    out = [
        f"{lines['read']} lines read: {lines['predictions']} with predictions ({report['predictions']} answers, "
        f"{report['inputs']} with inputs); skipped: {skipped}",
        f"model versions: {lines['predictions_per_model_version'] or 'none'}",
    ]
    for name, feature in [*report["features"].items(), ("predicted mix", report["prediction_mix"])]:
        value = "-" if feature["psi"] is None else f"{feature['psi']:.3f}"
        out.append(f"  {name:<18} PSI {value:>6}  {feature['status']}")
    verdict = report["status"].upper()
    if report["drifted"]:
        verdict += ": " + ", ".join(report["drifted_features"] or ["the predicted mix"])
    if report["status"] == "insufficient data":
        verdict += f" (fewer than {report['minimum_predictions']} predictions)"
    out.append(verdict)
    return "\n".join(out)
