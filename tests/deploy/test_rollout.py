"""Canary rollouts, rollback and status: the REAL gcloud against tests/support/fake_gcp.py (+ fake_gcp_run.py).

Every revision the fake makes is a real functions-framework server running the source gcloud uploaded;
the function's URL splits requests between them as the traffic says, and `gcloud logging read` answers
from their real request lines. A bad release is the real code with a defect the test puts in.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.deploy import DEPLOY_ARGS, PROJECT, REGION, clean_env, deploy, needs_gcloud, recorded_env
from tests.support.fake_gcp import FakeGcp
from tests.support.fake_gcp_run import RevisionServers, TrafficRouter, deployed, split, tag_url
from tests.support.id_tokens import GCLOUD_CLIENT_ID, mint, service_account_key_file
from tests.support.paths import BUCKET, BUNDLED_MODEL, ROOT
from tools.examples import SEED_EXAMPLES

SERVICE = "penguin-species"
ROLLOUT_SH = ROOT / "deploy" / "rollout.sh"
# Short windows and a light burst: the flow, not its statistics, is under test here, and latency bounds
# loose enough for a shared, overloaded test machine (test_a_window_judges... tests the figures).
LOOSE_LATENCY = {"CANARY_BURST_MAX_P95_MS": "10000", "CANARY_MAX_P95_MS": "10000", "CANARY_P95_SLACK_MS": "5000"}
FAST = {"CANARY_LOG_DELAY": "0", "CANARY_LOAD_RPS": "40", "CANARY_BURST_REQUESTS": "20", **LOOSE_LATENCY}
RELEASE_BUG = """
# A release bug the test put in: every prediction fails (a real 500) once {flag} exists.
import os as _os  # noqa: E402

import penguins.web.pipeline as _pipeline  # noqa: E402

_answer_rows = _pipeline.answer_rows


def _buggy_answer_rows(*args, **kwargs):
    if _os.path.exists({flag!r}):
        raise RuntimeError("injected release bug")
    return _answer_rows(*args, **kwargs)


_pipeline.answer_rows = _buggy_answer_rows
"""


def test_shellcheck_rollout():
    shellcheck = Path(sys.executable).parent / "shellcheck"
    result = subprocess.run([str(shellcheck), "-x", str(ROLLOUT_SH)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


# --- a function that already serves: revision 1, the current code, behind the fake's router ---


class Project:
    """The fake project with the function deployed once, and what a test does to its next revisions."""

    def __init__(self, fake: FakeGcp, env: dict[str, str], tmp_path: Path, gcs):
        self.fake, self.env, self.tmp_path, self.gcs = fake, env, tmp_path, gcs
        self.router = TrafficRouter(fake, SERVICE)
        fake.log_page_size = 7  # a window's request lines come in pages, as Logging gives many
        fake.function_url = self.router.url
        env["ID_TOKEN"] = mint(self.router.url)  # the service URL's audience, as deploy.sh mints it
        self.bugs: dict[int, str] = {}  # revision number -> what is wrong with it
        self.fault_flag = tmp_path / "release-bug-on"
        self.servers = RevisionServers(fake, tmp_path / "revisions", prepare=self._prepare)
        fake.start_revision = self.servers
        from training.publish import publish

        publish(str(BUNDLED_MODEL), f"gs://{BUCKET}/penguins", gcs.client)  # what the first deploy published
        self.first_env = {"MODEL_URI": f"gs://{BUCKET}/penguins", "MODEL_FALLBACK": "bundled"}
        deployed(fake, PROJECT, REGION, SERVICE, self.first_env)
        fake.made_by_a_first_deploy(PROJECT, BUCKET, SERVICE, REGION)  # so a deploy finds them, as it would
        self.stable = self.revisions()[0]

    def _prepare(self, revision: str, source_dir: Path, env: dict) -> None:
        bug = self.bugs.get(int(revision.split("-")[-2]))
        if bug == "wrong-model":  # serves a model that answers with the wrong species
            env["MODEL_URI"] = f"gs://{BUCKET}/broken"
            # As when deploy.sh published the broken model: the bundled copy is not the expected version,
            # so the first answer waits for the bucket's (broken) model.
            env.pop("MODEL_EXPECTED_VERSION", None)
        elif bug in ("5xx", "5xx-later"):
            main = source_dir / "main.py"
            main.write_text(main.read_text() + RELEASE_BUG.format(flag=str(self.fault_flag)))
            if bug == "5xx":
                self.fault_flag.touch()

    def revisions(self) -> list[str]:
        return sorted(self.fake.run_revisions)

    def traffic_puts(self) -> list[tuple[dict[str, int], dict[str, str]]]:
        """(revision -> percent, tag -> revision) of every traffic PUT gcloud sent, in order."""
        puts = []
        for call in self.fake.find("PUT", "run", rf"/services/{SERVICE}$"):
            if call.query.get("dryRun"):
                continue
            targets = call.body["spec"]["traffic"]
            shares = {t["revisionName"]: t["percent"] for t in targets if t.get("percent")}
            tags = {t["tag"]: t["revisionName"] for t in targets if t.get("tag")}
            puts.append((shares, tags))
        return puts

    def split_now(self) -> dict[str, int]:
        return split(self.fake.run_services[SERVICE])

    def tags_now(self) -> list[str]:
        return [t["tag"] for t in self.fake.run_services[SERVICE]["status"]["traffic"] if t.get("tag")]

    def stop(self) -> None:
        self.servers.stop()
        self.router.stop()


@pytest.fixture
def project(cloud, gcs, tmp_path):  # noqa: F811 (cloud: test_deploy's fixture)
    fake, env = cloud("http://placeholder.invalid")
    made = Project(fake, {**env, **FAST}, tmp_path, gcs)
    yield made
    made.stop()


def swapped_classes_model(out: Path) -> Path:
    """The bundled model with its trees' classes rotated: a real artifact that loads, and answers wrongly."""
    shutil.copytree(BUNDLED_MODEL, out)
    model = json.loads((out / "model.json").read_text())
    booster = model["learner"]["gradient_booster"]["model"]
    booster["tree_info"] = [(c + 1) % 3 for c in booster["tree_info"]]
    data = json.dumps(model).encode()
    (out / "model.json").write_bytes(data)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["model_sha256"] = hashlib.sha256(data).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def run_deploy(project: Project, *args: str, timeout: float = 500):
    return deploy(*DEPLOY_ARGS, *args, env=project.env, timeout=timeout)


# --- the canary ---


def assert_passed_every_step(project: Project, result: subprocess.CompletedProcess, old: str, sent: int) -> None:
    """The canary after traffic PUT number `sent`: made at 0% with the tag, validated, then 10%, 50%, 100%."""
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert project.fake.unhandled() == []
    new = project.revisions()[-1]
    assert project.traffic_puts()[sent:] == [
        ({old: 100}, {"candidate": new}),  # the deploy: a new revision with no traffic, tagged
        ({new: 10, old: 90}, {"candidate": new}),
        ({new: 50, old: 50}, {"candidate": new}),
        ({new: 100}, {}),  # the last step removes the tag
    ]
    assert project.split_now() == {new: 100} and project.tags_now() == []
    # Validated through the tag's own front with the token minted for the service URL: nothing was refused.
    assert (SERVICE, "candidate") in project.fake.tag_fronts and project.fake.refused == []
    assert "golden set: 59/59 right" in out and "seed Gentoo: HTTP 200, answered Gentoo" in out
    assert "FAIL" not in out and f"Canary passed: 100% on {new}" in out and "smoke test passed" in out
    # Each change was read back: after the deploy, and after each of the three steps.
    assert out.count("ok   traffic read back:") == 4, out
    assert f"ok   traffic read back: {old} 100%, tag candidate on {new}" in out
    # Each window judged the candidate from its own request lines, read through gcloud logging read.
    reads = project.fake.find("POST", "logging", "entries:list")
    assert len([c for c in reads if "pageToken" not in c.body]) == 3
    assert [c for c in reads if "pageToken" in c.body], "no window needed a second page: the paging is untested"
    windows = [line for line in out.splitlines() if line.strip().startswith(f"candidate {new}:")]
    assert len(windows) == 3 and all(", 0 5xx" in line for line in windows), windows
    counted = [sum(map(int, re.findall(r"(\d+) requests", line))) for line in windows]
    assert max(counted) > project.fake.log_page_size, counted  # the lines of every page were read, not the first


@needs_gcloud
@pytest.mark.timeout(800)
def test_a_release_passes_every_step_of_the_canary_and_ends_untagged_with_all_the_traffic(project):
    old = project.stable
    result = run_deploy(project, "--canary-interval", "1")
    assert_passed_every_step(project, result, old, sent=0)
    assert len(project.revisions()) == 2


@needs_gcloud
@pytest.mark.timeout(600)
def test_a_platform_that_moves_traffic_unasked_is_caught_and_the_split_restored(project):
    """As public reports say the Functions API does: all traffic to the latest revision on deploy, whatever asked."""
    old = project.stable
    project.fake.moves_traffic_on_deploy = True
    result = run_deploy(project, "--canary-interval", "1")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    [_, new] = project.revisions()
    assert "CANARY FAILED: the deploy moved traffic it was told not to move" in result.stderr
    assert (
        f"FAIL traffic read back is not what was asked: asked {old} 100%, tag candidate on {new}; "
        f"the service's status.traffic says {new} 100%, no tags"
    ) in result.stderr
    assert "is serving \x1b[1m0\x1b[m percent of traffic" in result.stderr  # what gcloud reported: what it asked
    assert project.traffic_puts() == [
        ({old: 100}, {"candidate": new}),  # what gcloud asked for; the platform gave new 100% instead
        ({old: 100}, {}),  # the split from before put back, the tag removed
    ]
    assert project.split_now() == {old: 100} and project.tags_now() == []
    assert f"ok   traffic read back: {old} 100%, no tags" in out  # the restored split, read back too
    assert f"Rolled back: {old}=100 of the traffic (read back), as before the deploy. The new revision {new}" in out
    assert "Validating" not in out and project.fake.find("POST", "logging") == []  # stopped before any request


@needs_gcloud
@pytest.mark.timeout(600)
def test_a_token_minted_for_the_tag_url_is_refused_and_the_canary_stops_before_any_traffic_moves(project):
    """Cloud Run documents the service URL as an accepted audience, not a tag's URL: a token for the tag is refused."""
    old = project.stable
    candidate_url = tag_url(project.fake, SERVICE, "candidate")  # the URL the tag will get, known in advance here
    project.env["ID_TOKEN"] = mint(candidate_url)
    result = run_deploy(project, "--canary-interval", "1")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    [_, new] = project.revisions()
    [failed] = [line for line in result.stderr.splitlines() if line.startswith("CANARY FAILED")]
    assert failed == (
        f"CANARY FAILED: the candidate's URL {candidate_url} refused the identity token: 401 Unauthorized, its "
        f"audience (aud) is '{candidate_url}'; the token's audience must be the service URL {project.router.url} "
        f"(deploy.sh mints one with gcloud auth print-identity-token --audiences={project.router.url} when ID_TOKEN "
        "is unset; a service account can, and a user's login gets gcloud's own audience, which Cloud Run accepts "
        "from a principal with roles/run.invoker)"
    )
    assert "FAIL" not in result.stderr.replace(failed, "")  # that one sentence, no HTML, no other checks' noise
    assert project.traffic_puts() == [
        ({old: 100}, {"candidate": new}),  # the deploy: 0%, tagged
        ({old: 100}, {}),  # the tag it added removed; the split it never changed, as it was
    ]
    assert project.split_now() == {old: 100} and project.tags_now() == []
    assert f"ok   traffic read back: {old} 100%, no tags" in out
    assert [url for url, _ in project.fake.refused] == [candidate_url]  # stopped at the first refusal
    requests = [e for e in project.fake.log_entries if "httpRequest" in e]
    assert [e for e in requests if e["resource"]["labels"]["revision_name"] == new] == []  # it reached no revision
    assert project.fake.find("POST", "logging") == [] and "smoke test passed" not in out


@needs_gcloud
@pytest.mark.timeout(800)
def test_the_token_gcloud_mints_as_a_service_account_is_for_the_service_url_and_passes_both_urls(project, tmp_path):
    """No ID_TOKEN: the real gcloud mints it from a service account's key file whose token_uri is the fake's."""
    token_uri = f"{project.fake.url}/token"
    key = service_account_key_file(tmp_path, token_uri, email="deployer@test-project.iam.gserviceaccount.com")
    del project.env["ID_TOKEN"], project.env["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"]
    project.env.update(CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=str(key), CLOUDSDK_AUTH_TOKEN_HOST=token_uri)
    result = run_deploy(project, "--canary-interval", "1", "--canary-steps", "100")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    [_, new] = project.revisions()
    assert f"Canary passed: 100% on {new}" in out and "smoke test passed" in out
    # gcloud asked its token endpoint for the service URL's audience (and, as it does on every refresh of a
    # service account, for its own client id), never the tag's; both fronts let through that token only.
    audiences = {grant["target_audience"] for grant in project.fake.token_grants if "target_audience" in grant}
    assert audiences == {project.router.url, GCLOUD_CLIENT_ID}
    tag_front = project.fake.tag_fronts[(SERVICE, "candidate")].url
    assert {url for url, _ in project.fake.admitted} == {tag_front, project.router.url}
    assert {aud for _, aud in project.fake.admitted} == {project.router.url} and project.fake.refused == []
    assert "golden set: 59/59 right" in out


@needs_gcloud
def test_no_identity_token_stops_the_deploy_before_anything_changes(project):
    """ID_TOKEN unset and gcloud logged in with an access token only: print-identity-token fails both ways."""
    del project.env["ID_TOKEN"]
    result = run_deploy(project)
    assert result.returncode == 1, result.stdout + result.stderr
    url = project.router.url
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: no identity token for the requests to {url}: gcloud auth print-identity-token failed with "
        f"--audiences={url} (a service account) and without it (a user), so run gcloud auth login (or activate a "
        f"service account), or set ID_TOKEN to a token whose audience is {url}"
    )
    assert [c for c in project.fake.calls if c.method != "GET" and c.api != "serviceusage"] == []  # nothing changed
    assert len(project.revisions()) == 1 and "Publishing the model" not in result.stdout


@needs_gcloud
@pytest.mark.long_only  # its second half is the test above; validation's verdicts: test_validation_fails_...
@pytest.mark.timeout(1000)  # two whole deploys with the real gcloud: ~40 s each on an idle machine
def test_a_candidate_failing_validation_never_gets_traffic_then_the_fixed_one_passes_every_step(project, tmp_path):
    old = project.stable
    from training.publish import publish

    publish(str(swapped_classes_model(tmp_path / "broken")), f"gs://{BUCKET}/broken", project.gcs.client)
    project.bugs[2] = "wrong-model"
    failed = run_deploy(project, "--canary-interval", "1")
    out = failed.stdout + failed.stderr
    assert failed.returncode == 1, out
    [_, bad] = project.revisions()
    assert project.traffic_puts() == [
        ({old: 100}, {"candidate": bad}),  # the deploy: 0%, tagged
        ({old: 100}, {}),  # validation failed: the tag removed, the traffic never moved
    ]
    assert project.split_now() == {old: 100} and project.tags_now() == []
    assert "CANARY FAILED: validation of " + bad in failed.stderr
    fails = [line.strip() for line in failed.stderr.splitlines() if line.strip().startswith("FAIL")]
    assert any(line.startswith("FAIL golden set: ") and "(CANARY_MIN_GOLDEN_ACCURACY 0.95)" in line for line in fails)
    assert "FAIL seed Adelie" in out and "smoke test passed" not in out
    assert project.fake.find("POST", "logging") == []  # no window: no traffic was ever at stake

    # The second run after that rollback (the fix released) passes every step.
    sent = len(project.traffic_puts())
    again = run_deploy(project, "--canary-interval", "1")
    assert_passed_every_step(project, again, old, sent)
    assert len(project.revisions()) == 3


@needs_gcloud
@pytest.mark.timeout(800)
def test_errors_after_the_first_step_roll_back_with_the_figures(project):
    old = project.stable
    project.bugs[2] = "5xx-later"
    watching = threading.Event()

    def turn_the_bug_on_at_50_percent() -> None:  # the release bug shows only under more traffic
        while not watching.is_set():
            shares = [s for s, _ in project.traffic_puts()]
            if any(s.get(n) == 50 for s in shares for n in s if n != old):
                project.fault_flag.touch()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=turn_the_bug_on_at_50_percent, daemon=True)
    watcher.start()
    try:
        result = run_deploy(project, "--canary-interval", "1")
    finally:
        watching.set()
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    [_, new] = project.revisions()
    assert project.traffic_puts() == [
        ({old: 100}, {"candidate": new}),
        ({new: 10, old: 90}, {"candidate": new}),
        ({new: 50, old: 50}, {"candidate": new}),
        ({old: 100}, {}),  # rolled back, tag removed
    ], out
    assert project.split_now() == {old: 100} and project.tags_now() == []
    assert f"CANARY FAILED: the window at 50% on {new}" in result.stderr
    [rate_line] = [line for line in result.stderr.splitlines() if "FAIL candidate 5xx rate" in line]
    assert "1.000" in rate_line  # every candidate request failed in that window
    assert f"Rolled back: {old}=100 of the traffic (read back)" in result.stderr


# --- deploy/rollout.py's checks against real servers, without gcloud (fast) ---


def rollout_py(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """deploy/rollout.py with the thresholds deploy/rollout.sh defines (sourced, so they come from that one place)."""
    command = ["bash", "-c", 'source deploy/rollout.sh && exec "$@"', "_", sys.executable, "deploy/rollout.py", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def revisions(tmp_path):
    """Start revisions as real servers of function/ (a copy), some with the release bug on; log lines collected."""
    fake = FakeGcp("http://unused.invalid")
    flag = tmp_path / "release-bug-on"
    flag.touch()
    buggy: set[str] = set()

    def prepare(revision: str, source_dir: Path, env: dict) -> None:
        if revision in buggy:
            main = source_dir / "main.py"
            main.write_text(main.read_text() + RELEASE_BUG.format(flag=str(flag)))

    servers = RevisionServers(fake, tmp_path / "revisions", prepare=prepare)

    def start(revision: str, bug: bool = False) -> str:
        if bug:
            buggy.add(revision)
        return servers(revision, {}, None, PROJECT, REGION)

    start.fake = fake
    yield start
    servers.stop()


def test_validation_fails_a_candidate_that_answers_5xx(revisions):
    url = revisions("penguin-species-00002-bad", bug=True)
    result = rollout_py("validate", url, url, env=clean_env(CANARY_BURST_REQUESTS="20", ROLLOUT_ID_TOKEN="t"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok   /health is ok: model " in result.stdout  # up and healthy, yet every prediction fails
    assert "FAIL seed Adelie: HTTP 500, answered None" in result.stdout
    assert "FAIL golden set: HTTP 500" in result.stdout
    assert "FAIL burst of 20 (5 at a time): 20 5xx or no answer (500: 20)" in result.stdout


@pytest.mark.parametrize("bug, verdict", [(False, 0), (True, 1)], ids=["healthy", "answers-5xx"])
def test_a_window_judges_the_candidate_by_its_request_lines(revisions, tmp_path, bug, verdict):
    stable, candidate = "penguin-species-00001-abc", "penguin-species-00002-def"
    urls = {stable: revisions(stable), candidate: revisions(candidate, bug=bug)}
    for name, count in ((stable, 9), (candidate, 6)):
        for i in range(count):
            penguin = list(SEED_EXAMPLES.values())[i % 3]
            request = urllib.request.Request(f"{urls[name]}/predict", json.dumps(penguin).encode(), method="POST")
            request.add_header("Content-Type", "application/json")
            try:
                urllib.request.urlopen(request, timeout=30).read()
            except urllib.error.HTTPError as error:
                assert bug and error.code == 500
    entries = revisions.fake.log_entries
    deadline = time.monotonic() + 10
    while len([e for e in entries if "httpRequest" in e]) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)  # the lines are read from the servers' stdout as they come
    (tmp_path / "entries.json").write_text(json.dumps(entries))
    result = rollout_py("window", str(tmp_path / "entries.json"), candidate, stable, env=clean_env(**LOOSE_LATENCY))
    assert result.returncode == verdict, result.stdout + result.stderr
    errors = 6 if bug else 0
    assert f"candidate {candidate}: 6 requests, {errors} 5xx" in result.stdout
    assert f"stable {stable}: 9 requests, 0 5xx" in result.stdout
    assert ("FAIL candidate 5xx rate 1.000" in result.stdout) is bug
    assert "within 2 x stable's" in result.stdout  # compared with the stable revision, not only with thresholds


# --- rollback and status ---


@needs_gcloud
def test_status_then_rollback_then_rollback_to_a_revision(project):
    old = project.stable
    deployed(project.fake, PROJECT, REGION, SERVICE, project.first_env)  # a second deploy, 100% on it
    [_, new] = project.revisions()
    assert project.split_now() == {new: 100}
    args = ("--project", "test-project", "--region", "europe-west1")

    status = deploy("status", *args, env=project.env)
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line for line in status.stdout.splitlines() if line.startswith(SERVICE)}
    assert set(rows) == {old, new}
    assert "100%" in rows[new] and "ok: model " in rows[new] and f"gs://{BUCKET}/penguins" in rows[new]
    assert " 0%" in rows[old] and "no URL" in rows[old]

    back = deploy("rollback", *args, env=project.env)
    assert back.returncode == 0, back.stdout + back.stderr
    assert project.traffic_puts() == [({old: 100}, {})]
    assert project.split_now() == {old: 100}
    assert "seed Adelie: HTTP 200, answered Adelie" in back.stdout and f"100% on {old} (was {new})" in back.stdout

    forward = deploy("rollback", "--to", new, *args, env=project.env)
    assert forward.returncode == 0, forward.stdout + forward.stderr
    assert project.traffic_puts()[1:] == [({new: 100}, {})]


def test_rollback_to_an_unknown_revision_names_the_ones_there_are(tmp_path):
    revisions = [
        {"metadata": {"name": f"{SERVICE}-0000{n}-abc", "creationTimestamp": f"2026-12-01T10:0{n}:00Z"}} for n in (1, 2)
    ]
    service = {"status": {"traffic": [{"revisionName": f"{SERVICE}-00002-abc", "percent": 100}]}}
    (tmp_path / "service.json").write_text(json.dumps(service))
    (tmp_path / "revisions.json").write_text(json.dumps(revisions))
    files = (str(tmp_path / "service.json"), str(tmp_path / "revisions.json"))
    unknown = rollout_py("rollback-target", *files, "--to", f"{SERVICE}-00009-xyz", env=clean_env())
    assert unknown.returncode == 1
    assert (
        f"no revision {SERVICE}-00009-xyz; the revisions are: {SERVICE}-00002-abc, {SERVICE}-00001-abc"
        in unknown.stderr
    )
    oldest = rollout_py("rollback-target", *files, env=clean_env())
    assert oldest.returncode == 1 and "nothing to roll back to" in oldest.stderr  # 00001 is not ready


# --- dry runs: the whole flow, no gcloud ---


def test_help_names_the_rollout_commands_and_options():
    result = deploy("--help", env=clean_env())
    assert result.returncode == 0
    for word in ("rollback", "status", "--no-canary", "--canary-steps", "--canary-interval", "--to REVISION"):
        assert word in result.stdout


def test_dry_run_shows_the_whole_canary_and_runs_no_gcloud(recording_path):  # noqa: F811
    bin_dir, log = recording_path
    env = recorded_env(bin_dir)
    result = deploy("--dry-run", "--project", "project-one", "--canary-steps", "20,100", env=env)
    assert result.returncode == 0, result.stderr
    assert not log.exists(), log.read_text()
    lines = result.stdout.splitlines()
    commands = [line for line in lines if line.startswith("+ gcloud run")]
    describe = (
        "+ gcloud run services describe penguin-species --project project-one --region europe-west1 --format=json"
    )
    flow = [
        "--no-traffic --tag candidate",  # the canary's revision: no traffic by construction
        describe,  # read back
        "--to-revisions NEW_REVISION=20,SERVING_REVISION=80",
        describe,
        "--to-revisions NEW_REVISION=100 --remove-tags candidate",
        describe,
        "--to-revisions SERVING_REVISION=100 --remove-tags candidate",  # the rollback path
        describe,
    ]
    start = next(i for i, c in enumerate(commands) if "--tag candidate" in c)
    canary = commands[start : start + len(flow)]
    assert [next((part for part in flow if part in c), c) for c in canary] == flow, canary
    assert "A first deploy (no such service yet) skips the canary" in result.stdout
    assert "rollout.py validate https://candidate---" in result.stdout
    assert result.stdout.count("+ gcloud logging read") == 2
    assert "CANARY_MIN_GOLDEN_ACCURACY=0.95" in result.stdout and "CANARY_MAX_5XX_RATE=0.01" in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["rollback", "--to", "rev-7"], "--to-revisions rev-7=100"),
        (["rollback"], "--to-revisions PREVIOUS_REVISION=100"),
        (["status"], "rollout.py status"),
    ],
)
def test_rollback_and_status_dry_runs_run_no_gcloud(recording_path, args, expected):  # noqa: F811
    bin_dir, log = recording_path
    env = recorded_env(bin_dir)
    result = deploy(*args, "--dry-run", "--project", "project-one", env=env)
    assert result.returncode == 0, result.stderr
    assert not log.exists(), log.read_text()
    assert expected in result.stdout
    assert "+ gcloud run revisions list --service penguin-species" in result.stdout


@pytest.mark.parametrize("steps", ["50,10,100", "10,50", "0,100", "ten"])
def test_canary_steps_must_rise_to_100(recording_path, steps):  # noqa: F811
    bin_dir, _ = recording_path
    env = recorded_env(bin_dir)
    result = deploy("--dry-run", "--project", "project-one", "--canary-steps", steps, env=env)
    assert result.returncode == 2 and "--canary-steps" in result.stderr
