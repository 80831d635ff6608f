"""Request and response models (pydantic v2): the single source of validation and of the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
ISLANDS = ("Biscoe", "Dream", "Torgersen")
SEXES = ("female", "male")


@dataclass(frozen=True)
class Limit:
    """Hard limits of one measurement, with its unit and a plausible wrong unit to hint at."""

    low: float
    high: float
    unit: str
    unit_name: str


LIMITS: dict[str, Limit] = {
    "bill_length_mm": Limit(30, 60, "mm", "millimetres"),
    "bill_depth_mm": Limit(10, 25, "mm", "millimetres"),
    "flipper_length_mm": Limit(170, 240, "mm", "millimetres"),
    "body_mass_g": Limit(2500, 7000, "g", "grams"),
}
MEASUREMENTS = tuple(LIMITS)


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


Probabilities = Annotated[
    dict[Species, float], Field(description="Probability of each species; they sum to 1.")
]


class Prediction(BaseModel):
    """The model's answer for one penguin."""

    prediction: Species
    probabilities: Probabilities
    warnings: list[str] = Field(description="Plain sentences about inputs the model was not trained on.")


class PredictionResponse(Prediction):
    """The answer to a single-penguin request."""

    model_version: str


class BatchPredictionResponse(BaseModel):
    """The answer to a batch request, in the order of the instances."""

    predictions: list[Prediction]
    model_version: str


class ErrorDetail(BaseModel):
    """One problem with the request."""

    loc: list[str | int] = Field(description="Where in the body: field name, or 'instances', index, field.")
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every error answer: one sentence to act on, then the details."""

    error: str
    detail: list[ErrorDetail]


class TrainingRange(BaseModel):
    """The smallest and largest value of a measurement in the training data."""

    min: float
    max: float


class ModelInfo(BaseModel):
    """Which model answers and where it came from."""

    version: str
    source: str
    loaded_at: str
    classes: list[Species]
    features: list[str]
    training_ranges: dict[str, TrainingRange]
    metrics: dict[str, object]
    xgboost_version: str
    created_at: str


class HealthResponse(BaseModel):
    """Whether a model can be served, and which."""

    status: Literal["ok", "degraded"]
    model: ModelInfo
    reason: str | None = Field(default=None, description="Why the status is degraded.")


class ServiceInfo(BaseModel):
    """What this service is and how to use it."""

    service: str
    version: str
    model: ModelInfo
    limits: dict[str, TrainingRange]
    max_batch_size: int
    links: dict[str, str]
