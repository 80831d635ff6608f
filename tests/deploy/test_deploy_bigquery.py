"""deploy.sh --bigquery DATASET, offline: the dry run, the exact SQL, and a whole run with the real gcloud and bq.

In the whole run the real `bq` (2.1.18, shipped with gcloud) talks to tests/support/fake_gcp_bigquery.py through
`--api` (set in BIGQUERYRC by FakeGcp.env): it reads the vendored discovery documents from the fake, then makes
the dataset, the connection and the query job there; the invoker grant goes through the real gcloud to the fake
Cloud Run IAM API.
"""

from __future__ import annotations

import re
import shlex

from penguins.codecs.bigquery import SQL_ARGUMENTS, SQL_SIGNATURE
from tests.support.deploy import DEPLOY_ARGS, PROJECT, deploy, needs_gcloud, recorded_env
from tests.support.fake_gcp_bigquery import CONNECTION_ACCOUNT
from tests.support.paths import ROOT

BIGQUERY_SCRIPT = ROOT / "deploy" / "bigquery.sh"


def expected_sql(project: str, dataset: str, url: str, location: str = "US", connection: str = "penguin-species"):
    return (
        f"CREATE OR REPLACE FUNCTION `{project}.{dataset}`.{SQL_SIGNATURE} "
        f"REMOTE WITH CONNECTION `{project}.{location}.{connection}` "
        f"OPTIONS (endpoint = '{url}', max_batching_rows = 2500)"
    )


def test_the_sql_signature_is_the_codecs():
    """deploy/bigquery.sh declares the arguments in the order the codec reads them."""
    declared = re.search(r'BIGQUERY_SIGNATURE="([^"]+)"', BIGQUERY_SCRIPT.read_text())[1]
    assert declared == SQL_SIGNATURE
    assert re.findall(r"(\w+) (?:FLOAT64|STRING)", declared) == list(SQL_ARGUMENTS)


def test_dry_run_shows_the_connection_the_grant_and_the_sql_and_runs_nothing(recording_path, tmp_path):
    bin_dir, log = recording_path
    env = recorded_env(bin_dir, CLOUDSDK_CONFIG=str(tmp_path / "no-login"))
    result = deploy("--dry-run", "--project", "project-one", "--bigquery", "penguin_data", env=env)
    assert result.returncode == 0, result.stderr
    assert not log.exists(), log.read_text()
    commands = [shlex.split(line[2:]) for line in result.stdout.splitlines() if line.startswith("+ ")]
    dataset = "project-one:penguin_data"
    assert ["bq", "mk", "--project_id=project-one", "--location=US", "--dataset", dataset] in commands
    assert [
        "bq", "mk", "--connection", "--project_id=project-one", "--location=US", "--connection_type=CLOUD_RESOURCE",
        "penguin-species",
    ] in commands  # fmt: skip
    assert [
        "gcloud", "run", "services", "add-iam-policy-binding", "penguin-species", "--project", "project-one",
        "--region", "europe-west1", "--member=serviceAccount:CONNECTION_SERVICE_ACCOUNT", "--role=roles/run.invoker",
        "--format=none",
    ] in commands  # fmt: skip
    [query] = [c for c in commands if c[:2] == ["bq", "query"]]
    url = "https://penguin-species-PROJECT_NUMBER.europe-west1.run.app"
    sql = expected_sql("project-one", "penguin_data", url)
    assert query == ["bq", "query", "--project_id=project-one", "--location=US", "--use_legacy_sql=false", sql]
    assert "FROM `bigquery-public-data.ml_datasets.penguins`" in result.stdout
    assert "`project-one.penguin_data`.penguin_species(\n      culmen_length_mm, culmen_depth_mm" in result.stdout


def test_without_bigquery_nothing_of_it_is_shown(recording_path, tmp_path):
    bin_dir, _ = recording_path
    env = recorded_env(bin_dir, CLOUDSDK_CONFIG=str(tmp_path / "no-login"))
    result = deploy("--dry-run", "--project", "project-one", env=env)
    assert result.returncode == 0 and "+ bq " not in result.stdout and "==> BigQuery" not in result.stdout


def test_bigquery_options_come_from_the_environment_too(recording_path, tmp_path):
    bin_dir, _ = recording_path
    env = recorded_env(
        bin_dir,
        CLOUDSDK_CONFIG=str(tmp_path / "no-login"),
        BIGQUERY_DATASET="d2",
        BIGQUERY_LOCATION="EU",
        BIGQUERY_CONNECTION="c2",
        BIGQUERY_MAX_BATCHING_ROWS="100",
    )
    result = deploy("--dry-run", "--project", "project-two", env=env)
    assert result.returncode == 0, result.stderr
    assert "REMOTE WITH CONNECTION `project-two.EU.c2`" in result.stdout and "max_batching_rows = 100" in result.stdout


@needs_gcloud
def test_a_whole_deploy_grants_the_connection_the_invoker_role_and_creates_the_function(
    cloud,  # noqa: F811
    function_server,  # noqa: F811
):
    fake, env = cloud(function_server.url)
    result = deploy(*DEPLOY_ARGS, "--bigquery", "penguin_data", env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.unhandled() == []
    # The real bq, against the fake BigQuery API: the dataset, the connection, then the SQL as one query job.
    assert fake.bq_datasets[f"{PROJECT}:penguin_data"]["location"] == "US"
    [(name, connection)] = fake.bq_connections.items()
    assert name == f"projects/{PROJECT}/locations/US/connections/penguin-species" and "cloudResource" in connection
    [job] = fake.bq_jobs.values()
    query = job["configuration"]["query"]
    assert query["query"] == expected_sql(PROJECT, "penguin_data", function_server.url)
    assert query["useLegacySql"] is False and job["jobReference"]["location"] == "US"
    assert len(fake.find("GET", "bigquery", r"/jobs/")) >= 2  # the job was polled until done
    enabled = {api for call in fake.find("POST", "serviceusage", r":batchEnable$") for api in call.body["serviceIds"]}
    assert {"bigquery.googleapis.com", "bigqueryconnection.googleapis.com"} <= enabled
    policy = fake.run_policies["penguin-species"]
    invokers = {m for b in policy["bindings"] if b["role"] == "roles/run.invoker" for m in b["members"]}
    assert invokers == {f"serviceAccount:{CONNECTION_ACCOUNT}"}  # that account alone: the function stays private
    assert f"the connection calls the function as {CONNECTION_ACCOUNT}" in result.stdout
