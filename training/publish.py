"""Publish an artifact to gs://BUCKET/PREFIX, point the function at a version, and list versions.

Artifacts are immutable (written with if_generation_match=0); the pointer is swapped with
if_generation_match=<the generation read>, so a reader never sees half a model and two publishers
never silently overwrite each other. Before the pointer moves, the promotion gate (training/gate.py)
compares the candidate with the current model; a refused candidate goes live only with force=True,
and the pointer records that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime

from google.api_core import exceptions as api
from google.auth.exceptions import DefaultCredentialsError  # noqa: F401 (re-exported for the CLI)
from google.cloud import storage

from penguins.artifact import MANIFEST_FILE, MODEL_FILE, Artifact, parse_artifact, read_artifact_dir
from penguins.errors import ArtifactError
from penguins.store import VERSION_PATTERN, GcsLocation, check_version, parse_pointer

from .gate import compare, format_comparison, read_unchecked_dir, unchecked_artifact

# Beside the two files the function reads, publish what a person reads.
EXTRA_FILES = ("MODEL_CARD.md", "confusion_matrix.png", "reliability.png")
TIMEOUT_SECONDS = 60


class PublishError(Exception):
    """A publish, promote or listing that cannot be done; the message says why and what to do."""


class GateRefused(PublishError):
    """The promotion gate refused the candidate; the message holds the table of differences."""


Report = Callable[[str], None]


def storage_client() -> storage.Client:
    """The client: Application Default Credentials, or anonymous with STORAGE_EMULATOR_HOST."""
    return storage.Client()


def publish(
    artifact_dir: str, uri: str, client: storage.Client | None = None, force: bool = False, report: Report | None = None
) -> str:
    """Upload the artifact (idempotent), point current.json at it if the gate or force allows; returns the version."""
    location = GcsLocation.parse(uri)
    bucket = (client or storage_client()).bucket(location.bucket)
    artifact = read_artifact_dir(artifact_dir)
    generation, current = read_pointer(bucket, location)
    gate = None if current == artifact.version else _gate(bucket, location, artifact, current, force, report)
    upload_artifact(bucket, location, artifact_dir, artifact.version)
    if gate is not None:
        written = os.path.getmtime(os.path.join(artifact_dir, MANIFEST_FILE))
        swap_pointer(bucket, location, artifact.version, generation, previous=current, gate=gate, written_at=written)
    return artifact.version


def _gate(bucket, location: GcsLocation, candidate: Artifact, current: str | None, force: bool, report) -> dict:
    """Compare the candidate with the current model; raise GateRefused unless it passes or force is set."""
    if current is None:
        return {"compared_with": None, "result": "first model under this prefix: nothing to compare with"}
    try:
        comparison = compare(download_artifact(bucket, location, current), candidate)
    except (ArtifactError, PublishError) as exc:
        # The function refuses an unreadable current model too, so it is not what is being served.
        note = f"the current model {current} cannot be read ({exc}): nothing to compare with"
        if report:
            report(note)
        return {"compared_with": current, "result": note}
    table = format_comparison(comparison)
    if comparison.refused and not force:
        raise GateRefused(
            f"the promotion gate refused {candidate.version} as a replacement for {current}:\n{table}\n"
            "nothing was changed; publish with --force to make it current anyway"
        )
    if report:
        report(table + ("\npublished anyway: --force" if comparison.refused else ""))
    result = "refused, made current with --force" if comparison.refused else "passed"
    return {"compared_with": current, "result": result, "forced": comparison.refused, "refusals": comparison.reasons}


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
    bucket,
    location: GcsLocation,
    version: str,
    expected_generation: int,
    previous: str | None = None,
    gate: dict | None = None,
    written_at: float | None = None,
) -> None:
    """Point current.json at version, only if nobody changed it since expected_generation was read.

    The pointer is where time is recorded (the artifact holds none, so that it is reproducible): when it
    went live, and, for a publish from a folder, when that folder's manifest was written.
    """
    pointer: dict[str, object] = {
        "version": check_version(version),
        "artifact": location.uri(version),
        "previous_version": previous,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "forced": bool(gate and gate.get("forced")),
    }
    if written_at is not None:
        pointer["artifact_written_at"] = datetime.fromtimestamp(written_at, UTC).isoformat(timespec="seconds")
    if gate is not None:
        pointer["gate"] = gate
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


def download_artifact(bucket, location: GcsLocation, version: str) -> Artifact:
    """One uploaded version, its model file checked against its manifest (not against this code's encoding)."""
    files = {}
    for filename in (MANIFEST_FILE, MODEL_FILE):
        try:
            files[filename] = bucket.blob(location.artifact_file(version, filename)).download_as_bytes(
                timeout=TIMEOUT_SECONDS
            )
        except api.NotFound:
            raise PublishError(f"there is no version {version} under {location.uri()}: see `versions`") from None
    artifact = unchecked_artifact(files[MANIFEST_FILE], files[MODEL_FILE])
    if artifact.version != version:
        raise PublishError(f"the artifact stored as {version} hashes to {artifact.version}: it was altered")
    return artifact


def promote(
    uri: str, version: str, client: storage.Client | None = None, force: bool = False, report: Report | None = None
) -> None:
    """Point current.json at a version already in the bucket (rollback or roll-forward), if the gate allows."""
    location = GcsLocation.parse(uri)
    bucket = (client or storage_client()).bucket(location.bucket)
    check_version(version)
    stored = download_artifact(bucket, location, version)
    artifact = parse_artifact(stored.manifest_bytes, stored.model_bytes)  # this code must be able to serve it
    generation, current = read_pointer(bucket, location)
    if current != version:
        gate = _gate(bucket, location, artifact, current, force, report)
        swap_pointer(bucket, location, version, generation, previous=current, gate=gate)


def fetch_artifact(uri: str, client: storage.Client | None = None) -> Artifact:
    """gs://BUCKET/PREFIX (its current model) or gs://BUCKET/PREFIX/artifacts/VERSION, for comparison."""
    head, _, last = uri.rstrip("/").rpartition("/")
    if head.endswith("/artifacts") and VERSION_PATTERN.match(last):
        location, version = GcsLocation.parse(head.removesuffix("/artifacts")), last
    else:
        location, version = GcsLocation.parse(uri), None
    bucket = (client or storage_client()).bucket(location.bucket)
    if version is None:
        version = read_pointer(bucket, location)[1]
        if version is None:
            raise PublishError(f"{location.uri()} has no current.json: nothing is published there")
    return download_artifact(bucket, location, version)


def load_for_comparison(reference: str, client: storage.Client | None = None) -> Artifact:
    """A local artifact folder or a gs:// artifact."""
    return fetch_artifact(reference, client) if reference.startswith("gs://") else read_unchecked_dir(reference)


def versions(uri: str, client: storage.Client | None = None) -> list[dict]:
    """Every published version with its upload time and metrics, oldest first; 'current' marks the served one."""
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
                "uploaded_at": blob.time_created.isoformat(timespec="seconds") if blob.time_created else "",
                "seed": manifest.get("seed"),
                "accuracy": metrics.get("accuracy", {}).get("mean"),
                "macro_f1": metrics.get("macro_f1", {}).get("mean"),
                "log_loss": metrics.get("log_loss", {}).get("mean"),
            }
        )
    return sorted(rows, key=lambda row: row["uploaded_at"])


def format_versions(rows: list[dict]) -> str:
    """The versions as a small table, the current one marked with *."""
    lines = ["  version       uploaded_at                seed  accuracy  macro_f1  log_loss"]
    for row in rows:
        mark = "*" if row["current"] else " "
        lines.append(
            f"{mark} {row['version']}  {row['uploaded_at']:<25}  {row['seed']!s:>4}  {row['accuracy']!s:>8}  "
            f"{row['macro_f1']!s:>8}  {row['log_loss']!s:>8}"
        )
    return "\n".join(lines)
