"""Request bodies: read once from the ASGI channel, bounded by MAX_BODY_BYTES, decompressed when sent compressed."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable

from ..errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType

Receive = Callable[[], Awaitable[dict]]
# Cloud Run refuses requests over 32 MiB before they reach an instance: a body up to that size can be
# read and dropped so that its answer reaches the client; a larger one is not read.
DISCARD_LIMIT_BYTES = 32 * 1024 * 1024


class BodyChannel:
    """A request body's ASGI channel, remembering when the body has been read to its end.

    Once it has, another receive() would wait for the client to disconnect: nothing may read past the end.
    """

    __slots__ = ("_receive", "complete")

    def __init__(self, receive: Receive):
        self._receive = receive
        self.complete = False

    async def chunk(self) -> bytes:
        """The next part of the body (b"" at its end); a client gone mid-body is a 400."""
        if self.complete:
            return b""
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.complete = True
            raise MalformedBody.at(["body"], "The body ended before its declared length: send the whole body", "body")
        if not message.get("more_body", False):
            self.complete = True
        return message.get("body", b"")


async def read(channel: BodyChannel, declared_length: str | None, encoding: str | None, limit: int) -> bytes:
    """The whole body, decompressed when the client says so; over the limit, as sent or once decompressed, a 413."""
    wbits = window_bits(encoding) if encoding is not None else None  # refused before the body is read
    if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
        raise _too_large(limit, f"{declared_length} bytes")
    body = await channel.chunk()
    if not channel.complete:  # a body in several messages (large, or chunked): gathered, bounded
        chunks, size = [body], len(body)
        while not channel.complete:
            chunk = await channel.chunk()
            size += len(chunk)
            if size > limit:  # a chunked body declares no length: it is refused one message past the limit
                raise _too_large(limit, "more")
            chunks.append(chunk)
        body = b"".join(chunks)
    if len(body) > limit:
        raise _too_large(limit, "more")
    return body if wbits is None else decompressed(body, wbits, limit)


async def drain(channel: BodyChannel, declared_length: str | None, limit: int = DISCARD_LIMIT_BYTES) -> bool:
    """Read and drop what is left of an unread body; False (nothing read) when it declares more than limit bytes.

    Clients such as urllib and Node's fetch send the whole body before they read the answer: if the server
    answers early and closes, they see a broken pipe instead of the JSON error. Draining lets them read it.
    """
    if channel.complete:
        return True
    if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
        return False
    dropped = 0
    while not channel.complete:
        if dropped > limit:
            return False  # a chunked body past the limit: the rest stays unread and the connection is closed
        try:
            dropped += len(await channel.chunk())
        except MalformedBody:  # the client went away: nothing left to drain
            return True
    return True


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
        raise UnsupportedMediaType.at(
            ["header", "Content-Encoding"],
            f"Content-Encoding {encoding[:40]!r} is not supported: "
            "send the body as it is, or compressed with gzip or deflate",
            "encoding",
        )
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
        raise MalformedBody.at(
            ["body"],
            f"The body is not valid {name} data ({reason}): compress the whole body with {name}, or send it as it is",
            "encoding",
        ) from None
    return b"".join(parts)


def _has_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _too_large(limit: int, got: str) -> PayloadTooLarge:
    return PayloadTooLarge.at(
        ["body"], f"The body may be at most {limit} bytes; got {got}: send fewer penguins per request", "too_large"
    )
