"""HTTP plumbing shared by the routes: reading a bounded JSON body and shaping JSON answers."""

from __future__ import annotations

import os
from functools import cache

import orjson
from flask import Request, Response
from werkzeug.http import parse_options_header

from .errors import PayloadTooLarge, UnsupportedMediaType

_READ_CHUNK = 64 * 1024
JSON_CONTENT_TYPE = "application/json"
BASE_HEADERS = (("X-Content-Type-Options", "nosniff"),)


def _is_json(content_type: str) -> bool:
    if content_type == JSON_CONTENT_TYPE:  # the common case, without parsing
        return True
    mimetype = parse_options_header(content_type)[0].lower()
    return mimetype == JSON_CONTENT_TYPE or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def read_json_body(request: Request, max_body_bytes: int) -> bytes:
    """The raw body of a JSON request, refusing other content types and bodies over the limit."""
    content_type = request.environ.get("CONTENT_TYPE", "")
    if not _is_json(content_type):
        got = f"'{parse_options_header(content_type)[0]}'" if content_type else "no Content-Type"
        msg = f"The body must be JSON sent with the header 'Content-Type: application/json'; got {got}"
        raise UnsupportedMediaType(msg, [{"loc": ["header", "Content-Type"], "msg": msg, "type": "content_type"}])
    return read_body(request, max_body_bytes)


def read_body(request: Request, max_body_bytes: int) -> bytes:
    """The raw body of any request, refusing one over the limit without reading past it."""
    length = request.environ.get("CONTENT_LENGTH")
    declared = int(length) if length and length.isdigit() else None  # gunicorn refuses malformed lengths
    if declared is not None:
        if declared > max_body_bytes:
            raise _too_large(max_body_bytes, f"{declared} bytes")
        return request.get_data(cache=True)  # cached: the framework reads the body again after us
    # A chunked body declares no length: read at most one byte past the limit.
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


def json_response(
    status: int, body: object, headers: list[tuple[str, str]] | tuple = (), streamed: bool = False
) -> Response:
    """A JSON answer; streamed=True keeps the framework from reading an unread (maybe huge) request body."""
    payload = orjson.dumps(body)
    response = Response(iter([payload]) if streamed else payload, status, content_type=JSON_CONTENT_TYPE)
    # Added one by one: a list given to the constructor goes through werkzeug's generic mapping checks,
    # which cost more than the rest of building the response.
    add = response.headers.add
    for name, value in BASE_HEADERS:
        add(name, value)
    for name, value in headers:
        add(name, value)
    return response


PAGE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html")
# The page is self-contained: its script and style are inline, it loads nothing and talks only to us.
PAGE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        "img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("Referrer-Policy", "no-referrer"),
)


@cache
def _page_bytes() -> bytes:
    with open(PAGE_FILE, "rb") as f:
        return f.read()


def page_response() -> Response:
    """The HTML page for people with a browser."""
    return Response(_page_bytes(), status=200, headers=PAGE_HEADERS, content_type="text/html; charset=utf-8")
