"""BigQuery remote functions: BigQuery's `calls` in, one JSON reply per call out, in order.

BigQuery retries 408, 429, 500, 503 and 504, so a bad row is a per-call {"error": ...} and a request
unusable as a whole a 400 {"errorMessage": ...}: bad input never fails a query by being retried.
"""

from __future__ import annotations

from flask import Request
from pydantic_core import from_json

from ..errors import BigQueryEnvelopeError
from ..model.cache import ModelCache
from ..predict import service
from ..settings import Settings
from ..validation import refuse_bad_query, validate_rows

# The SQL signature deploy/bigquery.sh creates: the arguments of each call, in order.
SQL_ARGUMENTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex")
SQL_SIGNATURE = (
    "penguin_species(bill_length_mm FLOAT64, bill_depth_mm FLOAT64, flipper_length_mm FLOAT64, "
    "body_mass_g FLOAT64, island STRING, sex STRING) RETURNS JSON"
)
_ARITY_ERROR = f"a call must hold {len(SQL_ARGUMENTS)} arguments, as {SQL_SIGNATURE.split(' RETURNS')[0]} declares"


def answer(request: Request, raw: bytes, settings: Settings, models: ModelCache) -> tuple[int, dict, dict] | None:
    """The replies to BigQuery's request, or None when the body is not its envelope (the JSON path answers)."""
    try:
        envelope = from_json(raw)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or "calls" not in envelope:
        return None
    refuse_bad_query(request)
    calls = envelope["calls"]
    if not isinstance(calls, list):
        raise BigQueryEnvelopeError(
            f"calls must be a JSON array of calls (one array of arguments per row); got {calls!r:.40}"
        )
    if len(calls) > settings.max_batch_size:
        raise BigQueryEnvelopeError(
            f"The request holds {len(calls)} calls; the limit is {settings.max_batch_size} per request: "
            f"create the function with max_batching_rows <= {settings.max_batch_size}"
        )
    for index, call in enumerate(calls):
        if not isinstance(call, list):  # BigQuery sends arrays: this request comes from something else
            raise BigQueryEnvelopeError(f"calls[{index}] must be an array of arguments; got {call!r:.40}")
    rows = validate_rows([_row(call) for call in calls])
    model = models.get()
    replies = service.predict_rows(model, rows)
    version = model.version
    for reply in replies:
        if "prediction" in reply:
            reply["model_version"] = version
    fields = service.rows_log_fields("bigquery", rows, replies, settings.log_inputs_fraction)
    fields["model"] = model
    return 200, {"replies": replies}, fields


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
