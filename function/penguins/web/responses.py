"""Answers as ASGI sends them: a status, the headers as bytes, and the whole body in one message."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

Headers = list[tuple[bytes, bytes]]
JSON = b"application/json"
NOSNIFF = (b"x-content-type-options", b"nosniff")


class Response:
    """One answer, sent as two ASGI messages (start, body); uvicorn leaves the body out for HEAD."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, body: bytes, headers: Headers):
        self.status = status
        self.body = body
        self.headers = headers

    async def __call__(self, scope: dict, receive: object, send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def answer(status: int, body: bytes, content_type: bytes, extra: Iterable[tuple[bytes, bytes]] = ()) -> Response:
    """An answer with its content type, length, nosniff and any other header."""
    return Response(
        status, body, [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), NOSNIFF, *extra]
    )


def json_answer(status: int, body: object, extra: Iterable[tuple[bytes, bytes]] = ()) -> Response:
    """A JSON answer."""
    return answer(status, orjson.dumps(body), JSON, extra)


def header_pairs(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Headers named as text, as ASGI sends them."""
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
