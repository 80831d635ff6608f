"""Cloud Run's services and revisions (traffic and tags) and Logging's entries:list, for tests/support/fake_gcp.py.

A gen2 function is a Cloud Run service: each deploy the fake answers adds a revision, and the service's
traffic (what `gcloud run services update-traffic` PUTs) decides which revision answers. Every revision is
a URL: by default the fake's function_url, or, with FakeGcp.start_revision set (RevisionServers), a real
functions-framework server running the source gcloud uploaded. The service URL is a TrafficRouter that
forwards each request to a revision by the current split, and entries:list answers from the revision
servers' real request lines, stamped as they were written, as Cloud Run's logging agent does.
The service URL and every tag's URL are IamFronts: a request without an identity token whose audience the
service accepts (its status.url, or a custom audience) gets Cloud Run's 401 page and reaches no revision.
"""

from __future__ import annotations

import copy
import datetime
import http.client
import io
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.id_tokens import GCLOUD_CLIENT_ID, claims, refusal
from tests.support.loopback_http import send_json
from tools.procs import free_port, function_command, stop_process_group

KNATIVE = "/apis/serving.knative.dev/v1/namespaces/([^/]+)"
FUNCTION_DIR = Path(__file__).resolve().parent.parent.parent / "function"
FAKE_RUN_HOST = "fakerun"  # gcloud run prefixes the region: europe-west1-fakerun, routed here as its proxy


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(code: int, message: str) -> tuple[int, dict]:
    status = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS"}.get(code, "UNKNOWN")
    return code, {"error": {"code": code, "message": message, "status": status}}


def _ready() -> list[dict]:
    return [{"type": t, "status": "True"} for t in ("Ready", "ConfigurationsReady", "RoutesReady")]


# --- revisions: one per deploy ---

FUNCTIONS_MARKS = {  # how Cloud Functions marks the Cloud Run service of a function it manages
    "labels": {"goog-managed-by": "cloudfunctions"},
    "annotations": {"cloudfunctions.googleapis.com/function-id": "{service}"},
}


def template_of(env: dict[str, str], image: str = "europe-west1-docker.pkg.dev/p/r/i@sha256:0") -> dict:
    """A revision template with these environment variables (what a test's earlier deploy made)."""
    container = {"image": image, "env": [{"name": k, "value": v} for k, v in env.items()]}
    return {"metadata": {}, "spec": {"containerConcurrency": 8, "containers": [container]}}


def deploy_revision(fake, project: str, region: str, service_id: str, template: dict, managed_by_functions=False):
    """A deploy made a new revision of service_id from template (creating the service on the first); its name."""
    number = sum(1 for r in fake.run_revisions.values() if _service_of(r) == service_id) + 1
    name = template.get("metadata", {}).get("name") or (  # gcloud names a revision it tags
        f"{service_id}-{number:05d}-{''.join('bcdfghjklmnpqrstvwxz'[(number * 7 + i * 3) % 20] for i in range(3))}"
    )
    container = template["spec"]["containers"][0]
    env = {variable["name"]: variable.get("value", "") for variable in container.get("env", [])}
    source = fake.source_objects.get(fake.images.get(container["image"], ""))
    url = fake.start_revision(name, env, source, project, region) if fake.start_revision else fake.function_url
    fake.revision_urls[name] = url
    labels = {"serving.knative.dev/service": service_id, "cloud.googleapis.com/location": region}
    fake.run_revisions[name] = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Revision",
        "metadata": {"name": name, "namespace": project, "labels": labels, "creationTimestamp": _now()},
        "spec": copy.deepcopy(template["spec"]),
        "status": {"observedGeneration": 1, "conditions": _ready()},
    }
    service = fake.run_services.get(service_id)
    if service is None:
        metadata = {"name": service_id, "namespace": project, "generation": 0, "labels": dict(labels)}
        metadata["annotations"] = {}
        if managed_by_functions:
            metadata["labels"].update(FUNCTIONS_MARKS["labels"])
            marks = FUNCTIONS_MARKS["annotations"].items()
            metadata["annotations"] = {key: value.format(service=service_id) for key, value in marks}
        service = {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {"template": {}, "traffic": [{"percent": 100, "latestRevision": True}]},
            "status": {},
        }
        fake.run_services[service_id] = service
    service["spec"]["template"] = copy.deepcopy(template)
    service["status"].update(latestCreatedRevisionName=name, latestReadyRevisionName=name)
    if fake.moves_traffic_on_deploy:  # as public reports say the Functions API does: all traffic to the latest
        tags = [{"tag": t["tag"], "revisionName": t.get("revisionName") or name} for t in service["spec"]["traffic"]
                if t.get("tag")]  # fmt: skip
        service["spec"]["traffic"] = [{"percent": 100, "latestRevision": True}, *tags]
    return name


def deployed(fake, project: str, region: str, service_id: str, env: dict[str, str], managed_by_functions=False) -> str:
    """A revision deployed earlier (a test's starting state), reconciled: all traffic on it unless pinned."""
    name = deploy_revision(fake, project, region, service_id, template_of(env), managed_by_functions)
    service = fake.run_services[service_id]
    _settle(fake, service)
    fake.unreconciled[service_id] = 0
    _reconciled(fake, service)
    return name


def _service_of(revision: dict) -> str:
    return revision["metadata"]["labels"]["serving.knative.dev/service"]


def _settle(fake, service: dict) -> None:
    """A new generation: status.traffic resolves LATEST and gives each tag its URL after fake.reconcile_reads reads."""
    service["metadata"]["generation"] += 1
    fake.unreconciled[service["metadata"]["name"]] = fake.reconcile_reads


def _reconciled(fake, service: dict) -> dict:
    """The service as a read sees it: still reconciling for a few reads after a change (status lags spec)."""
    name = service["metadata"]["name"]
    if fake.unreconciled.get(name, 0) > 0:
        fake.unreconciled[name] -= 1
        conditions = ("Ready", "ConfigurationsReady", "RoutesReady")
        service["status"]["conditions"] = [{"type": t, "status": "Unknown"} for t in conditions]
        return service
    latest = service["status"]["latestReadyRevisionName"]
    traffic = []
    for target in service["spec"]["traffic"]:
        resolved = {**target, "revisionName": latest if target.get("latestRevision") else target["revisionName"]}
        if target.get("tag"):
            resolved["url"] = tag_url(fake, name, target["tag"])
        traffic.append(resolved)
    router_url = fake.function_url
    service["status"].update(
        observedGeneration=service["metadata"]["generation"],
        conditions=_ready(),
        traffic=traffic,
        url=router_url,
        address={"url": router_url},
    )
    return service


def split(service: dict) -> dict[str, int]:
    """Revision name -> percent of the service's traffic as it is now (revisions with 0% left out)."""
    shares: dict[str, int] = {}
    for target in service["status"]["traffic"]:
        if target.get("percent"):
            shares[target["revisionName"]] = shares.get(target["revisionName"], 0) + target["percent"]
    return shares


# --- Cloud Run (Knative serving v1) handlers ---


def get_service(fake, call, namespace, service_id):
    if service_id not in fake.run_services:
        return _error(404, f"Resource 'services/{service_id}' was not found")
    return 200, _reconciled(fake, fake.run_services[service_id])


def create_service(fake, call, namespace):
    """POST of a new Service (gcloud run deploy's first deploy): its first revision, all traffic on it."""
    service_id = call.body["metadata"]["name"]
    if service_id in fake.run_services:
        return _error(409, f"Resource 'services/{service_id}' already exists")
    region = call.host.split("-fakerun")[0]
    deploy_revision(fake, namespace, region, service_id, call.body["spec"]["template"])
    service = fake.run_services[service_id]
    service["metadata"]["annotations"] = dict(call.body["metadata"].get("annotations", {}))
    service["metadata"]["labels"].update(call.body["metadata"].get("labels", {}))
    traffic = call.body["spec"].get("traffic")
    if traffic:
        service["spec"]["traffic"] = traffic
    _settle(fake, service)
    return 200, service


def list_services(fake, call, namespace):
    return 200, {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "ServiceList",
        "items": [_reconciled(fake, service) for service in fake.run_services.values()],
        "metadata": {},
    }


def replace_service(fake, call, namespace, service_id):
    """PUT of the whole Service: a changed template makes a new revision; then the traffic (split and tags)."""
    service = fake.run_services.get(service_id)
    if service is None:
        return _error(404, f"Resource 'services/{service_id}' was not found")
    traffic = call.body["spec"].get("traffic") or []
    if sum(t.get("percent", 0) for t in traffic) != 100:
        return _error(400, f"the traffic percents must add up to 100: {traffic}")
    if call.query.get("dryRun"):  # gcloud validates the change first: checked as above, nothing changes
        return 200, call.body
    template = call.body["spec"].get("template", {})
    new_revision = None
    if _revision_relevant(template) != _revision_relevant(service["spec"]["template"]):
        region = call.host.split("-fakerun")[0]
        new_revision = deploy_revision(fake, namespace, region, service_id, template)
    for target in traffic:
        name = target.get("revisionName")
        if (
            not target.get("latestRevision")
            and name != new_revision
            and (name not in fake.run_revisions or _service_of(fake.run_revisions[name]) != service_id)
        ):
            return _error(400, f"Revision '{name}' of service '{service_id}' does not exist")
    tags = [t["tag"] for t in traffic if t.get("tag")]
    if len(tags) != len(set(tags)):
        return _error(400, f"a tag names one revision only: {tags}")
    if not (new_revision and fake.moves_traffic_on_deploy):  # else the platform already decided, unasked
        service["spec"]["traffic"] = traffic
    service["metadata"]["annotations"] = dict(call.body["metadata"].get("annotations", {}))
    _settle(fake, service)
    fake.router_rounds.clear()  # a new split: the round-robin starts again
    return 200, service


def _revision_relevant(template: dict) -> str:
    """What makes a new revision: the template without the client's bookkeeping."""
    spec = json.dumps(template.get("spec", {}), sort_keys=True)
    annotations = template.get("metadata", {}).get("annotations", {})
    kept = {k: v for k, v in annotations.items() if not k.startswith("run.googleapis.com/client-")}
    nonce = template.get("metadata", {}).get("labels", {}).get("client.knative.dev/nonce", "")
    return spec + json.dumps(kept, sort_keys=True) + nonce


def list_locations(fake, call, project):
    """Cloud Run's regions (gcloud run regions list): fake.run_regions."""
    locations = [{"name": f"projects/{project}/locations/{r}", "locationId": r} for r in fake.run_regions]
    return 200, {"locations": locations}


def list_revisions(fake, call, namespace):
    key, _, value = call.query.get("labelSelector", "").partition("=")  # "serving.knative.dev/service = NAME"
    service_id = value.strip() if key.strip() == "serving.knative.dev/service" else None
    items = [r for r in fake.run_revisions.values() if service_id is None or _service_of(r) == service_id]
    return 200, {"apiVersion": "serving.knative.dev/v1", "kind": "RevisionList", "items": items, "metadata": {}}


def get_revision(fake, call, namespace, name):
    if name not in fake.run_revisions:
        return _error(404, f"Resource 'revisions/{name}' was not found")
    return 200, fake.run_revisions[name]


# --- Logging: entries:list over the revisions' real request lines ---


def log_entry(line: dict, revision: str, project: str, region: str, number: int) -> dict:
    """A function's stdout JSON line as Cloud Logging stores it: httpRequest and severity promoted."""
    payload = dict(line)
    stamp = _now()
    entry = {
        "insertId": f"{number:012x}",
        "logName": f"projects/{project}/logs/run.googleapis.com%2Fstdout",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": project,
                "location": region,
                "service_name": revision.rsplit("-", 2)[0],
                "revision_name": revision,
                "configuration_name": revision.rsplit("-", 2)[0],
            },
        },
        "timestamp": stamp,
        "receiveTimestamp": stamp,
        "severity": payload.pop("severity", "DEFAULT"),
    }
    if "httpRequest" in payload:
        entry["httpRequest"] = payload.pop("httpRequest")
    entry["jsonPayload"] = payload
    return entry


def list_entries(fake, call):
    body = call.body or {}
    try:
        matches = parse_filter(body.get("filter", ""))
    except ValueError as exc:
        return _error(400, f"the fake cannot parse the filter: {exc}")
    projects = {name.split("/")[1] for name in body.get("resourceNames", [])}
    entries = [e for e in list(fake.log_entries) if e["logName"].split("/")[1] in projects and matches(e)]
    entries.sort(key=lambda e: e["timestamp"], reverse=body.get("orderBy", "timestamp asc").endswith("desc"))
    # Pages, as Logging answers: at most fake.log_page_size (its cap is 1000) and a nextPageToken for the rest
    size = min(int(body.get("pageSize") or 1000), fake.log_page_size)
    start = int(body.get("pageToken") or 0)
    page = {"entries": entries[start : start + size]}
    if start + size < len(entries):
        page["nextPageToken"] = str(start + size)
    return 200, page


_TOKEN = re.compile(r'\s*(?:(\()|(\))|(>=|<=|!=|=|>|<|:)|"((?:[^"\\]|\\.)*)"|([^\s()"=<>!:]+))')


def parse_filter(text: str) -> Callable[[dict], bool]:
    """The subset of the Logging query language gcloud's commands send: comparisons joined by AND, OR, NOT."""
    tokens = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"unexpected text at {text[position:]!r}")
        kind = match.lastindex
        tokens.append((kind, match.group(kind)))
        position = match.end()
    tokens.append((0, ""))
    index = 0

    def peek() -> tuple[int, str]:
        return tokens[index]

    def take() -> tuple[int, str]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def disjunction() -> Callable[[dict], bool]:
        terms = [conjunction()]
        while peek() == (5, "OR"):
            take()
            terms.append(conjunction())
        return lambda e: any(t(e) for t in terms)

    def conjunction() -> Callable[[dict], bool]:
        terms = [negation()]
        while peek()[0] in (1, 5) and peek()[1] != "OR":
            if peek() == (5, "AND"):
                take()
            terms.append(negation())
        return lambda e: all(t(e) for t in terms)

    def negation() -> Callable[[dict], bool]:
        if peek() == (5, "NOT"):
            take()
            term = negation()
            return lambda e: not term(e)
        if peek()[0] == 1:
            take()
            inner = disjunction()
            if take()[0] != 2:
                raise ValueError("a parenthesis is not closed")
            return inner
        return comparison()

    def comparison() -> Callable[[dict], bool]:
        kind, field = take()
        operator = take()
        value = take()
        if kind != 5 or operator[0] != 3 or value[0] not in (4, 5):
            raise ValueError(f"expected FIELD OPERATOR VALUE near {field!r}")
        return _comparison(field, operator[1], value[1])

    result = disjunction()
    if peek()[0] != 0:
        raise ValueError(f"unexpected {peek()[1]!r}")
    return result


def _comparison(field: str, operator: str, wanted: str) -> Callable[[dict], bool]:
    def value_of(entry: dict) -> object:
        value: object = entry
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def compare(entry: dict) -> bool:
        value = value_of(entry)
        if value is None:
            return operator == "!="
        if operator == ":":
            return wanted in str(value)
        left, right = _comparable(field, value, wanted)
        return {
            "=": left == right,
            "!=": left != right,
            ">": left > right,
            "<": left < right,
            ">=": left >= right,
            "<=": left <= right,
        }[operator]

    return compare


def _comparable(field: str, value: object, wanted: str) -> tuple:
    if field.endswith("imestamp"):
        return _instant(str(value)), _instant(wanted)
    if isinstance(value, int | float):
        return float(value), float(wanted)
    return str(value), wanted


def _instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


ROUTES = [  # registered in fake_gcp.ROUTES: (method, API, path regex, handler(fake, call, *groups))
    ("GET", "run", rf"{KNATIVE}/services/([^/]+)", get_service),
    ("PUT", "run", rf"{KNATIVE}/services/([^/]+)", replace_service),
    ("POST", "run", rf"{KNATIVE}/services", create_service),
    ("GET", "run", r"/v1/projects/([^/]+)/locations", list_locations),
    ("GET", "run", rf"{KNATIVE}/services", list_services),
    ("GET", "run", rf"{KNATIVE}/revisions", list_revisions),
    ("GET", "run", rf"{KNATIVE}/revisions/([^/]+)", get_revision),
    ("POST", "logging", r"/v2/entries:list", list_entries),
]


# --- the service's URLs: Cloud Run's IAM front, then the split (the service URL) or one revision (a tag's URL) ---

CUSTOM_AUDIENCES = "run.googleapis.com/custom-audiences"  # a service's extra accepted audiences, a JSON list
# What Google's front end answers a refused identity token with: an HTML page, not JSON.
UNAUTHORIZED_PAGE = b"""<html><head>
<meta http-equiv="content-type" content="text/html;charset=utf-8">
<title>401 Unauthorized</title>
</head>
<body text=#000000 bgcolor=#ffffff>
<h1>Error: Unauthorized</h1>
<h2>Your client does not have permission to the requested URL <code>%s</code>.</h2>
<h2></h2>
</body></html>
"""
NOT_FOUND_PAGE = b"<html><head><title>404 Page not found</title></head><body><h1>Error: Page not found</h1></body>"


def accepted_audiences(fake, service_id: str) -> list[str]:
    """The audiences the service accepts in an identity token: its URL (status.url), its custom audiences, gcloud's.

    gcloud's client id is the aud of a user's `gcloud auth print-identity-token`, which Cloud Run accepts
    from a principal with roles/run.invoker (every caller is one here).
    """
    service = fake.run_services[service_id]
    url = service["status"].get("url") or fake.function_url
    custom = service["metadata"].get("annotations", {}).get(CUSTOM_AUDIENCES)
    return [url, *(json.loads(custom) if custom else []), GCLOUD_CLIENT_ID]


def _public(fake, service_id: str) -> bool:
    """allUsers holds roles/run.invoker (--allow-unauthenticated): no token is asked for."""
    bindings = fake.run_policies.get(service_id, {}).get("bindings", [])
    return any(b.get("role") == "roles/run.invoker" and "allUsers" in b.get("members", []) for b in bindings)


class IamFront:
    """One URL of the service: refuses what Cloud Run's IAM front refuses (401), forwards the rest to target()."""

    def __init__(self, fake, service_id: str, target: Callable[[], str | None]):
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with fake._lock:
                    accepted = accepted_audiences(fake, service_id)
                    public = _public(fake, service_id)
                reason = None if public else refusal(self.headers.get("Authorization", ""), accepted)
                if reason:
                    fake.refused.append((front.url, reason))
                    page = UNAUTHORIZED_PAGE % self.path.split("?")[0].encode()
                    send_json(self, 401, page, "text/html; charset=UTF-8")
                    return
                if not public:
                    fake.admitted.append((front.url, claims(self.headers["Authorization"].split(" ", 1)[1])["aud"]))
                url = target()
                if url is None:  # a tag no longer on any revision
                    send_json(self, 404, NOT_FOUND_PAGE, "text/html; charset=UTF-8")
                    return
                upstream_url = urllib.parse.urlsplit(url)
                upstream = http.client.HTTPConnection(upstream_url.hostname, upstream_url.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                send_json(self, response.status, data, response.getheader("Content-Type") or "application/json")

            do_GET = do_POST = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class TrafficRouter(IamFront):
    """The service's URL: forwards each request to a revision by the current split (smooth weighted round-robin)."""

    def __init__(self, fake, service_id: str):
        super().__init__(fake, service_id, lambda: self.pick(fake, service_id))

    @staticmethod
    def pick(fake, service_id: str) -> str:
        with fake._lock:
            shares = split(fake.run_services[service_id])
            credit = fake.router_rounds
            for name, percent in shares.items():
                credit[name] = credit.get(name, 0) + percent
            chosen = max(shares, key=lambda name: credit[name])
            credit[chosen] -= 100
            return fake.revision_urls[chosen]


def tag_url(fake, service_id: str, tag: str) -> str:
    """The URL of a tag (TAG---SERVICE on Cloud Run): a front of its own, so the token is checked there too."""
    front = fake.tag_fronts.get((service_id, tag))
    if front is None:
        front = fake.tag_fronts[(service_id, tag)] = IamFront(fake, service_id, lambda: _tagged(fake, service_id, tag))
    return front.url


def _tagged(fake, service_id: str, tag: str) -> str | None:
    """The URL of the revision that carries the tag now (None: no revision does)."""
    with fake._lock:
        for target in fake.run_services[service_id]["status"].get("traffic", []):
            if target.get("tag") == tag:
                return fake.revision_urls[target["revisionName"]]
    return None


# --- revisions as real servers ---


class RevisionServers:
    """FakeGcp.start_revision: each revision a real functions-framework server of its uploaded source.

    prepare(revision, source_dir, env) may change a revision before it starts (a test's bad release).
    Each server's stdout request lines become the fake's log entries for that revision.
    """

    def __init__(self, fake, workdir: Path, prepare: Callable[[str, Path, dict], None] | None = None):
        self.fake, self.workdir, self.prepare = fake, workdir, prepare
        workdir.mkdir(parents=True, exist_ok=True)
        self.processes: list[subprocess.Popen] = []

    def __call__(self, revision: str, service_env: dict, source: bytes | Path | None, project: str, region: str) -> str:
        source_dir = self.workdir / revision  # a copy: prepare may change it
        if isinstance(source, bytes):
            zipfile.ZipFile(io.BytesIO(source)).extractall(source_dir)
        else:
            shutil.copytree(source or FUNCTION_DIR, source_dir, ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "MODEL_CACHE_DIR": str(self.workdir / f"{revision}-cache"), **service_env}
        if self.prepare:
            self.prepare(revision, source_dir, env)
        port = free_port()
        process = subprocess.Popen(
            function_command(port, source=source_dir / "main.py"),
            cwd=source_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        threading.Thread(target=self._read_lines, args=(process, revision, project, region), daemon=True).start()
        _wait_listening(port, process)
        return f"http://127.0.0.1:{port}"

    def _read_lines(self, process: subprocess.Popen, revision: str, project: str, region: str) -> None:
        with open(self.workdir / f"{revision}.log", "wb") as log:
            for raw in process.stdout:
                log.write(raw)
                log.flush()
                if raw.startswith(b"{"):
                    entries = self.fake.log_entries
                    entries.append(log_entry(json.loads(raw), revision, project, region, len(entries) + 1))

    def stop(self) -> None:
        for process in self.processes:
            stop_process_group(process)


def _wait_listening(port: int, process: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the revision's server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("the revision's server did not listen in time")
