"""Request models (pydantic v2): the single source of the request rules, the OpenAPI document and the validators.

Serving validates with pydantic-core's validators built from these models' core schemas, which
`python -m penguins.schema` exports to request_schemas.json: importing pydantic itself and building the
models costs ~35 ms of every cold start, more than the rest of the function together. A test fails
when the file and the models disagree.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from .domain import LIMITS

RUNTIME_SCHEMAS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "request_schemas.json")


def _measurement(name: str, description: str, example: float) -> object:
    limit = LIMITS[name]
    # strict: a JSON number only (no "39.1" strings, no booleans); allow_inf_nan=False: no NaN or 1e400.
    return Field(
        strict=True,
        ge=limit.low,
        le=limit.high,
        allow_inf_nan=False,
        description=f"{description}, in {limit.unit_name} ({limit.low:g}-{limit.high:g}).",
        examples=[example],
    )


Island = Literal["Biscoe", "Dream", "Torgersen"]
Sex = Literal["female", "male"]
Species = Literal["Adelie", "Chinstrap", "Gentoo"]


class Penguin(BaseModel):
    """One penguin's measurements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bill_length_mm: Annotated[float, _measurement("bill_length_mm", "Length of the bill (culmen)", 39.1)]
    bill_depth_mm: Annotated[float, _measurement("bill_depth_mm", "Depth of the bill (culmen)", 18.7)]
    flipper_length_mm: Annotated[float, _measurement("flipper_length_mm", "Length of the flipper", 181)]
    body_mass_g: Annotated[float, _measurement("body_mass_g", "Body mass", 3750)]
    island: Island = Field(description="Island where the penguin was observed.")
    sex: Sex | None = Field(default=None, description="Sex; null or absent when unknown.")
    year: StrictInt | None = Field(default=None, description="Year of observation; accepted but not used.")


class PredictBatchRequest(BaseModel):
    """Several penguins at once, in Vertex AI's request convention."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Penguin] = Field(min_length=1, description="The penguins; at most MAX_BATCH_SIZE of them.")
    explain: bool = Field(
        default=False, strict=True, description="Add each penguin's per-feature contributions (also ?explain=true)."
    )


class BigQueryRequest(BaseModel):
    """A BigQuery remote-function request: one call per row, each the SQL function's arguments in order.

    The arguments are (bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, island, sex), as
    `penguin_species(... FLOAT64 x4, STRING, STRING) RETURNS JSON` declares; a call that is not a penguin
    gets {"error": ...} as its reply. Every field besides calls is accepted and not used.
    """

    model_config = ConfigDict(extra="allow")

    requestId: object = Field(default=None, description="BigQuery's id of this request.")
    caller: object = Field(default=None, description="The job that calls the function.")
    sessionUser: object = Field(default=None, description="Who runs the query.")
    userDefinedContext: object = Field(default=None, description="The function's user_defined_context; not used.")
    calls: list[list[object]] = Field(description="One array of arguments per row; at most MAX_BATCH_SIZE of them.")


def _plain(schema: object) -> object:
    """A core schema validating to plain dicts: models become typed dicts, pydantic's metadata is dropped.

    A field with a default becomes optional and is left out when absent, so a validated dict holds exactly
    the keys the JSON sent (the duplicate-key check counts them).
    """
    if isinstance(schema, list):
        return [_plain(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "model":
        return _plain(schema["schema"])
    if kind == "model-fields":
        fields = {}
        for name, field in schema["fields"].items():
            inner = field["schema"]
            optional = inner["type"] == "default"
            fields[name] = {
                "type": "typed-dict-field",
                "schema": _plain(inner["schema"] if optional else inner),
                "required": not optional,
            }
        return {"type": "typed-dict", "fields": fields, "extra_behavior": "forbid"}
    return {key: _plain(value) for key, value in schema.items() if key not in ("metadata", "ref", "serialization")}


def runtime_schemas() -> dict:
    """The plain-dict core schemas serving validates with, keyed by request kind."""
    return {
        "penguin": _plain(Penguin.__pydantic_core_schema__),
        "batch": _plain(PredictBatchRequest.__pydantic_core_schema__),
    }


def export_runtime_schemas(path: str = RUNTIME_SCHEMAS_FILE) -> None:
    """Write runtime_schemas() as JSON for serving to load."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(runtime_schemas(), f, indent=1)  # field order is the order errors are listed in
        f.write("\n")


if __name__ == "__main__":
    export_runtime_schemas()
    print(f"wrote {RUNTIME_SCHEMAS_FILE}")
