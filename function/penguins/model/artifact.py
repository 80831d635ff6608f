"""The artifact format: XGBoost's own model file plus a JSON manifest, and its integrity checks."""

from __future__ import annotations

import hashlib
import json
import os
from typing import NamedTuple

from ..domain import MEASUREMENTS, SPECIES
from ..errors import ArtifactError
from ..features import encoding_description

MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.json"
MODEL_FORMAT = "xgboost-json"
SCHEMA_VERSION = 1
VERSION_LENGTH = 12
ARTIFACT_FILES = (MANIFEST_FILE, MODEL_FILE)


class Artifact(NamedTuple):
    """A verified model: its manifest, the model file's bytes and its content version."""

    manifest: dict
    manifest_bytes: bytes
    model_bytes: bytes
    version: str

    @property
    def training_ranges(self) -> dict[str, dict[str, float]]:
        """Per-measurement min and max seen in training."""
        return self.manifest["training_ranges"]


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def artifact_version(manifest_bytes: bytes) -> str:
    """The content version: the manifest names the model file's sha256, so hashing it covers both."""
    return sha256_hex(manifest_bytes)[:VERSION_LENGTH]


def parse_artifact(manifest_bytes: bytes, model_bytes: bytes) -> Artifact:
    """Verify an artifact's bytes and return it; raise ArtifactError saying what is wrong."""
    try:
        manifest = json.loads(manifest_bytes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{MANIFEST_FILE} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{MANIFEST_FILE} must hold a JSON object")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(
            f"{MANIFEST_FILE} has schema_version {manifest.get('schema_version')!r}; this code reads {SCHEMA_VERSION}"
        )
    if manifest.get("model_format") != MODEL_FORMAT:
        raise ArtifactError(f"model_format is {manifest.get('model_format')!r}; this code reads {MODEL_FORMAT!r}")
    actual_sha = sha256_hex(model_bytes)
    if manifest.get("model_sha256") != actual_sha:
        raise ArtifactError(
            f"{MODEL_FILE} has sha256 {actual_sha}, but the manifest says {manifest.get('model_sha256')}: "
            "the model file is corrupt or was replaced"
        )
    expected = encoding_description()
    for key, value in expected.items():
        if manifest.get(key) != value:
            raise ArtifactError(
                f"the model was trained with {key} = {manifest.get(key)!r}, but this code encodes {value!r}"
            )
    if manifest.get("classes") != list(SPECIES):
        raise ArtifactError(f"the model's classes are {manifest.get('classes')!r}; this code serves {list(SPECIES)!r}")
    ranges = manifest.get("training_ranges")
    if not isinstance(ranges, dict) or any(
        not isinstance(ranges.get(name), dict) or not {"min", "max"} <= ranges[name].keys() for name in MEASUREMENTS
    ):
        raise ArtifactError(f"training_ranges must give min and max for each of {list(MEASUREMENTS)}")
    return Artifact(manifest, manifest_bytes, model_bytes, artifact_version(manifest_bytes))


def read_artifact_dir(path: str) -> Artifact:
    """Read and verify the artifact in a local folder."""
    files = {}
    for name in ARTIFACT_FILES:
        try:
            with open(os.path.join(path, name), "rb") as f:
                files[name] = f.read()
        except OSError as exc:
            raise ArtifactError(f"cannot read the artifact's {name}: {exc.strerror}") from None
    return parse_artifact(files[MANIFEST_FILE], files[MODEL_FILE])


def write_artifact(out_dir: str, model_bytes: bytes, metadata: dict) -> Artifact:
    """Write a model file and its manifest (format fields filled in here) into out_dir."""
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "model_file": MODEL_FILE,
        "model_format": MODEL_FORMAT,
        "model_sha256": sha256_hex(model_bytes),
        **encoding_description(),
        "classes": list(SPECIES),
        **metadata,
    }
    manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode()
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, MODEL_FILE), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(out_dir, MANIFEST_FILE), "wb") as f:
        f.write(manifest_bytes)
    return parse_artifact(manifest_bytes, model_bytes)
