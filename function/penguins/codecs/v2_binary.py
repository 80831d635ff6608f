"""The V2 binary-data extension: a JSON header, then each tensor's raw little-endian bytes, in order."""

from __future__ import annotations

import struct

from ..errors import InvalidTensors

HEADER_LENGTH = "Inference-Header-Content-Length"
HEADER_LENGTH_ENVIRON = "HTTP_INFERENCE_HEADER_CONTENT_LENGTH"
# struct codes of the fixed-size datatypes (BYTES is length-prefixed instead), read little-endian.
FIXED_FORMATS = {
    "INT8": "b",
    "INT16": "h",
    "INT32": "i",
    "INT64": "q",
    "UINT8": "B",
    "UINT16": "H",
    "UINT32": "I",
    "UINT64": "Q",
    "FP32": "f",
    "FP64": "d",
}
_SIZES = {datatype: struct.calcsize("<" + code) for datatype, code in FIXED_FORMATS.items()}
_LENGTH = struct.Struct("<I")
_ONE_VALUE = {datatype: struct.Struct("<" + code) for datatype, code in FIXED_FORMATS.items()}


def _refuse(msg: str, loc: list) -> InvalidTensors:
    return InvalidTensors(msg, [{"loc": loc, "msg": msg, "type": "binary_data"}])


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, memoryview]:
    """The JSON header and the binary section after it (empty without the extension's header)."""
    if header_length is None:
        return body, memoryview(b"")
    text = header_length.strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= len(body):
        msg = (
            f"{HEADER_LENGTH} must be the byte length of the JSON header at the start of the body, "
            f"a whole number from 1 to {len(body)} (the body's size); got {header_length[:40]!r}"
        )
        raise _refuse(msg, ["header", HEADER_LENGTH])
    length = int(text)
    view = memoryview(body)
    return body[:length], view[length:]


def decode_fixed(datatype: str, chunk: memoryview, count: int, name: str) -> list:
    """count values of a fixed-size datatype, little-endian, from exactly their bytes."""
    code, size = FIXED_FORMATS[datatype], _SIZES[datatype]
    if len(chunk) != count * size:
        msg = (
            f"{name} declares binary_data_size {len(chunk)}, but {count} {datatype} values take "
            f"{count * size} bytes ({size} each): make the size match the shape"
        )
        raise _refuse(msg, ["inputs", name, "parameters", "binary_data_size"])
    if count == 1:  # a single penguin's value: its Struct made once (1.0 us of 8 per request through the format)
        return list(_ONE_VALUE[datatype].unpack(chunk))
    return list(struct.unpack(f"<{count}{code}", chunk))


def decode_text(chunk: memoryview, count: int, name: str) -> list[str]:
    """count BYTES elements as UTF-8 text, each a 4-byte little-endian length then that many bytes, filling the
    chunk exactly. Each distinct element is decoded once: a column holds a few values (islands, sexes) many times.
    """
    if count == 1 and len(chunk) >= 4 and _LENGTH.unpack_from(chunk)[0] == len(chunk) - 4:
        return [_utf8(bytes(chunk[4:]), name)]  # a single penguin's element, exactly filling its chunk
    data = bytes(chunk)  # one copy: slicing bytes costs less than slicing a view and copying each element
    known: dict[bytes, str] = {}
    values: list[str] = []
    offset, end, unpack_length = 0, len(data), _LENGTH.unpack_from
    for index in range(count):
        if end - offset < 4:
            raise _refuse(f"{name} holds {index} elements where its shape says {count}", ["inputs", name])
        (length,) = unpack_length(data, offset)
        offset += 4
        if length > end - offset:
            msg = f"{name}[{index}] declares {length} bytes, but only {end - offset} are left in its binary data"
            raise _refuse(msg, ["inputs", name, index])
        element = data[offset : offset + length]
        text = known.get(element)
        if text is None:
            text = known[element] = _utf8(element, name)
        values.append(text)
        offset += length
    if offset != end:
        msg = f"{name} has {end - offset} bytes left after the {count} elements its shape says: make them match"
        raise _refuse(msg, ["inputs", name])
    return values


def _utf8(element: bytes, name: str) -> str:
    try:
        return element.decode()
    except UnicodeDecodeError:
        msg = f"{name} holds a value that is not UTF-8 text"
        raise InvalidTensors(msg, [{"loc": ["inputs", name, "data"], "msg": msg, "type": "tensor"}]) from None


def encode_fixed(datatype: str, values: list) -> bytes:
    """Values of a fixed-size datatype as little-endian bytes."""
    return struct.pack(f"<{len(values)}{FIXED_FORMATS[datatype]}", *values)


def encode_bytes(values: list[str]) -> bytes:
    """Strings as BYTES elements: each its UTF-8 length (4 bytes, little-endian), then the UTF-8."""
    encoded: dict[str, bytes] = {}  # few distinct values (the species): each encoded once
    parts = []
    for value in values:
        element = encoded.get(value)
        if element is None:
            data = value.encode()
            element = encoded[value] = _LENGTH.pack(len(data)) + data
        parts.append(element)
    return b"".join(parts)
