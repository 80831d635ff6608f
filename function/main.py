"""Cloud Function entry point `predict`: routes each request, maps errors to JSON, logs one line per request."""

from __future__ import annotations

import gc

# Importing builds thousands of objects that live as long as the process (pydantic's validators, the
# framework): collecting mid-import finds nothing to free and costs ~4 ms of every cold start.
gc.disable()

import time  # noqa: E402
import traceback  # noqa: E402

import functions_framework  # noqa: E402
from flask import Request, Response  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402

from penguins import log, service  # noqa: E402
from penguins.errors import ApiError, MethodNotAllowed, NotFound  # noqa: E402
from penguins.http import json_response, page_response, read_json_body  # noqa: E402
from penguins.model_cache import ModelCache  # noqa: E402
from penguins.settings import Settings  # noqa: E402
from penguins.validation import parse_explain_flag, parse_predict_request  # noqa: E402

try:
    SETTINGS = Settings.from_env()
    MODELS = ModelCache(SETTINGS)
finally:
    gc.enable()  # also when a setting is refused: a test process goes on after that
_openapi_document: dict | None = None


def _predict(request: Request) -> tuple[int, dict, dict]:
    body = read_json_body(request, SETTINGS.max_body_bytes)
    penguins, is_batch, explain = parse_predict_request(body, SETTINGS.max_batch_size)
    if request.environ.get("QUERY_STRING"):  # parsed only when there is one: most requests have none
        explain = parse_explain_flag(request.args.get("explain")) or explain
    model = MODELS.get()
    answer, logged = service.predict_response(model, penguins, is_batch, explain)
    return 200, answer, {"model": model, "prediction": logged}


def _index(request: Request) -> tuple[int, dict, dict] | Response:
    if request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html":
        return page_response()  # a browser: the page, which calls this same API
    model = MODELS.get()
    return 200, service.service_info(model, SETTINGS), {"model": model}


def _health(request: Request) -> tuple[int, dict, dict]:
    status = MODELS.status()
    return 200, service.health(status.model, status.degraded_reason, status.why), {"model": status.model}


def _openapi(request: Request) -> tuple[int, dict, dict]:
    global _openapi_document
    if _openapi_document is None:
        from penguins.openapi import build_openapi  # the response models are built only for this document

        _openapi_document = build_openapi(SETTINGS.max_batch_size)
    return 200, _openapi_document, {}


ROUTES = {
    "/": {"POST": _predict, "GET": _index},
    "/predict": {"POST": _predict},
    "/health": {"GET": _health},
    "/openapi.json": {"GET": _openapi},
}


def _route(method: str, path: str):
    methods = ROUTES.get(path)
    if methods is None:
        msg = f"There is no {path}; the paths are {', '.join(ROUTES)}"
        raise NotFound(msg, [{"loc": ["path"], "msg": msg, "type": "not_found"}])
    handler = methods.get("GET" if method == "HEAD" else method)
    if handler is None:
        allowed = ", ".join(methods)
        msg = f"{path} accepts {allowed}, not {method}"
        raise MethodNotAllowed(
            msg, [{"loc": ["method"], "msg": msg, "type": "method_not_allowed"}], headers={"Allow": allowed}
        )
    return handler


@functions_framework.http
def predict(request: Request) -> Response:
    """Answer every path of the function's URL."""
    started = time.perf_counter()
    path = request.path.rstrip("/") or "/"
    headers: list[tuple[str, str]] | tuple = ()
    fields: dict = {}
    streamed = False
    try:
        result = _route(request.method, path)(request)
        if isinstance(result, Response):  # the page: not JSON, so not shaped here
            trace = log.trace_id(request.environ)
            log.request_entry(request.method, path, 200, time.perf_counter() - started, trace, SETTINGS.project_id)
            return result
        status, body, fields = result
    except ApiError as exc:
        status, body, headers = exc.status, exc.body(), list(exc.headers.items())
        fields = {"error": exc.error}
        streamed = status in (413, 415)
    except Exception:  # a bug, not bad input: log the traceback for the operator, never send it
        status, body = 500, {"error": "Internal error; it has been logged.", "detail": []}
        log.emit("ERROR", "unhandled exception\n" + traceback.format_exc())
    model = fields.pop("model", None)
    if model is not None:
        headers = model.headers
        fields["model_version"] = model.version
    response = json_response(status, body, headers, streamed=streamed)
    log.request_entry(
        request.method,
        path,
        status,
        time.perf_counter() - started,
        log.trace_id(request.environ),
        SETTINGS.project_id,
        fields,
    )
    return response


@functions_framework.errorhandler(Exception)
def _framework_error(exc: Exception) -> Response:
    """Errors raised by the framework around our function (e.g. /favicon.ico) answer JSON too."""
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        body = {"error": exc.description or exc.name, "detail": []}
    else:
        log.emit("ERROR", "unhandled exception\n" + "".join(traceback.format_exception(exc)))
        status, body = 500, {"error": "Internal error; it has been logged.", "detail": []}
    return json_response(status, body)
