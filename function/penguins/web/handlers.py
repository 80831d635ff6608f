"""The routes and their handlers: each takes the App and the Call, and gives an answer and its log fields."""

from __future__ import annotations

import orjson
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..errors import NotFound
from . import info, v2_paths
from .page import page_response
from .pipeline import App, Call, not_found
from .responses import JSON, Response, answer, json_answer
from .routes import Route, Router

_openapi_document: bytes | None = None


async def predict(app: App, call: Call) -> tuple[Response, dict]:
    """POST / and /predict: a body in any format the codec table knows."""
    from .. import codecs

    return await app.predict(call, codecs.for_body(call.headers.get("content-type", "")))


async def index(app: App, call: Call) -> tuple[Response, dict]:
    """GET /: the page for a browser, the service's description for anything else."""
    accept = parse_accept_header(call.headers.get("accept"), MIMEAccept)
    if accept.best_match(("application/json", "text/html")) == "text/html":
        return page_response(), {}
    model = await app.models.ready()
    return json_answer(200, info.service_info(model, app.settings), model.headers), {"model_version": model.version}


async def health(app: App, call: Call) -> tuple[Response, dict]:
    """GET /health: which model answers, from where, and whether it is degraded."""
    status = await app.models.status()
    body = info.health(status.model, status.degraded_reason, status.why)
    return json_answer(200, body, status.model.headers), {"model_version": status.model.version}


async def openapi(app: App, call: Call) -> tuple[Response, dict]:
    """GET /openapi.json, built on first request (pydantic is imported only for it)."""
    global _openapi_document
    if _openapi_document is None:
        from .openapi import build_openapi

        _openapi_document = orjson.dumps(build_openapi(app.settings.max_batch_size))
    return answer(200, _openapi_document, JSON), {}


ROUTES = (
    Route("/", {"POST": predict, "GET": index}),
    Route("/predict", {"POST": predict}),
    Route("/health", {"GET": health}),
    Route("/openapi.json", {"GET": openapi}),
    *v2_paths.ROUTES,
)
PATHS = ", ".join(route.path for route in ROUTES if not route.path.startswith("/v2/")) + "/..."


def _not_found(path: str) -> NotFound:
    if path == "/v2" or path.startswith("/v2/"):
        return v2_paths.not_found(path)
    return not_found(path, PATHS)


ROUTER = Router(ROUTES, _not_found)
