"""The canary's checks and reports for deploy/rollout.sh: it runs gcloud, this reads what gcloud printed and calls URLs.

Standard library only. Thresholds come from the environment, where deploy/rollout.sh sets every one
(CANARY_THRESHOLDS there is the one place they are defined); the identity token from ROLLOUT_ID_TOKEN.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import math
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_FILE = ROOT / "golden" / "penguins.json"
# The seed's three examples: one definition, a data file the tests and tools read too.
SEED_EXAMPLES = json.loads((ROOT / "golden" / "seed_examples.json").read_text())
CANDIDATE_TAG = "candidate"


def threshold(name: str) -> float:
    """A threshold from the environment (deploy/rollout.sh sets them all)."""
    try:
        return float(os.environ[name])
    except KeyError:
        sys.exit(f"error: {name} is not set (deploy/rollout.sh sets every canary threshold)")
    except ValueError:
        sys.exit(f"error: {name} must be a number; got {os.environ[name]!r}")


def now() -> str:
    """This instant as Cloud Logging writes timestamps (RFC 3339, UTC, microseconds)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank (0 for no values)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0


# --- HTTP to the function ---


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, timeout)
    body: object
    elapsed_ms: float


def call(url: str, path: str, payload: object = None, timeout_s: float = 30) -> Answer:
    """GET (no payload) or POST JSON to the function with the identity token."""
    headers = {"Authorization": f"Bearer {os.environ.get('ROLLOUT_ID_TOKEN', '')}"}
    data = None
    if payload is not None:
        data, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
    request = urllib.request.Request(url.rstrip("/") + path, data=data, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, urllib.error.URLError) as error:
        return Answer(0, str(error), (time.perf_counter() - started) * 1000)
    elapsed_ms = (time.perf_counter() - started) * 1000
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")[:200]
    return Answer(status, body, elapsed_ms)


def golden() -> list[dict]:
    return json.loads(GOLDEN_FILE.read_text())["penguins"]


@dataclass
class Report:
    """Checks with their figures; failed() when any did not pass."""

    lines: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, passed: bool, text: str) -> bool:
        self.lines.append((passed, text))
        print(f"  {'ok  ' if passed else 'FAIL'} {text}", flush=True)
        return passed

    def failed(self) -> bool:
        return not all(passed for passed, _ in self.lines)


def check_health(report: Report, url: str, allow_degraded: bool = False) -> None:
    answer = call(url, "/health")
    body = answer.body if isinstance(answer.body, dict) else {}
    model = body.get("model") or {}
    served = f"model {model.get('version', '?')} from {model.get('source', '?')}"
    if answer.status != 200:
        report.check(False, f"/health answered HTTP {answer.status}: {answer.body}")
    elif body.get("status") == "degraded":
        report.check(allow_degraded, f"/health is degraded ({served}): {body.get('reason')}")
    else:
        report.check(body.get("status") == "ok", f"/health is {body.get('status')}: {served}")


def check_seed_examples(report: Report, url: str) -> None:
    for species, penguin in SEED_EXAMPLES.items():
        answer = call(url, "/predict", penguin)
        got = answer.body.get("prediction") if isinstance(answer.body, dict) else None
        report.check(answer.status == 200 and got == species, f"seed {species}: HTTP {answer.status}, answered {got}")


def check_golden(report: Report, url: str) -> None:
    rows = golden()
    answer = call(url, "/predict", {"instances": [row["penguin"] for row in rows]})
    predictions = answer.body.get("predictions") if isinstance(answer.body, dict) else None
    if answer.status != 200 or not isinstance(predictions, list) or len(predictions) != len(rows):
        report.check(False, f"golden set: HTTP {answer.status}: {str(answer.body)[:200]}")
        return
    right = sum(p.get("prediction") == row["species"] for p, row in zip(predictions, rows))
    minimum = threshold("CANARY_MIN_GOLDEN_ACCURACY")
    report.check(
        right / len(rows) >= minimum,
        f"golden set: {right}/{len(rows)} right, accuracy {right / len(rows):.3f} "
        f"(CANARY_MIN_GOLDEN_ACCURACY {minimum})",
    )


def send_many(url: str, count: int, concurrency: int) -> list[Answer]:
    """count predictions of golden penguins, concurrency at a time."""
    rows = golden()
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda i: call(url, "/predict", rows[i % len(rows)]["penguin"]), range(count)))


def describe_statuses(answers: list[Answer]) -> str:
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return ", ".join(f"{'no answer' if s == 0 else s}: {n}" for s, n in sorted(counts.items()))


def check_burst(report: Report, url: str) -> None:
    count, concurrency = int(threshold("CANARY_BURST_REQUESTS")), int(threshold("CANARY_BURST_CONCURRENCY"))
    answers = send_many(url, count, concurrency)
    errors = sum(1 for a in answers if a.status == 0 or a.status >= 500)
    report.check(
        errors == 0,
        f"burst of {count} ({concurrency} at a time): {errors} 5xx or no answer ({describe_statuses(answers)})",
    )
    bound, latency = threshold("CANARY_BURST_MAX_P95_MS"), p95([a.elapsed_ms for a in answers])
    report.check(latency <= bound, f"burst p95 {latency:.0f} ms (CANARY_BURST_MAX_P95_MS {bound:.0f})")


REFUSED = 4  # validate's exit status when the tagged URL refused the identity token: nothing else was checked


def token_claims(token: str) -> dict | None:
    """The claims of an identity token (a JWT), read, not verified; None when it is not one."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def token_problem(token: str) -> str:
    """What the identity token Cloud Run refused says of itself."""
    claims = token_claims(token) if token else None
    if not token:
        return "no token was sent"
    if claims is None:
        return "the token is not an ID token (a JWT; an access token from gcloud auth print-access-token is refused)"
    expired_s = time.time() - float(claims.get("exp", 0))
    if expired_s >= 0:
        return f"it expired {expired_s:.0f} s ago"
    return f"its audience (aud) is {claims.get('aud')!r}"


def refused(answer: Answer, url: str, service_url: str) -> str | None:
    """One sentence when Cloud Run's front refused the token (401, 403: an HTML page, not the function); else None."""
    token = os.environ.get("ROLLOUT_ID_TOKEN", "")
    if answer.status == 401:
        return (
            f"the candidate's URL {url} refused the identity token: 401 Unauthorized, {token_problem(token)}; "
            f"the token's audience must be the service URL {service_url} (deploy.sh mints one with gcloud auth "
            f"print-identity-token --audiences={service_url} when ID_TOKEN is unset; a service account can, and a "
            "user's login gets gcloud's own audience, which Cloud Run accepts from a principal with roles/run.invoker)"
        )
    if answer.status == 403:
        email = (token_claims(token) or {}).get("email", "")
        member = ("serviceAccount:" if email.endswith("gserviceaccount.com") else "user:") + (email or "EMAIL")
        return (
            f"the candidate's URL {url} refused the identity token: 403 Forbidden, so {email or 'its principal'} may "
            f"not invoke the service: grant it with gcloud run services add-iam-policy-binding SERVICE "
            f"--member={member} --role=roles/run.invoker, or run deploy.sh as one who holds that role"
        )
    return None


def validate(args: argparse.Namespace) -> int:
    """Validation of the candidate through its tagged URL, before it gets any traffic."""
    report = Report()
    first = call(args.url, "/health")
    sentence = refused(first, args.url, args.service_url)
    if sentence:
        report.check(False, sentence)
        return REFUSED
    check_health(report, args.url)
    check_seed_examples(report, args.url)
    check_golden(report, args.url)
    check_burst(report, args.url)
    return 1 if report.failed() else 0


def smoke(args: argparse.Namespace) -> int:
    """After a rollback: /health answers and the seed's three examples get their species."""
    report = Report()
    check_health(report, args.url, allow_degraded=True)
    check_seed_examples(report, args.url)
    return 1 if report.failed() else 0


def load(args: argparse.Namespace) -> int:
    """Steady requests through the service URL for a window, so the split has traffic to judge."""
    rate, started = threshold("CANARY_LOAD_RPS"), time.monotonic()
    rows, answers, threads = golden(), [], []
    for i in range(int(rate * args.seconds)):
        time.sleep(max(0.0, started + i / rate - time.monotonic()))
        penguin = rows[i % len(rows)]["penguin"]
        thread = threading.Thread(target=lambda p=penguin: answers.append(call(args.url, "/predict", p)))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    time.sleep(max(0.0, started + args.seconds - time.monotonic()))
    print(f"  sent {len(answers)} predictions through the service URL ({describe_statuses(answers) or 'none'})")
    return 0


# --- the observation window, from gcloud logging read ---


def revision_figures(entries: list[dict], revision: str) -> tuple[int, int, float]:
    """(requests, 5xx, p95 latency in ms) of one revision's request lines."""
    lines = [e for e in entries if e.get("resource", {}).get("labels", {}).get("revision_name") == revision]
    errors = sum(1 for e in lines if int(e["httpRequest"].get("status", 0)) >= 500)
    latencies = [float(str(e["httpRequest"].get("latency", "0s")).rstrip("s")) * 1000 for e in lines]
    return len(lines), errors, p95(latencies)


def window(args: argparse.Namespace) -> int:
    """Judge one observation window: the candidate's 5xx rate and p95 against thresholds and the stable revision."""
    entries = [e for e in json.loads(Path(args.entries).read_text() or "[]") if "httpRequest" in e]
    count, errors, latency = revision_figures(entries, args.candidate)
    stable_count, stable_errors, stable_latency = revision_figures(entries, args.stable)
    print(
        f"  candidate {args.candidate}: {count} requests, {errors} 5xx, p95 {latency:.1f} ms; "
        f"stable {args.stable}: {stable_count} requests, {stable_errors} 5xx, p95 {stable_latency:.1f} ms"
    )
    report = Report()
    minimum = int(threshold("CANARY_MIN_REQUESTS"))
    report.check(count >= minimum, f"{count} candidate requests in the window (CANARY_MIN_REQUESTS {minimum})")
    rate, max_rate = (errors / count if count else 0.0), threshold("CANARY_MAX_5XX_RATE")
    report.check(rate <= max_rate, f"candidate 5xx rate {rate:.3f} (CANARY_MAX_5XX_RATE {max_rate})")
    bound = threshold("CANARY_MAX_P95_MS")
    report.check(latency <= bound, f"candidate p95 {latency:.1f} ms (CANARY_MAX_P95_MS {bound:.0f})")
    if stable_count >= minimum:
        ratio, slack = threshold("CANARY_MAX_P95_VS_STABLE"), threshold("CANARY_P95_SLACK_MS")
        limit = stable_latency * ratio + slack
        report.check(
            latency <= limit,
            f"candidate p95 {latency:.1f} ms within {ratio:g} x stable's {stable_latency:.1f} ms "
            f"+ {slack:g} ms = {limit:.1f} (CANARY_MAX_P95_VS_STABLE, CANARY_P95_SLACK_MS)",
        )
    else:
        print(f"  (stable served {stable_count} requests: too few to compare latency with; thresholds only)")
    return 1 if report.failed() else 0


# --- the service's traffic, from gcloud run services list / describe / revisions list ---


def serving(service: dict) -> list[tuple[str, int, list[str], str]]:
    """(revision, percent, tags, tag URL) of every traffic target in the service's status."""
    merged: dict[str, tuple[int, list[str], str]] = {}
    for target in service.get("status", {}).get("traffic", []):
        name = target.get("revisionName", "")
        percent, tags, url = merged.get(name, (0, [], ""))
        if target.get("tag"):
            tags, url = [*tags, target["tag"]], target.get("url", url)
        merged[name] = (percent + int(target.get("percent", 0) or 0), tags, url)
    return [(name, percent, tags, url) for name, (percent, tags, url) in merged.items()]


FUNCTIONS_LABEL = ("goog-managed-by", "cloudfunctions")  # Cloud Functions' marks on a service it manages
FUNCTIONS_ANNOTATION = "cloudfunctions.googleapis.com/function-id"


def managed_by_functions(service: dict) -> bool:
    """Whether Cloud Functions manages this Cloud Run service (made by gcloud functions deploy, not detached)."""
    metadata = service.get("metadata", {})
    key, value = FUNCTIONS_LABEL
    labels, annotations = metadata.get("labels") or {}, metadata.get("annotations") or {}
    return labels.get(key) == value or FUNCTIONS_ANNOTATION in annotations


def split_text(shares: dict[str, int]) -> str:
    """rev=percent,... in gcloud's --to-revisions form (revisions with traffic only)."""
    return ",".join(f"{name}={percent}" for name, percent in shares.items() if percent)


def service_state(args: argparse.Namespace) -> int:
    """One value a line for rollout.sh: exists, stable, follows latest, pinned, URL, split, stale tag, managed, ..."""
    services = [s for s in json.loads(Path(args.services).read_text() or "[]") if s["metadata"]["name"] == args.name]
    if not services:
        print("\n".join(["false", "", "false", "false", "", "", "", "false", ""]))
        return 0
    service = services[0]
    targets = serving(service)
    candidates = [name for name, _, tags, _ in targets if CANDIDATE_TAG in tags]
    live = [(percent, name) for name, percent, _, _ in targets if percent > 0 and name not in candidates]
    live = live or [(percent, name) for name, percent, _, _ in targets if percent > 0]
    stable = max(live)[1] if live else ""
    shares = [{k: v for k, v in t.items() if k != "tag"} for t in service.get("spec", {}).get("traffic", [])]
    shares = [t for t in shares if t.get("percent")]
    follows_latest = shares == [{"percent": 100, "latestRevision": True}]
    pinned = shares == [{"percent": 100, "revisionName": stable}]
    text = ", ".join(f"{name} {percent}%" for name, percent, _, _ in targets if percent) or "no traffic"
    url = service.get("status", {}).get("url", "")
    stale = candidates[0] if candidates else ""
    previous = split_text({name: percent for name, percent, _, _ in targets})
    values = ["true", stable, str(follows_latest).lower(), str(pinned).lower(), url, text, stale]
    print("\n".join([*values, str(managed_by_functions(service)).lower(), previous]))
    return 0


def reconciled(service: dict) -> bool:
    """The service has taken in its last change: status caught up with the spec, and it is Ready."""
    generation = service.get("metadata", {}).get("generation")
    status = service.get("status", {})
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []))
    return ready and status.get("observedGeneration") == generation


def parse_expected(text: str, latest: str) -> dict[str, str]:
    """name=value,... with LATEST standing for the service's latest created revision."""
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    return {(latest if key == "LATEST" else key): (latest if value == "LATEST" else value) for key, value in pairs}


def traffic_check(args: argparse.Namespace) -> int:
    """0 when status.traffic is the split and tags asked; 1 (saying what it saw) when not; 3 while reconciling."""
    service = json.loads(Path(args.service).read_text())
    if not reconciled(service):
        return 3
    latest = service.get("status", {}).get("latestCreatedRevisionName", "")
    asked = {name: int(percent) for name, percent in parse_expected(args.split, latest).items()}
    asked_tags = parse_expected(args.tags, latest)
    targets = serving(service)
    seen = {name: percent for name, percent, _, _ in targets if percent}
    seen_tags = {tag: name for name, _, tags, _ in targets for tag in tags}
    if seen == {k: v for k, v in asked.items() if v} and seen_tags == asked_tags:
        print(f"  ok   traffic read back: {describe_split(seen, seen_tags)}")
        return 0
    print(
        f"  FAIL traffic read back is not what was asked: asked {describe_split(asked, asked_tags)}; "
        f"the service's status.traffic says {describe_split(seen, seen_tags)}",
        file=sys.stderr,
    )
    return 1


def describe_split(shares: dict[str, int], tags: dict[str, str]) -> str:
    text = ", ".join(f"{name} {percent}%" for name, percent in shares.items() if percent) or "no traffic"
    return text + "".join(f", tag {tag} on {name}" for tag, name in tags.items()) if tags else text + ", no tags"


def latest(args: argparse.Namespace) -> int:
    """The service's latest created revision, from gcloud run services describe --format=json."""
    print(json.loads(Path(args.service).read_text()).get("status", {}).get("latestCreatedRevisionName", ""))
    return 0


def tag_url(args: argparse.Namespace) -> int:
    """The URL of a tag, from gcloud run services describe --format=json."""
    for target in json.loads(Path(args.service).read_text()).get("status", {}).get("traffic", []):
        if target.get("tag") == args.tag and target.get("url"):
            print(target["url"])
            return 0
    sys.exit(f"error: the service's status.traffic has no URL for the tag {args.tag}")


def revisions_by_age(path: str) -> list[dict]:
    """Revisions from `gcloud run revisions list --format=json`, newest first."""
    revisions = json.loads(Path(path).read_text() or "[]")
    return sorted(revisions, key=lambda r: r["metadata"].get("creationTimestamp", ""), reverse=True)


def is_ready(revision: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in revision.get("status", {}).get("conditions", [])
    )


def rollback_target(args: argparse.Namespace) -> int:
    """Prints the serving revision and the one to put 100% on: --to, else the newest ready one created before it."""
    revisions = revisions_by_age(args.revisions)
    names = [r["metadata"]["name"] for r in revisions]
    percents = {name: percent for name, percent, _, _ in serving(json.loads(Path(args.service).read_text()))}
    current = next((name for name in names if percents.get(name, 0) > 0), "")
    if args.to:
        if args.to not in names:
            sys.exit(f"error: no revision {args.to}; the revisions are: {', '.join(names)}")
        target = args.to
    else:
        older = [r["metadata"]["name"] for r in revisions[names.index(current) + 1 :] if is_ready(r)] if current else []
        if not older:
            sys.exit(f"error: no ready revision older than {current or 'the serving one'}: nothing to roll back to")
        target = older[0]
    print(current, target, sep="\n")
    return 0


def status(args: argparse.Namespace) -> int:
    """Revisions, their traffic and tags, and the model each one serves (its /health, where it has a URL)."""
    service = json.loads(Path(args.service).read_text())
    targets = {name: (percent, tags, url) for name, percent, tags, url in serving(service)}
    service_url = service.get("status", {}).get("url", "")
    serving_names = [name for name, (percent, _, _) in targets.items() if percent > 0]
    print(f"{'REVISION':<32} {'CREATED':<20} {'READY':<6} {'TRAFFIC':>7}  {'TAGS':<10} MODEL (its /health)")
    for revision in revisions_by_age(args.revisions):
        name = revision["metadata"]["name"]
        percent, tags, url = targets.get(name, (0, [], ""))
        if not url and serving_names == [name]:
            url = service_url  # all traffic on it: the service URL answers from this revision
        print(
            f"{name:<32} {revision['metadata'].get('creationTimestamp', '')[:19]:<20} "
            f"{'yes' if is_ready(revision) else 'no':<6} {percent:>6}%  {','.join(tags) or '-':<10} "
            f"{health_summary(url)}"
        )
    return 0


def health_summary(url: str) -> str:
    if not url:
        return "- (no URL: no traffic and no tag)"
    answer = call(url, "/health", timeout_s=15)
    if answer.status != 200 or not isinstance(answer.body, dict):
        return f"HTTP {answer.status}: {str(answer.body)[:80]}"
    model = answer.body.get("model") or {}
    reason = f" ({answer.body['reason']})" if answer.body.get("reason") else ""
    return f"{answer.body.get('status')}{reason}: model {model.get('version', '?')} from {model.get('source', '?')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, arguments in (
        ("now", None, []),
        ("validate", validate, ["url", "service_url"]),
        ("smoke", smoke, ["url"]),
        ("load", load, ["url", "seconds"]),
        ("window", window, ["entries", "candidate", "stable"]),
        ("service-state", service_state, ["services", "name"]),
        ("tag-url", tag_url, ["tag", "service"]),
        ("traffic-check", traffic_check, ["service", "split", "tags"]),
        ("latest", latest, ["service"]),
        ("rollback-target", rollback_target, ["service", "revisions"]),
        ("status", status, ["service", "revisions"]),
    ):
        command = commands.add_parser(name)
        command.set_defaults(handler=handler)
        for argument in arguments:
            command.add_argument(argument, type=float if argument == "seconds" else str)
        if name == "rollback-target":
            command.add_argument("--to", default="")
    args = parser.parse_args(argv)
    if args.handler is None:
        print(now())
        return 0
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
