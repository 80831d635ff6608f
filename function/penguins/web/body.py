"""HTTP plumbing shared by the routes: reading a bounded JSON body and shaping JSON answers."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zlib
from functools import cache

import orjson
from flask import Request, Response
from werkzeug.http import parse_options_header

from ..errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType

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
        msg = (
            f"The body must be JSON sent with the header 'Content-Type: application/json' "
            f"(or a CSV file with 'Content-Type: text/csv'); got {got}"
        )
        raise UnsupportedMediaType(msg, [{"loc": ["header", "Content-Type"], "msg": msg, "type": "content_type"}])
    return read_body(request, max_body_bytes)


def read_body(request: Request, max_body_bytes: int) -> bytes:
    """The raw body, whatever its type, decompressed when the client says so; over the limit, either way, refused."""
    encoding = request.environ.get("HTTP_CONTENT_ENCODING")
    if encoding is None:  # the common case: one lookup
        return _read_bounded(request, max_body_bytes)
    wbits = window_bits(encoding)  # an encoding we cannot undo is refused before the body is read
    body = _read_bounded(request, max_body_bytes)
    return body if wbits is None else decompressed(body, wbits, max_body_bytes)


def _read_bounded(request: Request, max_body_bytes: int) -> bytes:
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


# The Content-Encodings a client may compress a body with (tritonclient's request_compression_algorithm,
# curl --data-binary @rows.csv.gz): each one's zlib window bits. "deflate" means zlib-wrapped (RFC 9110);
# a raw deflate stream, which some clients send, is recognised by its missing zlib header.
_WINDOW_BITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def window_bits(encoding: str) -> int | None:
    """The zlib window bits that undo a Content-Encoding (None: sent as it is); any other is a 415."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in _WINDOW_BITS:
        msg = (
            f"Content-Encoding {encoding[:40]!r} is not supported: "
            "send the body as it is, or compressed with gzip or deflate"
        )
        raise UnsupportedMediaType(msg, [{"loc": ["header", "Content-Encoding"], "msg": msg, "type": "encoding"}])
    return _WINDOW_BITS[name]


def decompressed(body: bytes, wbits: int, max_body_bytes: int) -> bytes:
    """What a compressed body holds; the limit applies to that, so a small bomb is refused after bounded work."""
    if wbits == zlib.MAX_WBITS and not _has_zlib_header(body):  # deflate sent raw
        wbits = -zlib.MAX_WBITS
    gzip = wbits > zlib.MAX_WBITS
    parts, size, rest = [], 0, body
    try:
        while rest:  # a gzip body may hold several members, one after another
            decoder = zlib.decompressobj(wbits)
            part = decoder.decompress(rest, max_body_bytes + 1 - size)
            size += len(part)
            if size > max_body_bytes:
                raise _too_large(max_body_bytes, "more once decompressed")
            if not decoder.eof:
                raise zlib.error("the compressed data ends early")
            parts.append(part)
            rest = decoder.unused_data
            if rest and not gzip:
                raise zlib.error("more data follows the end of the compressed stream")
    except zlib.error as exc:
        name = "gzip" if gzip else "deflate"
        reason = str(exc).split(": ", 1)[-1]  # without zlib's "Error -3 while decompressing data: "
        msg = f"The body is not valid {name} data ({reason}): compress the whole body with {name}, or send it as it is"
        raise MalformedBody(msg, [{"loc": ["body"], "msg": msg, "type": "encoding"}]) from None
    return b"".join(parts)


def _has_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


# Cloud Run refuses requests over 32 MiB before they reach an instance: a body up to that size can be
# read and dropped (64 KiB at a time) so that its answer reaches the client; a larger one is not read.
DISCARD_LIMIT_BYTES = 32 * 1024 * 1024


def discard_body(request: Request, limit: int = DISCARD_LIMIT_BYTES) -> bool:
    """Read and drop what is left of an unread body; False (nothing read) when it declares more than limit bytes.

    Clients such as urllib and Node's fetch send the whole body before they read the answer: if the server
    answers early and closes, they see a broken pipe instead of the JSON error. Draining lets them read it.
    """
    length = request.environ.get("CONTENT_LENGTH")
    if length and length.isdigit() and int(length) > limit:
        return False
    stream, read = request.stream, 0
    while read <= limit:
        chunk = stream.read(_READ_CHUNK)
        if not chunk:
            return True
        read += len(chunk)
    return False  # a chunked body past the limit: the rest stays unread and the connection is closed


def _too_large(limit: int, got: str) -> PayloadTooLarge:
    msg = f"The body may be at most {limit} bytes; got {got}: send fewer penguins per request"
    return PayloadTooLarge(msg, [{"loc": ["body"], "msg": msg, "type": "too_large"}])


def json_response(
    status: int, body: object, headers: list[tuple[str, str]] | tuple = (), streamed: bool = False
) -> Response:
    """A JSON answer; streamed=True keeps the framework from reading an unread (too large) request body."""
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
# The page is self-contained: one inline script and one inline style, each allowed by its own sha256 in the
# Content-Security-Policy (no 'unsafe-inline': an injected script or style would not run), talking only to us.
_INLINE_BLOCK = re.compile(rb"<(script|style)>(.*?)</\1>", re.S)
_CSP = (
    "default-src 'none'; script-src {script}; style-src {style}; connect-src 'self'; img-src data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _sha256_source(content: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode() + "'"


@cache
def _page() -> tuple[bytes, tuple[tuple[str, str], ...]]:
    with open(PAGE_FILE, "rb") as f:
        page = f.read()
    sources: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for tag, content in _INLINE_BLOCK.findall(page):
        sources[tag].append(_sha256_source(content))
    script, style = (" ".join(sources[tag]) or "'none'" for tag in (b"script", b"style"))
    csp = _CSP.format(script=script, style=style)
    headers = (
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", csp),
        ("Referrer-Policy", "no-referrer"),
    )
    return page, headers


def page_headers() -> tuple[tuple[str, str], ...]:
    """The page's security headers, its CSP naming the hashes of its inline script and style."""
    return _page()[1]


def page_response() -> Response:
    """The HTML page for people with a browser."""
    page, headers = _page()
    return Response(page, status=200, headers=headers, content_type="text/html; charset=utf-8")
