"""deploy.sh's checks before anything changes, with the REAL gcloud against tests/support/fake_gcp.py.

Each state a deploy cannot go on from gets one sentence that says what to do, and exit 1, before the
model bucket, the model, the service account or the service is touched: a function Cloud Functions
manages, a half-finished canary, a region without Cloud Run, a missing permission; and a build that
fails gives its log link with nothing deployed.
"""

from __future__ import annotations

import pytest

from tests.support.deploy import DEPLOY_ARGS, PROJECT, REGION, deploy, needs_gcloud
from tests.support.fake_gcp import FakeGcp
from tests.support.fake_gcp_run import deployed
from tests.support.paths import BUCKET

SERVICE = "penguin-species"


def changes(fake: FakeGcp) -> list[str]:
    """Every request that would change the project, but for enabling the APIs (the one step before the checks)."""
    writes = [c for c in fake.calls if c.method in ("POST", "PUT", "PATCH", "DELETE")]
    return [str(c) for c in writes if not c.path.endswith(":batchEnable")]


def one_sentence_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]


@needs_gcloud
def test_a_function_made_by_gcloud_functions_deploy_is_refused_with_the_way_forward(cloud):
    fake, env = cloud("http://unused.invalid")
    deployed(fake, PROJECT, REGION, SERVICE, {}, managed_by_functions=True)
    result = deploy(*DEPLOY_ARGS, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    error = one_sentence_error(result)
    assert "was made by gcloud functions deploy, so Cloud Functions manages its Cloud Run service" in error
    assert f"gcloud functions detach {SERVICE} --region {REGION} --project {PROJECT}" in error
    assert "cannot be undone" in error and f"--name {SERVICE}-run" in error
    assert changes(fake) == [] and BUCKET not in fake.buckets


@needs_gcloud
def test_a_half_finished_canary_is_refused_until_its_tag_is_gone(cloud):
    fake, env = cloud("http://unused.invalid")
    old = deployed(fake, PROJECT, REGION, SERVICE, {})
    new = deployed(fake, PROJECT, REGION, SERVICE, {"A": "1"})
    service = fake.run_services[SERVICE]
    service["spec"]["traffic"] = [
        {"revisionName": old, "percent": 90},
        {"revisionName": new, "percent": 10, "tag": "candidate"},
    ]
    fake.unreconciled[SERVICE] = 0
    result = deploy(*DEPLOY_ARGS, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    error = one_sentence_error(result)
    assert f"the tag candidate is still on {new}, so an earlier canary did not finish" in error
    assert f"{old} 90%, {new} 10%" in error and "./deploy.sh rollback" in error and "--remove-tags candidate" in error
    assert changes(fake) == []


@needs_gcloud
def test_a_region_without_cloud_run_is_refused_naming_the_regions_there_are(cloud):
    fake, env = cloud("http://unused.invalid")
    fake.run_regions = ("us-central1", "asia-east1")
    result = deploy(*DEPLOY_ARGS, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    error = one_sentence_error(result)
    assert (
        f"Cloud Run does not run in {REGION} for project {PROJECT}: pass --region with one of: us-central1 asia-east1"
        in error
    )
    assert changes(fake) == []


@needs_gcloud
@pytest.mark.parametrize(
    "forbidden, permission",
    [
        (r"^GET run/apis/serving.knative.dev/v1/namespaces/[^/]+/services$", "run.services.list"),
        (r"^GET run/v1/projects/[^/]+/locations$", "run.locations.list"),
    ],
    ids=["services.list", "locations.list"],
)
def test_a_missing_permission_is_named_before_anything_changes(cloud, forbidden, permission):
    fake, env = cloud("http://unused.invalid")
    fake.forbidden[forbidden] = permission
    result = deploy(*DEPLOY_ARGS, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    error = one_sentence_error(result)
    assert f"your account lacks the permission {permission} in project {PROJECT} (HTTP 403)" in error
    assert "ask an owner of the project for a role that holds it" in error
    assert changes(fake) == []


@needs_gcloud
def test_a_failed_build_gives_its_log_link_and_deploys_nothing(cloud):
    fake, env = cloud("http://unused.invalid")
    fake.build_fails = True
    result = deploy(*DEPLOY_ARGS, env=env, timeout=240)
    assert result.returncode == 1, result.stdout + result.stderr
    error = one_sentence_error(result)
    [build] = fake.builds.values()
    log_url = build["build"]["logUrl"]
    assert f"the build of function/ on python311 failed, so nothing was deployed: its log is at {log_url}" in error
    assert fake.run_services == {} and fake.find("POST", "run", "/services$") == []
