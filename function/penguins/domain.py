"""The domain's words: species, islands, sexes and each measurement's limits (plain data, imported on every start)."""

from __future__ import annotations

from typing import NamedTuple

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
# A penguin's fields, in one place: every codec builds its rows from these, the schema declares the same.
CATEGORY_FIELDS = ("island", "sex")
INPUT_FIELDS = (*MEASUREMENTS, *CATEGORY_FIELDS)  # what the model reads
REQUIRED_FIELDS = (*MEASUREMENTS, "island")  # sex may be unknown
FIELDS = (*INPUT_FIELDS, "year")  # year is accepted, not used
