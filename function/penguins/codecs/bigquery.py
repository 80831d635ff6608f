"""BigQuery remote functions: BigQuery's `calls` in, one JSON reply per call out, in order.

BigQuery retries 408, 429, 500, 503 and 504, so a bad row is a per-call {"error": ...} and a request
unusable as a whole a 400 {"errorMessage": ...}: bad input never fails a query by being retried.
"""

from __future__ import annotations

import orjson

from ..domain import INPUT_FIELDS
from ..errors import BigQueryEnvelopeError
from .base import Answered, Decoded, Encoded, Incoming, Rule

NAME = "bigquery"
CONTENT_TYPE = "application/json"
# The SQL signature deploy/bigquery.sh creates: the arguments of each call, in order.
SQL_ARGUMENTS = INPUT_FIELDS
SQL_SIGNATURE = (
    "penguin_species(bill_length_mm FLOAT64, bill_depth_mm FLOAT64, flipper_length_mm FLOAT64, "
    "body_mass_g FLOAT64, island STRING, sex STRING) RETURNS JSON"
)
_ARITY_ERROR = f"a call must hold {len(SQL_ARGUMENTS)} arguments, as {SQL_SIGNATURE.split(' RETURNS')[0]} declares"


def decode(incoming: Incoming) -> Decoded:
    """Each call's arguments by name, for the one validation (a bad call is answered alone)."""
    calls = incoming.document["calls"]  # type: ignore[index]  # the codec table chose this codec by that key
    if not isinstance(calls, list):
        raise BigQueryEnvelopeError(
            f"calls must be a JSON array of calls (one array of arguments per row); got {calls!r:.40}"
        )
    if len(calls) > incoming.max_rows:
        raise BigQueryEnvelopeError(
            f"The request holds {len(calls)} calls; the limit is {incoming.max_rows} per request: "
            f"create the function with max_batching_rows <= {incoming.max_rows}"
        )
    for index, call in enumerate(calls):
        if not isinstance(call, list):  # BigQuery sends arrays: this request comes from something else
            raise BigQueryEnvelopeError(f"calls[{index}] must be an array of arguments; got {call!r:.40}")
    return Decoded([_row(call) for call in calls], Rule.TABLE, many=True)


def _row(call: list) -> dict | str:
    """A call's arguments by name, or why they cannot be a penguin's."""
    if len(call) != len(SQL_ARGUMENTS):
        return f"{_ARITY_ERROR}; got {len(call)}"
    bill_length, bill_depth, flipper_length, body_mass, island, sex = call  # a dict display: twice dict(zip())'s speed
    return {
        "bill_length_mm": bill_length,
        "bill_depth_mm": bill_depth,
        "flipper_length_mm": flipper_length,
        "body_mass_g": body_mass,
        "island": island,
        "sex": sex,
    }


def encode(decoded: Decoded, answered: Answered) -> Encoded:
    """{"replies": [...]}: each prediction with the model's version, or the call's {"error": ...}."""
    version = answered.model_version
    for reply in answered.answers:
        if "prediction" in reply:
            reply["model_version"] = version
    return Encoded(orjson.dumps({"replies": answered.answers}), CONTENT_TYPE)
