"""HTTP plumbing shared by the routes: reading a bounded JSON body and shaping JSON answers."""

from __future__ import annotations

import json

from flask import Request, Response

from .errors import PayloadTooLarge, UnsupportedMediaType

_READ_CHUNK = 64 * 1024
BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def read_json_body(request: Request, max_body_bytes: int) -> bytes:
    """The raw body of a JSON request, refusing other content types and bodies over the limit."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        got = f"'{mimetype}'" if mimetype else "no Content-Type"
        msg = f"The body must be JSON sent with the header 'Content-Type: application/json'; got {got}"
        raise UnsupportedMediaType(msg, [{"loc": ["header", "Content-Type"], "msg": msg, "type": "content_type"}])
    declared = request.content_length
    if declared is not None and declared > max_body_bytes:
        raise _too_large(max_body_bytes, f"{declared} bytes")
    # Read at most one byte past the limit: a chunked body has no declared length to check first.
    chunks, size = [], 0
    while size <= max_body_bytes:
        chunk = request.stream.read(min(_READ_CHUNK, max_body_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_body_bytes:
        raise _too_large(max_body_bytes, "more")
    return b"".join(chunks)


def _too_large(limit: int, got: str) -> PayloadTooLarge:
    msg = f"The body may be at most {limit} bytes; got {got}: send fewer penguins per request"
    return PayloadTooLarge(msg, [{"loc": ["body"], "msg": msg, "type": "too_large"}])


def json_response(status: int, body: object, headers: dict[str, str] | None = None, streamed: bool = False) -> Response:
    """A JSON answer; streamed=True keeps the framework from reading an unread (maybe huge) request body."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    all_headers = {**BASE_HEADERS, **(headers or {})}
    content = iter([payload]) if streamed else payload
    return Response(content, status=status, headers=all_headers, mimetype="application/json")
