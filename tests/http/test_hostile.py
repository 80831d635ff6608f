"""A catalogue of hostile bodies against a real server: each gets its 4xx and a small, clean JSON error."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.support.hostile import BIG, SECRETS, chunks
from tests.support.servers import Server
from tools.examples import ADELIE
from tools.procs import tree_rss_mb


def adelie(**changes) -> bytes:
    return json.dumps({**ADELIE, **changes}).encode()


def raw_adelie(old: str, new: str) -> bytes:
    return json.dumps(ADELIE).replace(old, new).encode()


# (name, body, content type or None, status)
CATALOGUE = [
    ("malformed", b'{"bill_length_mm": 39.1,', "application/json", 400),
    ("truncated", adelie()[:60], "application/json", 400),
    ("single-quotes", b"{'island': 'Dream'}", "application/json", 400),
    ("trailing-garbage", adelie() + b"}}", "application/json", 400),
    ("nesting-100k", b"[" * 100_000 + b"]" * 100_000, "application/json", None),
    ("nesting-5k-in-a-field", b'{"island": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json", 400),
    ("1e400", raw_adelie("39.1", "1e400"), "application/json", 422),
    ("NaN", raw_adelie("39.1", "NaN"), "application/json", 422),
    ("Infinity", raw_adelie("39.1", "Infinity"), "application/json", 422),
    ("-Infinity", raw_adelie("39.1", "-Infinity"), "application/json", 422),
    ("5000-digit-integer", raw_adelie("3750", "9" * 5000), "application/json", None),
    ("duplicate-keys", adelie()[:-1] + b', "island": "Biscoe"}', "application/json", 400),
    ("duplicate-key-escaped", adelie()[:-1] + b', "isl\\u0061nd": "Biscoe"}', "application/json", 400),
    ("duplicate-keys-in-batch", b'{"instances": [' + adelie()[:-1] + b', "sex": "female"}]}', "application/json", 400),
    ("lookalike-island", adelie(island="\u0422orgersen"), "application/json", 422),
    ("lookalike-sex", adelie(sex="m\u0430le"), "application/json", 422),
    ("invalid-utf8", adelie()[:-2] + b'\xff\xfe"}', "application/json", 400),
    ("utf8-bom", b"\xef\xbb\xbf" + adelie(), "application/json", 400),
    ("utf16", json.dumps(ADELIE).encode("utf-16"), "application/json", 400),
    ("megabyte-string", adelie(island="A" * 1_000_000), "application/json", 422),
    ("million-item-batch", b'{"instances": [' + b",".join([b"{}"] * 1_000_000) + b"]}", "application/json", 422),
    ("million-number-array", b"[" + b",".join([b"1"] * 1_000_000) + b"]", "application/json", 422),
    ("100MB-body", None, "application/json", 413),
    ("100MB-chunked", "chunked", "application/json", 413),
    ("text-plain", adelie(), "text/plain", 415),
    ("xml", b"<penguin/>", "application/xml", 415),
    ("form", b"island=Dream", "application/x-www-form-urlencoded", 415),
    ("multipart", b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415),
    ("no-content-type", adelie(), None, 415),
    ("empty", b"", "application/json", 400),
    ("whitespace", b"   \n ", "application/json", 400),
    ("null", b"null", "application/json", 422),
    ("array", b"[1, 2]", "application/json", 422),
    ("string", b'"Adelie"', "application/json", 422),
    ("control-characters", adelie(island="Dr\x00eam\x1b[31m"), "application/json", 422),
]


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def send(server: Server, body, content_type: str | None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        try:
            if body is None:  # declared 100 MB, refused before a byte of it is read
                conn.putrequest("POST", "/predict")
                for name, value in {**headers, "Content-Length": str(BIG)}.items():
                    conn.putheader(name, value)
                conn.endheaders()
                conn.send(b" " * 65536)
            elif body == "chunked":
                conn.request("POST", "/predict", body=chunks(BIG), headers=headers, encode_chunked=True)
            else:
                conn.request("POST", "/predict", body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking the rest: the answer is still there to read
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("name", "body", "content_type", "status"), CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_hostile_body_gets_its_4xx_and_a_small_clean_json_error(server, name, body, content_type, status):
    got, payload = send(server, body, content_type)
    assert 400 <= got < 500 if status is None else got == status, payload[:300]
    error = json.loads(payload)
    assert set(error) == {"error", "detail"} and error["error"]
    assert len(payload) < 8192, "the answer must not echo a large input"
    assert not SECRETS.search(payload.decode()), payload[:500]


def test_after_the_catalogue_the_server_answers_and_memory_stayed_bounded(server):
    def rss() -> float:
        return tree_rss_mb(server.process.pid)

    before = rss()
    for _name, body, content_type, _status in CATALOGUE:
        send(server, body, content_type)
    status, _, answer = server.post_json("/predict", ADELIE)
    assert status == 200 and answer["prediction"] == "Adelie"
    assert rss() - before < 64, "a pass over the catalogue must not grow the server by more than the body limit"
    lines = [line for line in server.log_lines() if "httpRequest" in line]
    assert all(line["httpRequest"]["status"] < 500 for line in lines)


def test_the_lookalike_error_says_what_is_wrong(server):
    _, payload = send(server, adelie(island="\u0422orgersen"), "application/json")
    assert "non-ASCII" in json.loads(payload)["error"]
