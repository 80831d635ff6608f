"""Open Inference Protocol (KServe V2) tensors <-> penguins: one named input per field, one row per penguin."""

from __future__ import annotations

from typing import cast

import orjson

from .. import SERVICE_NAME
from ..domain import CATEGORY_FIELDS, MEASUREMENTS, REQUIRED_FIELDS
from ..errors import InvalidInput, InvalidTensors, MalformedJson
from ..rust_core import from_json
from ..validation import json_kind
from . import v2_binary, v2_types
from .base import Answered, Decoded, Encoded, Incoming, Rule
from .json_document import parse_strictly

NAME = "v2"
MODEL_NAME = SERVICE_NAME
MEASUREMENT_DATATYPES = ("FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
INPUT_DATATYPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(MEASUREMENTS, MEASUREMENT_DATATYPES),
    **dict.fromkeys(CATEGORY_FIELDS, ("BYTES",)),
}
OUTPUTS = ("species", "probabilities")
BINARY_HEADER = "inference-header-content-length"  # the binary-data extension's header, as the codec reads it
JSON_CONTENT_TYPE = "application/json"
BINARY_CONTENT_TYPE = "application/octet-stream"
_EXAMPLE = (
    '{"inputs": [{"name": "bill_length_mm", "shape": [1], "datatype": "FP32", "data": [39.1]}, ...]}, '
    f"one input per field ({', '.join(INPUT_DATATYPES)}; sex may be left out)"
)
_UNSEEN = object()


def decode(incoming: Incoming) -> Decoded:
    """An inference request (JSON, or a JSON header then binary tensors) as rows, one per penguin."""
    header_bytes, binary = v2_binary.split_body(incoming.body, incoming.headers.get(BINARY_HEADER))
    header = parse_header(header_bytes)
    outputs = requested_outputs(header)
    columns = _columns(header, binary, incoming.max_rows)
    names = tuple(columns)
    rows = [dict(zip(names, row)) for row in zip(*columns.values())]
    return Decoded(rows, Rule.TENSORS, many=len(rows) > 1, context=(header.get("id"), outputs), locate=_input_loc)


def encode(decoded: Decoded, answered: Answered) -> Encoded:
    """The inference response: JSON, or (when any output is asked for in binary) the extension's header and bytes."""
    request_id, outputs = cast(tuple[str | None, list[tuple[str, bool]]], decoded.context)
    body, chunks = response(request_id, answered, outputs)
    header = orjson.dumps(body)
    if not chunks:
        return Encoded(header, JSON_CONTENT_TYPE)
    return Encoded(b"".join([header, *chunks]), BINARY_CONTENT_TYPE, ((v2_binary.HEADER_LENGTH, str(len(header))),))


def _refuse(msg: str, loc: list, kind: str = "tensor") -> InvalidTensors:
    return InvalidTensors(msg, [{"loc": loc, "msg": msg, "type": kind}])


def parse_header(raw: bytes) -> dict:
    """The inference request's JSON object (the whole body, or the header before the binary data)."""
    try:
        header = _parse_fast(raw)
        if header is None:
            header = parse_strictly(raw)
    except MalformedJson as exc:
        reason = exc.detail[0]["msg"]
        raise MalformedJson(
            f"The inference request is not valid JSON ({reason}); send {_EXAMPLE}", exc.detail
        ) from None
    if not isinstance(header, dict):
        got = json_kind(header)
        raise _refuse(f"The inference request must be a JSON object; got {got}; send {_EXAMPLE}", [])
    inputs = header.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        got = "an empty array" if inputs == [] else json_kind(inputs) if "inputs" in header else "nothing"
        raise _refuse(f"inputs must be a list of tensors, one per field; got {got}; send {_EXAMPLE}", ["inputs"])
    v2_types.check_request(header)
    return header


def _parse_fast(raw: bytes) -> object | None:
    """A request without escapes or duplicate keys, parsed in Rust; None sends it to the careful parser.

    Without escapes every '":' in the bytes ends a key, so counting them against the keys where a request
    has keys (itself, its tensors, their parameters) rules out a key named twice anywhere, or any key elsewhere.
    """
    if b"\\" in raw:
        return None
    try:
        header = from_json(raw)  # integers of any size stay integers, as with the careful parser
    except ValueError:  # malformed, or nested too deeply: the careful parser says what broke
        return None
    return header if _request_key_count(header) == raw.count(b'":') else None


def _request_key_count(header: object) -> int:
    if not isinstance(header, dict):
        return -1
    count = len(header) + _dict_len(header.get("parameters"))
    for name in ("inputs", "outputs"):
        tensors = header.get(name)
        if isinstance(tensors, list):
            for tensor in tensors:
                if isinstance(tensor, dict):
                    count += len(tensor) + _dict_len(tensor.get("parameters"))
    return count


def _dict_len(value: object) -> int:
    return len(value) if isinstance(value, dict) else 0


def requested_outputs(header: dict) -> list[tuple[str, bool]]:
    """Which outputs to answer, in order, and whether each goes in the binary section (types checked already)."""
    binary_default = _parameters(header).get("binary_data_output")
    binary_default = False if binary_default is None else binary_default
    outputs = header.get("outputs")
    if not outputs:  # absent, null or an empty list: every output
        return [(name, binary_default) for name in OUTPUTS]
    wanted: dict[str, bool] = {}
    for position, output in enumerate(outputs):
        name = output["name"]
        if name not in OUTPUTS or name in wanted:
            got = "it again" if name in wanted else repr(name)[:40]
            msg = f"outputs[{position}] must name one of {', '.join(OUTPUTS)}, each once; got {got}"
            raise _refuse(msg, ["outputs", position, "name"])
        options = _parameters(output)
        if "classification" in options:
            msg = (
                "The classification extension is not served: ask for probabilities, in the class order of the metadata"
            )
            raise _refuse(msg, ["outputs", position, "parameters", "classification"])
        binary = options.get("binary_data")
        wanted[name] = binary_default if binary is None else binary
    return list(wanted.items())


def _parameters(owner: dict) -> dict:
    """An object's parameters ({} when absent or null), their types checked by v2_types."""
    return owner.get("parameters") or {}


def _input_loc(loc: tuple) -> list:
    """A validator's place, (field,) or ("instances", row, field), as the input and row the client sent."""
    *row, field = loc
    return [field, row[-1] if row else 0]


def _columns(header: dict, binary: memoryview, max_rows: int) -> dict[str, list]:
    inputs = header["inputs"]
    columns: dict[str, list] = {}
    rows, offset = 0, 0
    for position, tensor in enumerate(inputs):
        name, datatype, count, size = _describe(tensor, position, max_rows)
        if name in columns:
            raise _refuse(f"inputs name {name} twice: send each field once", ["inputs", position, "name"])
        if columns and count != rows:
            first = next(iter(columns))
            msg = f"{name} holds {count} values and {first} {rows}: every input holds one value per penguin"
            raise _refuse(msg, ["inputs", name, "shape"])
        rows = count
        if size is None:
            values = _json_values(tensor.get("data"), tensor["shape"], name)
        else:
            if size > len(binary) - offset:
                msg = (
                    f"{name} declares binary_data_size {size}, but only {len(binary) - offset} bytes of binary "
                    "data are left after the inputs before it"
                )
                raise _refuse(msg, ["inputs", name, "parameters", "binary_data_size"], "binary_data")
            chunk = binary[offset : offset + size]
            offset += size
            if datatype == "BYTES":
                values = v2_binary.decode_text(chunk, count, name)
            else:
                values = v2_binary.decode_fixed(datatype, chunk, count, name)
        columns[name] = values
    if offset != len(binary):
        msg = f"The binary data holds {len(binary) - offset} bytes more than the inputs' binary_data_size declare"
        raise _refuse(msg, ["inputs"], "binary_data")
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        names = f"input {missing[0]} is" if len(missing) == 1 else f"inputs {', '.join(missing)} are"
        msg = f"The {names} missing: send one input per field ({', '.join(INPUT_DATATYPES)}; sex may be left out)"
        raise _refuse(msg, ["inputs"], "missing")
    return columns


def _describe(tensor: dict, position: int, max_rows: int) -> tuple[str, str, int, int | None]:
    """A valid input's name, datatype, number of values and binary size (None: its data is in the JSON).

    v2_types.check_request has checked that it is an object and the JSON type of each of its fields.
    """
    name = tensor["name"]
    if name not in INPUT_DATATYPES:
        msg = f"inputs[{position}] is named {repr(name)[:40]}; the inputs are {', '.join(INPUT_DATATYPES)}"
        raise _refuse(msg, ["inputs", position, "name"])
    datatype, accepted = tensor.get("datatype"), INPUT_DATATYPES[name]
    if datatype not in accepted:
        options = accepted[0] if len(accepted) == 1 else f"one of {', '.join(accepted)}"
        msg = f"{name} must have datatype {options}; got {repr(datatype)[:40]}"
        raise _refuse(msg, ["inputs", name, "datatype"])
    shape = tensor.get("shape")
    if not (
        type(shape) is list
        and (len(shape) == 1 or (len(shape) == 2 and type(shape[1]) is int and shape[1] == 1))
        and type(shape[0]) is int
        and shape[0] >= 1
    ):
        msg = f"{name} must have shape [N] or [N, 1], for N penguins (N at least 1); got {repr(shape)[:40]}"
        raise _refuse(msg, ["inputs", name, "shape"])
    if shape[0] > max_rows:
        msg = f"{name} holds {shape[0]} penguins; the limit is {max_rows} per request: split into several requests"
        raise InvalidInput(msg, [{"loc": ["inputs", name, "shape"], "msg": msg, "type": "too_long"}])
    parameters = _parameters(tensor)
    if "shared_memory_region" in parameters:
        raise _refuse("Shared memory is not served: send the data in the body", ["inputs", name, "parameters"])
    size = parameters.get("binary_data_size")
    if size is None:
        return name, datatype, shape[0], None
    if type(size) is not int or size < 0 or "data" in tensor:
        msg = f"{name}: binary_data_size must be the byte size of its binary data (a whole number), without data"
        raise _refuse(msg, ["inputs", name, "parameters", "binary_data_size"], "binary_data")
    return name, datatype, shape[0], size


def _json_values(data: object, shape: list[int], name: str) -> list:
    """An input's JSON data: flat ([v, ...]), or for shape [N, 1] also nested one per row ([[v], ...])."""
    count = shape[0]
    if isinstance(data, list) and len(data) == count:
        if len(shape) == 1 or not isinstance(data[0], list):
            return data  # v2_types refused arrays in flat data; a nested value in rows is refused below
        if all(isinstance(row, list) and len(row) == 1 for row in data):
            return [row[0] for row in data]
        msg = f"{name} has shape [{count}, 1]: send its data as [v, ...] or [[v], ...], one value per penguin"
        raise _refuse(msg, ["inputs", name, "data"])
    held = f"{len(data)} values" if isinstance(data, list) else "no data and no binary_data_size parameter"
    msg = f"{name} holds {held} where its shape says {count}: send data as a list of one value per penguin"
    raise _refuse(msg, ["inputs", name, "data"])


def response(request_id: str | None, answered: Answered, outputs: list[tuple[str, bool]]) -> tuple[dict, list[bytes]]:
    """The inference response (JSON) and the binary chunks of the outputs asked for in binary, in order."""
    answers, classes = answered.answers, answered.classes
    rows = len(answers)
    tensors, chunks = [], []
    for name, binary in outputs:
        if name == "species":
            datatype, shape, data = "BYTES", [rows], [answer["prediction"] for answer in answers]
        else:
            # The predictor's probabilities (to the millionth), in the class order the metadata names.
            datatype, shape = "FP32", [rows, len(classes)]
            data = [answer["probabilities"][species] for answer in answers for species in classes]
        tensor: dict[str, object] = {"name": name, "datatype": datatype, "shape": shape}
        if binary:
            chunk = v2_binary.encode_bytes(data) if datatype == "BYTES" else v2_binary.encode_fixed(datatype, data)
            tensor["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = data
        tensors.append(tensor)
    body: dict[str, object] = {"model_name": MODEL_NAME, "model_version": answered.model_version, "outputs": tensors}
    if request_id is not None:
        body = {"id": request_id, **body}
    return body, chunks
