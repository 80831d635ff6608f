"""The ways in, picked from one table: a codec module per format, imported the first time a request needs it.

Adding a way in is a module here (NAME, decode, encode: see base.py) and one line in a table below.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from werkzeug.http import parse_options_header

from ..errors import UnsupportedMediaType
from . import json_document
from .base import Incoming

# A body's media type -> its codec module.
BY_MEDIA_TYPE = {
    "application/json": "json_codec",
    "text/csv": "csv_codec",
    "application/csv": "csv_codec",
    "application/x-ndjson": "ndjson",
}
# A JSON body whose top-level object holds this key -> its codec (a penguin never holds these keys).
BY_ENVELOPE = {
    "calls": "bigquery",
}
# A route that names its codec itself (the Open Inference Protocol's infer path) -> its codec.
BY_ROUTE = {
    "v2-infer": "v2",
}
_JSON_CODEC = "json_codec"
_loaded: dict[str, ModuleType] = {}


def codec(module: str) -> ModuleType:
    """A codec module by name, imported once."""
    found = _loaded.get(module)
    if found is None:
        found = _loaded[module] = importlib.import_module(f"{__name__}.{module}")
    return found


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header, lower-case, without parameters."""
    if content_type == "application/json":  # the common case, without parsing
        return content_type
    return parse_options_header(content_type)[0].lower()


def for_body(content_type: str) -> str:
    """The codec module for a body of this Content-Type; a 415 that names what is accepted otherwise."""
    kind = media_type(content_type)
    module = BY_MEDIA_TYPE.get(kind)
    if module is None and kind.startswith("application/") and kind.endswith("+json"):
        module = _JSON_CODEC
    if module is None:
        got = f"'{kind}'" if content_type else "no Content-Type"
        raise UnsupportedMediaType.at(
            ["header", "Content-Type"],
            "The body must be JSON sent with the header 'Content-Type: application/json' "
            "(or a CSV file with 'Content-Type: text/csv', or JSON Lines with 'Content-Type: application/x-ndjson'); "
            f"got {got}",
            "content_type",
        )
    return module


def for_document(document: object) -> str:
    """A parsed JSON body's codec: the one its envelope names (BY_ENVELOPE), else the penguins' own JSON."""
    if type(document) is dict:
        for key, module in BY_ENVELOPE.items():
            if key in document:
                return module
    return _JSON_CODEC


def pick(module: str, incoming: Incoming) -> ModuleType:
    """The codec for a request: as named, or for a JSON body the one its parsed envelope names (parsed once,
    and kept in incoming.document for the codec)."""
    if module == _JSON_CODEC:
        incoming.document = json_document.parse(incoming.body, incoming.max_rows)
        return codec(for_document(incoming.document))
    return codec(module)
