"""What `gcloud run deploy --source --function` calls before the service changes, for tests/support/fake_gcp.py.

The source bucket (run-sources-PROJECT-REGION) and its upload, Artifact Registry's
`cloud-run-source-deploy` repository, Cloud Run's builds:submit (a buildpacks build from a base image)
and Cloud Build's operation, which is not done on the first polls, as a real build is not.
A test can make the build fail (FakeGcp.build_fails): gcloud then prints the build's log link.
"""

from __future__ import annotations

import copy
import datetime
import hashlib

BUILD_POLLS = 1  # polls of an operation that answer "not done" before it is (gcloud waits ~2 s a poll)
REPOSITORY = "cloud-run-source-deploy"
CLOUDBUILD = "type.googleapis.com/google.devtools.cloudbuild.v1"
LOG_URL = "https://console.cloud.google.com/cloud-build/builds;region={region}/{id}?project={number}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(code: int, message: str) -> tuple[int, dict]:
    status = {404: "NOT_FOUND", 409: "ALREADY_EXISTS"}.get(code, "UNKNOWN")
    return code, {"error": {"code": code, "message": message, "status": status}}


# --- storage v1: the source bucket and its objects ---


def upload_object(fake, call, bucket):
    """A media upload of the source archive (uploadType=media, the name in the query)."""
    if bucket not in fake.buckets:
        return _error(404, "The specified bucket does not exist.")
    name, data = call.query["name"], call.body if isinstance(call.body, bytes) else b""
    fake.source_objects[f"{bucket}/{name}"], call.body = data, None  # the bytes are kept here only
    generation = str(len(fake.calls))
    return 200, {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/{generation}",
        "name": name,
        "bucket": bucket,
        "generation": generation,
        "metageneration": "1",
        "size": str(len(data)),
        "md5Hash": "",
        "timeCreated": _now(),
        "updated": _now(),
    }


# --- artifactregistry v1: the repository a source deploy pushes to ---


def get_repository(fake, call, parent, repository):
    name = f"{parent}/repositories/{repository}"
    if name not in fake.repositories:
        return _error(404, f"Requested entity was not found: {name}")
    return 200, fake.repositories[name]


def create_repository(fake, call, parent):
    name = f"{parent}/repositories/{call.query['repositoryId']}"
    if name in fake.repositories:
        return _error(409, f"the repository {name} already exists")
    fake.repositories[name] = {**copy.deepcopy(call.body), "name": name, "createTime": _now(), "updateTime": _now()}
    operation = f"{parent}/operations/repository-{len(fake.calls)}"
    fake.operations_polled[operation] = 0
    fake.pending[operation] = {
        "name": operation,
        "done": True,
        "response": {"@type": "type.googleapis.com/google.devtools.artifactregistry.v1.Repository",
                     **fake.repositories[name]},
    }  # fmt: skip
    return 200, {"name": operation, "done": False}


def get_ar_operation(fake, call, name):
    return poll(fake, name)


# --- run v2 builds:submit and cloudbuild v1 operations ---


def submit_build(fake, call, project, region):
    """Cloud Run's builds:submit: a Cloud Build build of the uploaded source with Google's buildpacks."""
    body = call.body
    number = fake.project_number
    build_id = hashlib.sha256(f"{len(fake.calls)}".encode()).hexdigest()[:8] + "-0000-4000-8000-000000000000"
    build_name = f"projects/{number}/locations/{region}/builds/{build_id}"
    log_url = LOG_URL.format(region=region, id=build_id, number=number)
    build = {
        "id": build_id,
        "name": build_name,
        "projectId": number,
        "status": "QUEUED",
        "logUrl": log_url,
        "createTime": _now(),
        "images": [body["imageUri"]],
        "tags": body.get("tags", []),
    }
    fake.builds[build_id] = {"request": copy.deepcopy(body), "build": build}
    operation = f"projects/{number}/locations/{region}/operations/{build_id}"
    failed = fake.build_fails
    final = {**build, "status": "FAILURE" if failed else "SUCCESS", "finishTime": _now()}
    if not failed:
        digest = "sha256:" + hashlib.sha256(build_id.encode()).hexdigest()
        final["results"] = {"images": [{"name": body["imageUri"], "digest": digest}]}
        source = body["storageSource"]
        fake.images[f"{body['imageUri']}@{digest}"] = f"{source['bucket']}/{source['object']}"
    fake.builds[build_id]["final"] = final
    fake.operations_polled[operation] = 0
    fake.pending[operation] = {
        "name": operation,
        "done": True,
        "metadata": {"@type": f"{CLOUDBUILD}.BuildOperationMetadata", "build": final},
        # a failed build's operation ends with an error, as Cloud Build's does, not with a response
        **({"error": {"code": 2, "message": "Build failed; check build logs for details"}} if failed else
           {"response": {"@type": f"{CLOUDBUILD}.Build", **final}}),
    }  # fmt: skip
    return 200, {
        "buildOperation": {
            "name": operation,
            "metadata": {
                "@type": f"{CLOUDBUILD}.BuildOperationMetadata",
                "build": build,
            },
        },
        "baseImageUri": body.get("buildpackBuild", {}).get("baseImage", ""),
    }


def list_builds(fake, call, project, region):
    """builds.list, newest first: what `gcloud builds list --region` shows (the tag filter is left to gcloud)."""
    builds = [entry["final"] for entry in reversed(fake.builds.values())]
    return 200, {"builds": builds}


def get_build_operation(fake, call, name):
    return poll(fake, name)


def poll(fake, name: str) -> tuple[int, dict]:
    """An operation that is running for its first BUILD_POLLS polls, then done."""
    if name not in fake.pending:
        return _error(404, f"Operation {name} was not found")
    fake.operations_polled[name] += 1
    if fake.operations_polled[name] <= BUILD_POLLS:
        running = {key: value for key, value in fake.pending[name].items() if key not in ("response", "done")}
        return 200, {**running, "done": False}
    return 200, fake.pending[name]


LOC = r"projects/[^/]+/locations/[^/]+"
ROUTES = [  # registered in fake_gcp.ROUTES: (method, API, path regex, handler(fake, call, *groups))
    ("POST", "storage-upload", r"/b/([^/]+)/o", upload_object),
    ("GET", "artifactregistry", rf"/v1/({LOC})/repositories/([^/]+)", get_repository),
    ("POST", "artifactregistry", rf"/v1/({LOC})/repositories", create_repository),
    ("GET", "artifactregistry", rf"/v1/({LOC}/operations/[^/]+)", get_ar_operation),
    ("POST", "run", r"/v2/projects/([^/]+)/locations/([^/]+)/builds:submit", submit_build),
    ("GET", "cloudbuild", rf"/v1/({LOC}/operations/[^/]+)", get_build_operation),
    ("GET", "cloudbuild", r"/v1/projects/([^/]+)/locations/([^/]+)/builds", list_builds),
]
