"""The OpenAPI 3.1 document, generated from the same pydantic models that validate requests."""

from __future__ import annotations

from pydantic.json_schema import models_json_schema

from . import SERVICE_NAME, __version__
from .responses import BatchPredictionResponse, ErrorResponse, HealthResponse, PredictionResponse, ServiceInfo
from .schema import Penguin, PredictBatchRequest

_MODELS = (
    Penguin,
    PredictBatchRequest,
    PredictionResponse,
    BatchPredictionResponse,
    ErrorResponse,
    HealthResponse,
    ServiceInfo,
)
_ERRORS = {
    "400": "The body is not valid JSON.",
    "413": "The body is larger than MAX_BODY_BYTES.",
    "415": "The body is not declared as application/json.",
    "422": "The JSON does not match the schema; detail lists every violation.",
    "503": "No model can be served right now.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict:
    return {status: _json(_ref("ErrorResponse"), _ERRORS[status]) for status in statuses}


def build_openapi(max_batch_size: int) -> dict:
    """The whole document; max_batch_size is the deployment's MAX_BATCH_SIZE."""
    _, defs = models_json_schema(
        [(model, "validation") for model in _MODELS], ref_template="#/components/schemas/{model}"
    )
    schemas = defs["$defs"]
    schemas["PredictBatchRequest"]["properties"]["instances"]["maxItems"] = max_batch_size
    predict = {
        "summary": "Predict the species of one penguin, or of a batch",
        "operationId": "predict",
        "parameters": [
            {
                "name": "explain",
                "in": "query",
                "required": False,
                "description": "Add per-feature contributions to each prediction.",
                "schema": {"type": "boolean"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"oneOf": [_ref("Penguin"), _ref("PredictBatchRequest")]}}},
        },
        "responses": {
            "200": _json({"oneOf": [_ref("PredictionResponse"), _ref("BatchPredictionResponse")]}, "The predictions."),
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
        },
        "components": {"schemas": schemas},
    }
