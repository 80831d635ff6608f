"""The exception hierarchy: each kind of failure carries its HTTP status, mapped in one place."""

from __future__ import annotations

from typing import Self


class PenguinError(Exception):
    """Base class of every failure this package reports."""


class ApiError(PenguinError):
    """A failure answered to the client as JSON: {"error": sentence, "detail": [...]}."""

    status = 500

    def __init__(self, error: str, detail: list[dict] | None = None, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.error = error
        self.detail = detail or []
        self.headers = headers or {}

    @classmethod
    def at(cls, loc: list, msg: str, kind: str, headers: dict[str, str] | None = None) -> Self:
        """The error of one place: the sentence is both the answer's `error` and its one `detail` entry."""
        return cls(msg, [{"loc": loc, "msg": msg, "type": kind}], headers)

    def body(self) -> dict:
        """The JSON body of the answer."""
        return {"error": self.error, "detail": self.detail}


class MalformedJson(ApiError):
    """The body is not parseable JSON."""

    status = 400


class MalformedCsv(ApiError):
    """The body is a CSV file that cannot be read as a table (encoding, quoting, separator, no header)."""

    status = 400


class MalformedBody(ApiError):
    """The body says it is compressed but does not decompress."""

    status = 400


class InvalidTensors(ApiError):
    """An inference request's tensors are malformed: names, datatypes, shapes or binary sizes."""

    status = 400


class NotFound(ApiError):
    """No such path."""

    status = 404


class MethodNotAllowed(ApiError):
    """The path exists but not for this method."""

    status = 405


class PayloadTooLarge(ApiError):
    """The body is over the configured limit."""

    status = 413


class UnsupportedMediaType(ApiError):
    """The body is not declared as JSON."""

    status = 415


class InvalidInput(ApiError):
    """The JSON does not match the schema."""

    status = 422


class BigQueryEnvelopeError(ApiError):
    """A BigQuery remote-function request unusable as a whole: answered as BigQuery reads it, never a 5xx."""

    status = 400

    def body(self) -> dict:
        """BigQuery shows errorMessage to the person who ran the query."""
        return {"errorMessage": self.error}


class ModelUnavailable(ApiError):
    """No model can be served right now."""

    status = 503


class ArtifactError(PenguinError):
    """A model artifact is missing, corrupt, or made for another encoding."""


class StorageError(PenguinError):
    """The artifact store could not be read."""


class SettingsError(PenguinError):
    """An environment variable has a value that cannot be used."""
