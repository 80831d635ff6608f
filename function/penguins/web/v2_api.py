"""The Open Inference Protocol's (KServe V2) REST paths: health, metadata and infer, in front of the one service."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import orjson
from flask import Request, Response

from .. import SERVICE_NAME, __version__
from ..codecs import v2
from ..codecs.v2_binary import HEADER_LENGTH, HEADER_LENGTH_ENVIRON, split_body
from ..errors import NotFound
from ..model.cache import ModelCache, ServedModel
from ..predict import service
from ..settings import Settings
from .body import BASE_HEADERS, read_body

EXTENSIONS = ("binary_tensor_data",)
_MODEL_PATH = f"/v2/models/{v2.MODEL_NAME}[/versions/<version>]"
PATHS = ("/v2", "/v2/health/live", "/v2/health/ready", _MODEL_PATH, f"{_MODEL_PATH}/ready", f"{_MODEL_PATH}/infer")
Handler = Callable[[Request], tuple]


def methods(path: str, models: ModelCache, settings: Settings) -> dict[str, Handler]:
    """The handlers of a /v2 path by method; NotFound for a path or model that is not here."""
    parts = path.split("/")[2:]
    if not parts:
        return {"GET": _server_metadata}
    if parts == ["health", "live"]:
        return {"GET": _live}
    if parts == ["health", "ready"]:
        return {"GET": partial(_ready, models)}
    if parts[0] == "models" and len(parts) >= 2:
        name, rest, version = parts[1], parts[2:], None
        if rest[:1] == ["versions"] and len(rest) >= 2:
            version, rest = rest[1], rest[2:]
        if name != v2.MODEL_NAME:
            msg = f"There is no model {name[:60]!r}; this function serves {v2.MODEL_NAME!r}"
            raise NotFound(msg, [{"loc": ["path", "model"], "msg": msg, "type": "not_found"}])
        if not rest:
            return {"GET": partial(_model_metadata, models, version)}
        if rest == ["ready"]:
            return {"GET": partial(_model_ready, models, version)}
        if rest == ["infer"]:
            return {"POST": partial(_infer, models, settings, version)}
    msg = f"There is no {path[:100]}; the V2 paths are {', '.join(PATHS)}"
    raise NotFound(msg, [{"loc": ["path"], "msg": msg, "type": "not_found"}])


def _served(models: ModelCache, version: str | None) -> ServedModel:
    """The served model, if it is the version the path names (when it names one)."""
    model = models.get()
    if version is not None and version != model.version:
        msg = (
            f"{v2.MODEL_NAME} has no version {version[:60]!r}; it serves {model.version}: "
            "ask for that one, or leave /versions/<version> out to use the current model"
        )
        raise NotFound(msg, [{"loc": ["path", "version"], "msg": msg, "type": "not_found"}])
    return model


def _server_metadata(request: Request) -> tuple[int, dict, dict]:
    return 200, {"name": SERVICE_NAME, "version": __version__, "extensions": list(EXTENSIONS)}, {}


def _live(request: Request) -> tuple[int, dict, dict]:
    return 200, {"live": True}, {}


def _ready(models: ModelCache, request: Request) -> tuple[int, dict, dict]:
    model = models.status().model  # a degraded model still answers: ready; none at all is a 503
    return 200, {"ready": True}, {"model": model}


def _model_metadata(models: ModelCache, version: str | None, request: Request) -> tuple[int, dict, dict]:
    model = _served(models, version)
    return 200, v2.model_metadata(model), {"model": model}


def _model_ready(models: ModelCache, version: str | None, request: Request) -> tuple[int, dict, dict]:
    model = _served(models, version)
    return 200, {"name": v2.MODEL_NAME, "ready": True}, {"model": model}


def _infer(
    models: ModelCache, settings: Settings, version: str | None, request: Request
) -> tuple[int, dict | Response, dict]:
    """Tensors in, through the one validation and service, tensors out (JSON, or binary where asked)."""
    header_bytes, binary = split_body(
        read_body(request, settings.max_body_bytes), request.environ.get(HEADER_LENGTH_ENVIRON)
    )
    header = v2.parse_header(header_bytes)
    outputs = v2.requested_outputs(header)
    penguins = v2.penguins_from(header, binary, settings.max_batch_size)
    model = _served(models, version)
    is_batch = len(penguins) > 1
    answer, fields = service.predict_response(
        model, penguins, is_batch, input_fraction=settings.log_inputs_fraction, log_format="v2"
    )
    body, chunks = v2.response(header.get("id"), answer["predictions"] if is_batch else [answer], model, outputs)
    fields["model"] = model
    return 200, _binary_response(body, chunks, model.headers) if chunks else body, fields


def _binary_response(body: dict, chunks: list[bytes], headers: list[tuple[str, str]]) -> Response:
    """The binary-data extension's answer: the JSON header, its length in a header, then the outputs' bytes."""
    header = orjson.dumps(body)
    response = Response(b"".join([header, *chunks]), 200, content_type="application/octet-stream")
    for name, value in (*BASE_HEADERS, *headers, (HEADER_LENGTH, str(len(header)))):
        response.headers.add(name, value)
    return response
