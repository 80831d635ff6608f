"""Where artifacts come from: a local folder (the bundled model is one) or a gs:// prefix with a pointer.

Bucket layout under gs://BUCKET/PREFIX:
    current.json                      {"version": "<version>", ...}: which artifact to serve
    artifacts/<version>/manifest.json
    artifacts/<version>/model.json    immutable, content-addressed: <version> is the manifest's hash
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from typing import Literal, NamedTuple, Protocol

from .. import log
from ..errors import ArtifactError, StorageError
from ..settings import VERSION_PATTERN
from .artifact import ARTIFACT_FILES, MANIFEST_FILE, MODEL_FILE, Artifact, parse_artifact, read_artifact_dir
from .gcs_reader import GcsError, GcsReader, ObjectMissing

POINTER_FILE = "current.json"
ARTIFACTS_DIR = "artifacts"
# Every storage operation (a token, the metadata, the bytes, their retries) ends within this many seconds,
# well inside MODEL_LOAD_TIMEOUT_SECONDS' default; each connect and read is bounded too (gcs_reader.py).
RETRY_TIMEOUT_SECONDS = 4.0


class Known(NamedTuple):
    """What a source last gave: the version served from it, and the pointer generation that named it (or None)."""

    version: str
    generation: int | None


class Update(NamedTuple):
    """A source's answer to "what should be served?": a new artifact, or None when the known one stands."""

    artifact: Artifact | None
    known: Known
    label: str  # where the served model says it came from
    why: str  # why this is the model to serve, for /health


class ArtifactSource(Protocol):
    """Somewhere an artifact can be fetched from; each kind knows how it changes."""

    uri: str
    refreshes: bool  # True when what it names can change while the process runs (a pointer to re-read)

    def update(self, known: Known | None) -> Update:
        """What to serve now, given what was served from it before (None: nothing yet); raises PenguinError."""


class GcsLocation(NamedTuple):
    """A gs://BUCKET/PREFIX and the object names inside it."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> GcsLocation:
        """Split gs://bucket/prefix, refusing anything else."""
        match = re.match(r"^gs://([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:/(.*))?$", uri)
        if not match:
            raise ArtifactError(f"{uri!r} is not a gs://BUCKET/PREFIX URI")
        return cls(match.group(1), (match.group(2) or "").strip("/"))

    def _name(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    @property
    def pointer(self) -> str:
        """Object name of the pointer."""
        return self._name(POINTER_FILE)

    @property
    def artifacts(self) -> str:
        """Object name prefix under which every version lives."""
        return self._name(ARTIFACTS_DIR) + "/"

    def artifact_file(self, version: str, filename: str) -> str:
        """Object name of one file of one version."""
        return self._name(ARTIFACTS_DIR, check_version(version), filename)

    def uri(self, version: str | None = None) -> str:
        """gs:// URI of the prefix, or of one version's folder."""
        return f"gs://{self.bucket}/" + (self._name(ARTIFACTS_DIR, version) if version else self.prefix)


def check_version(version: object) -> str:
    """A version is 12 lowercase hex digits; anything else (say, '../x') is refused."""
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise ArtifactError(f"{str(version)[:40]!r} is not a model version (12 hex digits)")
    return version


def parse_pointer(data: bytes) -> str:
    """The version a pointer names."""
    try:
        pointer = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ArtifactError(f"{POINTER_FILE} is not valid JSON") from None
    if not isinstance(pointer, dict):
        raise ArtifactError(f"{POINTER_FILE} must hold a JSON object")
    return check_version(pointer.get("version"))


class LocalSource:
    """An artifact in a local folder (the bundled one is such a folder); it has no pointer, so it is read once."""

    refreshes = False

    def __init__(self, path: str, bundled: bool = False):
        self.uri = path
        self._label = "bundled" if bundled else path
        self._why = "MODEL_URI is unset: the bundled model" if bundled else "MODEL_URI names a local folder"

    def update(self, known: Known | None) -> Update:
        artifact = None if known is not None else read_artifact_dir(self.uri)
        version = known.version if known is not None else artifact.version  # type: ignore[union-attr]
        return Update(artifact, Known(version, None), self._label, self._why)


class GcsSource:
    """Artifacts under gs://BUCKET/PREFIX, found through the pointer, kept in a local cache by version."""

    refreshes = True

    def __init__(self, uri: str, cache_dir: str):
        self.location = GcsLocation.parse(uri)
        self.uri = self.location.uri()
        self._cache_dir = cache_dir
        self._client: GcsReader | None = None
        self._client_lock = threading.Lock()

    def _bucket(self) -> GcsReader:
        with self._client_lock:
            if self._client is None:
                self._client = GcsReader.from_environment(self.location.bucket)
            return self._client

    def _call_options(self) -> float:
        """The deadline of one storage operation: its retries and token fetches all fit inside it."""
        return time.monotonic() + RETRY_TIMEOUT_SECONDS

    def pointer_generation(self) -> int | None:
        with _storage_errors(f"checking {self.location.pointer}", self._no_pointer()):
            return self._bucket().stat(self.location.pointer, self._call_options()).generation

    def _no_pointer(self) -> str:
        return f"there is no {POINTER_FILE} under {self.uri}: publish a model first"

    def update(self, known: Known | None) -> Update:
        """The pointer's generation first (one small request); the pointer and the artifact only when it moved."""
        if known is not None and known.generation is not None:
            generation = self.pointer_generation()
            if generation == known.generation:
                return Update(None, known, self.location.uri(known.version), self._why(known.version))
        version, generation = self.read_pointer()
        if known is not None and version == known.version:  # the pointer names what is served: nothing to download
            return Update(None, Known(version, generation), self.location.uri(version), self._why(version))
        artifact = self.fetch_version(version)
        return Update(artifact, Known(version, generation), self.location.uri(version), self._why(version))

    def _why(self, version: str) -> str:
        return f"{self.location.uri()}/current.json names {version}"

    def read_pointer(self) -> tuple[str, int]:
        """The version current.json names and the pointer's generation (one small download)."""
        with _storage_errors(f"reading {self.location.pointer}", self._no_pointer()):
            data, generation = self._bucket().read(self.location.pointer, self._call_options())
        return parse_pointer(data), generation

    def fetch_version(self, version: str) -> Artifact:
        """One version's artifact: from the local cache when it verifies there, else downloaded."""
        check_version(version)
        cached = self._read_cache(version)
        if cached is not None:
            return cached
        files = {}
        for filename in ARTIFACT_FILES:
            name = self.location.artifact_file(version, filename)
            with _storage_errors(
                f"downloading {name}", f"the pointer names version {version}, but its {filename} is not in the bucket"
            ):
                # Pinned to the generation its metadata named, and checked against its md5 (or crc32c).
                files[filename], _ = self._bucket().read(name, self._call_options())
        artifact = parse_artifact(files[MANIFEST_FILE], files[MODEL_FILE])
        if artifact.version != version:
            raise ArtifactError(
                f"the artifact stored as version {version} hashes to {artifact.version}: it was altered"
            )
        log.emit("INFO", f"downloaded {version} from {self.uri}", model_version=version)
        self._write_cache(artifact)
        return artifact

    def _read_cache(self, version: str) -> Artifact | None:
        folder = os.path.join(self._cache_dir, version)
        if not os.path.isdir(folder):
            return None
        try:
            artifact = read_artifact_dir(folder)
        except ArtifactError:
            shutil.rmtree(folder, ignore_errors=True)  # re-verified and failed: download it again
            return None
        return artifact if artifact.version == version else None

    def _write_cache(self, artifact: Artifact) -> None:
        try:
            os.makedirs(self._cache_dir, exist_ok=True)
            staging = tempfile.mkdtemp(dir=self._cache_dir, prefix=".incoming-")
            for filename, data in ((MANIFEST_FILE, artifact.manifest_bytes), (MODEL_FILE, artifact.model_bytes)):
                with open(os.path.join(staging, filename), "wb") as f:
                    f.write(data)
            os.replace(staging, os.path.join(self._cache_dir, artifact.version))  # atomic: never half a folder
        except OSError:
            pass  # the cache only saves a download; serving goes on without it


class _storage_errors:
    """Turn what the storage reader raises into StorageError or ArtifactError, with what was being done."""

    def __init__(self, doing: str, not_found: str):
        self.doing = doing
        self.not_found = not_found

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> Literal[False]:
        if isinstance(exc, ObjectMissing):
            raise ArtifactError(self.not_found) from None
        if isinstance(exc, GcsError):
            # Hosts, paths and the store's own answers go to the operator's log; /health gets the sentence.
            log.emit("WARNING", f"storage error while {self.doing}: {exc.detail[:500]}")
            raise StorageError(f"{self.doing}: {exc}") from None
        return False


def open_source(uri: str, cache_dir: str, bundled: bool = False) -> ArtifactSource:
    """The source for a MODEL_URI (bundled: it names the model shipped inside function/)."""
    if uri.startswith("gs://"):
        return GcsSource(uri, cache_dir)
    if "://" in uri:
        raise ArtifactError(f"MODEL_URI {uri!r}: only gs:// URIs and local folders are supported")
    return LocalSource(uri, bundled)
