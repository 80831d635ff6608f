"""Artifact integrity: what was written reads back; anything tampered with or made for other code is refused."""

from __future__ import annotations

import json
import shutil

import pytest

from penguins.artifact import MANIFEST_FILE, MODEL_FILE, artifact_version, read_artifact_dir, sha256_hex
from penguins.errors import ArtifactError


@pytest.fixture
def artifact_copy(small_artifact, tmp_path):
    source, _ = small_artifact
    target = tmp_path / "artifact"
    shutil.copytree(source, target)
    return target


def rewrite_manifest(folder, **changes):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest.update(changes)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_written_artifact_reads_back(small_artifact):
    folder, written = small_artifact
    read = read_artifact_dir(str(folder))
    assert read.version == written.version == artifact_version((folder / MANIFEST_FILE).read_bytes())
    assert read.manifest["model_sha256"] == sha256_hex((folder / MODEL_FILE).read_bytes())


def test_tampered_model_file_is_refused(artifact_copy):
    model = artifact_copy / MODEL_FILE
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 1
    model.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        read_artifact_dir(str(artifact_copy))


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"features": ["bill_length_mm", "bill_depth_mm"]}, "features"),
        ({"categories": {"sex": ["male", "female"], "island": ["Biscoe", "Dream", "Torgersen"]}}, "categories"),
        ({"encoding_version": 2}, "encoding_version"),
        ({"classes": ["Gentoo", "Adelie", "Chinstrap"]}, "classes"),
        ({"schema_version": 99}, "schema_version"),
        ({"model_format": "pickle"}, "model_format"),
        ({"training_ranges": {}}, "training_ranges"),
    ],
)
def test_manifest_made_for_other_code_is_refused(artifact_copy, changes, says):
    rewrite_manifest(artifact_copy, **changes)
    with pytest.raises(ArtifactError, match=says):
        read_artifact_dir(str(artifact_copy))


@pytest.mark.parametrize("missing", [MANIFEST_FILE, MODEL_FILE])
def test_missing_file_is_refused_without_naming_server_paths(artifact_copy, missing):
    (artifact_copy / missing).unlink()
    with pytest.raises(ArtifactError) as caught:
        read_artifact_dir(str(artifact_copy))
    assert missing in str(caught.value)
    assert str(artifact_copy) not in str(caught.value)


def test_manifest_that_is_not_json_is_refused(artifact_copy):
    (artifact_copy / MANIFEST_FILE).write_bytes(b"\x80not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_artifact_dir(str(artifact_copy))


def test_version_changes_with_any_manifest_byte(artifact_copy):
    before = read_artifact_dir(str(artifact_copy)).version
    rewrite_manifest(artifact_copy, seed=12345)
    assert read_artifact_dir(str(artifact_copy)).version != before
