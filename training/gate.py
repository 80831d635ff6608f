"""The promotion gate: may a candidate artifact replace the current one? A table of differences says why.

A candidate is refused when it was trained on another encoding than the current model, when it is worse
beyond a tolerance on the metrics both manifests record (compared only when both were trained on the same
data and evaluated the same way), or when it gets wrong a bird of the golden set (golden/penguins.json)
that the current model gets right.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

from penguins.errors import ArtifactError
from penguins.features import encode, encoding_description
from penguins.model.artifact import MANIFEST_FILE, MODEL_FILE, Artifact, artifact_version, sha256_hex
from penguins.predict.predictor import load_predictor

from .golden import GOLDEN_FILE

# How much worse a candidate may be and still replace the current model. One bird of 342 moves the
# cross-validated accuracy by 0.003, and the 95% interval of either model spans about 0.02: differences
# within these tolerances are one or two ambiguous birds, not a worse model.
ACCURACY_TOLERANCE = 0.005
MACRO_F1_TOLERANCE = 0.01
LOG_LOSS_TOLERANCE = 0.01
# (manifest key, label, tolerance, +1 when higher is better / -1 when lower is)
METRICS = (
    ("accuracy", "accuracy (CV mean)", ACCURACY_TOLERANCE, 1),
    ("macro_f1", "macro F1 (CV mean)", MACRO_F1_TOLERANCE, 1),
    ("log_loss", "log loss (CV mean)", LOG_LOSS_TOLERANCE, -1),
)
OK, REFUSED, INFO = "ok", "REFUSED", "-"


class Check(NamedTuple):
    """One row of the comparison table."""

    name: str
    current: str
    candidate: str
    difference: str
    allowed: str
    verdict: str


class Comparison(NamedTuple):
    """The gate's finding: every check, and the golden birds the two models answer differently."""

    current_version: str
    candidate_version: str
    checks: list[Check]
    golden_differences: list[dict]

    @property
    def refused(self) -> bool:
        """True when any check refuses the candidate."""
        return any(check.verdict == REFUSED for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        """The refusing checks, one phrase each."""
        return [_reason(check) for check in self.checks if check.verdict == REFUSED]


def _reason(check: Check) -> str:
    change = f"{check.current} -> {check.candidate}" if check.current else check.candidate
    detail = f" ({check.difference})" if check.difference else ""
    return f"{check.name} {change}{detail}, allowed {check.allowed}"


def unchecked_artifact(manifest_bytes: bytes, model_bytes: bytes) -> Artifact:
    """An artifact whose model file matches its manifest, whatever encoding it was trained on (the gate compares)."""
    try:
        manifest = json.loads(manifest_bytes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{MANIFEST_FILE} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("model_sha256") != sha256_hex(model_bytes):
        raise ArtifactError(f"{MODEL_FILE} does not match its manifest's model_sha256: the artifact was altered")
    return Artifact(manifest, manifest_bytes, model_bytes, artifact_version(manifest_bytes))


def read_unchecked_dir(path: str) -> Artifact:
    """The artifact in a local folder, for comparison."""
    try:
        with open(os.path.join(path, MANIFEST_FILE), "rb") as m, open(os.path.join(path, MODEL_FILE), "rb") as f:
            return unchecked_artifact(m.read(), f.read())
    except OSError as exc:
        raise ArtifactError(f"cannot read the artifact in {path}: {exc.strerror}") from None


def golden_penguins() -> list[dict]:
    """The committed golden set: real penguins with their recorded species."""
    return json.loads(GOLDEN_FILE.read_text())["penguins"]


def encoding_of(manifest: dict) -> dict:
    """What a model was trained on: the encoding's fields and the class order."""
    return {key: manifest.get(key) for key in (*encoding_description(), "classes")}


def golden_answers(artifact: Artifact, golden: list[dict]) -> list[str] | None:
    """The species the artifact answers for each golden bird; None when this code cannot encode for it."""
    if encoding_of(artifact.manifest) != {**encoding_description(), "classes": artifact.manifest.get("classes")}:
        return None
    probabilities = load_predictor(artifact).predict_proba([encode(bird["penguin"]) for bird in golden])
    classes = artifact.manifest["classes"]
    return [classes[max(range(len(p)), key=p.__getitem__)] for p in probabilities]


def compare(current: Artifact, candidate: Artifact, golden: list[dict] | None = None) -> Comparison:
    """Every check of the candidate against the current model."""
    golden = golden_penguins() if golden is None else golden
    checks = [_encoding_check(current, candidate)]
    checks.extend(_metric_checks(current.manifest, candidate.manifest))
    golden_checks, differences = _golden_checks(current, candidate, golden)
    checks.extend(golden_checks)
    return Comparison(current.version, candidate.version, checks, differences)


def _encoding_check(current: Artifact, candidate: Artifact) -> Check:
    ours, theirs = encoding_of(current.manifest), encoding_of(candidate.manifest)
    if ours == theirs:
        return Check("encoding", f"v{ours['encoding_version']}", "same", "", "must match", OK)
    changed = ", ".join(key for key in ours if ours[key] != theirs[key])
    return Check(
        "encoding", f"v{ours['encoding_version']}", f"v{theirs['encoding_version']}", changed, "must match", REFUSED
    )


def _metric_checks(current: dict, candidate: dict) -> list[Check]:
    data = [m.get("training_data", {}).get("sha256", "?") for m in (current, candidate)]
    protocol = [m.get("metrics", {}).get("cv", "?") for m in (current, candidate)]
    if data[0] != data[1] or protocol[0] != protocol[1]:
        return [
            Check("training data", data[0][:12], data[1][:12], "", "", INFO),
            Check("evaluation", protocol[0], protocol[1], "", "metrics compared only when both match", INFO),
        ]
    checks = [Check("training data", data[0][:12], "same", "", "", OK)]
    for key, label, tolerance, direction in METRICS:
        before = current["metrics"][key]["mean"]
        after = candidate["metrics"][key]["mean"]
        worse_by = (before - after) * direction
        allowed = f"{'-' if direction > 0 else '+'}{tolerance:g}"
        verdict = REFUSED if worse_by > tolerance + 1e-9 else OK
        checks.append(Check(label, f"{before:.4f}", f"{after:.4f}", f"{after - before:+.4f}", allowed, verdict))
    return checks


def _golden_checks(current: Artifact, candidate: Artifact, golden: list[dict]) -> tuple[list[Check], list[dict]]:
    before, after = golden_answers(current, golden), golden_answers(candidate, golden)
    if before is None or after is None:
        return [Check("golden set", "not answered: another encoding", "", "", "", INFO)], []
    truth = [bird["species"] for bird in golden]
    differences = [
        {"row": bird["row"], "species": bird["species"], "current": b, "candidate": a}
        for bird, b, a in zip(golden, before, after)
        if a != b
    ]
    regressions = [d for d in differences if d["current"] == d["species"]]
    right = [sum(answer == species for answer, species in zip(answers, truth)) for answers in (before, after)]
    return [
        Check(
            "golden set right",
            f"{right[0]}/{len(golden)}",
            f"{right[1]}/{len(golden)}",
            f"{right[1] - right[0]:+d}",
            "",
            INFO,
        ),
        Check("golden answers changed", "", str(len(differences)), "", "", INFO),
        Check(
            "golden birds newly wrong",
            "",
            str(len(regressions)),
            ", ".join(f"row {d['row']}" for d in regressions),
            "0",
            REFUSED if regressions else OK,
        ),
    ], differences


def format_comparison(comparison: Comparison) -> str:
    """The table a person reads, then the golden birds answered differently."""
    header = Check(
        "check",
        f"current {comparison.current_version}",
        f"candidate {comparison.candidate_version}",
        "difference",
        "allowed",
        "verdict",
    )
    rows = [header, *comparison.checks]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for d in comparison.golden_differences:
        lines.append(f"  golden row {d['row']} ({d['species']}): current {d['current']}, candidate {d['candidate']}")
    verdict = "REFUSED: " + "; ".join(comparison.reasons) if comparison.refused else "the candidate passes the gate"
    return "\n".join([*lines, verdict])
