"""Cloud Function entry point `predict`: routes each request, maps errors to JSON, logs one line per request."""

from __future__ import annotations

import gc

# Importing builds thousands of objects that live as long as the process (pydantic's validators, the
# framework): collecting mid-import finds nothing to free and costs ~4 ms of every cold start.
gc.disable()

import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402

import functions_framework  # noqa: E402
from flask import Request, Response  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402

from penguins.errors import ApiError, MethodNotAllowed, NotFound, UnsupportedMediaType  # noqa: E402
from penguins.model.cache import ModelCache  # noqa: E402
from penguins.predict import service  # noqa: E402
from penguins.settings import Settings  # noqa: E402
from penguins.validation import parse_explain_flag, parse_predict_request  # noqa: E402
from penguins.web import log  # noqa: E402
from penguins.web.body import discard_body, json_response, page_response, read_json_body  # noqa: E402

try:
    SETTINGS = Settings.from_env()
    MODELS = ModelCache(SETTINGS)
finally:
    gc.enable()  # also when a setting is refused: a test process goes on after that
# A young-generation collection every 10,000 new containers, not every 700: a 10,000-row batch makes
# ~100,000 short-lived, acyclic dicts and lists, and collecting every 700 of them cost 40% of its time
# (measured in-process, tests/bench_formats.py shows the server-side figures). Garbage with cycles, which
# only the collector frees, is rare here and waits a little longer.
gc.set_threshold(10_000, *gc.get_threshold()[1:])
_openapi_document: dict | None = None


def _predict(request: Request) -> tuple[int, dict | Response, dict]:
    try:
        body = read_json_body(request, SETTINGS.max_body_bytes)
    except UnsupportedMediaType:
        from penguins.codecs import csv_codec  # imported when the first spreadsheet arrives

        if not csv_codec.accepts(request.environ.get("CONTENT_TYPE", "")):
            raise
        return csv_codec.answer(request, SETTINGS, MODELS)
    if b'"calls"' in body:  # maybe BigQuery's envelope (no penguin holds that word): its codec decides
        from penguins.codecs import bigquery

        answered = bigquery.answer(request, body, SETTINGS, MODELS)
        if answered is not None:
            return answered
    penguins, is_batch, explain = parse_predict_request(body, SETTINGS.max_batch_size)
    if request.environ.get("QUERY_STRING"):  # parsed only when there is one: most requests have none
        explain = parse_explain_flag(request.args.get("explain")) or explain
    model = MODELS.get()
    answer, fields = service.predict_response(model, penguins, is_batch, explain, SETTINGS.log_inputs_fraction)
    fields["model"] = model
    return 200, answer, fields


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
        from penguins.web.openapi import build_openapi  # the response models are built only for this document

        _openapi_document = build_openapi(SETTINGS.max_batch_size)
    return 200, _openapi_document, {}


Handler = Callable[[Request], "tuple[int, dict | Response, dict] | Response"]
ROUTES: dict[str, dict[str, Handler]] = {
    "/": {"POST": _predict, "GET": _index},
    "/predict": {"POST": _predict},
    "/health": {"GET": _health},
    "/openapi.json": {"GET": _openapi},
}


def _v2_methods(path: str) -> dict:
    from penguins.web import v2_api  # the Open Inference Protocol, imported by its first request only

    return v2_api.methods(path, MODELS, SETTINGS)


def _route(method: str, path: str):
    methods = ROUTES.get(path)
    if methods is None:
        if path == "/v2" or path.startswith("/v2/"):  # a prefix, looked at only when no exact path matched
            methods = _v2_methods(path)
        else:
            msg = f"There is no {path}; the paths are {', '.join(ROUTES)}, /v2/..."
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
        # Refused before the body was read: drop it (bounded) so the client reads this answer, not a broken pipe.
        streamed = status in (413, 415) and not discard_body(request)
    except Exception:  # a bug, not bad input: log the traceback for the operator, never send it
        status, body = 500, {"error": "Internal error; it has been logged.", "detail": []}
        log.emit("ERROR", "unhandled exception\n" + traceback.format_exc())
    model = fields.pop("model", None)
    if model is not None:
        headers = model.headers
        fields["model_version"] = model.version
    # A V2 answer with binary outputs comes shaped already; every other answer is JSON, shaped here.
    response = body if isinstance(body, Response) else json_response(status, body, headers, streamed=streamed)
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
