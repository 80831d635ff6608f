"""Response models: the shape of every answer, for the OpenAPI document and the tests (not built per request)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..schema import Species

Probabilities = Annotated[dict[Species, float], Field(description="Probability of each species; they sum to 1.")]


class Prediction(BaseModel):
    """The model's answer for one penguin."""

    prediction: Species
    probabilities: Probabilities
    warnings: list[str] = Field(description="Plain sentences about inputs the model was not trained on.")
    contributions: dict[Species, dict[str, float]] | None = Field(
        default=None,
        description=(
            "With explain: per species, the bias and each field's exact TreeSHAP contribution to the raw margin; "
            "they sum to the species' margin, and the softmax of the margins is the probabilities."
        ),
    )


class PredictionResponse(Prediction):
    """The answer to a single-penguin request."""

    model_version: str


class BatchPredictionResponse(BaseModel):
    """The answer to a batch request, in the order of the instances."""

    predictions: list[Prediction]
    model_version: str


class RowError(BaseModel):
    """A row (of a CSV file, or a BigQuery call) that cannot be predicted, and what to fix."""

    error: str
    line: int | None = Field(default=None, description="In a CSV's answer: the line the row starts on (header = 1).")


class CsvPredictionResponse(BaseModel):
    """The JSON answer to a CSV request: one entry per row, in order; a bad row gets its error."""

    predictions: list[Prediction | RowError]
    model_version: str


class BigQueryResponse(BaseModel):
    """The answer to a BigQuery remote-function request: one reply per call, in order."""

    replies: list[PredictionResponse | RowError]


class BigQueryError(BaseModel):
    """A BigQuery request unusable as a whole (BigQuery shows the message to whoever ran the query)."""

    errorMessage: str


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
