"""BigQuery's API and its Connection API for the real `bq` CLI (`bq --api URL`), for tests/support/fake_gcp.py.

bq reads a discovery document from URL/$discovery/rest?version=v2 (BigQuery) or v1 (the Connection API)
first, the vendored ones, then calls the API at its servicePath. Datasets, connections and the jobs of the
queries bq runs are kept on FakeGcp (bq_datasets, bq_connections, bq_jobs); a query job is running on its
first poll, as a real one is.
"""

from __future__ import annotations

import copy

from tests.support.discovery import DOCUMENTS

CONNECTION_ACCOUNT = "bqcx-123456789012-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com"


def _error(code: int, message: str) -> tuple[int, dict]:
    """BigQuery's error: bq needs the errors list with its reason (notFound, duplicate)."""
    status = {404: "NOT_FOUND", 409: "ALREADY_EXISTS"}.get(code, "UNKNOWN")
    reason = {404: "notFound", 409: "duplicate"}.get(code, "invalid")
    errors = [{"message": message, "domain": "global", "reason": reason}]
    return code, {"error": {"code": code, "message": message, "errors": errors, "status": status}}


def discovery_document(fake, call):
    name = "bigqueryconnection.v1" if call.query.get("version") == "v1" else "bigquery.v2"
    return 200, {"$raw": (DOCUMENTS / f"{name}.json").read_bytes()}


# --- bigquery v2: datasets and query jobs ---


def get_dataset(fake, call, project, dataset):
    key = f"{project}:{dataset}"
    return (200, fake.bq_datasets[key]) if key in fake.bq_datasets else _error(404, f"Not found: Dataset {key}")


def insert_dataset(fake, call, project):
    reference = call.body["datasetReference"]
    key = f"{reference['projectId']}:{reference['datasetId']}"
    if key in fake.bq_datasets:
        return _error(409, f"Already Exists: Dataset {key}")
    fake.bq_datasets[key] = {**copy.deepcopy(call.body), "id": key, "kind": "bigquery#dataset"}
    return 200, fake.bq_datasets[key]


def insert_job(fake, call, project):
    job_id = call.body.get("jobReference", {}).get("jobId") or f"job_{len(fake.bq_jobs)}"
    location = call.body.get("jobReference", {}).get("location", "US")
    reference = {"projectId": project, "jobId": job_id, "location": location}
    job = {**copy.deepcopy(call.body), "kind": "bigquery#job", "id": f"{project}:{location}.{job_id}"}
    job.update(jobReference=reference, status={"state": "RUNNING"})
    fake.bq_jobs[job_id] = job
    return 200, job


def get_job(fake, call, project, job_id):
    """A job is running on the first read, then done (a DDL statement: no rows)."""
    job = fake.bq_jobs.get(job_id)
    if job is None:
        return _error(404, f"Not found: Job {project}:{job_id}")
    if job["status"]["state"] == "RUNNING":
        job["status"] = {"state": "DONE"}
        return 200, {**job, "status": {"state": "RUNNING"}}
    job["statistics"] = {"query": {"statementType": "CREATE_FUNCTION"}}
    return 200, job


def query_results(fake, call, project, job_id):
    job = fake.bq_jobs.get(job_id)
    if job is None:
        return _error(404, f"Not found: Job {project}:{job_id}")
    reference = job["jobReference"]
    return 200, {"kind": "bigquery#getQueryResultsResponse", "jobReference": reference, "jobComplete": True,
                 "totalRows": "0", "schema": {"fields": []}, "rows": []}  # fmt: skip


# --- bigqueryconnection v1 ---


def get_connection(fake, call, name):
    if name not in fake.bq_connections:
        return _error(404, f"Not found: Connection {name}")
    return 200, fake.bq_connections[name]


def create_connection(fake, call, parent):
    name = f"{parent}/connections/{call.query['connectionId']}"
    if name in fake.bq_connections:
        return _error(409, f"Already Exists: Connection {name}")
    connection = {**copy.deepcopy(call.body), "name": name, "hasCredential": False}
    connection["cloudResource"] = {"serviceAccountId": CONNECTION_ACCOUNT}  # made by the service
    fake.bq_connections[name] = connection
    return 200, connection


P = r"/v2/projects/([^/]+)"
ROUTES = [  # registered in fake_gcp.ROUTES: (method, API, path regex, handler(fake, call, *groups))
    ("GET", "bigquery-discovery", r"/\$discovery/rest", discovery_document),
    ("GET", "bigquery", rf"{P}/datasets/([^/]+)", get_dataset),
    ("POST", "bigquery", rf"{P}/datasets", insert_dataset),
    ("POST", "bigquery", rf"{P}/jobs", insert_job),
    ("GET", "bigquery", rf"{P}/jobs/([^/]+)", get_job),
    ("GET", "bigquery", rf"{P}/queries/([^/]+)", query_results),
    ("GET", "bigqueryconnection", r"/v1/(projects/[^/]+/locations/[^/]+/connections/[^/]+)", get_connection),
    ("POST", "bigqueryconnection", r"/v1/(projects/[^/]+/locations/[^/]+)/connections", create_connection),
]
