"""Hostile and generated V2 bodies: each a 4xx with a small, clean JSON error; the codec agrees with the native API."""

from __future__ import annotations

import gzip
import http.client
import json
import struct

import pytest
from httpx2 import Headers  # case-insensitive, as HTTP header names are
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from penguins.codecs import v2
from penguins.codecs.base import Incoming
from penguins.domain import ISLANDS, MEASUREMENTS, SEXES
from penguins.errors import ApiError
from penguins.web.pipeline import decode_request
from tests.support.decoding import parse_predict_request
from tests.support.hostile import BIG, SECRETS, chunks
from tests.support.strategies import examples, near_valid_penguin, valid_penguin
from tools.examples import ADELIE

INFER = f"/v2/models/{v2.MODEL_NAME}/infer"
FIELDS = (*MEASUREMENTS, "island", "sex")


def tensor(name: str, value: object, **changes: object) -> dict:
    datatype = "BYTES" if name in ("island", "sex") else "FP64"
    return {"name": name, "shape": [1], "datatype": datatype, "data": [value], **changes}


def request(**changes: object) -> dict:
    """The seed's Adelie as a V2 JSON request, with top-level changes."""
    return {"inputs": [tensor(name, ADELIE[name]) for name in FIELDS], **changes}


def with_input(field: str, first: bool = False, **changes: object) -> dict:
    """The request with one input changed (and moved first: decoded before the others set the row count)."""
    body = request()
    changed = [{**t, **changes} for t in body["inputs"] if t["name"] == field]
    others = [t for t in body["inputs"] if t["name"] != field]
    body["inputs"] = [*changed, *others] if first else [*others, *changed]
    return body


def binary_request(tensors: list[tuple[dict, bytes]], **header: object) -> tuple[bytes, str]:
    """A binary-data body: the JSON header naming each tensor's size, then their bytes; and the header's length."""
    described = [{**t, "parameters": {"binary_data_size": len(data)}, **t.get("_", {})} for t, data in tensors]
    text = json.dumps({"inputs": [{k: v for k, v in t.items() if k != "_"} for t in described], **header}).encode()
    return text + b"".join(data for _, data in tensors), str(len(text))


def adelie_binary(**overrides: tuple[dict, bytes]) -> list[tuple[dict, bytes]]:
    """The seed's Adelie in binary tensors (FP32, BYTES), with some tensors replaced."""
    tensors = {
        name: ({"name": name, "shape": [1], "datatype": "FP32"}, struct.pack("<f", ADELIE[name]))
        for name in MEASUREMENTS
    }
    for name in ("island", "sex"):
        text = ADELIE[name].encode()
        tensors[name] = ({"name": name, "shape": [1], "datatype": "BYTES"}, struct.pack("<I", len(text)) + text)
    return list({**tensors, **overrides}.values())


def bytes_tensor(name: str, payload: bytes, count: int = 1) -> tuple[dict, bytes]:
    return {"name": name, "shape": [count], "datatype": "BYTES"}, payload


GOOD_BINARY, GOOD_LENGTH = binary_request(adelie_binary())

# (name, body, headers, status)
CATALOGUE = [
    ("header-length-overruns", GOOD_BINARY, {"Inference-Header-Content-Length": "1000000"}, 400),
    ("header-length-zero", GOOD_BINARY, {"Inference-Header-Content-Length": "0"}, 400),
    ("header-length-negative", GOOD_BINARY, {"Inference-Header-Content-Length": "-5"}, 400),
    ("header-length-words", GOOD_BINARY, {"Inference-Header-Content-Length": "twelve"}, 400),
    ("header-length-exponent", GOOD_BINARY, {"Inference-Header-Content-Length": "1e3"}, 400),
    ("header-length-superscript-digits", GOOD_BINARY, {"Inference-Header-Content-Length": "\u00b2\u00b3"}, 400),
    ("header-length-huge", GOOD_BINARY, {"Inference-Header-Content-Length": "9" * 400}, 400),
    ("header-length-cuts-the-json", GOOD_BINARY, {"Inference-Header-Content-Length": str(int(GOOD_LENGTH) - 9)}, 400),
    ("header-length-too-long", GOOD_BINARY, {"Inference-Header-Content-Length": str(int(GOOD_LENGTH) + 3)}, 400),
    (
        "size-overruns-the-body",
        *binary_request(
            adelie_binary(
                body_mass_g=(
                    {
                        "name": "body_mass_g",
                        "shape": [1],
                        "datatype": "FP32",
                        "_": {"parameters": {"binary_data_size": 1 << 40}},
                    },
                    b"",
                )
            )
        ),
        400,
    ),
    (
        "size-disagrees-with-shape",
        *binary_request(
            adelie_binary(body_mass_g=({"name": "body_mass_g", "shape": [1], "datatype": "FP32"}, b"\0" * 8))
        ),
        400,
    ),
    (
        "fp64-size-for-fp32",
        *binary_request(
            adelie_binary(
                body_mass_g=({"name": "body_mass_g", "shape": [1], "datatype": "FP32"}, struct.pack("<d", 3750))
            )
        ),
        400,
    ),
    (
        "huge-declared-count",
        *binary_request(
            adelie_binary(body_mass_g=({"name": "body_mass_g", "shape": [10**12], "datatype": "FP32"}, b"\0" * 4))
        ),
        422,
    ),
    (
        "bytes-length-overruns",
        *binary_request(adelie_binary(island=bytes_tensor("island", struct.pack("<I", 0xFFFFFFFF) + b"Dream"))),
        400,
    ),
    ("bytes-fewer-than-shape", *binary_request([bytes_tensor("island", b"\5\0\0\0Dream", 2)]), 400),
    ("bytes-trailing", *binary_request(adelie_binary(island=bytes_tensor("island", b"\5\0\0\0Dream!!"))), 400),
    ("bytes-cut-length", *binary_request(adelie_binary(island=bytes_tensor("island", b"\5\0"))), 400),
    ("bytes-not-utf8", *binary_request(adelie_binary(island=bytes_tensor("island", b"\2\0\0\0\xff\xfe"))), 400),
    ("unclaimed-bytes", GOOD_BINARY + b"\0" * 16, {"Inference-Header-Content-Length": GOOD_LENGTH}, 400),
    (
        "binary-size-and-data",
        *binary_request(
            adelie_binary(
                body_mass_g=({"name": "body_mass_g", "shape": [1], "datatype": "FP32", "data": [1]}, b"\0" * 4)
            )
        ),
        400,
    ),
    ("binary-size-negative", json.dumps(with_input("island", parameters={"binary_data_size": -1})).encode(), {}, 400),
    ("binary-size-float", json.dumps(with_input("island", parameters={"binary_data_size": 4.0})).encode(), {}, 400),
    ("binary-size-string", json.dumps(with_input("island", parameters={"binary_data_size": "4"})).encode(), {}, 400),
    (
        "binary-size-without-binary",
        json.dumps(with_input("island", parameters={"binary_data_size": 9})).encode(),
        {},
        400,
    ),
    ("shape-zero", json.dumps(with_input("island", shape=[0], data=[])).encode(), {}, 400),
    ("shape-negative", json.dumps(with_input("island", shape=[-1])).encode(), {}, 400),
    ("shape-two-columns", json.dumps(with_input("island", shape=[1, 2])).encode(), {}, 400),
    ("shape-three-dims", json.dumps(with_input("island", shape=[1, 1, 1])).encode(), {}, 400),
    ("shape-strings", json.dumps(with_input("island", shape=["1"])).encode(), {}, 400),
    ("shape-boolean", json.dumps(with_input("island", shape=[True])).encode(), {}, 400),
    ("shape-huge", json.dumps(with_input("island", shape=[2**70])).encode(), {}, 422),
    ("shapes-disagree", json.dumps(with_input("island", shape=[2], data=["Dream", "Biscoe"])).encode(), {}, 400),
    ("data-shorter-than-shape", json.dumps(with_input("island", first=True, shape=[3])).encode(), {}, 400),
    ("data-not-a-list", json.dumps(with_input("island", data="Dream")).encode(), {}, 400),
    ("data-nested-for-shape-n", json.dumps(with_input("bill_length_mm", data=[[39.1]])).encode(), {}, 400),
    (
        "data-ragged-for-shape-n1",
        json.dumps(with_input("bill_length_mm", shape=[1, 1], data=[[39.1, 2]])).encode(),
        {},
        400,
    ),
    ("million-values", json.dumps(with_input("island", shape=[10**6], data=[0] * 10**6)).encode(), {}, 422),
    ("datatype-fp16", json.dumps(with_input("bill_length_mm", datatype="FP16")).encode(), {}, 400),
    ("datatype-bytes-for-a-measurement", json.dumps(with_input("bill_length_mm", datatype="BYTES")).encode(), {}, 400),
    ("datatype-fp32-for-island", json.dumps(with_input("island", datatype="FP32")).encode(), {}, 400),
    ("string-for-a-measurement", json.dumps(with_input("bill_length_mm", data=["39.1"])).encode(), {}, 422),
    ("boolean-for-a-measurement", json.dumps(with_input("bill_length_mm", data=[True])).encode(), {}, 422),
    ("NaN-literal", json.dumps(with_input("bill_length_mm", data=[float("nan")])).encode(), {}, 422),
    ("unknown-input", json.dumps(with_input("island", name="islands")).encode(), {}, 400),
    ("input-twice", json.dumps({"inputs": [*request()["inputs"], tensor("sex", "male")]}).encode(), {}, 400),
    ("input-missing", json.dumps({"inputs": request()["inputs"][1:]}).encode(), {}, 400),
    ("input-not-an-object", json.dumps({"inputs": [1, 2]}).encode(), {}, 400),
    ("inputs-empty", json.dumps({"inputs": []}).encode(), {}, 400),
    ("inputs-absent", b"{}", {}, 400),
    ("shared-memory", json.dumps(with_input("island", parameters={"shared_memory_region": "r"})).encode(), {}, 400),
    (
        "classification",
        json.dumps(request(outputs=[{"name": "species", "parameters": {"classification": 2}}])).encode(),
        {},
        400,
    ),
    ("unknown-output", json.dumps(request(outputs=[{"name": "logits"}])).encode(), {}, 400),
    ("output-twice", json.dumps(request(outputs=[{"name": "species"}, {"name": "species"}])).encode(), {}, 400),
    ("outputs-not-a-list", json.dumps(request(outputs="species")).encode(), {}, 400),
    ("binary-output-not-boolean", json.dumps(request(parameters={"binary_data_output": "yes"})).encode(), {}, 400),
    ("id-not-a-string", json.dumps(request(id=7)).encode(), {}, 400),
    ("duplicate-keys", json.dumps(request())[:-1].encode() + b', "inputs": []}', {}, 400),
    (
        "duplicate-keys-in-a-tensor",
        json.dumps(request()).replace('"name": "sex"', '"name": "sex", "name": "island"').encode(),
        {},
        400,
    ),
    (
        "duplicate-keys-in-parameters",
        json.dumps(request(parameters={"binary_data_output": False}))
        .replace('"binary_data_output": false', '"binary_data_output": false, "binary_data_output": true')
        .encode(),
        {},
        400,
    ),
    (
        "duplicate-keys-in-data",
        json.dumps(with_input("island", data=[{"a": 1}])).replace('{"a": 1}', '{"a": 1, "a": 2}').encode(),
        {},
        400,
    ),
    ("not-json", b"inputs=1", {}, 400),
    ("array", b"[1, 2]", {}, 400),
    ("null", b"null", {}, 400),
    ("empty", b"", {}, 400),
    ("nesting-100k", b"[" * 100_000 + b"]" * 100_000, {}, 400),
    ("invalid-utf8", json.dumps(request()).encode()[:-2] + b"\xff}", {}, 400),
    ("gzip-but-not-gzipped", json.dumps(request()).encode(), {"Content-Encoding": "gzip"}, 400),
    ("brotli", json.dumps(request()).encode(), {"Content-Encoding": "br"}, 415),
    ("brotli-100MB", None, {"Content-Encoding": "br"}, 415),  # refused by its encoding before a byte is read
    ("gzip-bomb", gzip.compress(b" " * (BIG // 4)), {"Content-Encoding": "gzip"}, 413),
    ("100MB-body", None, {}, 413),
    ("100MB-chunked", "chunked", {}, 413),
]


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def send(server, body: bytes | str | None, headers: dict[str, str], path: str = INFER) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        try:
            if body is None:  # declared 100 MB, refused before a byte of it is read
                conn.putrequest("POST", path)
                for name, value in {**headers, "Content-Length": str(BIG)}.items():
                    conn.putheader(name, value)
                conn.endheaders()
                conn.send(b" " * 65536)
            elif body == "chunked":
                conn.request("POST", path, body=chunks(BIG), headers=headers, encode_chunked=True)
            else:
                conn.request("POST", path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking the rest: the answer is still there to read
        response = conn.getresponse()
        return response.status, Headers(response.getheaders()), response.read()
    finally:
        conn.close()


def test_the_catalogue_starts_from_bodies_that_work(server):
    status, _, payload = send(server, GOOD_BINARY, {"Inference-Header-Content-Length": GOOD_LENGTH})
    assert status == 200 and json.loads(payload)["outputs"][0]["data"] == ["Adelie"]
    status, _, payload = send(server, json.dumps(request()).encode(), {})
    assert status == 200 and json.loads(payload)["outputs"][0]["data"] == ["Adelie"]


@pytest.mark.parametrize(("name", "body", "headers", "status"), CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_hostile_v2_body_gets_its_4xx_and_a_small_clean_json_error(server, name, body, headers, status):
    if isinstance(headers, str):  # binary_request's header length
        headers = {"Inference-Header-Content-Length": headers}
    got, response_headers, payload = send(server, body, headers)
    assert got == status, payload[:300]
    assert response_headers["Content-Type"] == "application/json"
    error = json.loads(payload)
    assert set(error) == {"error", "detail"} and error["error"]
    assert len(payload) < 8192, "the answer must not echo a large input"
    assert not SECRETS.search(payload.decode()), payload[:500]


def test_a_body_over_max_body_bytes_is_refused_without_reading_it(start_server):
    server = start_server(MAX_BODY_BYTES="2000")
    body, length = binary_request(adelie_binary(island=bytes_tensor("island", struct.pack("<I", 3000) + b"D" * 3000)))
    for sent in (body, "chunked"):
        status, _, payload = send(server, sent, {"Inference-Header-Content-Length": length})
        assert status == 413 and "at most 2000 bytes" in json.loads(payload)["error"]
    status, _, _ = send(server, GOOD_BINARY, {"Inference-Header-Content-Length": GOOD_LENGTH})
    assert status == 200
    lines = [line for line in server.log_lines() if "httpRequest" in line]
    assert [line["httpRequest"]["status"] for line in lines] == [413, 413, 200]


def decode(body: bytes, header_length: str | None, max_rows: int = 10) -> list[dict]:
    """The infer path's decoding and validation, as the pipeline runs them: validated penguins, or an ApiError."""
    headers = {} if header_length is None else {v2.BINARY_HEADER: header_length}
    incoming = Incoming(body, "application/octet-stream", "", max_rows, headers=headers)
    return decode_request("v2", incoming)[2]


def assert_4xx(exc: ApiError) -> None:
    assert 400 <= exc.status < 500 and exc.error and isinstance(exc.detail, list)
    json.dumps(exc.body(), allow_nan=False)  # the error body is itself valid JSON


@settings(max_examples=400, deadline=None)
@given(body=st.binary(max_size=300), header_length=st.none() | st.text(max_size=6) | st.integers(-5, 400).map(str))
def test_any_bytes_with_any_header_length_are_a_4xx_or_penguins(body, header_length):
    try:
        decode(body, header_length)
    except ApiError as exc:
        assert_4xx(exc)


@st.composite
def mangled_binary(draw) -> tuple[bytes, str]:
    """The seed's Adelie, 1-3 times, in binary tensors in any order, with at most one thing broken."""
    rows = draw(st.integers(1, 3))
    tensors = draw(st.permutations([({**d, "shape": [rows]}, data * rows) for d, data in adelie_binary()]))
    victim = draw(st.integers(0, len(tensors) - 1))
    described, data = tensors[victim]
    kind = draw(st.sampled_from(["none", "shape", "bytes", "size", "header length"]))
    if kind == "shape":
        described = {**described, "shape": draw(st.sampled_from([[rows, 1], [rows + 1], [0], [-1], [1, 2], [10**9]]))}
    elif kind == "bytes":
        data = draw(st.sampled_from([data[:-1], data + b"\0", data[: len(data) // 2], b""]) | st.binary(max_size=12))
    elif kind == "size":
        described = {**described, "_": {"parameters": {"binary_data_size": draw(st.integers(-2, 2**40))}}}
    tensors[victim] = (described, data)
    body, length = binary_request(tensors)
    if kind == "header length":
        length = str(int(length) + draw(st.integers(-3, 3)))
    return body, length


def test_mangled_binary_bodies_are_a_4xx_or_as_many_penguins_as_the_shape_says(long_run):
    verdicts: dict[str, int] = {"penguins": 0, "4xx": 0}

    @settings(max_examples=examples(long_run), deadline=None, suppress_health_check=list(HealthCheck))
    @given(mangled_binary())
    def check(mangled):
        body, length = mangled
        try:
            penguins = decode(body, length)
        except ApiError as exc:
            assert_4xx(exc)
            verdicts["4xx"] += 1
            return
        header = json.loads(body[: int(length)])
        assert len(penguins) == header["inputs"][0]["shape"][0]
        assert all(penguin["island"] == ADELIE["island"] for penguin in penguins)
        verdicts["penguins"] += 1

    check()
    print(f"\nhypothesis (mangled binary bodies): {verdicts}")
    assert min(verdicts.values()) >= sum(verdicts.values()) // 10, verdicts


@settings(max_examples=300, deadline=None)
@given(raw=st.sampled_from([c[1] for c in CATALOGUE if isinstance(c[1], bytes)]) | st.binary(max_size=200))
def test_the_fast_parse_agrees_with_the_careful_one_or_leaves_it_to_it(raw):
    from penguins.codecs.json_document import parse_strictly as parse_json
    from penguins.codecs.v2 import _parse_fast

    fast = _parse_fast(raw)
    if fast is not None:
        assert json.dumps(fast) == json.dumps(parse_json(raw))  # as text: NaN is not equal to itself


def _v2_fields(penguin: dict) -> dict:
    return {name: value for name, value in penguin.items() if name in FIELDS}


def _unchanged_by_the_case_rules(penguins: list[dict]) -> bool:
    """The V2 codec matches words case-insensitively (MALE) where JSON does not: leave such values out."""
    for penguin in penguins:
        for name, words in (("island", ISLANDS), ("sex", SEXES)):
            value = penguin.get(name)
            if (
                isinstance(value, str)
                and value not in words
                and value.strip().casefold() in {*map(str.casefold, words), "", "na", "."}
            ):
                return False
    return True


def test_the_codec_finds_the_same_penguins_valid_as_the_native_api(long_run):
    """No V2 idea of a valid penguin: the same penguins as tensors get the native API's verdict and values."""
    verdicts: dict[str, int] = {"valid": 0, "invalid": 0}

    @settings(max_examples=examples(long_run), deadline=None, suppress_health_check=list(HealthCheck))
    @given(penguins=st.lists((valid_penguin | near_valid_penguin).map(_v2_fields), min_size=1, max_size=3))
    def check(penguins):
        shared = [name for name in FIELDS if all(name in p for p in penguins)]
        penguins = [{name: p[name] for name in shared} for p in penguins]
        assume(_unchanged_by_the_case_rules(penguins))
        body = {
            "inputs": [
                {
                    "name": n,
                    "shape": [len(penguins)],
                    "datatype": "BYTES" if n in ("island", "sex") else "FP64",
                    "data": [p[n] for p in penguins],
                }
                for n in shared
            ]
        }
        native_body = {"instances": penguins} if len(penguins) > 1 else penguins[0]
        try:
            expected = parse_predict_request(json.dumps(native_body, allow_nan=True).encode(), 10)[0]
        except ApiError:
            expected = None
        try:
            got = decode(json.dumps(body, allow_nan=True).encode(), None)
        except ApiError as exc:
            assert_4xx(exc)
            got = None
        assert got == expected
        verdicts["valid" if expected is not None else "invalid"] += 1

    check()
    print(f"\nhypothesis (V2 codec against the native API): {verdicts}")
    assert min(verdicts.values()) >= sum(verdicts.values()) // 10, verdicts


@pytest.mark.parametrize(
    ("value", "island"),
    [
        ("Dream", "Dream"),
        ("DREAM", "Dream"),
        (" dream ", "Dream"),
        ("", None),
        (None, None),
        (5, None),
        (["Dream"], None),
    ],
)
def test_a_text_input_takes_any_json_value_to_a_verdict(value, island):
    body = json.dumps(with_input("island", data=[value])).encode()
    if island is None:
        with pytest.raises(ApiError) as raised:
            decode(body, None)
        assert_4xx(raised.value)
    else:
        assert decode(body, None)[0]["island"] == island


@pytest.mark.parametrize("count", [1, 2], ids=["one-penguin", "two-penguins"])
def test_a_binary_text_element_that_is_not_utf8_is_a_400_naming_its_input(count):
    """One penguin's element takes the short path, more take the loop: the same sentence from both."""
    element = b"T\xf8rgersen"  # latin-1, not UTF-8
    island = bytes_tensor("island", (struct.pack("<I", len(element)) + element) * count, count)
    tensors = [
        ({**t, "shape": [count]}, data * count) if t["name"] != "island" else island for t, data in adelie_binary()
    ]
    body, length = binary_request(tensors)
    headers = {"inference-header-content-length": length}
    with pytest.raises(ApiError) as refused:
        decode_request("v2", Incoming(body, "application/octet-stream", "", 10_000, headers=headers))
    assert refused.value.status == 400
    assert refused.value.error == "island holds a value that is not UTF-8 text"
    assert refused.value.detail[0]["loc"] == ["inputs", "island", "data"]
