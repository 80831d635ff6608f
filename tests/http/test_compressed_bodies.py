"""Bodies sent with Content-Encoding gzip or deflate, through every way in, against a real server.

Each format's compressed body must get the very answer its plain body gets; a body that does not
decompress, an encoding the function does not speak and a small "zip bomb" get their 4xx JSON errors.
"""

from __future__ import annotations

import gzip
import http.client
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from penguins.errors import ApiError
from penguins.http import decompressed, window_bits
from tests.support.paths import ROOT
from tools.examples import SEED_EXAMPLES
from tools.v2_client import INFER, request_body

JSON = {"Content-Type": "application/json"}
SAMPLE_CSV = (ROOT / "docs" / "penguins-sample.csv").read_bytes()
BIGQUERY_CALLS = [
    [p["bill_length_mm"], p["bill_depth_mm"], p["flipper_length_mm"], p["body_mass_g"], p["island"].upper(), "."]
    for p in SEED_EXAMPLES.values()
]
V2_BINARY, V2_HEADERS = request_body(list(SEED_EXAMPLES.values()))
# Each way in: its path, its plain body and its headers.
FORMATS = {
    "json": ("/predict", json.dumps(SEED_EXAMPLES["Gentoo"]).encode(), JSON),
    "json batch": ("/predict", json.dumps({"instances": list(SEED_EXAMPLES.values())}).encode(), JSON),
    "csv as csv": ("/predict", SAMPLE_CSV, {"Content-Type": "text/csv", "Accept": "text/csv"}),
    "csv as json": ("/", SAMPLE_CSV, {"Content-Type": "text/csv"}),
    "bigquery": ("/predict", json.dumps({"requestId": "r", "calls": BIGQUERY_CALLS}).encode(), JSON),
    "v2 binary": (INFER, V2_BINARY, V2_HEADERS),
}


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def two_members(data: bytes) -> bytes:
    half = len(data) // 2
    return gzip.compress(data[:half]) + gzip.compress(data[half:])


ENCODINGS = {  # the name a client sends, and how it compresses
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "upper case, spaces": (" GZIP ", gzip.compress),
    "gzip, two members": ("gzip", two_members),
    "deflate (zlib)": ("deflate", zlib.compress),
    "deflate (raw)": ("deflate", raw_deflate),
    "identity": ("identity", bytes),
}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def send(server, path: str, body: bytes, headers: dict[str, str], chunked: bool = False) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        if chunked:  # no Content-Length: the body arrives in pieces, as a streaming client sends it
            connection.request("POST", path, body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
        else:
            connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("way_in", FORMATS)
def test_a_compressed_body_gets_the_answer_of_the_plain_one(server, way_in, encoding):
    path, body, headers = FORMATS[way_in]
    plain = send(server, path, body, headers)
    assert plain[0] == 200, plain[2][:300]
    name, compress = ENCODINGS[encoding]
    status, answer_headers, answer = send(server, path, compress(body), {**headers, "Content-Encoding": name})
    assert status == 200, answer[:300]
    assert answer_headers["Content-Type"] == plain[1]["Content-Type"]
    assert answer == plain[2]


def test_a_compressed_body_sent_in_chunks_too(server):
    path, body, headers = FORMATS["csv as csv"]
    plain = send(server, path, body, headers)
    chunked = send(server, path, gzip.compress(body), {**headers, "Content-Encoding": "gzip"}, chunked=True)
    assert chunked[0] == 200 and chunked[2] == plain[2]


BAD_BODIES = {  # the Content-Encoding, what is sent instead of the body, the status and what the error says
    "brotli": ("br", lambda body: body, 415, "Content-Encoding 'br' is not supported"),
    "two encodings": ("gzip, deflate", gzip.compress, 415, "is not supported"),
    "not gzipped": ("gzip", lambda body: body, 400, "not valid gzip data (incorrect header check)"),
    "cut short": ("gzip", lambda body: gzip.compress(body)[:-12], 400, "ends early"),
    "zlib then junk": ("deflate", lambda body: zlib.compress(body) + b"junk", 400, "more data follows"),
    "gzip then junk": ("gzip", lambda body: gzip.compress(body) + b"junk", 400, "not valid gzip data"),
    "bomb": ("gzip", lambda body: gzip.compress(b" " * (11 * 1024 * 1024) + body), 413, "once decompressed"),
}


@pytest.mark.parametrize("bad", BAD_BODIES)
@pytest.mark.parametrize("way_in", FORMATS)
def test_a_body_that_does_not_decompress_gets_a_clear_4xx(server, way_in, bad):
    path, body, headers = FORMATS[way_in]
    name, mangle, status, says = BAD_BODIES[bad]
    got, answer_headers, answer = send(server, path, mangle(body), {**headers, "Content-Encoding": name})
    assert got == status, answer[:300]
    assert answer_headers["Content-Type"] == "application/json"
    error = json.loads(answer)
    assert says in error["error"] and error["detail"][0]["type"] in ("encoding", "too_large")


def test_the_limit_is_on_what_the_body_holds(start_server):
    server = start_server(MAX_BODY_BYTES="2000")
    batch = json.dumps({"instances": [SEED_EXAMPLES["Adelie"]] * 12}).encode()  # ~1,900 bytes
    over = json.dumps({"instances": [SEED_EXAMPLES["Adelie"]] * 14}).encode()  # ~2,200 bytes
    assert len(batch) <= 2000 < len(over) and len(gzip.compress(over)) < 2000
    status, _, answer = send(server, "/predict", gzip.compress(batch), {**JSON, "Content-Encoding": "gzip"})
    assert status == 200 and len(json.loads(answer)["predictions"]) == 12
    status, _, answer = send(server, "/predict", gzip.compress(over), {**JSON, "Content-Encoding": "gzip"})
    assert status == 413 and "at most 2000 bytes; got more once decompressed" in json.loads(answer)["error"]
    lines = [line for line in server.log_lines() if "httpRequest" in line]
    assert [line["httpRequest"]["status"] for line in lines] == [200, 413]


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=200) | st.binary(max_size=200).map(gzip.compress).map(lambda b: b[: len(b) // 2]),
    encoding=st.sampled_from(["gzip", "deflate", "x-gzip", "br", "", "identity", "gzip;q=1"]),
)
def test_any_bytes_under_any_encoding_are_a_body_or_a_4xx(body, encoding):
    try:
        wbits = window_bits(encoding)
        out = body if wbits is None else decompressed(body, wbits, 1000)
    except ApiError as exc:
        assert 400 <= exc.status < 500 and exc.error and exc.detail
    else:
        assert isinstance(out, bytes) and len(out) <= 1000
