"""The discovery documents the fakes are held to are Google's, unchanged; and the check of an exchange can fail."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.support.discovery import DOCUMENTS, check_exchange, find_method

SERVICE_PATH = "/apis/serving.knative.dev/v1/namespaces/test-project/services/penguin-species"


def test_the_vendored_documents_are_the_ones_listed_with_their_hashes():
    listed = dict(
        (name, digest)
        for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+\.json)$", (DOCUMENTS / "README.md").read_text(), re.M)
    )
    present = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in DOCUMENTS.glob("*.json")}
    assert present == listed and len(listed) >= 11


@pytest.mark.parametrize(
    "api, method, path, expected",
    [
        ("run", "GET", SERVICE_PATH, "run.namespaces.services.get"),
        ("run", "PUT", SERVICE_PATH, "run.namespaces.services.replaceService"),
        ("run", "POST", "/v2/projects/p/locations/r/builds:submit", "run.projects.locations.builds.submit"),
        (
            "run",
            "POST",
            "/v1/projects/p/locations/r/services/s:setIamPolicy",
            "run.projects.locations.services.setIamPolicy",
        ),
        (
            "cloudbuild",
            "GET",
            "/v1/projects/1/locations/r/operations/b",
            "cloudbuild.projects.locations.operations.get",
        ),
        (
            "artifactregistry",
            "POST",
            "/v1/projects/p/locations/r/repositories",
            "artifactregistry.projects.locations.repositories.create",
        ),
        ("storage", "GET", "/v1/b/models", "storage.buckets.get"),
        ("storage-upload", "POST", "/b/models/o", "storage.objects.insert"),
        ("logging", "POST", "/v2/entries:list", "logging.entries.list"),
        ("monitoring", "POST", "/v1/projects/p/dashboards", "monitoring.projects.dashboards.create"),
    ],
)
def test_a_call_is_matched_to_its_method(api, method, path, expected):
    assert find_method(api, method, path)[1]["id"] == expected


GOOD_SERVICE = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "s", "generation": 2}}


@pytest.mark.parametrize(
    "request_body, status, response, says",
    [
        (None, 200, {**GOOD_SERVICE, "colour": "blue"}, "response.colour: no such field in Service"),
        (
            None,
            200,
            {**GOOD_SERVICE, "metadata": {"name": "s", "generation": "2"}},
            "metadata.generation: expected an integer",
        ),
        (None, 404, {"message": "not found"}, "not Google's error shape"),
        ({"spec": {}}, 200, GOOD_SERVICE, "the method takes no body"),
    ],
    ids=["unknown-field", "int32-as-string", "error-shape", "body-on-get"],
)
def test_an_exchange_unlike_the_definition_is_an_error(request_body, status, response, says):
    errors = check_exchange("run", "GET", SERVICE_PATH, request_body, status, response)
    assert any(says in error for error in errors), errors


def test_int64_values_must_be_strings_and_a_good_exchange_passes():
    path = "/v1/b/models/o/penguins%2Fcurrent.json"
    good = {"kind": "storage#object", "name": "penguins/current.json", "bucket": "models", "generation": "17"}
    assert check_exchange("storage", "GET", path, None, 200, good) == []
    wrong = check_exchange("storage", "GET", path, None, 200, {**good, "generation": 17})
    assert wrong == [
        "storage.objects.get response.generation: expected an int64, which JSON carries as a string, got 17"
    ]


def test_a_path_no_method_has_is_an_error():
    [error] = check_exchange("run", "GET", "/apis/serving.knative.dev/v1/namespaces/p/gadgets", None, 200, {})
    assert "no method of Google's APIs has this path" in error


def test_an_enum_takes_its_listed_values_only():
    path = "/v1/projects/p/locations/r/builds/b"
    assert check_exchange("cloudbuild", "GET", path, None, 200, {"id": "b", "status": "SUCCESS"}) == []
    [error] = check_exchange("cloudbuild", "GET", path, None, 200, {"id": "b", "status": "GREAT"})
    assert "status: 'GREAT' is not one of ['STATUS_UNKNOWN'," in error
