"""The fake's Cloud Logging metrics and Cloud Monitoring routes (alert policies, notification channels, dashboards).

Registered in tests/support/fake_gcp.py's ROUTES; the state lives on FakeGcp (log_metrics, alert_policies,
notification_channels, dashboards), keyed by full resource name. Names the server makes are numbered.
"""

from __future__ import annotations

import copy


def _not_found(name: str) -> tuple[int, dict]:
    return 404, {"error": {"code": 404, "message": f"{name} was not found", "status": "NOT_FOUND"}}


def _in(items: dict[str, dict], parent: str) -> list[dict]:
    return [item for name, item in items.items() if name.startswith(parent + "/")]


# logging v2: log-based metrics (the name is the caller's)


def list_metrics(fake, call, project):
    return 200, {"metrics": _in(fake.log_metrics, f"projects/{project}/metrics")}


def get_metric(fake, call, project, metric):
    name = f"projects/{project}/metrics/{metric}"
    return (200, fake.log_metrics[name]) if name in fake.log_metrics else _not_found(name)


def create_metric(fake, call, project):
    name = f"projects/{project}/metrics/{call.body['name']}"
    if name in fake.log_metrics:
        return 409, {"error": {"code": 409, "message": f"{name} already exists", "status": "ALREADY_EXISTS"}}
    fake.log_metrics[name] = copy.deepcopy(call.body)
    return 200, fake.log_metrics[name]


def update_metric(fake, call, project, metric):
    name = f"projects/{project}/metrics/{metric}"
    if name not in fake.log_metrics:
        return _not_found(name)
    fake.log_metrics[name] = {**copy.deepcopy(call.body), "name": metric}
    return 200, fake.log_metrics[name]


# monitoring v3 (alert policies, notification channels) and v1 (dashboards): the server names them


def _lister(collection: str, key: str):
    def handler(fake, call, project):
        return 200, {key: _in(getattr(fake, collection), f"projects/{project}/{key}")}

    return handler


def _creator(collection: str, key: str):
    def handler(fake, call, project):
        items = getattr(fake, collection)
        name = f"projects/{project}/{key}/{len(items) + 1000}"
        items[name] = {**copy.deepcopy(call.body), "name": name}
        return 200, items[name]

    return handler


def _getter(collection: str, key: str):
    def handler(fake, call, project, item):
        name = f"projects/{project}/{key}/{item}"
        items = getattr(fake, collection)
        return (200, items[name]) if name in items else _not_found(name)

    return handler


def _patcher(collection: str, key: str):
    def handler(fake, call, project, item):
        name = f"projects/{project}/{key}/{item}"
        items = getattr(fake, collection)
        if name not in items:
            return _not_found(name)
        mask = call.query.get("updateMask")
        body = copy.deepcopy(call.body)
        if mask:  # only the named top-level fields change
            updated = {**items[name], **{field: body[field] for field in mask.split(",") if field in body}}
        else:
            updated = body
        items[name] = {**updated, "name": name}
        return 200, items[name]

    return handler


P = r"/v3/projects/([^/]+)"
D = r"/v1/projects/([^/]+)"
ROUTES = [  # (method, API, path regex, handler(fake, call, *groups)), as in fake_gcp.ROUTES
    ("GET", "logging", r"/v2/projects/([^/]+)/metrics", list_metrics),
    ("POST", "logging", r"/v2/projects/([^/]+)/metrics", create_metric),
    ("GET", "logging", r"/v2/projects/([^/]+)/metrics/([^/]+)", get_metric),
    ("PUT", "logging", r"/v2/projects/([^/]+)/metrics/([^/]+)", update_metric),
    ("GET", "monitoring", rf"{P}/alertPolicies", _lister("alert_policies", "alertPolicies")),
    ("POST", "monitoring", rf"{P}/alertPolicies", _creator("alert_policies", "alertPolicies")),
    ("GET", "monitoring", rf"{P}/alertPolicies/([^/]+)", _getter("alert_policies", "alertPolicies")),
    ("PATCH", "monitoring", rf"{P}/alertPolicies/([^/]+)", _patcher("alert_policies", "alertPolicies")),
    ("GET", "monitoring", rf"{P}/notificationChannels", _lister("notification_channels", "notificationChannels")),
    ("POST", "monitoring", rf"{P}/notificationChannels", _creator("notification_channels", "notificationChannels")),
    ("GET", "monitoring", rf"{D}/dashboards", _lister("dashboards", "dashboards")),
    ("POST", "monitoring", rf"{D}/dashboards", _creator("dashboards", "dashboards")),
    ("GET", "monitoring", rf"{D}/dashboards/([^/]+)", _getter("dashboards", "dashboards")),
    ("PATCH", "monitoring", rf"{D}/dashboards/([^/]+)", _patcher("dashboards", "dashboards")),
]
