"""Penguins as tritonclient's tensors, the way its users build them (tests/http/test_v2.py and the benchmark)."""

from __future__ import annotations

import numpy as np
import tritonclient.http as triton_http

from penguins.domain import MEASUREMENTS

MODEL = "penguin-species"
INFER = f"/v2/models/{MODEL}/infer"


def tensor(name: str, values: np.ndarray, binary: bool) -> triton_http.InferInput:
    """One named input holding values (an object array is BYTES)."""
    datatype = "BYTES" if values.dtype == object else triton_http.np_to_triton_dtype(values.dtype)
    return triton_http.InferInput(name, list(values.shape), datatype).set_data_from_numpy(values, binary_data=binary)


def inputs(
    penguins: list[dict], binary: bool, dtype: type = np.float32, column: bool = False, sex: bool = True
) -> list[triton_http.InferInput]:
    """One tensor per field, shape [N] (or [N, 1] with column); an unknown sex is the empty string."""
    shape = (len(penguins), 1) if column else (len(penguins),)
    columns = {name: np.array([p[name] for p in penguins], dtype=dtype).reshape(shape) for name in MEASUREMENTS}
    columns["island"] = np.array([p["island"].encode() for p in penguins], dtype=object).reshape(shape)
    if sex:
        columns["sex"] = np.array([(p.get("sex") or "").encode() for p in penguins], dtype=object).reshape(shape)
    return [tensor(name, values, binary) for name, values in columns.items()]


def request_body(penguins: list[dict]) -> tuple[bytes, dict[str, str]]:
    """The body and headers tritonclient's infer() sends by default (binary inputs, binary outputs)."""
    body, header_length = triton_http.InferenceServerClient.generate_request_body(inputs(penguins, binary=True))
    return body, {"Inference-Header-Content-Length": str(header_length)}
