"""A JSON prediction body through the function's own decoding and validation, as the pipeline does it."""

from __future__ import annotations

from penguins.codecs.base import Incoming
from penguins.web.pipeline import decode_request


def parse_predict_request(raw: bytes, max_batch_size: int) -> tuple[list, bool, bool]:
    """(penguins, answered as many, explain) for a JSON body; the ApiError a request would get otherwise."""
    _, decoded, rows, explain = decode_request("json_codec", Incoming(raw, "application/json", "", max_batch_size))
    return rows, decoded.many, explain
