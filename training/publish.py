"""Publish an artifact to gs://BUCKET/PREFIX, point the function at a version, and list versions.

Artifacts are immutable (written with if_generation_match=0); the pointer is swapped with
if_generation_match=<the generation read>, so a reader never sees half a model and two publishers
never silently overwrite each other.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from google.api_core import exceptions as api
from google.auth.exceptions import DefaultCredentialsError  # noqa: F401 (re-exported for the CLI)
from google.cloud import storage

from penguins.artifact import MANIFEST_FILE, MODEL_FILE, parse_artifact, read_artifact_dir
from penguins.store import GcsLocation, check_version, parse_pointer

# Beside the two files the function reads, publish what a person reads.
EXTRA_FILES = ("MODEL_CARD.md", "confusion_matrix.png", "reliability.png")
TIMEOUT_SECONDS = 60


class PublishError(Exception):
    """A publish, promote or listing that cannot be done; the message says why and what to do."""


def storage_client() -> storage.Client:
    """The client: Application Default Credentials, or anonymous with STORAGE_EMULATOR_HOST."""
    return storage.Client()


def publish(artifact_dir: str, uri: str, client: storage.Client | None = None) -> str:
    """Upload the artifact (idempotent), then point current.json at it; returns the version."""
    location = GcsLocation.parse(uri)
    bucket = (client or storage_client()).bucket(location.bucket)
    artifact = read_artifact_dir(artifact_dir)
    upload_artifact(bucket, location, artifact_dir, artifact.version)
    generation, current = read_pointer(bucket, location)
    if current != artifact.version:
        swap_pointer(bucket, location, artifact.version, generation, previous=current)
    return artifact.version


def upload_artifact(bucket, location: GcsLocation, artifact_dir: str, version: str) -> None:
    """Write each file once; a file already there must hold the same bytes (content-addressed)."""
    # The manifest last: a version whose manifest exists is complete.
    names = [n for n in (MODEL_FILE, *EXTRA_FILES, MANIFEST_FILE) if os.path.exists(os.path.join(artifact_dir, n))]
    for filename in names:
        with open(os.path.join(artifact_dir, filename), "rb") as f:
            data = f.read()
        blob = bucket.blob(location.artifact_file(version, filename))
        try:
            blob.upload_from_string(data, if_generation_match=0, timeout=TIMEOUT_SECONDS, checksum="auto")
        except api.PreconditionFailed:
            existing = blob.download_as_bytes(timeout=TIMEOUT_SECONDS)
            if existing != data and filename in (MODEL_FILE, MANIFEST_FILE):
                raise PublishError(
                    f"{location.uri(version)}/{filename} already exists with other bytes: the bucket's copy of "
                    f"version {version} was altered; remove that folder and publish again"
                ) from None


def read_pointer(bucket, location: GcsLocation) -> tuple[int, str | None]:
    """(generation, version) of current.json; generation 0 when there is none yet."""
    blob = bucket.get_blob(location.pointer, timeout=TIMEOUT_SECONDS)
    if blob is None:
        return 0, None
    return blob.generation, parse_pointer(blob.download_as_bytes(timeout=TIMEOUT_SECONDS))


def swap_pointer(
    bucket, location: GcsLocation, version: str, expected_generation: int, previous: str | None = None
) -> None:
    """Point current.json at version, only if nobody changed it since expected_generation was read."""
    pointer = {
        "version": check_version(version),
        "artifact": location.uri(version),
        "previous_version": previous,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    blob = bucket.blob(location.pointer)
    try:
        blob.upload_from_string(
            json.dumps(pointer, indent=2) + "\n",
            content_type="application/json",
            if_generation_match=expected_generation,
            timeout=TIMEOUT_SECONDS,
        )
    except api.PreconditionFailed:
        raise PublishError(
            f"{location.uri()}/current.json changed while this publish was running (another publisher won the "
            f"race); version {version} is uploaded but not current: check `versions`, then `promote` it if wanted"
        ) from None


def promote(uri: str, version: str, client: storage.Client | None = None) -> None:
    """Point current.json at a version already in the bucket (rollback or roll-forward), after verifying it."""
    location = GcsLocation.parse(uri)
    bucket = (client or storage_client()).bucket(location.bucket)
    check_version(version)
    files = {}
    for filename in (MANIFEST_FILE, MODEL_FILE):
        try:
            files[filename] = bucket.blob(location.artifact_file(version, filename)).download_as_bytes(
                timeout=TIMEOUT_SECONDS
            )
        except api.NotFound:
            raise PublishError(f"there is no version {version} under {location.uri()}: see `versions`") from None
    artifact = parse_artifact(files[MANIFEST_FILE], files[MODEL_FILE])
    if artifact.version != version:
        raise PublishError(f"the artifact stored as {version} hashes to {artifact.version}: it was altered")
    generation, current = read_pointer(bucket, location)
    if current != version:
        swap_pointer(bucket, location, version, generation, previous=current)


def versions(uri: str, client: storage.Client | None = None) -> list[dict]:
    """Every published version with its creation time and metrics, oldest first; 'current' marks the served one."""
    location = GcsLocation.parse(uri)
    client = client or storage_client()
    bucket = client.bucket(location.bucket)
    _, current = read_pointer(bucket, location)
    rows = []
    for blob in client.list_blobs(location.bucket, prefix=location.artifacts, timeout=TIMEOUT_SECONDS):
        if not blob.name.endswith("/" + MANIFEST_FILE):
            continue
        version = blob.name.rsplit("/", 2)[-2]
        manifest = json.loads(blob.download_as_bytes(timeout=TIMEOUT_SECONDS))
        metrics = manifest.get("metrics", {})
        rows.append(
            {
                "version": version,
                "current": version == current,
                "created_at": manifest.get("created_at", ""),
                "seed": manifest.get("seed"),
                "accuracy": metrics.get("accuracy", {}).get("mean"),
                "macro_f1": metrics.get("macro_f1", {}).get("mean"),
                "log_loss": metrics.get("log_loss", {}).get("mean"),
            }
        )
    return sorted(rows, key=lambda row: row["created_at"])


def format_versions(rows: list[dict]) -> str:
    """The versions as a small table, the current one marked with *."""
    lines = ["  version       created_at                 seed  accuracy  macro_f1  log_loss"]
    for row in rows:
        mark = "*" if row["current"] else " "
        lines.append(
            f"{mark} {row['version']}  {row['created_at']:<25}  {row['seed']!s:>4}  {row['accuracy']!s:>8}  "
            f"{row['macro_f1']!s:>8}  {row['log_loss']!s:>8}"
        )
    return "\n".join(lines)
