"""The Open Inference Protocol's (KServe V2) bodies as pydantic models, for the OpenAPI document (not per request).

They say what the V2 codec checks (codecs/v2_types.py): the JSON type of every field at every depth. What
JSON Schema cannot say (one input per field, as many values as the shape says) the codec answers with a 400.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..schema import Species

# A parameter's value: the protocol's $parameter. Parameters this function does not act on may be anything.
Scalar = float | str | bool | None
Dimension = Annotated[int, Field(description="A dimension: N, the number of penguins, or 1.")]


class _Open(BaseModel):
    """Unknown fields are accepted and ignored (docs/v2.md says why)."""

    model_config = ConfigDict(extra="allow")


class RequestParameters(_Open):
    """The request's parameters."""

    binary_data_output: bool | None = Field(default=None, description="Every output in the binary section.")


class InputParameters(_Open):
    """An input's parameters."""

    binary_data_size: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="The byte size of the input's values in the binary section (then no data)."
    )


class OutputParameters(_Open):
    """An output's parameters."""

    binary_data: bool | None = Field(default=None, description="This output in the binary section.")


class RequestInput(_Open):
    """One input: a field of every penguin, one value per penguin."""

    name: str = Field(description="bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, island or sex.")
    shape: list[Dimension] = Field(description="[N] or [N, 1] for N penguins.")
    datatype: str = Field(description="FP32, FP64 or an INT/UINT type for a measurement; BYTES for island and sex.")
    parameters: InputParameters | None = None
    data: list[Scalar | list[Scalar]] = Field(  # absent, not null: null is refused (docs/v2.md)
        default=None,  # type: ignore[arg-type]
        description="The values, flat, or one array per row for shape [N, 1]; absent when binary_data_size is set.",
    )


class RequestOutput(_Open):
    """An output to answer."""

    name: str = Field(description="species or probabilities.")
    parameters: OutputParameters | None = None


class InferenceRequest(_Open):
    """An inference request in JSON tensors (the binary-data extension sends this header, then the bytes)."""

    id: str | None = Field(default=None, description="Echoed in the answer.")
    parameters: RequestParameters | None = None
    inputs: list[RequestInput] = Field(min_length=1, description="One input per field; sex may be left out.")
    outputs: list[RequestOutput] | None = Field(default=None, description="Absent, null or empty: every output.")


class ResponseOutput(BaseModel):
    """An output: the species (BYTES, [N]) or the probabilities (FP32, [N, 3], in the metadata's class order)."""

    name: Literal["species", "probabilities"]
    datatype: Literal["BYTES", "FP32"]
    shape: list[int]
    data: list[Species] | list[float] | None = Field(default=None, description="Absent when in the binary section.")
    parameters: dict[str, int] | None = Field(default=None, description="binary_data_size, when in binary.")


class InferenceResponse(BaseModel):
    """The answer: the outputs asked for, and which model gave them."""

    id: str | None = Field(default=None, description="The request's id, when it had one.")
    model_name: str
    model_version: str
    outputs: list[ResponseOutput]


class ServerMetadata(BaseModel):
    """GET /v2."""

    name: str
    version: str
    extensions: list[str]


class ServerLive(BaseModel):
    """GET /v2/health/live."""

    live: bool


class ServerReady(BaseModel):
    """GET /v2/health/ready."""

    ready: bool


class ModelReady(BaseModel):
    """GET /v2/models/{model}/ready."""

    name: str
    ready: bool


class MetadataTensor(BaseModel):
    """An input or output the model metadata describes."""

    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, object] | None = None


class ModelMetadata(BaseModel):
    """GET /v2/models/{model}: the inputs and outputs, with what each accepts."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[MetadataTensor]
    outputs: list[MetadataTensor]


MODELS = (
    InferenceRequest,
    InferenceResponse,
    ServerMetadata,
    ServerLive,
    ServerReady,
    ModelReady,
    ModelMetadata,
)
