"""The penguins' own JSON: one penguin, or {"instances": [...]} (Vertex AI's convention), answered in kind."""

from __future__ import annotations

import orjson

from ..errors import InvalidInput
from .base import Answered, Decoded, Encoded, Incoming, Rule
from .json_document import keys_in_bytes, parse_strictly

NAME = "json"
CONTENT_TYPE = "application/json"


def decode(incoming: Incoming) -> Decoded:
    """The parsed body as one penguin or a batch; a key named twice anywhere a penguin has keys is a 400."""
    document = incoming.document
    if keys_in_bytes(incoming.body) != _keys_held(document):  # a key named twice, or bytes we cannot count
        document = parse_strictly(incoming.body)
    if type(document) is dict and "instances" in document:
        instances = document["instances"]
        if type(instances) is list and len(instances) > incoming.max_rows:
            raise InvalidInput.at(
                ["instances"],
                f"instances holds {len(instances)} penguins; the limit is {incoming.max_rows} per request: "
                "split the batch into several requests",
                "too_long",
            )
        return Decoded(document, Rule.BATCH, many=True, explain=incoming.explain)
    return Decoded(document, Rule.PENGUIN, many=False, explain=incoming.explain)


def _keys_held(document: object) -> int:
    """The keys of the body's object and of the penguins in its instances: where a penguin request has keys."""
    if type(document) is not dict:
        return 0
    held = len(document)
    instances = document.get("instances")
    if type(instances) is list:
        for penguin in instances:
            if type(penguin) is dict:
                held += len(penguin)
    return held


def encode(decoded: Decoded, answered: Answered) -> Encoded:
    """One answer with the model's version, or {"predictions": [...], "model_version": ...}."""
    if decoded.many:
        body = {"predictions": answered.answers, "model_version": answered.model_version}
    else:
        body = answered.answers[0]
        body["model_version"] = answered.model_version
    return Encoded(orjson.dumps(body), CONTENT_TYPE)
