"""The OpenAPI 3.1 document, generated from the same pydantic models that validate requests."""

from __future__ import annotations

from pydantic.json_schema import models_json_schema

from .. import SERVICE_NAME, __version__
from ..codecs.csv_codec import ANSWER_COLUMNS, FIELD_HEADERS
from ..schema import BigQueryRequest, Penguin, PredictBatchRequest
from .response_models import (
    BatchPredictionResponse,
    BigQueryError,
    BigQueryResponse,
    CsvPredictionResponse,
    ErrorResponse,
    HealthResponse,
    PredictionResponse,
    ServiceInfo,
)
from .v2_models import MODELS as V2_MODELS

_MODELS = (
    Penguin,
    PredictBatchRequest,
    BigQueryRequest,
    PredictionResponse,
    BatchPredictionResponse,
    CsvPredictionResponse,
    BigQueryResponse,
    BigQueryError,
    ErrorResponse,
    HealthResponse,
    ServiceInfo,
    *V2_MODELS,
)
_ERRORS = {
    "400": "The body is not valid JSON, or a CSV that cannot be read as a table, or does not decompress as its "
    "Content-Encoding says; a BigQuery request unusable as a whole gets {errorMessage}.",
    "413": "The body is larger than MAX_BODY_BYTES, as sent or once decompressed.",
    "415": "The body is declared neither as application/json, text/csv (UTF-8) nor application/x-ndjson, or its "
    "Content-Encoding is "
    "neither gzip nor deflate.",
    "422": "The JSON does not match the schema; detail lists every violation.",
    "503": "No model can be served right now.",
    "404": "No such model, or not the version being served.",
}
_V2_ERRORS = {
    "400": "A malformed inference request: not JSON, a field of the wrong JSON type, unknown names, datatypes or "
    "shapes that disagree, a bad Inference-Header-Content-Length or binary sizes, or a body that does not "
    "decompress as its Content-Encoding says.",
    "415": "A Content-Encoding other than gzip and deflate.",
    "422": "A penguin outside the rules (as POST /predict says it), located by input and row; or over MAX_BATCH_SIZE.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR_SCHEMAS = {"400": {"anyOf": [_ref("ErrorResponse"), _ref("BigQueryError")]}}


def _errors(*statuses: str) -> dict:
    return {status: _json(_ERROR_SCHEMAS.get(status, _ref("ErrorResponse")), _ERRORS[status]) for status in statuses}


def _v2_errors(*statuses: str) -> dict:
    return {status: _json(_ref("ErrorResponse"), _V2_ERRORS.get(status) or _ERRORS[status]) for status in statuses}


_MODEL_PARAMETER = {
    "name": "model",
    "in": "path",
    "required": True,
    "description": "The one model this function serves.",
    "schema": {"type": "string", "enum": ["penguin-species"]},
}
_VERSION_PARAMETER = {
    "name": "version",
    "in": "path",
    "required": True,
    "description": "The version being served (every answer's model_version); another is a 404.",
    "schema": {"type": "string"},
}


def _v2_get(operation_id: str, summary: str, model: str, *errors: str) -> dict:
    return {"get": {"summary": summary, "operationId": operation_id, "responses": {
        "200": _json(_ref(model), summary), **_v2_errors(*errors)}}}  # fmt: skip


def _infer_example(body_mass_g: float) -> dict:
    """Two penguins in JSON tensors (docs/v2.md's curl example), the second's body mass as given."""
    columns = {
        "bill_length_mm": ("FP32", [39.1, 46.5]),
        "bill_depth_mm": ("FP32", [18.7, 17.9]),
        "flipper_length_mm": ("FP32", [181, 192]),
        "body_mass_g": ("FP32", [3750, body_mass_g]),
        "island": ("BYTES", ["Torgersen", "Dream"]),
        "sex": ("BYTES", ["MALE", ""]),
    }
    inputs = [{"name": name, "shape": [2], "datatype": kind, "data": data} for name, (kind, data) in columns.items()]
    return {"id": "field-7", "inputs": inputs}


def v2_paths() -> dict:
    """The Open Inference Protocol's paths (web/v2_paths.py), each model path also in its versioned form."""
    infer = {
        "summary": "Predict the species of N penguins, in JSON tensors (or the binary-data extension)",
        "description": "One input per field, each holding one value per penguin: docs/v2.md. With the "
        "binary-data extension the body is this JSON, then the tensors' bytes, and Inference-Header-Content-Length "
        "says where the JSON ends; outputs asked for in binary come back the same way.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _ref("InferenceRequest"),
                    "examples": {
                        "two penguins": {"value": _infer_example(3750)},
                        "a mass sent in kilograms (422)": {"value": _infer_example(3.75)},
                    },
                }
            },
        },
        "responses": {
            "200": {
                "description": "The outputs asked for (every output when none is).",
                "content": {
                    "application/json": {"schema": _ref("InferenceResponse")},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **_v2_errors("400", "404", "413", "415", "422", "503"),
        },
    }
    paths = {
        "/v2": _v2_get("v2ServerMetadata", "The server's name, version and extensions", "ServerMetadata"),
        "/v2/health/live": _v2_get("v2Live", "Whether the server is live", "ServerLive"),
        "/v2/health/ready": _v2_get("v2Ready", "Whether a model can be served", "ServerReady", "503"),
    }
    for prefix, parameters, suffix in (
        ("/v2/models/{model}", [_MODEL_PARAMETER], ""),
        ("/v2/models/{model}/versions/{version}", [_MODEL_PARAMETER, _VERSION_PARAMETER], "Version"),
    ):
        metadata = _v2_get(f"v2ModelMetadata{suffix}", "The model's inputs and outputs", "ModelMetadata", "404", "503")
        ready = _v2_get(f"v2ModelReady{suffix}", "Whether the model is ready", "ModelReady", "404", "503")
        paths[prefix] = {"parameters": parameters, **metadata}
        paths[f"{prefix}/ready"] = {"parameters": parameters, **ready}
        paths[f"{prefix}/infer"] = {"parameters": parameters, "post": {**infer, "operationId": f"v2Infer{suffix}"}}
    return paths


# A CSV body as a pattern a generator can follow: the header, then rows without quotes. A row of the wrong
# width is still answered (with its error), so the pattern does not count cells; quoting and the other header
# names are accepted too, as the description says: a pattern cannot say all of CSV.
_ROW = '[^"\\r\\n][^"\\n]*'
_CSV_REQUEST = {
    "type": "string",
    "pattern": f"^{','.join(FIELD_HEADERS)}\\n{_ROW}(\\n{_ROW})*\\n?$",
    "description": (
        "UTF-8 (a BOM tolerated), LF or CRLF, RFC 4180 quoting. The first line names the columns: "
        + "; ".join(" or ".join(headers) for headers in FIELD_HEADERS.values())
        + " (sex optional; names match in any case). Island and sex match in any case; an empty cell, NA or '.' "
        "is an unknown sex. Other columns come back unchanged. At most MAX_BATCH_SIZE rows."
    ),
}
_CSV_ANSWER = {
    "type": "string",
    "description": "With Accept: text/csv: the input's columns, then " + ", ".join(ANSWER_COLUMNS) + ".",
}
_NDJSON_REQUEST = {
    "type": "string",
    "description": "JSON Lines: one penguin (an object, as application/json's) per line; blank lines hold none. "
    "Island and sex match in any case. At most MAX_BATCH_SIZE lines.",
}
_NDJSON_ANSWER = {
    "type": "string",
    "description": 'One JSON object per line, in order: a prediction with model_version, or {"error": ...}.',
}


def build_openapi(max_batch_size: int) -> dict:
    """The whole document; max_batch_size is the deployment's MAX_BATCH_SIZE."""
    _, defs = models_json_schema(
        [(model, "validation") for model in _MODELS], ref_template="#/components/schemas/{model}"
    )
    schemas = defs["$defs"]
    schemas["PredictBatchRequest"]["properties"]["instances"]["maxItems"] = max_batch_size
    schemas["BigQueryRequest"]["properties"]["calls"]["maxItems"] = max_batch_size
    predict = {
        "summary": "Predict the species of one penguin, or of a batch",
        "operationId": "predict",
        "parameters": [
            {
                "name": "explain",
                "in": "query",
                "required": False,
                "description": "Add per-feature contributions to each prediction (JSON penguins; CSV and BigQuery "
                "answers carry none).",
                "schema": {"type": "boolean"},
            }
        ],
        "requestBody": {
            "required": True,
            "description": "Any of these, sent as it is or compressed (Content-Encoding: gzip or deflate).",
            "content": {
                "application/json": {
                    "schema": {"oneOf": [_ref("Penguin"), _ref("PredictBatchRequest"), _ref("BigQueryRequest")]}
                },
                "text/csv": {"schema": _CSV_REQUEST},
                "application/x-ndjson": {"schema": _NDJSON_REQUEST},
            },
        },
        "responses": {
            "200": {
                "description": "The predictions: one penguin's, a batch's, a CSV's rows (JSON or CSV), JSON Lines', or "
                "BigQuery's.",
                "content": {
                    "application/json": {
                        "schema": {
                            "anyOf": [
                                _ref("PredictionResponse"),
                                _ref("BatchPredictionResponse"),
                                _ref("CsvPredictionResponse"),
                                _ref("BigQueryResponse"),
                            ]
                        }
                    },
                    "text/csv": {"schema": _CSV_ANSWER},
                    "application/x-ndjson": {"schema": _NDJSON_ANSWER},
                },
            },
            **_errors("400", "413", "415", "422", "503"),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Penguin species prediction",
            "version": __version__,
            "description": f"{SERVICE_NAME}: predicts Adelie, Chinstrap or Gentoo from a penguin's measurements.",
        },
        "paths": {
            "/predict": {"post": predict},
            "/": {
                "post": {**predict, "operationId": "predictAtRoot"},
                "get": {
                    "summary": "What this service is and which model answers",
                    "operationId": "serviceInfo",
                    "responses": {"200": _json(_ref("ServiceInfo"), "The description."), **_errors("503")},
                },
            },
            "/health": {
                "get": {
                    "summary": "Whether a model can be served",
                    "operationId": "health",
                    "responses": {"200": _json(_ref("HealthResponse"), "A model is served."), **_errors("503")},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {}}}},
                }
            },
            **v2_paths(),
        },
        "components": {"schemas": schemas},
    }
