"""JSON Lines (NDJSON) in and out: one penguin per line, one answer per line, a bad line answered alone."""

from __future__ import annotations

import orjson

from ..errors import InvalidInput
from ..rust_core import from_json
from .base import Answered, Decoded, Encoded, Incoming, Rule

NAME = "ndjson"
CONTENT_TYPE = "application/x-ndjson"


def decode(incoming: Incoming) -> Decoded:
    """Each non-blank line's penguin, for the one validation; a line that is not a JSON object gets its sentence."""
    rows: list[dict | str] = []
    for number, line in enumerate(incoming.body.split(b"\n"), start=1):
        if not line.strip():
            continue  # a blank line (the last newline, say) holds no penguin
        try:
            row = from_json(line)
        except ValueError:
            row = f"line {number} is not valid JSON: write one penguin as a JSON object per line"
        if not isinstance(row, (dict, str)):
            row = f"line {number} must be a JSON object describing one penguin"
        rows.append(row)
        if len(rows) > incoming.max_rows:
            raise InvalidInput.at(
                ["body"], f"The body holds more than {incoming.max_rows} lines, the limit per request", "too_long"
            )
    if not rows:
        raise InvalidInput.at(["body"], "The body holds no penguin: write one JSON object per line", "too_short")
    return Decoded(rows, Rule.TABLE, many=True)


def encode(decoded: Decoded, answered: Answered) -> Encoded:
    """One JSON answer per line, in the order of the penguins: a prediction with the model's version, or an error."""
    version = answered.model_version
    lines = [orjson.dumps({**answer, "model_version": version} if "prediction" in answer else answer)
             for answer in answered.answers]  # fmt: skip
    return Encoded(b"\n".join(lines) + b"\n", CONTENT_TYPE)
