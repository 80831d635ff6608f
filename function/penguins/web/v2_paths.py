"""The Open Inference Protocol's (KServe V2) REST paths: health, metadata, and infer through the one pipeline."""

from __future__ import annotations

from functools import partial

from .. import SERVICE_NAME, __version__, codecs
from ..domain import ISLANDS, LIMITS, MEASUREMENTS, SEXES
from ..errors import NotFound
from ..model.served import ServedModel
from ..validation import UNKNOWN_SEX
from .pipeline import App, Call
from .responses import Response, json_answer
from .routes import Route

MODEL_NAME = SERVICE_NAME  # the one model this function serves, by the name V2 clients ask for
EXTENSIONS = ("binary_tensor_data",)
PLATFORM = "xgboost"
_MODEL = "/v2/models/{model}"
_VERSION = "/v2/models/{model}/versions/{version}"
_DOCUMENTED = f"/v2/models/{MODEL_NAME}[/versions/<version>]"
PATHS = ("/v2", "/v2/health/live", "/v2/health/ready", _DOCUMENTED, f"{_DOCUMENTED}/ready", f"{_DOCUMENTED}/infer")


async def server_metadata(app: App, call: Call) -> tuple[Response, dict]:
    return json_answer(200, {"name": SERVICE_NAME, "version": __version__, "extensions": list(EXTENSIONS)}), {}


async def live(app: App, call: Call) -> tuple[Response, dict]:
    return json_answer(200, {"live": True}), {}


async def ready(app: App, call: Call) -> tuple[Response, dict]:
    model = (await app.models.status()).model  # a degraded model still answers: ready; none at all is a 503
    return json_answer(200, {"ready": True}, model.headers), {"model_version": model.version}


async def model_metadata(app: App, call: Call) -> tuple[Response, dict]:
    model = await _served(app, call)
    return json_answer(200, metadata(model), model.headers), {"model_version": model.version}


async def model_ready(app: App, call: Call) -> tuple[Response, dict]:
    model = await _served(app, call)
    return json_answer(200, {"name": MODEL_NAME, "ready": True}, model.headers), {"model_version": model.version}


async def infer(app: App, call: Call) -> tuple[Response, dict]:
    """Tensors in, through the one validation and predictor, tensors out (JSON, or binary where asked)."""
    _check_name(call.params["model"])
    check = partial(_check_version, version=call.params.get("version"))  # the path's version, once the model is known
    return await app.predict(call, codecs.BY_ROUTE["v2-infer"], explain_query=False, check=check)


async def _served(app: App, call: Call) -> ServedModel:
    """The served model, if it is the model and version the path names."""
    _check_name(call.params["model"])
    model = await app.models.ready()
    _check_version(model, call.params.get("version"))
    return model


def _check_name(name: str) -> None:
    if name != MODEL_NAME:
        raise NotFound.at(
            ["path", "model"], f"There is no model {name[:60]!r}; this function serves {MODEL_NAME!r}", "not_found"
        )


def _check_version(model: ServedModel, version: str | None) -> None:
    if version is not None and version != model.version:
        raise NotFound.at(
            ["path", "version"],
            f"{MODEL_NAME} has no version {version[:60]!r}; it serves {model.version}: "
            "ask for that one, or leave /versions/<version> out to use the current model",
            "not_found",
        )


def not_found(path: str) -> NotFound:
    """A /v2 path that is not here: an unknown model by its name, anything else with the list of V2 paths."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[2] == "models":
        _check_name(parts[3])
    return NotFound.at(["path"], f"There is no {path[:100]}; the V2 paths are {', '.join(PATHS)}", "not_found")


ROUTES = (
    Route("/v2", {"GET": server_metadata}),
    Route("/v2/health/live", {"GET": live}),
    Route("/v2/health/ready", {"GET": ready}),
    Route(_MODEL, {"GET": model_metadata}),
    Route(_VERSION, {"GET": model_metadata}),
    Route(f"{_MODEL}/ready", {"GET": model_ready}),
    Route(f"{_VERSION}/ready", {"GET": model_ready}),
    Route(f"{_MODEL}/infer", {"POST": infer}),
    Route(f"{_VERSION}/infer", {"POST": infer}),
)


def metadata(model: ServedModel) -> dict:
    """GET /v2/models/penguin-species: the inputs and outputs, with what each accepts."""
    from ..codecs.v2 import MEASUREMENT_DATATYPES  # the codec is imported by the first V2 request that needs it

    inputs = [
        {
            "name": name,
            "datatype": "FP32",
            "shape": [-1],
            "parameters": {
                "datatypes": list(MEASUREMENT_DATATYPES),
                "unit": LIMITS[name].unit,
                "min": LIMITS[name].low,
                "max": LIMITS[name].high,
            },
        }
        for name in MEASUREMENTS
    ]
    inputs.append({"name": "island", "datatype": "BYTES", "shape": [-1], "parameters": {"values": list(ISLANDS)}})
    inputs.append(
        {
            "name": "sex",
            "datatype": "BYTES",
            "shape": [-1],
            "parameters": {"values": list(SEXES), "unknown": list(UNKNOWN_SEX), "optional": True},
        }
    )
    outputs = [
        {"name": "species", "datatype": "BYTES", "shape": [-1]},
        {
            "name": "probabilities",
            "datatype": "FP32",
            "shape": [-1, len(model.classes)],
            "parameters": {"classes": list(model.classes)},
        },
    ]
    return {"name": MODEL_NAME, "versions": [model.version], "platform": PLATFORM, "inputs": inputs, "outputs": outputs}
