"""Request models (pydantic v2), limits and species: the single source of validation and of the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StrictInt

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
ISLANDS = ("Biscoe", "Dream", "Torgersen")
SEXES = ("female", "male")


class Limit(NamedTuple):
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

    # Built on the first batch, not at import: a cold start that serves one penguin never needs it.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    instances: list[Penguin] = Field(min_length=1, description="The penguins; at most MAX_BATCH_SIZE of them.")
    explain: bool = Field(
        default=False, strict=True, description="Add each penguin's per-feature contributions (also ?explain=true)."
    )
