"""A fake of the Google Cloud APIs that deploy.sh's gcloud commands call, for offline tests of the real gcloud.

One threaded loopback HTTP server answers for every API; each API gets a path prefix
(CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>=http://127.0.0.1:PORT/<api>/) and every request is recorded.
Operations of Cloud Build, Artifact Registry and Service Usage run for a few polls; the others come back done. Every
exchange is held to Google's discovery documents (tests/support/discovery.py). The server is also gcloud's HTTP proxy
(CLOUDSDK_PROXY_*), so nothing gcloud sends can reach Google even on a machine with internet access:
a host left without an override shows up here as a refused, recorded CONNECT naming that host.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import fake_gcp_bigquery, fake_gcp_build, fake_gcp_run, id_tokens
from tests.support.discovery import check_exchange
from tests.support.fake_gcp_monitoring import ROUTES as MONITORING_ROUTES
from tests.support.loopback_http import send_json

PROJECT_NUMBER = "123456789012"
# Every API gcloud 528 calls for deploy.sh's commands (measured); each one's override points at this server.
APIS = ("serviceusage", "cloudbuild", "cloudresourcemanager", "iam", "storage", "run")
APIS += ("artifactregistry",)  # gcloud run deploy --source: the cloud-run-source-deploy repository
APIS += ("logging", "monitoring")  # deploy/monitoring.sh: log-based metrics, alert policies, dashboards


@dataclass
class Call:
    """One request as the fake received it."""

    method: str
    api: str  # the path prefix: which API's override it came through
    path: str  # without the prefix and the query
    query: dict[str, str]
    body: object  # parsed JSON; None when empty (a source zip's bytes go to FakeGcp.source_objects)
    host: str = ""  # the host gcloud addressed
    handled: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.host if self.api == '?' else ''}/{self.api}{self.path}"


@dataclass
class FakeGcp:
    """State of the fake project(s), and the server answering for them."""

    function_url: str  # what the service reports as status.url (the function's URL)
    calls: list[Call] = field(default_factory=list)
    buckets: dict[str, dict] = field(default_factory=dict)
    bucket_policies: dict[str, dict] = field(default_factory=dict)
    service_accounts: dict[str, dict] = field(default_factory=dict)  # email -> ServiceAccount
    run_policies: dict[str, dict] = field(default_factory=dict)  # Cloud Run service name -> Policy
    # Cloud Logging metrics and Cloud Monitoring (tests/support/fake_gcp_monitoring.py): full resource name -> resource
    log_metrics: dict[str, dict] = field(default_factory=dict)
    alert_policies: dict[str, dict] = field(default_factory=dict)
    notification_channels: dict[str, dict] = field(default_factory=dict)
    dashboards: dict[str, dict] = field(default_factory=dict)
    # Cloud Run and Logging (tests/support/fake_gcp_run.py): the function's service, its revisions and their logs
    run_services: dict[str, dict] = field(default_factory=dict)  # service name -> Knative Service
    run_revisions: dict[str, dict] = field(default_factory=dict)  # revision name -> Knative Revision
    revision_urls: dict[str, str] = field(default_factory=dict)  # revision name -> the URL that serves it
    # serves a new revision (name, env, source zip, project, region); returns its URL
    start_revision: Callable[[str, dict, bytes | None, str, str], str] | None = None
    router_rounds: dict[str, int] = field(default_factory=dict)  # fake_gcp_run.TrafficRouter's credit
    tag_fronts: dict[tuple[str, str], object] = field(default_factory=dict)  # (service, tag) -> its IamFront
    refused: list[tuple[str, str]] = field(default_factory=list)  # (URL, why) of every request the IAM fronts refused
    admitted: list[tuple[str, str]] = field(default_factory=list)  # (URL, the token's aud) of every one let through
    token_grants: list[dict] = field(default_factory=list)  # the claims of every assertion sent to the token endpoint
    log_entries: list[dict] = field(default_factory=list)  # Logging LogEntry objects, as written
    # A --source deploy (tests/support/fake_gcp_build.py): the uploaded archives, repositories, builds, operations
    project_number: str = PROJECT_NUMBER
    source_objects: dict[str, bytes] = field(default_factory=dict)  # "bucket/object" -> the archive's bytes
    repositories: dict[str, dict] = field(default_factory=dict)  # full name -> Artifact Registry Repository
    builds: dict[str, dict] = field(default_factory=dict)  # build id -> {"request": SubmitBuildRequest, "build"}
    pending: dict[str, dict] = field(default_factory=dict)  # operation name -> the operation once done
    operations_polled: dict[str, int] = field(default_factory=dict)
    build_fails: bool = False  # the next builds end in FAILURE
    images: dict[str, str] = field(default_factory=dict)  # image@digest -> "bucket/object" of its source
    # How the platform behaves where gcloud and deploy.sh react (tests/support/fake_gcp_run.py)
    reconcile_reads: int = 1  # reads of a changed service that still show the old status (status lags spec)
    unreconciled: dict[str, int] = field(default_factory=dict)
    moves_traffic_on_deploy: bool = False  # a new revision takes all traffic, whatever was asked
    # BigQuery for the real bq (tests/support/fake_gcp_bigquery.py)
    bq_datasets: dict[str, dict] = field(default_factory=dict)  # "project:dataset" -> Dataset
    bq_connections: dict[str, dict] = field(default_factory=dict)  # full name -> Connection
    bq_jobs: dict[str, dict] = field(default_factory=dict)  # job id -> Job
    log_page_size: int = 1000  # entries:list answers at most this many a page (Logging's own cap)
    run_regions: tuple[str, ...] = ("europe-west1", "us-central1", "us-east1")
    schema_errors: list[str] = field(default_factory=list)  # exchanges unlike Google's discovery documents
    forbidden: dict[str, str] = field(default_factory=dict)  # regex over "METHOD api/path" -> the permission denied

    def start(self) -> FakeGcp:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as gcloud expects of Google's front ends

            def do_any(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_any

            def do_CONNECT(self) -> None:  # an https host without an override: refuse and record it
                if self.path == f"127.0.0.1:{fake.port}":  # bq tunnels even plain http: to this server, let it
                    self.send_response(200, "Connection established")
                    self.end_headers()
                    return  # the tunnel's requests come next on this connection, answered as any other
                fake.calls.append(Call("CONNECT", "?", "", {}, None, self.path, handled=False))
                self.send_error(502, f"no endpoint override for {self.path}")

            def log_message(self, *args) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        for front in self.tag_fronts.values():
            front.stop()

    def env(self, config_dir: Path, token_file: Path) -> dict[str, str]:
        """The environment that points the real gcloud at this fake, isolated from the user's config."""
        env = {
            "CLOUDSDK_CONFIG": str(config_dir),
            "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": str(token_file),
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
            "CLOUDSDK_PROXY_TYPE": "http",
            "CLOUDSDK_PROXY_ADDRESS": "127.0.0.1",
            "CLOUDSDK_PROXY_PORT": str(self.port),
        }
        # bq reads its flags from BIGQUERYRC: --api points it at this server (its discovery documents, then calls)
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "bigqueryrc").write_text(f"--api={self.url}\n")
        env["BIGQUERYRC"] = str(config_dir / "bigqueryrc")
        for api in APIS:
            # storage's client joins "b/<bucket>" straight onto the override: give it the real base path
            suffix = "storage/v1/" if api == "storage" else f"{api}/"
            env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = f"{self.url}/{suffix}"
        # gcloud run prefixes the region to the host (europe-west1-127.0.0.1 resolves nowhere): a made-up
        # host, reached through the proxy setting above, is what it can prefix.
        env["CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN"] = f"http://{fake_gcp_run.FAKE_RUN_HOST}/"
        return env

    def made_by_a_first_deploy(self, project: str, bucket: str, account_id: str, region: str) -> None:
        """The bucket and the service account a first deploy.sh made: a function that serves already has them."""
        self.buckets[bucket] = {"name": bucket, "id": bucket, "kind": "storage#bucket", "location": region,
                                "projectNumber": PROJECT_NUMBER}  # fmt: skip
        email = f"{account_id}@{project}.iam.gserviceaccount.com"
        self.service_accounts[email] = {
            "name": f"projects/{project}/serviceAccounts/{email}",
            "projectId": project,
            "email": email,
            "uniqueId": "1",
        }

    # --- queries for tests ---

    def find(self, method: str, api: str, pattern: str = "") -> list[Call]:
        """Calls with this method to this API whose path matches the regex pattern."""
        return [c for c in self.calls if c.method == method and c.api == api and re.search(pattern, c.path)]

    def unhandled(self) -> list[Call]:
        """Requests the fake could not answer: a missing override or route, or an API deploy.sh should not call."""
        return [c for c in self.calls if not c.handled]

    # --- the server ---

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)  # absolute-form when it came as a proxy request
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        parts = url.path.split("/", 2)  # "", api, rest
        api = parts[1] if len(parts) > 1 and parts[1] in APIS else "?"
        path = "/" + parts[2] if api != "?" and len(parts) > 2 else url.path
        if (url.hostname or "").endswith(fake_gcp_run.FAKE_RUN_HOST):
            api, path = "run", url.path
        if url.path == "/$discovery/rest":  # bq --api URL reads BigQuery's discovery document from URL first
            api, path = "bigquery-discovery", url.path
        elif url.path.startswith("/bigquery/v2/"):  # what bq then calls, at the discovery document's servicePath
            api, path = "bigquery", url.path.removeprefix("/bigquery")
        elif url.path.startswith("/v1/projects/") and "/connections" in url.path:  # the Connection API's
            api, path = "bigqueryconnection", url.path
        if url.path == "/token":  # OAuth 2.0's token endpoint: a service account key file's token_uri points here
            api, path = "oauth2", url.path
        if url.path.startswith("/upload/storage/v1/"):  # a media upload: storage's upload path, off the override's
            api, path = "storage-upload", url.path.removeprefix("/upload/storage/v1")
        body: object = None
        content_type = h.headers.get("Content-Type", "")
        if content_type.startswith("multipart/related"):  # JSON metadata, then the media: keep the media
            boundary = content_type.split("boundary=", 1)[1].strip("'\"").encode()
            media = raw.split(b"--" + boundary)[2]
            raw = re.split(rb"\r?\n\r?\n", media, maxsplit=1)[1].removesuffix(b"\n").removesuffix(b"\r")
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw  # the source zip
        call = Call(
            h.command, api, path, dict(urllib.parse.parse_qsl(url.query)), body, url.netloc or h.headers["Host"]
        )
        with self._lock:
            self.calls.append(call)
            request = call.body
            status, answer = self._route(call)
            if (
                call.handled and call.api not in ("bigquery-discovery", "oauth2")  # no discovery document for these
            ):  # held to Google's own definition of the method (tests/support/discovery.py)
                self.schema_errors += check_exchange(call.api, call.method, call.path, request, status, answer)
        raw_answer = answer["$raw"] if isinstance(answer, dict) and "$raw" in answer else json.dumps(answer).encode()
        send_json(h, status, raw_answer, "application/json; charset=UTF-8")

    def _route(self, call: Call) -> tuple[int, object]:
        for pattern, permission in self.forbidden.items():
            if re.search(pattern, f"{call.method} {call.api}{call.path}"):
                return _error(403, f"Permission '{permission}' denied on resource '{call.path}' (or it may not exist).")
        for method, api, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, call.path) if (call.method, call.api) == (method, api) else None
            if match:
                return handler(self, call, *match.groups())
        call.handled = False
        return _error(404, f"the fake has no route for {call}")

    # OAuth 2.0 (a service account's JWT grant, as google-auth sends it for gcloud)

    def _token(self, call):
        """An access token, or an ID token when the signed assertion asks for a target_audience (--audiences)."""
        form = urllib.parse.parse_qs(call.body.decode() if isinstance(call.body, bytes) else "")
        claims = id_tokens.claims(form.get("assertion", [""])[0]) or {}
        self.token_grants.append(claims)
        if claims.get("target_audience"):
            return 200, {"id_token": id_tokens.mint(claims["target_audience"], email=claims.get("iss", ""))}
        return 200, {"access_token": "fake-access-token", "expires_in": 3600, "token_type": "Bearer"}

    # serviceusage v1

    def _batch_enable(self, call, project):
        services = [
            {"name": f"projects/{PROJECT_NUMBER}/services/{s}", "state": "ENABLED"} for s in call.body["serviceIds"]
        ]
        # Running on the first poll, as a real enable is: gcloud polls operations.get until it is done.
        name = f"operations/batch-enable-{len(self.calls)}"
        self.pending[name] = _done(name, {"services": services})
        self.operations_polled[name] = 0
        return 200, {"name": name, "done": False}

    def _service_operation(self, call, name):
        return fake_gcp_build.poll(self, name)

    def _service(self, call, project, service):
        return 200, {"name": f"projects/{PROJECT_NUMBER}/services/{service}", "state": "ENABLED"}

    # cloudresourcemanager v1

    def _project(self, call, project):
        return 200, {"projectId": project, "projectNumber": PROJECT_NUMBER, "lifecycleState": "ACTIVE"}

    def _project_policy(self, call, project):
        # The default build account holds a role that lets it build: gcloud neither warns nor prompts.
        build_sa = f"serviceAccount:{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"
        return 200, {"version": 1, "etag": "BwE=", "bindings": [{"role": "roles/editor", "members": [build_sa]}]}

    # cloudbuild v1

    def _build_account(self, call, project, region):
        email = f"{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"
        return 200, {
            "name": f"projects/{project}/locations/{region}/defaultServiceAccount",
            "serviceAccountEmail": f"projects/{project}/serviceAccounts/{email}",
        }

    # iam v1

    def _get_service_account(self, call, project, email):
        if email == f"{PROJECT_NUMBER}-compute@developer.gserviceaccount.com":  # the default build account
            name = f"projects/{project}/serviceAccounts/{email}"
            return 200, {"name": name, "projectId": project, "email": email, "uniqueId": "0"}
        if email not in self.service_accounts:
            return _error(404, f"Unknown service account {email}")
        return 200, self.service_accounts[email]

    def _create_service_account(self, call, project):
        email = f"{call.body['accountId']}@{project}.iam.gserviceaccount.com"
        account = {
            "name": f"projects/{project}/serviceAccounts/{email}",
            "projectId": project,
            "email": email,
            "uniqueId": str(len(self.service_accounts) + 1),
            **call.body.get("serviceAccount", {}),
        }
        self.service_accounts[email] = account
        return 200, account

    # storage v1

    def _get_bucket(self, call, bucket):
        if bucket not in self.buckets:
            return _error(404, "The specified bucket does not exist.")
        return 200, self.buckets[bucket]

    def _create_bucket(self, call):
        bucket = {**call.body, "id": call.body["name"], "kind": "storage#bucket", "projectNumber": PROJECT_NUMBER}
        self.buckets[bucket["name"]] = bucket
        return 200, bucket

    def _list_buckets(self, call):
        prefix = call.query.get("prefix", "")
        return 200, {"kind": "storage#buckets", "items": [b for n, b in self.buckets.items() if n.startswith(prefix)]}

    def _get_bucket_policy(self, call, bucket):
        if bucket not in self.buckets:
            return _error(404, "The specified bucket does not exist.")
        return 200, self.bucket_policies.get(bucket, {"kind": "storage#policy", "bindings": [], "etag": "CAE="})

    def _set_bucket_policy(self, call, bucket):
        self.bucket_policies[bucket] = {**call.body, "kind": "storage#policy", "etag": "CAI="}
        return 200, self.bucket_policies[bucket]

    # run v1 (IAM on the function's Cloud Run service)

    def _get_run_policy(self, call, service):
        return 200, self.run_policies.get(service, {"etag": "BwE="})

    def _test_run_permissions(self, call, service):
        return 200, {"permissions": call.body.get("permissions", [])}  # the caller holds every one

    def _set_run_policy(self, call, service):
        self.run_policies[service] = call.body["policy"]
        return 200, call.body["policy"]


def _done(name: str, response: dict) -> dict:
    """A long-running operation that has already finished."""
    return {"name": name, "done": True, "response": response}


def _error(code: int, message: str) -> tuple[int, dict]:
    status = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}.get(code, "UNKNOWN")
    return code, {"error": {"code": code, "message": message, "status": status}}


LOC = r"projects/[^/]+/locations/[^/]+"
ROUTES = [  # (method, API, path regex, handler(fake, call, *groups))
    ("POST", "oauth2", r"/token", FakeGcp._token),
    ("POST", "serviceusage", r"/v1/projects/([^/]+)/services:batchEnable", FakeGcp._batch_enable),
    ("GET", "serviceusage", r"/v1/projects/([^/]+)/services/([^/]+)", FakeGcp._service),
    ("GET", "serviceusage", r"/v1/(operations/[^/]+)", FakeGcp._service_operation),
    ("GET", "cloudresourcemanager", r"/v1/projects/([^/:]+)", FakeGcp._project),
    ("POST", "cloudresourcemanager", r"/v1/projects/([^/:]+):getIamPolicy", FakeGcp._project_policy),
    ("GET", "cloudbuild", r"/v1/projects/([^/]+)/locations/([^/]+)/defaultServiceAccount", FakeGcp._build_account),
    ("GET", "iam", r"/v1/projects/([^/]+)/serviceAccounts/([^/]+)", FakeGcp._get_service_account),
    ("POST", "iam", r"/v1/projects/([^/]+)/serviceAccounts", FakeGcp._create_service_account),
    ("GET", "storage", r"/v1/b/([^/]+)", FakeGcp._get_bucket),
    ("POST", "storage", r"/v1/b", FakeGcp._create_bucket),
    ("GET", "storage", r"/v1/b", FakeGcp._list_buckets),
    ("GET", "storage", r"/v1/b/([^/]+)/iam", FakeGcp._get_bucket_policy),
    ("PUT", "storage", r"/v1/b/([^/]+)/iam", FakeGcp._set_bucket_policy),
    ("GET", "run", rf"/v1/{LOC}/services/([^/:]+):getIamPolicy", FakeGcp._get_run_policy),
    ("POST", "run", rf"/v1/{LOC}/services/([^/:]+):setIamPolicy", FakeGcp._set_run_policy),
    ("POST", "run", rf"/v1/{LOC}/services/([^/:]+):testIamPermissions", FakeGcp._test_run_permissions),
    *MONITORING_ROUTES,
    *fake_gcp_build.ROUTES,
    *fake_gcp_bigquery.ROUTES,
    *fake_gcp_run.ROUTES,
]
