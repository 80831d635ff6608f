"""What every codec takes and gives: bytes and headers in, rows out; answers in, bytes and a content type out.

A codec is a module with a NAME (the request line's `format`), `decode(Incoming) -> Decoded` and
`encode(Decoded, Answered) -> Encoded`. It reads no request object, fetches no model and writes no log:
the pipeline (web/pipeline.py) does those, the same way for every format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import NamedTuple


class Rule(Enum):
    """How the one validation treats a codec's rows."""

    PENGUIN = "one penguin, strictly: a 422 lists every problem"
    BATCH = 'a JSON {"instances": [...]} envelope, strictly: a 422 lists every problem'
    TENSORS = "one request's rows, categories in any case: a 422 lists every problem"
    TABLE = "a table's rows, categories in any case: a bad row gets its own error, the others their answers"


class Incoming:
    """A request as a codec sees it: the decompressed body and the few headers that shape it."""

    __slots__ = ("body", "content_type", "accept", "max_rows", "explain", "headers", "document")

    def __init__(
        self,
        body: bytes,
        content_type: str,
        accept: str,
        max_rows: int,
        explain: bool = False,  # ?explain=true
        headers: Mapping[str, str] | None = None,  # lower-case names; what a codec reads (V2's binary header)
    ):
        self.body = body
        self.content_type = content_type  # as sent, parameters included
        self.accept = accept
        self.max_rows = max_rows
        self.explain = explain
        self.headers = headers or {}
        self.document: object = None  # a JSON body, parsed once by the codec table (None for other bodies)


class Decoded(NamedTuple):
    """A codec's reading of a request: rows for the one validation, and what it needs to encode the answer."""

    rows: object  # per Rule: a dict (PENGUIN), the envelope (BATCH), or a list of dicts or sentences
    rule: Rule
    many: bool  # answered (and logged) as many rows, even when there is one
    explain: bool = False
    context: object = None  # the codec's own, handed back to its encode (a CSV's table, V2's outputs)
    locate: Callable[[tuple], list] | None = None  # a validator's loc -> where the client put the value


class Answered(NamedTuple):
    """The predictor's answers, one per row (a prediction or {"error": sentence}), and which model gave them."""

    answers: list[dict]
    model_version: str
    classes: tuple[str, ...]


class Encoded(NamedTuple):
    """An answer's bytes, their content type and any header of the format's own."""

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
