"""Where artifacts come from: a local folder (the bundled model is one); gs:// comes later."""

from __future__ import annotations

from .artifact import Artifact, read_artifact_dir
from .errors import ArtifactError


def fetch_artifact(uri: str) -> Artifact:
    """Fetch and verify the artifact at uri."""
    if uri.startswith("gs://"):
        raise ArtifactError(f"{uri}: gs:// model URIs are not supported yet")
    return read_artifact_dir(uri)
